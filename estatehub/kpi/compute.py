"""The KPI numbers of a report period, from the fact models of `sql/kpi/` (one definition per file).

    data = compute(conn, report_period("week", date(2026, 3, 22)))
    data.flows["signings_amount_fen"]["month"]   # (this month, the month before)
    data.by_group["collections_amount_fen"]      # {(project, product type): (current, previous)}

Each model returns one row per fact (a signing, a receipt, a cancellation ...) with its project, its
product type and its business date; here they are counted into the windows of `periods.windows`.
Snapshots (receivables, the mortgage pipeline, overdue subscriptions, open breaks) are as of the
report's last day. Money in fen, areas in m² (Decimal), rates in percent (Decimal, one decimal).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Connection

from estatehub.kpi.periods import ReportPeriod, Window, business_day, day_end_utc, trend_weeks, windows
from estatehub.reconcile.city import CityRules
from estatehub.warehouse import sqlfiles

COLLECTION_KINDS = ("首付", "分期", "商贷", "公积金", "其他")
CHANGE_KINDS = ("退房", "换房", "更名", "重签")
AGEING = ("not_due", "due", "1-30", "31-60", "61-90", "over_90")
SUBSCRIPTION_GRACE_DAYS = 15  # a subscription is overdue this many days after its planned signing date
REGISTRATION_DAYS = 90  # certificate due after handover where the contract names no deadline
TREND_WEEKS = 12
PCT = Decimal("0.1")

COLUMNS = {
    "subscriptions": ("contract_no", "project_code", "product_type", "event_at", "building_area", "amount_fen"),
    "signings": ("contract_no", "project_code", "product_type", "event_at", "building_area", "amount_fen"),
    "filings": ("contract_no", "project_code", "product_type", "signed_at", "filed_at", "cancelled_at"),
    "collections": ("bill_no", "project_code", "product_type", "event_on", "collection_kind", "amount_fen"),
    "receivables": (
        "contract_no", "seq", "project_code", "product_type", "state", "ageing", "outstanding_fen", "as_of_on",
    ),
    "mortgage_pipeline": (
        "bank", "loan_no", "loan_type", "project_code", "product_type", "stage", "entered_at", "amount_fen",
    ),
    "cancellations": ("contract_no", "project_code", "product_type", "event_at", "change_kind", "amount_fen"),
    "subscriptions_overdue": ("contract_no", "project_code", "product_type", "planned_signing_on", "amount_fen"),
    "open_breaks": ("break_key", "reconciliation", "reason", "status", "opened_on", "age_days", "amount_fen"),
    "policy_changes": ("change_id", "watch_id", "kind", "title", "urgency", "event_at"),
    "handovers": ("contract_no", "project_code", "product_type", "handed_over_on", "registered_on"),
}  # fmt: skip

Group = tuple[str, str]  # (project code, product type)


@dataclass
class KpiData:
    period: ReportPeriod
    flows: dict[str, dict[str, tuple[Any, Any]]]  # KPI → window → (current, previous), whole department
    by_group: dict[str, dict[Group, tuple[Any, Any]]]  # KPI → (project, product) → the report window's pair
    trend: list[tuple[date, int, int]]  # (Monday, signings fen, collections fen) of the last weeks
    receivables: dict[str, int]  # ageing bucket → outstanding fen (department)
    receivables_by_group: dict[Group, dict[str, int]]
    receivables_as_of: date | None  # the day of the run the mart holds
    pipeline: list[dict[str, Any]]  # by bank and stage: loans, amount, average and longest days in stage
    subscriptions_overdue: tuple[int, int]  # units, fen
    open_breaks: dict[str, tuple[int, int]]  # reconciliation → (open, new in the report window)
    policy: list[Any]  # the changes detected in the report window
    facts: dict[str, list[Any]] = field(default_factory=dict)  # every model's rows, for the workbook

    @property
    def as_of(self) -> date:
        return self.period.end

    @property
    def window(self) -> str:
        return self.period.kind


def read_facts(conn: Connection, as_of: date, *, grace_days: int = SUBSCRIPTION_GRACE_DAYS) -> dict[str, list[Any]]:
    """Every fact model's rows, as of the end of business day `as_of`."""
    params = {
        "as_of_at": day_end_utc(as_of),
        "as_of_on": as_of,
        "overdue_before_on": as_of - timedelta(days=grace_days - 1),
    }
    facts = {}
    for name, columns in COLUMNS.items():
        model = f"kpi/kpi_{name}"
        wanted = {p: params[p] for p in sqlfiles.parameters(model)}
        facts[name] = sqlfiles.execute(conn, model, wanted, columns=columns).all()
    return facts


