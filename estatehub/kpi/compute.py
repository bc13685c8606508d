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

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import accumulate
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
    # 去化率 by project and product type at the report's end, from the building tables (empty: none synced)
    sell_through: list[dict[str, Any]] = field(default_factory=list)

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
    flows = {key: {name: (fn(cur), fn(prev)) for name, (cur, prev) in spans.items()} for key, fn in metrics.items()}
    cur, prev = spans[period.kind]
    by_group: dict[str, dict[Group, tuple[Any, Any]]] = {key: {} for key in metrics}
    for group, group_facts in _by_group(facts).items():
        for key, fn in _metrics(group_facts, city.filing_within_days).items():
            by_group[key][group] = (fn(cur), fn(prev))
    signings, collections = metrics["signings_amount_fen"], metrics["collections_amount_fen"]
    trend = [(w.start, signings(w), collections(w)) for w in trend_weeks(period.end, TREND_WEEKS)]
    receivables: dict[str, int] = dict.fromkeys(AGEING, 0)
    receivables_by_group: dict[Group, dict[str, int]] = defaultdict(lambda: dict.fromkeys(AGEING, 0))
    for r in facts["receivables"]:
        bucket = "due" if r.state == "due" else ("not_due" if r.state in ("not_due", "part_paid") else r.ageing)
        receivables[bucket] += r.outstanding_fen
        receivables_by_group[_group(r)][bucket] += r.outstanding_fen
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
        sell_through=sell_through(conn, period),
    )


SELL_THROUGH_COLUMNS = (
    "project_code", "project_name", "usage", "unit_count", "for_sale_count", "sold_count", "restricted_count",
    "not_for_sale_count", "for_sale_area", "sold_area",
)  # fmt: skip


def sell_through(conn: Connection, period: ReportPeriod) -> list[dict[str, Any]]:
    """去化率 (`sql/mart/unit_sell_through`, the building tables' sale states) by project and product type at
    the end of the report's last day, with the rate at the end of the day before its window and the
    units sold in the window; a department total row last (project `None`). Units for sale are 可售, 已签
    and 已备案 (a sealed 限制 or a 不可售 unit is not for sale); sold are 已签 and 已备案."""

    def at(day: date) -> dict[tuple[str, str], Any]:
        rows = sqlfiles.execute(
            conn, "mart/unit_sell_through", {"cutoff_at": day_end_utc(day)}, columns=SELL_THROUGH_COLUMNS
        ).all()
        return {(r.project_code, r.usage): r for r in rows}

    now, before = at(period.end), at(period.start - timedelta(days=1))
    out = [_sell_through_row(r, before.get(key)) for key, r in sorted(now.items())]
    if out:
        total = {
            name: sum(row[name] for row in out)
            for name in (
                "units", "for_sale", "sold", "restricted", "not_for_sale", "sold_before", "for_sale_before",
                "sold_area", "for_sale_area",
            )
        }  # fmt: skip
        out.append(
            {
                "project_code": None,
                "project_name": None,
                "usage": None,
                **total,
                "sold_in_window": total["sold"] - total["sold_before"],
                "rate_pct": _rate(total["sold"], total["for_sale"]),
                "rate_before_pct": _rate(total["sold_before"], total["for_sale_before"]),
                "area_rate_pct": _rate(total["sold_area"], total["for_sale_area"]),
            }
        )
    return out


def _sell_through_row(r: Any, earlier: Any) -> dict[str, Any]:
    sold_before = int(earlier.sold_count) if earlier is not None else 0
    for_sale_before = int(earlier.for_sale_count) if earlier is not None else 0
    sold_area, for_sale_area = Decimal(r.sold_area or 0), Decimal(r.for_sale_area or 0)
    return {
        "project_code": r.project_code,
        "project_name": r.project_name,
        "usage": r.usage,
        "units": int(r.unit_count),
        "for_sale": int(r.for_sale_count),
        "sold": int(r.sold_count),
        "restricted": int(r.restricted_count),
        "not_for_sale": int(r.not_for_sale_count),
        "sold_before": sold_before,
        "for_sale_before": for_sale_before,
        "sold_in_window": int(r.sold_count) - sold_before,
        "rate_pct": _rate(int(r.sold_count), int(r.for_sale_count)),
        "rate_before_pct": _rate(sold_before, for_sale_before),
        "sold_area": sold_area,
        "for_sale_area": for_sale_area,
        "area_rate_pct": _rate(sold_area, for_sale_area),
    }


Metric = Callable[[Window], Any]
BY_GROUP = ("subscriptions", "signings", "filings", "collections", "cancellations", "handovers")


def _group(row: Any) -> Group:
    return (row.project_code or "-", row.product_type)


def _by_group(facts: dict[str, list[Any]]) -> dict[Group, dict[str, list[Any]]]:
    """The facts of each (project, product type) that has subscriptions, signings, collections or changes;
    breaks and policy changes belong to no project."""
    keys = {
        _group(row) for name in ("subscriptions", "signings", "collections", "cancellations") for row in facts[name]
    }
    groups: dict[Group, dict[str, list[Any]]] = {key: {name: [] for name in facts} for key in sorted(keys)}
    for name in BY_GROUP:
        for row in facts[name]:
            if _group(row) in groups:
                groups[_group(row)][name].append(row)
    return groups


