"""One reconciliation run: the quality gates first, then every reconciliation, breaks carried over.

    report = run_reconciliation(warehouse, date_from=date(2025, 1, 1), date_to=date(2025, 6, 30))

The gates run first (`estatehub.quality.gates`); an error there blocks the run (`rec_run.status =
'blocked'`, `GatesFailed` raised with the reason) so that nothing is reconciled on broken inputs. Each
reconciliation's breaks are stored with their status carried over (`store.save_breaks`), its matches
replace those of the same period, and the receivables mart is rebuilt — all in one transaction, so a
run that fails leaves yesterday's results whole. The same period run again gives the same result.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, delete, insert, update

from estatehub import settings
from estatehub.quality.gates import GateReport, GatesFailed, check_sources
from estatehub.reconcile.cash import reconcile_cash
from estatehub.reconcile.checks import (
    Outcome,
    Period,
    reconcile_contracts,
    reconcile_invoices,
    reconcile_loans,
    reconcile_receivables,
)
from estatehub.reconcile.city import CityRules, load_city_rules
from estatehub.reconcile.errors import ReconcileError
from estatehub.reconcile.rules import RuleSet
from estatehub.reconcile.store import Carried, save_breaks, save_matches
from estatehub.reconcile.tables import rec_receivable, rec_run
from estatehub.warehouse.engine import Warehouse
from estatehub.warehouse.etl import bulk_insert, utcnow
from estatehub.warehouse.queries import business_date

log = logging.getLogger(__name__)

RECONCILIATIONS = ("contracts", "receivables", "loans", "cash", "invoices")


@dataclass
class RunReport:
    run_id: str
    period: Period
    gates: GateReport
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    carried: dict[str, Carried] = field(default_factory=dict)

    def summary(self) -> str:
        p = self.period
        lines = [
            f"reconciliation {self.run_id}: {p.date_from} … {p.date_to}, as of {p.as_of}; gates {self.gates.status}"
        ]
        for name, outcome in self.outcomes.items():
            c = self.carried[name]
            reasons: dict[str, int] = {}
            for b in outcome.breaks:
                reasons[b["reason"]] = reasons.get(b["reason"], 0) + 1
            by_reason = ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())) or "nothing to report"
            lines.append(
                f"  {name:12} {len(outcome.breaks):5} breaks ({c.new} new, {c.kept} kept, {c.reopened} reopened, "
                f"{c.closed} closed by the data)"
                + (f", {len(outcome.matches)} matches" if outcome.matches else "")
                + f": {by_reason}"
            )
        return "\n".join(lines)


def period_for_run(
    run_type: str, moment: datetime, *, as_of: str | None = None, date_from: str | None = None
) -> tuple[date, date]:
    """(as_of, date_from) of a DAG run: the scheduled 07:00 run reconciles the business day just closed,
    any other run (Assets, by hand) today so far; the params of a run by hand win."""
    if as_of:
        day = date.fromisoformat(as_of)
    else:
        day = business_date(moment)
        if run_type == "scheduled":
            day -= timedelta(days=1)
    start = date.fromisoformat(date_from) if date_from else settings.RECONCILE_SINCE
    if start > day:
        raise ReconcileError(f"the period starts after it ends: {start} > {day}")
    return day, start


def run_reconciliation(
    warehouse: Warehouse,
    *,
    date_from: date,
    date_to: date,
    as_of: date | None = None,
    city: CityRules | None = None,
    rules: RuleSet | None = None,
    only: tuple[str, ...] = RECONCILIATIONS,
) -> RunReport:
    if date_from > date_to:
        raise ReconcileError(f"the period starts after it ends: {date_from} > {date_to}")
    unknown = sorted(set(only) - set(RECONCILIATIONS))
    if unknown:
        raise ReconcileError(f"no reconciliation {', '.join(unknown)}: choose from {', '.join(RECONCILIATIONS)}")
    period = Period(date_from, date_to, as_of or date_to)
    city = city or load_city_rules()
    run_id = f"rec-{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    gates = check_sources(warehouse, as_of=period.as_of, purpose="reconcile")
    with warehouse.engine.begin() as conn:
        conn.execute(
            insert(rec_run).values(
                run_id=run_id,
                date_from=date_from,
                date_to=date_to,
                as_of_on=period.as_of,
                started_at=utcnow(),
                status="blocked" if gates.failed else "running",
                quality_check_id=gates.check_id,
                reconciliations=",".join(only),
                message=gates.summary() if gates.failed else None,
                finished_at=utcnow() if gates.failed else None,
            )
        )
    if gates.failed:
        raise GatesFailed(gates)
    report = RunReport(run_id, period, gates)
    steps: dict[str, Callable[[Connection], Outcome]] = {
        "contracts": lambda conn: reconcile_contracts(conn, period, city),
        "receivables": lambda conn: reconcile_receivables(conn, period, city),
        "loans": lambda conn: reconcile_loans(conn, period, rules),
        "cash": lambda conn: reconcile_cash(conn, period, rules),
        "invoices": lambda conn: reconcile_invoices(conn, period),
    }
    try:
        with warehouse.engine.begin() as conn:
            for name in only:
                outcome = steps[name](conn)
                report.outcomes[name] = outcome
                report.carried[name] = save_breaks(
                    conn, name, outcome.breaks, run_id=run_id, as_of=period.as_of, date_from=date_from, date_to=date_to
                )
                save_matches(conn, name, outcome.matches, run_id=run_id, date_from=date_from, date_to=date_to)
                if outcome.receivables is not None:
                    conn.execute(delete(rec_receivable))
                    bulk_insert(conn, rec_receivable, [row | {"run_id": run_id} for row in outcome.receivables])
            conn.execute(
                update(rec_run).where(rec_run.c.run_id == run_id).values(status="succeeded", finished_at=utcnow())
            )
    except BaseException as exc:
        with warehouse.engine.begin() as conn:
            conn.execute(
                update(rec_run)
                .where(rec_run.c.run_id == run_id)
                .values(status="failed", finished_at=utcnow(), message=f"{type(exc).__name__}: {exc}"[:2000])
            )
        raise
    log.info("%s", report.summary())
    return report