def compute(conn: Connection, period: ReportPeriod, *, city: CityRules | None = None) -> KpiData:
    city = city or CityRules()
    facts = read_facts(conn, period.end)
    spans = windows(period)
    metrics = _metrics(facts, city.filing_within_days)
    flows = {key: {name: (fn(cur, None), fn(prev, None)) for name, (cur, prev) in spans.items()} for key, fn in metrics}
    cur, prev = spans[period.kind]
    groups = _groups(facts)
    by_group = {key: {g: (fn(cur, g), fn(prev, g)) for g in groups} for key, fn in metrics}
    signings, collections = dict(metrics)["signings_amount_fen"], dict(metrics)["collections_amount_fen"]
    trend = [(w.start, signings(w, None), collections(w, None)) for w in trend_weeks(period.end, TREND_WEEKS)]
    receivables: dict[str, int] = dict.fromkeys(AGEING, 0)
    receivables_by_group: dict[Group, dict[str, int]] = defaultdict(lambda: dict.fromkeys(AGEING, 0))
    for r in facts["receivables"]:
        bucket = "due" if r.state == "due" else ("not_due" if r.state in ("not_due", "part_paid") else r.ageing)
        receivables[bucket] += r.outstanding_fen
        receivables_by_group[(r.project_code or "-", r.product_type)][bucket] += r.outstanding_fen
    as_ofs = {r.as_of_on for r in facts["receivables"]}
    breaks: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for b in facts["open_breaks"]:
        breaks[b.reconciliation][0] += 1
        breaks[b.reconciliation][1] += cur.holds(b.opened_on)
    overdue = facts["subscriptions_overdue"]
    return KpiData(
        period=period,
        flows=flows,
        by_group=by_group,
        trend=trend,
        receivables=receivables,
        receivables_by_group=dict(receivables_by_group),
        receivables_as_of=max(as_ofs) if as_ofs else None,
        pipeline=_pipeline(facts["mortgage_pipeline"], period.end),
        subscriptions_overdue=(len(overdue), sum(r.amount_fen for r in overdue)),
        open_breaks={name: (n, new) for name, (n, new) in sorted(breaks.items())},
        policy=[c for c in facts["policy_changes"] if cur.holds(business_day(c.event_at))],
        facts=facts,
    )


Metric = Callable[[Window, Group | None], Any]


def _in(group: Group | None, row: Any) -> bool:
    return group is None or ((row.project_code or "-"), row.product_type) == group


def _count(rows: list[Any], day_of: Callable[[Any], date | None], where: Callable[[Any], bool] = bool) -> Metric:
    return lambda w, g: sum(1 for r in rows if _in(g, r) and where(r) and w.holds(day_of(r)))


def _sum(
    rows: list[Any], day_of: Callable[[Any], date | None], value: Callable[[Any], Any], where=lambda r: True
) -> Metric:
    return lambda w, g: sum((value(r) for r in rows if _in(g, r) and where(r) and w.holds(day_of(r))), start=0)


