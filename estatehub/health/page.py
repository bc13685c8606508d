"""What the supervisors' page shows, read from the warehouse (pure reads; the plugin renders it).

    view = supervisor_view(warehouse, rules, now)

Sections: each source's last successful sync and freshness, the expected daily files, the open
staleness findings and when they were told, open quarantine per source, recent failed and abandoned
runs, recent policy alerts and failing watches, the last reports sent, the size of each work list.
Sections whose tables come with later work say so: when their table does not exist yet the page
says which table will feed them; nothing is made up. The latest quality check with its errors and
warnings, and the open breaks per reconciliation by age, come from the reconciliation's tables.
Personal data: run messages pass through the PII redaction (ID numbers and phones masked), account
numbers are masked, quarantine is shown as counts only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, inspect, select, text

from estatehub.freshness.rules import FreshnessRules
from estatehub.freshness.status import Freshness, freshness
from estatehub.health.tables import etl_health_finding, etl_report_sent
from estatehub.policy.tables import core_policy_change, etl_policy_watch_state
from estatehub.quality.tables import etl_quality_result, etl_quality_run
from estatehub.reconcile.tables import BREAK_AGE_BUCKETS, break_age_bucket, rec_break
from estatehub.warehouse import sqlfiles
from estatehub.warehouse.engine import Warehouse
from estatehub.warehouse.redact import CARD, ID_NUMBER, PHONE, redact_text
from estatehub.warehouse.tables import etl_quarantine, etl_run

# what the PII redaction leaves in free text: "[phone 138****5678 <keyed hash>]"; a page needs the masked form only
_REDACTED = re.compile(rf"\[(?:{ID_NUMBER}|{PHONE}|{CARD}) (\S+) [0-9a-f]{{16,}}\]")
RECENT_RUNS_DAYS = 7
RECENT_ROWS = 15
MESSAGE_CHARS = 240


@dataclass(frozen=True)
class PendingSection:
    """A section fed by a table that later work creates: shown as such until the table exists."""

    title: str
    table: str
    comes_with: str
    rows: int | None = None  # None: the table does not exist yet


# The tables the later sections will read: the quality gates' results and the reconciliation's breaks
# (issue 11, on main since this branch began: `estatehub.quality.tables`, `estatehub.reconcile.tables`),
# the work lists (issue 12 §4: `mart_work_item`, shown by `work_list_sizes`). Until a section is written
# for a table that exists, the page shows how many rows it holds.
PENDING_SECTIONS: tuple[tuple[str, str, str], ...] = ()
WORK_LIST_SIZE_COLUMNS = ("list_name", "item_count", "late_count", "oldest_deadline_on", "as_of_on")


@dataclass
class SupervisorView:
    now: datetime
    dialect: str
    freshness: Freshness
    findings: list[Any] = field(default_factory=list)
    quarantine: list[Any] = field(default_factory=list)
    failed_runs: list[dict[str, Any]] = field(default_factory=list)
    policy_alerts: list[Any] = field(default_factory=list)
    failing_watches: list[Any] = field(default_factory=list)
    reports: list[Any] = field(default_factory=list)
    pending: list[PendingSection] = field(default_factory=list)
    work_lists: list[Any] = field(default_factory=list)  # per list of the latest build: items, late, as of
    quality: Any = None  # the latest quality check (etl_quality_run), None before the first
    quality_findings: list[Any] = field(default_factory=list)  # its errors and warnings
    breaks: list[dict[str, Any]] = field(default_factory=list)  # per reconciliation: open, acknowledged, by age


def open_findings(conn: Connection) -> list[Any]:
    table = etl_health_finding
    return conn.execute(
        select(table).where(table.c.resolved_at.is_(None)).order_by(table.c.first_seen_at, table.c.finding_key)
    ).all()


def open_quarantine(conn: Connection) -> list[Any]:
    """Open quarantine (neither resolved nor dismissed) per source and entity: count, oldest, newest."""
    table = etl_quarantine
    return conn.execute(
        select(
            table.c.source,
            table.c.entity,
            func.count().label("open_count"),
            func.min(table.c.first_seen_at).label("oldest_at"),
            func.max(table.c.last_seen_at).label("latest_at"),
        )
        .where(table.c.resolved_at.is_(None), table.c.dismissed_at.is_(None))
        .group_by(table.c.source, table.c.entity)
        .order_by(table.c.source, table.c.entity)
    ).all()


def failed_runs(conn: Connection, warehouse: Warehouse, now: datetime) -> list[dict[str, Any]]:
    """Runs failed or abandoned in the last days, newest first; messages redacted and shortened."""
    rows = conn.execute(
        select(etl_run)
        .where(
            etl_run.c.status.in_(("failed", "abandoned")),
            etl_run.c.started_at >= now - timedelta(days=RECENT_RUNS_DAYS),
        )
        .order_by(etl_run.c.started_at.desc())
        .limit(RECENT_ROWS)
    ).all()
    result = []
    for row in rows:
        message = _REDACTED.sub(r"\1", redact_text(warehouse.hasher, row.message or ""))
        if len(message) > MESSAGE_CHARS:
            message = message[: MESSAGE_CHARS - 1] + "…"
        result.append({**row._asdict(), "message": message})
    return result


def policy_alerts(conn: Connection) -> list[Any]:
    table = core_policy_change
    return conn.execute(
        select(table.c.alerted_at, table.c.kind, table.c.urgency, table.c.title, table.c.doc_number, table.c.url)
        .where(table.c.alerted_at.is_not(None))
        .order_by(table.c.alerted_at.desc(), table.c.change_id.desc())
        .limit(RECENT_ROWS)
    ).all()


def failing_watches(conn: Connection) -> list[Any]:
    table = etl_policy_watch_state
    return conn.execute(
        select(table.c.watch_id, table.c.consecutive_failures, table.c.last_ok_at, table.c.selector_broken_since)
        .where((table.c.consecutive_failures > 0) | table.c.selector_broken_since.is_not(None))
        .order_by(table.c.watch_id)
    ).all()


def reports_sent(conn: Connection) -> list[Any]:
    table = etl_report_sent
    return conn.execute(select(table).order_by(table.c.sent_at.desc()).limit(RECENT_ROWS)).all()


def work_list_sizes(conn: Connection) -> list[Any]:
    """Each work list of the latest build with its items and those late (none before the first build)."""
    return sqlfiles.execute(conn, "worklists/list_sizes", {}, columns=WORK_LIST_SIZE_COLUMNS).all()


def pending_sections(conn: Connection) -> list[PendingSection]:
    existing = set(inspect(conn).get_table_names())
    result = []
    for title, table, comes_with in PENDING_SECTIONS:
        rows = None
        if table in existing:
            rows = conn.execute(text(f'select count(*) from "{table}"')).scalar_one()  # noqa: S608 - a constant
        result.append(PendingSection(title, table, comes_with, rows))
    return result


def latest_quality(conn: Connection) -> tuple[Any, list[Any]]:
    """The latest quality check and its errors and warnings (errors first)."""
    run = conn.execute(select(etl_quality_run).order_by(etl_quality_run.c.checked_at.desc()).limit(1)).one_or_none()
    if run is None:
        return None, []
    r = etl_quality_result.c
    findings = conn.execute(
        select(etl_quality_result)
        .where(r.check_id == run.check_id, r.severity != "ok")
        .order_by(r.severity, r.gate, r.subject)
        .limit(RECENT_ROWS * 2)
    ).all()
    return run, findings


def breaks_by_age(conn: Connection) -> list[dict[str, Any]]:
    """Open and acknowledged breaks per reconciliation, with their amount and their ages in buckets."""
    b = rec_break.c
    rows = conn.execute(
        select(b.reconciliation, b.status, b.age_days, b.amount_fen).where(b.status != "resolved")
    ).all()
    result: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = result.setdefault(
            row.reconciliation,
            {"reconciliation": row.reconciliation, "open": 0, "acknowledged": 0, "amount_fen": 0}
            | {name: 0 for name, _, _ in BREAK_AGE_BUCKETS},
        )
        entry[row.status] += 1
        entry["amount_fen"] += abs(row.amount_fen)
        entry[break_age_bucket(row.age_days)] += 1
    return [result[name] for name in sorted(result)]


class SchemaBehind(Exception):  # noqa: N818 - says what it is
    """The warehouse has not been brought to the revision this page reads (the page never migrates)."""


def supervisor_view(warehouse: Warehouse, rules: FreshnessRules, now: datetime) -> SupervisorView:
    """Everything the page shows, as of `now`, in one read transaction; `SchemaBehind` when the
    warehouse lacks the health tables (the next sync or the pipeline_health DAG brings it to head)."""
    with warehouse.engine.connect() as conn:
        missing = {etl_health_finding.name, etl_report_sent.name} - set(inspect(conn).get_table_names())
        if missing:
            raise SchemaBehind(
                f"the warehouse has no {', '.join(sorted(missing))} yet: it is brought to the head revision by the "
                "next sync or the pipeline_health DAG (or `python -m estatehub warehouse upgrade`)"
            )
        quality = latest_quality(conn)
        return SupervisorView(
            now=now,
            dialect=warehouse.dialect,
            freshness=freshness(conn, rules, now),
            findings=open_findings(conn),
            quarantine=open_quarantine(conn),
            failed_runs=failed_runs(conn, warehouse, now),
            policy_alerts=policy_alerts(conn),
            failing_watches=failing_watches(conn),
            reports=reports_sent(conn),
            pending=pending_sections(conn),
            work_lists=work_list_sizes(conn),
            quality=quality[0],
            quality_findings=quality[1],
            breaks=breaks_by_age(conn),
        )
