"""The manager's KPI report: weekly (Monday 08:00) and monthly (the 1st, 08:00), an HTML email per
recipient list in its language, with inline charts and the workbook of exact yuan.

    report = build(data, lang="zh-CN", targets=load_targets())   # a finance.Report with its images
    write(report, folder)                                        # files, without sending
    send_kpi_report(warehouse, period, config=load_report_config(), send=SmtpSender())
    kpi_report_files(warehouse, "week", date(2026, 3, 29), folder)  # what the demo calls

The numbers come from `estatehub.kpi.compute` (one SQL model per KPI under `sql/kpi/`); the email
shows amounts in 万元 (`estatehub.money.wan`), the workbook in yuan. Sending, the message, the files
and the record on the supervisors' page are the finance report's (`estatehub.reports.finance`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from estatehub.kpi.compute import AGEING, COLLECTION_KINDS, SUBSCRIPTION_GRACE_DAYS, KpiData, compute
from estatehub.kpi.periods import WINDOWS, ReportPeriod, business_day, report_period, windows
from estatehub.kpi.targets import Targets, load_targets
from estatehub.money import wan
from estatehub.reports import i18n, kpi_charts
from estatehub.reports.finance import Report, ReportConfig, ReportConfigError, render, send_to_lists, write
from estatehub.reports.workbook import add_sheet, new_workbook, to_bytes
from estatehub.warehouse.engine import Warehouse

__all__ = ["build", "kpi_report_files", "kpi_reports", "send_kpi_report", "write"]

# the rows of the summary table, in order: (KPI key, how it is shown)
SUMMARY = (
    ("subscriptions_units", "int"),
    ("subscriptions_area", "area"),
    ("subscriptions_amount_fen", "wan"),
    ("signings_units", "int"),
    ("signings_area", "area"),
    ("signings_amount_fen", "wan"),
    ("filings_units", "int"),
    ("filing_rate_pct", "pct"),
    ("filings_late", "int"),
    *((f"collections_{kind}_fen", "wan") for kind in COLLECTION_KINDS),
    ("collections_amount_fen", "wan"),
    ("changes_退房_units", "int"),
    ("changes_退房_fen", "wan"),
    ("changes_换房_units", "int"),
    ("changes_换房_fen", "wan"),
    ("changes_更名_units", "int"),
    ("changes_更名_fen", "wan"),
    ("changes_重签_units", "int"),
    ("handovers_units", "int"),
    ("registrations_units", "int"),
    ("registration_rate_pct", "pct"),
    ("registrations_late", "int"),
    ("breaks_new", "int"),
    ("policy_changes", "int"),
)
PROJECT_TARGETS = (("signings_units", "int"), ("signings_amount_fen", "wan"), ("collections_amount_fen", "wan"))
GROUP_KPIS = ("signings_units", "signings_amount_fen", "subscriptions_units", "collections_amount_fen")
CHARTS = ("trend", "ageing", "pipeline")


def show(value: Any, how: str) -> str:
    """A KPI value as the email shows it: 万元 for money, two decimals for areas, one for rates."""
    if value is None:
        return "–"
    if how == "wan":
        return wan(value)
    if how == "area":
        return f"{Decimal(value):,.2f}"
    if how == "pct":
        return f"{value}"
    return f"{value:,}"


def change(current: Any, previous: Any, how: str) -> str:
    """The change against the previous period: a difference (percentage points for a rate)."""
    if current is None or previous is None:
        return "–"
    delta = current - previous
    sign = "+" if delta > 0 else ""
    if how == "pct":
        return f"{sign}{delta} pp"
    return sign + show(delta, how) if delta else "0"


def achieved(current: Any, target: Any) -> str:
    if current is None or not target:
        return "–"
    return f"{Decimal(100) * Decimal(current) / Decimal(target):.0f}%"


def build(data: KpiData, *, lang: str, targets: Targets) -> Report:
    labels = i18n.labels(lang, i18n.KPI_LABELS)
    period = data.period
    title = labels[f"title_{period.kind}"]
    flows = data.flows
    own = period.kind
    subject = labels["subject"].format(
        title=title,
        label=period.label,
        signed=wan(flows["signings_amount_fen"][own][0]),
        collected=wan(flows["collections_amount_fen"][own][0]),
    )
    week_targets = (targets.get("week", "signings_amount_fen"), targets.get("week", "collections_amount_fen"))
    age_names = {bucket: labels[f"age_{bucket}"] for bucket in AGEING}
    images = {
        "trend": kpi_charts.trend_chart(data.trend, labels, week_targets),
        "ageing": kpi_charts.ageing_chart(data.receivables, labels, age_names),
        "pipeline": kpi_charts.pipeline_chart(data.pipeline, labels, str),
    }
    html = render(
        "kpi.html.j2",
        d=data,
        L=labels,
        lang=lang,
        title=title,
        summary=SUMMARY,
        windows=WINDOWS,
        group_kpis=GROUP_KPIS,
        targets=targets,
        show=show,
        change=change,
        rec_name=lambda name: i18n.reconciliation_name(lang, name),
        achieved=achieved,
        project_targets=_project_targets(data, targets),
        wan=wan,
        ageing=AGEING,
        grace_days=SUBSCRIPTION_GRACE_DAYS,
        overdue_total=sum(v for k, v in data.receivables.items() if k not in ("not_due", "due")),
    )
    return Report(
        lang=lang,
        day=period.end,
        subject=subject,
        text=_text(data, labels, title),
        html=html,
        workbook=_workbook(data, labels, targets),
        attachment_name=labels["attachment"].format(label=period.label),
        name=f"kpi_{period.kind}",
        images=images,
    )


def _project_targets(data: KpiData, targets: Targets) -> list[tuple[str, list[tuple[str, str, Any, Any]]]]:
    """Per project with targets in the file: (project, [(KPI, how, this period's figure, target)])."""
    out = []
    for project in targets.projects(data.period.kind):
        rows = []
        for key, how in PROJECT_TARGETS:
            target = targets.get(data.period.kind, key, project)
            if target is not None:
                current = sum(cur for (p, _), (cur, _) in data.by_group[key].items() if p == project)
                rows.append((key, how, current, target))
        out.append((project, rows))
    return out


def _text(data: KpiData, labels: dict[str, str], title: str) -> str:
    p = data.period
    lines = [title, labels["period"].format(start=p.start, end=p.end, label=p.label), ""]
    for key, how in SUMMARY:
        current, previous = data.flows[key][p.kind]
        lines.append(f"- {labels[key]}: {show(current, how)} ({labels['change']} {change(current, previous, how)})")
    lines += ["", labels["no_inventory"], labels["footer"]]
    return "\n".join(lines)


def _workbook(data: KpiData, labels: dict[str, str], targets: Targets) -> bytes:
    """Exact figures: money in yuan (from fen), every window, every group, every fact."""
    L = labels  # noqa: N806 - as in the template
    kind_of = {"int": "int", "area": "float", "pct": "float", "wan": "yuan"}
    book = new_workbook()
    columns = [(L["kpi"], "text")]
    for window in WINDOWS:
        columns += [(f"{L[window]}·{L['current']}", "float"), (f"{L[window]}·{L['previous']}", "float")]
    columns.append((f"{L['target']}（{L[data.period.kind]}）", "float"))
    rows = []
    for key, how in SUMMARY:
        row: list[Any] = [L[key]]
        for window in WINDOWS:
            for value in data.flows[key][window]:
                row.append(_exact(value, how))
        row.append(_exact(targets.get(data.period.kind, key), how))
        rows.append(row)
    add_sheet(book, L["sheet_summary"], columns, rows)
    add_sheet(
        book,
        L["sheet_groups"],
        [(L["project"], "text"), (L["product_type"], "text")]
        + [(f"{L[key]}·{L[s]}", kind_of[how]) for key, how in _group_summary() for s in ("current", "previous")],
        [
            [project, product, *(v for key, _ in _group_summary() for v in data.by_group[key][(project, product)])]
            for project, product in sorted(data.by_group["signings_units"])
        ],
    )
    add_sheet(
        book,
        L["sheet_trend"],
        [(L["week_of"], "date"), (L["signings"], "yuan"), (L["collections"], "yuan")],
        data.trend,
    )
    add_sheet(
        book,
        L["sheet_receivables"],
        [(L["project"], "text"), (L["product_type"], "text")] + [(L[f"age_{b}"], "yuan") for b in AGEING],
        [[p, t, *(buckets[b] for b in AGEING)] for (p, t), buckets in sorted(data.receivables_by_group.items())],
    )
    add_sheet(
        book,
        L["sheet_pipeline"],
        [(L["bank"], "text"), (L["stage"], "text"), (L["loans"], "int"), (L["amount_yuan"], "yuan"),
         (L["avg_days"], "int"), (L["max_days"], "int")],
        [[r["bank"], r["stage"], r["loans"], r["amount_fen"], r["avg_days"], r["max_days"]] for r in data.pipeline],
    )  # fmt: skip
    period = windows(data.period)[data.period.kind][0]  # the report's own period: its facts one by one
    add_sheet(
        book,
        L["sheet_facts"].format(name=L["signings"]),
        [(L["contract"], "text"), (L["project"], "text"), (L["product_type"], "text"), (L["day"], "date"),
         (L["area"], "float"), (L["amount_yuan"], "yuan")],
        [[r.contract_no, r.project_code, r.product_type, business_day(r.event_at), r.building_area, r.amount_fen]
         for r in data.facts["signings"] if period.holds(business_day(r.event_at))],
    )  # fmt: skip
    add_sheet(
        book,
        L["sheet_facts"].format(name=L["collections"]),
        [(L["bill"], "text"), (L["project"], "text"), (L["product_type"], "text"), (L["day"], "date"),
         (L["collection_kind"], "text"), (L["amount_yuan"], "yuan")],
        [[r.bill_no, r.project_code, r.product_type, r.event_on, r.collection_kind, r.amount_fen]
         for r in data.facts["collections"] if period.holds(r.event_on)],
    )  # fmt: skip
    return to_bytes(book)


def _group_summary() -> list[tuple[str, str]]:
    return [(key, how) for key, how in SUMMARY if key in GROUP_KPIS]


def _exact(value: Any, how: str) -> Any:
    if value is None:
        return None
    if how == "wan":
        return int(value) / 100  # yuan: the workbook's number format shows two decimals
    return float(value) if how in ("area", "pct") else value


def kpi_reports(
    warehouse: Warehouse, period: ReportPeriod, languages: tuple[str, ...], *, targets: Targets | None = None
) -> dict[str, Report]:
    targets = targets or load_targets()
    with warehouse.engine.connect() as conn:
        data = compute(conn, period)
    return {lang: build(data, lang=lang, targets=targets) for lang in dict.fromkeys(languages)}


def send_kpi_report(
    warehouse: Warehouse,
    period: ReportPeriod,
    *,
    config: ReportConfig,
    send: Callable[[EmailMessage], Any],
    out: Path | None = None,
    targets: Targets | None = None,
) -> list[str]:
    """Send the KPI report of `period` to every KPI recipient list in its language; return the lists."""
    if not config.kpi:
        raise ReportConfigError("the reports file names no KPI recipients: add kpi.lists to config/reports.yaml")
    reports = kpi_reports(warehouse, period, tuple(lst.language for lst in config.kpi), targets=targets)
    label = f"kpi_{period.kind} {period.label}"
    return send_to_lists(warehouse, reports, config.kpi, sender=config.sender, send=send, out=out, label=label)


def kpi_report_files(
    warehouse: Warehouse, kind: str, day: date, folder: Path, *, languages: tuple[str, ...] = i18n.LANGUAGES
) -> list[Path]:
    """The KPI report (`kind` week or month) of the period holding `day`, in each language, as files: what
    the demo and `estatehub report kpi` without --send call."""
    reports = kpi_reports(warehouse, report_period(kind, day), languages)
    return [path for report in reports.values() for path in write(report, folder)]
