"""Quality gates: before anything is reconciled or reported, check that each source is whole.

    report = check_sources(warehouse, as_of=date(2026, 3, 31), purpose="reconcile")
    if report.failed:
        raise GatesFailed(report)          # the reconciliation does not run on broken inputs

Each gate is one SQL model under `sql/quality/` that returns the rows breaking it (none = the gate
holds), or, for row counts, a comparison with the previous check. An **error** stops what asked for
the check and tells the supervisors why; a **warning** goes into the report. Every check and its
findings are kept (`etl_quality_run`, `etl_quality_result`), so the supervisors' page and the next
check can read them.

- `voucher_balanced` (ledger, error): every voucher not voided has debits equal to credits;
- `keys_unique` (banks, ledger, error): a bank serial once per account, a voucher number once per
  period and group;
- `keys_present` (banks, error): every current statement line names its account;
- `statement_totals_loaded` (banks, error): each loaded file's lines are all in, with its counts and sums;
- `statement_balance_follows` (banks, error): each line's balance is the one before plus or minus its
  amount (a missing line or file shows as a gap);
- `statement_files_quarantined` (banks, warning): no statement file is kept unloaded;
- `row_count` (every core table): no table lost more than `drop_share` of its rows since the last
  check (error); none grew more than `growth_factor` times (warning);
- `quarantine_open` (every source, warning): no record waits in quarantine;
- `freshness` (every source the warehouse has seen, warning): the source synced and its daily files
  arrived as its schedule in `config/freshness.yaml` says (`estatehub.freshness`, the same judgement as
  the supervisors' staleness alerts), judged at the end of the day after `as_of` or now, whichever
  is earlier: a re-run of an old period is judged by what had arrived when that period was closed.
  A warning, not an error: the reconciliation of stale data still runs and its report says which
  source is behind (the supervisors have had their alert since the source went stale).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, inspect, select
from sqlalchemy import table as table_named

from estatehub.freshness.rules import FreshnessRules, load_rules
from estatehub.freshness.status import freshness
from estatehub.money import yuan
from estatehub.quality.tables import etl_quality_result, etl_quality_run
from estatehub.settings import BUSINESS_TZ
from estatehub.warehouse import sqlfiles
from estatehub.warehouse.engine import Warehouse
from estatehub.warehouse.etl import utcnow
from estatehub.warehouse.tables import etl_quarantine, etl_run

ERROR, WARNING, OK = "error", "warning", "ok"


@dataclass(frozen=True)
class GateSettings:
    drop_share: float = 0.01  # a core table that lost more than 1% of its rows ...
    drop_floor: int = 10  # ... and more than 10 rows: an error (history is appended, never thinned)
    growth_factor: float = 3.0  # a table more than 3× its size at the last check: a warning
    growth_floor: int = 1000  # judged only from this size on (the first loads grow from nothing)
    listed: int = 20  # findings listed per gate; the rest counted in one line


@dataclass(frozen=True)
class Finding:
    gate: str
    source: str
    subject: str
    severity: str
    message: str
    observed: int | None = None


@dataclass
class GateReport:
    check_id: str
    as_of: date
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def failed(self) -> bool:
        return bool(self.errors)

    @property
    def status(self) -> str:
        return "failed" if self.errors else "warnings" if self.warnings else "passed"

    def summary(self) -> str:
        """A few lines a supervisor reads: the status, then every error and warning."""
        lines = [
            f"quality check {self.check_id} as of {self.as_of}: {self.status} "
            f"({len(self.errors)} errors, {len(self.warnings)} warnings)"
        ]
        lines += [f"  {f.severity.upper():7} {f.gate} [{f.source}] {f.message}" for f in self.errors + self.warnings]
        return "\n".join(lines)


class GatesFailed(RuntimeError):
    """A quality gate found an error: what asked for the check must not run on these inputs."""

    def __init__(self, report: GateReport) -> None:
        self.report = report
        super().__init__(report.summary())


@dataclass(frozen=True)
class _SqlGate:
    gate: str
    model: str
    source: str
    severity: str
    columns: tuple[str, ...]

    def message(self, row: Any) -> str:
        return _MESSAGES[self.gate](row)


_MESSAGES = {
    "voucher_balanced": lambda r: (
        f"voucher {r.subject} of {r.booked_on}: debits {yuan(r.debit_fen)} against credits {yuan(r.credit_fen)} yuan"
    ),
    "keys_unique": lambda r: f"{r.subject} appears {r.found_count} times (first on {r.booked_on})",
    "keys_present": lambda r: f"{r.subject}: {r.detail}",
    "statement_totals_loaded": lambda r: (
        f"{r.subject}: {r.loaded_count} of {r.expected_count} lines in the warehouse, credits "
        f"{yuan(r.loaded_credit_fen)} of {yuan(r.expected_credit_fen)}, debits {yuan(r.loaded_debit_fen)} of "
        f"{yuan(r.expected_debit_fen)} yuan: load the file again"
    ),
    "statement_balance_follows": lambda r: (
        f"account {r.subject}: the balance of {r.booked_on} is {yuan(r.balance_fen)}, "
        f"{yuan(r.gap_fen)} yuan away from the balance of {r.prev_booked_on} plus the line: a line or a statement "
        "file between them is missing or loaded twice"
    ),
    "statement_files_quarantined": lambda r: f"{r.subject} (to {r.booked_on}) is kept but not loaded: {r.reason}",
}

SQL_GATES = (
    _SqlGate(
        "voucher_balanced",
        "quality/voucher_unbalanced",
        "finance_ledger",
        ERROR,
        ("subject", "booked_on", "debit_fen", "credit_fen"),
    ),
    _SqlGate(
        "keys_unique", "quality/duplicate_keys", "banks, finance_ledger", ERROR, ("subject", "booked_on", "found_count")
    ),
    _SqlGate("keys_present", "quality/keys_missing", "banks", ERROR, ("subject", "detail")),
    _SqlGate(
        "statement_totals_loaded",
        "quality/statement_file_totals",
        "banks",
        ERROR,
        (
            "subject",
            "booked_on",
            "expected_count",
            "loaded_count",
            "expected_credit_fen",
            "loaded_credit_fen",
            "expected_debit_fen",
            "loaded_debit_fen",
        ),
    ),
    _SqlGate(
        "statement_balance_follows",
        "quality/statement_balance_gap",
        "banks",
        ERROR,
        ("subject", "booked_on", "prev_booked_on", "balance_fen", "prev_balance_fen", "gap_fen"),
    ),
    _SqlGate(
        "statement_files_quarantined",
        "quality/statement_files_quarantined",
        "banks",
        WARNING,
        ("subject", "booked_on", "reason"),
    ),
)


def check_sources(
    warehouse: Warehouse,
    *,
    as_of: date,
    purpose: str = "a person",
    settings: GateSettings | None = None,
    freshness_rules: FreshnessRules | None = None,
    now: datetime | None = None,
) -> GateReport:
    """Run every gate as of the end of `as_of` and keep the check and its findings. The freshness rules
    are the installation's (`config/freshness.yaml`) unless given."""
    settings = settings or GateSettings()
    freshness_rules = freshness_rules or load_rules()
    report = GateReport(check_id=f"quality-{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}", as_of=as_of)
    with warehouse.engine.begin() as conn:
        for gate in SQL_GATES:
            rows = sqlfiles.execute(conn, gate.model, {"as_of_on": as_of}, columns=gate.columns).all()
            report.findings += _listed(gate, rows, settings.listed)
        counts = _core_counts(conn)
        report.findings += _row_count_findings(counts, _previous_counts(conn), settings)
        report.findings += _quarantine_findings(conn)
        report.findings += _freshness_findings(conn, freshness_rules, as_of, now or utcnow())
        conn.execute(
            insert(etl_quality_run),
            [
                {
                    "check_id": report.check_id,
                    "as_of_on": as_of,
                    "checked_at": utcnow(),
                    "status": report.status,
                    "errors": len(report.errors),
                    "warnings": len(report.warnings),
                    "purpose": purpose,
                }
            ],
        )
        baseline = [Finding("row_count", "warehouse", table, OK, f"{n} rows", n) for table, n in counts.items()]
        rows = [_row(report.check_id, f) for f in report.findings + baseline]
        conn.execute(insert(etl_quality_result), rows)
    return report


