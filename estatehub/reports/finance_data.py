"""What the finance report says, read from the warehouse: the reconciliation run of a day and its breaks.

Everything here is numbers and masked names, as stored; the words (Chinese or English) are added by
`estatehub.reports.finance`. The report of a day reads the latest run judged as of that day; breaks
are read with their status as it is now (acknowledged by whom, resolved how).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from estatehub.quality.tables import etl_quality_result
from estatehub.reconcile.cash import SUPERVISED_REASONS
from estatehub.reconcile.tables import (
    BREAK_AGE_BUCKETS,
    break_age_bucket,
    rec_break,
    rec_match,
    rec_receivable,
    rec_run,
)

RECONCILIATIONS = ("contracts", "receivables", "loans", "cash", "invoices")
AGE_BUCKETS = BREAK_AGE_BUCKETS
TOP = 10


class NoReconciliation(LookupError):
    """No reconciliation ran as of that day: there is nothing to report yet."""


@dataclass
class Summary:
    reconciliation: str
    ran: bool
    open_count: int = 0
    open_fen: int = 0
    acknowledged: int = 0
    new_today: int = 0
    closed_today: int = 0
    matches: int = 0


@dataclass
class FinanceData:
    day: date
    run: Any
    summaries: list[Summary]
    new_breaks: list[Any]
    by_age: dict[str, dict[str, int]]  # reconciliation → bucket → count of open breaks
    overdue: list[Any]  # largest overdue receivables
    invoices_to_issue: list[Any]
    supervised: list[Any]  # the cash reconciliation's supervised-account exceptions
    gate_warnings: list[Any]
    breaks: dict[str, list[Any]] = field(default_factory=dict)  # every break not resolved before the day
    receivables: list[Any] = field(default_factory=list)
    matches: list[Any] = field(default_factory=list)

    @property
    def nothing_to_report(self) -> bool:
        return not any(s.open_count or s.acknowledged or s.new_today or s.closed_today for s in self.summaries)


def read(conn: Connection, day: date) -> FinanceData:
    r = rec_run.c
    run = conn.execute(
        select(rec_run)
        .where(r.as_of_on == day, r.status == "succeeded")
        .order_by(r.finished_at.desc(), r.run_id.desc())
        .limit(1)
    ).one_or_none()
    if run is None:
        raise NoReconciliation(f"no reconciliation ran as of {day}: run `estatehub reconcile --to {day}` first")
    ran = _reconciliations_of(conn, run)
    b = rec_break.c
    rows = conn.execute(
        select(rec_break)
        .where((b.status != "resolved") | (b.changed_on == day))
        .order_by(b.reconciliation, b.age_days.desc().nulls_last(), b.amount_fen.desc(), b.break_key)
    ).all()
    breaks: dict[str, list[Any]] = {name: [] for name in RECONCILIATIONS}
    for row in rows:
        breaks.setdefault(row.reconciliation, []).append(row)
    m = rec_match.c
    match_counts = dict(
        conn.execute(
            select(m.reconciliation, func.count())
            .where(m.date_from == run.date_from, m.date_to == run.date_to)
            .group_by(m.reconciliation)
        ).all()
    )
    summaries = []
    for name in RECONCILIATIONS:
        mine = breaks.get(name, [])
        live = [x for x in mine if x.status != "resolved"]
        summaries.append(
            Summary(
                reconciliation=name,
                ran=name in ran,
                open_count=sum(1 for x in live if x.status == "open"),
                open_fen=sum(abs(x.amount_fen) for x in live),
                acknowledged=sum(1 for x in live if x.status == "acknowledged"),
                new_today=sum(1 for x in live if x.opened_on == day),
                closed_today=sum(1 for x in mine if x.status == "resolved" and x.changed_on == day),
                matches=match_counts.get(name, 0),
            )
        )
    by_age = {name: {bucket: 0 for bucket, _, _ in AGE_BUCKETS} for name in RECONCILIATIONS}
    for name, mine in breaks.items():
        for x in mine:
            if x.status != "resolved" and x.age_days is not None:
                by_age.setdefault(name, {bucket: 0 for bucket, _, _ in AGE_BUCKETS})[break_age_bucket(x.age_days)] += 1
    receivables = conn.execute(
        select(rec_receivable).order_by(rec_receivable.c.contract_no, rec_receivable.c.seq)
    ).all()
    overdue = sorted(
        (x for x in receivables if x.state == "overdue"), key=lambda x: (-x.outstanding_fen, x.contract_no, x.seq)
    )[:TOP]
    live_all = [x for mine in breaks.values() for x in mine if x.status != "resolved"]
    new_breaks = sorted((x for x in live_all if x.opened_on == day), key=lambda x: (-abs(x.amount_fen), x.break_key))
    gate_warnings = conn.execute(
        select(etl_quality_result)
        .where(
            etl_quality_result.c.check_id == run.quality_check_id,
            etl_quality_result.c.severity == "warning",
        )
        .order_by(etl_quality_result.c.gate, etl_quality_result.c.subject)
    ).all()
    matches = conn.execute(
        select(rec_match)
        .where(m.date_from == run.date_from, m.date_to == run.date_to)
        .order_by(m.reconciliation, m.match_id, m.left_id, m.right_id)
    ).all()
    return FinanceData(
        day=day,
        run=run,
        summaries=summaries,
        new_breaks=new_breaks,
        by_age=by_age,
        overdue=overdue,
        invoices_to_issue=[
            x for x in breaks.get("invoices", []) if x.reason == "invoice_to_issue" and x.status != "resolved"
        ],
        supervised=[x for x in breaks.get("cash", []) if x.reason in SUPERVISED_REASONS and x.status != "resolved"],
        gate_warnings=gate_warnings,
        breaks=breaks,
        receivables=receivables,
        matches=matches,
    )


def _reconciliations_of(conn: Connection, run: Any) -> set[str]:
    """Which reconciliations the run judged (a run may be asked for some only)."""
    return {name for name in (run.reconciliations or "").split(",") if name}