class _Series:
    """Values on days, summed over a window by bisection over running totals."""

    def __init__(self, points: Iterable[tuple[date | None, Any]]) -> None:
        ordered = sorted((day, value) for day, value in points if day is not None)
        self.days = [day for day, _ in ordered]
        self.totals: list[Any] = list(accumulate((value for _, value in ordered), initial=0))

    def __call__(self, w: Window) -> Any:
        low = 0 if w.start is None else bisect_left(self.days, w.start)
        high = bisect_right(self.days, w.end)
        return self.totals[high] - self.totals[low] if high > low else 0


def _metrics(facts: dict[str, list[Any]], filing_days: int) -> dict[str, Metric]:
    subs, sign, coll, canc = facts["subscriptions"], facts["signings"], facts["collections"], facts["cancellations"]
    handovers, filings = facts["handovers"], facts["filings"]
    out: dict[str, Metric] = {}
    for name, rows in (("subscriptions", subs), ("signings", sign)):
        days = [business_day(r.event_at) for r in rows]
        out[f"{name}_units"] = _Series((d, 1) for d in days)
        out[f"{name}_area"] = _Series((d, r.building_area) for d, r in zip(days, rows, strict=True))
        out[f"{name}_amount_fen"] = _Series((d, r.amount_fen) for d, r in zip(days, rows, strict=True))
    out["filings_units"] = _Series((business_day(r.filed_at), 1) for r in filings)
    out["filing_rate_pct"] = _filing_rate(filings)
    out["filings_late"] = _late(
        ((business_day(r.signed_at), business_day(r.filed_at), business_day(r.cancelled_at)) for r in filings),
        filing_days,
    )
    for kind in COLLECTION_KINDS:
        out[f"collections_{kind}_fen"] = _Series(
            (r.event_on, r.amount_fen) for r in coll if _collection_kind(r) == kind
        )
    out["collections_amount_fen"] = _Series((r.event_on, r.amount_fen) for r in coll)
    for kind in CHANGE_KINDS:
        mine = [r for r in canc if r.change_kind == kind]
        out[f"changes_{kind}_units"] = _Series((business_day(r.event_at), 1) for r in mine)
        out[f"changes_{kind}_fen"] = _Series((business_day(r.event_at), r.amount_fen) for r in mine)
    out["handovers_units"] = _Series((r.handed_over_on, 1) for r in handovers)
    out["registrations_units"] = _Series((r.registered_on, 1) for r in handovers)
    out["registration_rate_pct"] = _registration_rate(handovers)
    out["registrations_late"] = _late(((r.handed_over_on, r.registered_on, None) for r in handovers), REGISTRATION_DAYS)
    out["breaks_new"] = _Series((b.opened_on, 1) for b in facts["open_breaks"])
    out["policy_changes"] = _Series((business_day(c.event_at), 1) for c in facts["policy_changes"])
    return out


def _collection_kind(row: Any) -> str:
    return row.collection_kind if row.collection_kind in COLLECTION_KINDS else "其他"


def _rate(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """`part` of `whole` in percent, one decimal, half up (counts or areas); None where `whole` is 0."""
    if not whole:
        return None
    return (Decimal(100 * part) / whole).quantize(PCT, ROUND_HALF_UP)


def _filing_rate(rows: list[Any]) -> Metric:
    """Of the contracts signed in the window and not cancelled by its end, the share filed by its end."""
    days = [(business_day(r.signed_at), business_day(r.filed_at), business_day(r.cancelled_at)) for r in rows]

    def rate(w: Window) -> Decimal | None:
        signed = [filed for on, filed, cancelled in days if w.holds(on) and not _by(cancelled, w.end)]
        return _rate(sum(1 for filed in signed if _by(filed, w.end)), len(signed))

    return rate


def _late(items: Iterable[tuple[date | None, date | None, date | None]], days: int) -> Metric:
    """Items (start, done, ended) whose deadline (start + `days`) passed without being done by it: each
    counted on its first late day, unless it ended (a cancellation) before that day."""
    points = []
    for start, done, ended in items:
        if start is None:
            continue
        first_late = start + timedelta(days=days + 1)
        if (done is None or done >= first_late) and (ended is None or ended >= first_late):
            points.append((first_late, 1))
    return _Series(points)


def _registration_rate(rows: list[Any]) -> Metric:
    """Of the units handed over by the window's end, the share with their certificate by then."""

    def rate(w: Window) -> Decimal | None:
        handed = [r for r in rows if _by(r.handed_over_on, w.end)]
        return _rate(sum(1 for r in handed if _by(r.registered_on, w.end)), len(handed))

    return rate


def _by(day: date | None, end: date) -> bool:
    return day is not None and day <= end


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