def _listed(gate: _SqlGate, rows: list[Any], limit: int) -> list[Finding]:
    findings = [
        Finding(gate.gate, gate.source, str(row.subject), gate.severity, gate.message(row)) for row in rows[:limit]
    ]
    if len(rows) > limit:
        more = len(rows) - limit
        findings.append(Finding(gate.gate, gate.source, "…", gate.severity, f"and {more} more like these", more))
    return findings


def _core_counts(conn: Connection) -> dict[str, int]:
    """Rows of every core table the database has (read from the database, not from this code's tables)."""
    names = sorted(name for name in inspect(conn).get_table_names() if name.startswith("core_"))
    return {name: conn.execute(select(func.count()).select_from(table_named(name))).scalar_one() for name in names}


def _previous_counts(conn: Connection) -> dict[str, int]:
    last = conn.execute(
        select(etl_quality_run.c.check_id).order_by(etl_quality_run.c.checked_at.desc()).limit(1)
    ).scalar_one_or_none()
    if last is None:
        return {}
    rows = conn.execute(
        select(etl_quality_result.c.subject, etl_quality_result.c.observed).where(
            etl_quality_result.c.check_id == last,
            etl_quality_result.c.gate == "row_count",
            etl_quality_result.c.severity == OK,
        )
    )
    return {subject: observed for subject, observed in rows}