def _metrics(facts: dict[str, list[Any]], filing_days: int) -> list[tuple[str, Metric]]:
    def signed(r: Any) -> date | None:
        return business_day(r.event_at)

    subs, sign, coll, canc = facts["subscriptions"], facts["signings"], facts["collections"], facts["cancellations"]
    handovers = facts["handovers"]
    out: list[tuple[str, Metric]] = [
        ("subscriptions_units", _count(subs, signed)),
        ("subscriptions_area", _sum(subs, signed, lambda r: r.building_area)),
        ("subscriptions_amount_fen", _sum(subs, signed, lambda r: r.amount_fen)),
        ("signings_units", _count(sign, signed)),
        ("signings_area", _sum(sign, signed, lambda r: r.building_area)),
        ("signings_amount_fen", _sum(sign, signed, lambda r: r.amount_fen)),
        ("filings_units", _count(facts["filings"], lambda r: business_day(r.filed_at))),
        ("filing_rate_pct", _filing_rate(facts["filings"])),
        (
            "filings_late",
            _late(
                facts["filings"],
                lambda r: business_day(r.signed_at),
                lambda r: business_day(r.filed_at),
                filing_days,
                lambda r: business_day(r.cancelled_at),
            ),
        ),
    ]
    for kind in COLLECTION_KINDS:
        out.append(
            (
                f"collections_{kind}_fen",
                _sum(coll, lambda r: r.event_on, lambda r: r.amount_fen, lambda r, k=kind: _collection_kind(r) == k),
            )
        )
    out.append(("collections_amount_fen", _sum(coll, lambda r: r.event_on, lambda r: r.amount_fen)))
    for kind in CHANGE_KINDS:
        out.append((f"changes_{kind}_units", _count(canc, signed, lambda r, k=kind: r.change_kind == k)))
        out.append(
            (f"changes_{kind}_fen", _sum(canc, signed, lambda r: r.amount_fen, lambda r, k=kind: r.change_kind == k))
        )
    out += [
        ("handovers_units", _count(handovers, lambda r: r.handed_over_on)),
        ("registrations_units", _count(handovers, lambda r: r.registered_on)),
        ("registration_rate_pct", _registration_rate(handovers)),
        (
            "registrations_late",
            _late(handovers, lambda r: r.handed_over_on, lambda r: r.registered_on, REGISTRATION_DAYS),
        ),
        ("breaks_new", lambda w, g: sum(1 for b in facts["open_breaks"] if g is None and w.holds(b.opened_on))),
        (
            "policy_changes",
            lambda w, g: sum(1 for c in facts["policy_changes"] if g is None and w.holds(business_day(c.event_at))),
        ),
    ]
    return out


def _collection_kind(row: Any) -> str:
    return row.collection_kind if row.collection_kind in COLLECTION_KINDS else "其他"


def _rate(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100 * part) / whole).quantize(PCT, ROUND_HALF_UP)


def _filing_rate(rows: list[Any]) -> Metric:
    """Of the contracts signed in the window and not cancelled by its end, the share filed by its end."""

    def rate(w: Window, g: Group | None) -> Decimal | None:
        signed = [
            r
            for r in rows
            if _in(g, r) and w.holds(business_day(r.signed_at)) and not _by(business_day(r.cancelled_at), w.end)
        ]
        return _rate(sum(1 for r in signed if _by(business_day(r.filed_at), w.end)), len(signed))

    return rate


def _late(
    rows: list[Any],
    start_of: Callable[[Any], date | None],
    done_of: Callable[[Any], date | None],
    days: int,
    ended_of: Callable[[Any], date | None] = lambda r: None,
) -> Metric:
    """Items whose deadline (`start_of` + `days`) passed in the window without being done by it: counted
    on their first late day, unless they ended (a cancellation) before it."""

    def late(w: Window, g: Group | None) -> int:
        count = 0
        for r in rows:
            start = start_of(r)
            if start is None or not _in(g, r):
                continue
            first_late = start + timedelta(days=days + 1)
            done, ended = done_of(r), ended_of(r)
            if w.holds(first_late) and (done is None or done >= first_late) and (ended is None or ended >= first_late):
                count += 1
        return count

    return late


def _registration_rate(rows: list[Any]) -> Metric:
    """Of the units handed over by the window's end, the share with their certificate by then."""

    def rate(w: Window, g: Group | None) -> Decimal | None:
        handed = [r for r in rows if _in(g, r) and _by(r.handed_over_on, w.end)]
        return _rate(sum(1 for r in handed if _by(r.registered_on, w.end)), len(handed))

    return rate


def _by(day: date | None, end: date) -> bool:
    return day is not None and day <= end


def _groups(facts: dict[str, list[Any]]) -> list[Group]:
    seen = {
        ((r.project_code or "-"), r.product_type)
        for name in ("subscriptions", "signings", "collections", "cancellations")
        for r in facts[name]
    }
    return sorted(seen)


def _pipeline(rows: Iterable[Any], as_of: date) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for r in rows:
        groups[(r.bank, r.stage)].append(r)
    out = []
    for (bank, stage), loans in sorted(groups.items()):
        days = [(as_of - business_day(r.entered_at)).days for r in loans]
        out.append(
            {
                "bank": bank,
                "stage": stage,
                "loans": len(loans),
                "amount_fen": sum(r.amount_fen for r in loans),
                "avg_days": round(sum(days) / len(days)),
                "max_days": max(days),
            }
        )
    return out