def _row_count_findings(counts: dict[str, int], previous: dict[str, int], settings: GateSettings) -> Iterable[Finding]:
    for table, now in counts.items():
        before = previous.get(table)
        if before is None:
            continue
        lost = before - now
        if lost > settings.drop_floor and lost > before * settings.drop_share:
            yield Finding(
                "row_count",
                "warehouse",
                table,
                ERROR,
                f"{table} has {now:,} rows, {lost:,} fewer than at the last check ({before:,}): rows were deleted",
                now,
            )
        elif before >= settings.growth_floor and now > before * settings.growth_factor:
            yield Finding(
                "row_count",
                "warehouse",
                table,
                WARNING,
                f"{table} has {now:,} rows, {now / before:.1f}× the {before:,} of the last check: "
                "a reload or a duplicate load?",
                now,
            )


def _quarantine_findings(conn: Connection) -> Iterable[Finding]:
    q = etl_quarantine.c
    rows = conn.execute(
        select(q.source, func.count())
        .where(q.resolved_at.is_(None), q.dismissed_at.is_(None))
        .group_by(q.source)
        .order_by(q.source)
    )
    for source, waiting in rows:
        yield Finding(
            "quarantine_open",
            source,
            source,
            WARNING,
            f"{waiting} records of {source} wait in quarantine (estatehub quarantine list --source {source})",
            waiting,
        )


def _freshness_findings(conn: Connection, rules: FreshnessRules, as_of: date, now: datetime) -> list[Finding]:
    """What `estatehub.freshness` finds stale or late, for the sources this warehouse has seen (a source
    that never ran here, no `etl_run`, is not part of this installation; the supervisors' page lists it
    all the same)."""
    period_closed = datetime.combine(as_of + timedelta(days=2), time(), BUSINESS_TZ)
    judged_at = min(now, period_closed)
    seen = set(conn.execute(select(etl_run.c.source).distinct()).scalars())
    return [
        Finding("freshness", found.source, found.subject, WARNING, found.detail)
        for found in freshness(conn, rules, judged_at).findings()
        if found.source in seen
    ]


def _row(check_id: str, finding: Finding) -> dict[str, Any]:
    return {
        "check_id": check_id,
        "gate": finding.gate,
        "source": finding.source,
        "subject": finding.subject,
        "severity": finding.severity,
        "message": finding.message,
        "observed": finding.observed,
    }
