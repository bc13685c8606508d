"""The daily finance report: an HTML email per recipient list, in its language, with the workbook.

    report = build(data, lang="zh-CN")          # subject, text, html, workbook bytes, attachment name
    write(report, folder)                      # the same files, without sending
    send_finance_report(warehouse, day, config=load_report_config(), send=SmtpSender())

The report is sent every day, also when everything matches ("nothing to report" is a result). Personal
data is what the warehouse keeps (masked names); break details are written by the reconciliations
from masked data only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

import jinja2

from estatehub.errors import UsageError
from estatehub.health.reports import record_report_sent
from estatehub.money import yuan
from estatehub.reports import i18n
from estatehub.reports.finance_data import AGE_BUCKETS, RECONCILIATIONS, FinanceData, read
from estatehub.reports.workbook import add_sheet, new_workbook, to_bytes
from estatehub.settings import CONFIG_DIR, read_yaml
from estatehub.warehouse.engine import Warehouse

DEFAULT_CONFIG = CONFIG_DIR / "reports.yaml"
TEMPLATES = Path(__file__).parent / "templates"
HTML_LIMIT = 50  # rows per table in the email; the workbook has them all
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_TH = "text-align:left;padding:6px 8px;border-bottom:1px solid #d8dde3;font-weight:600;white-space:nowrap"
_TD = "padding:6px 8px;border-bottom:1px solid #eaeef2;vertical-align:top"
# the inline styles of a table cell in every report's HTML (mail clients drop <style> blocks)
TABLE_STYLES = {"th": _TH, "td": _TD, "tdn": _TD + ";text-align:right;white-space:nowrap"}


class ReportConfigError(UsageError):
    """The reports file cannot be used."""


@dataclass(frozen=True)
class RecipientList:
    name: str
    language: str
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class ReportConfig:
    sender: str
    finance: tuple[RecipientList, ...]
    kpi: tuple[RecipientList, ...] = ()  # the manager's KPI report (estatehub.reports.kpi)


@dataclass(frozen=True)
class Report:
    lang: str
    day: date
    subject: str
    text: str
    html: str
    workbook: bytes
    attachment_name: str
    name: str = "finance"  # the files' stem: <name>_<day>_<lang>
    images: dict[str, bytes] = field(default_factory=dict)  # inline PNGs by Content-ID (the KPI report's charts)


def load_report_config(path: Path | None = None) -> ReportConfig:
    path = path or DEFAULT_CONFIG
    data = read_yaml(path, "the reports file", ReportConfigError)
    lists = _recipient_lists(path, data, "finance")
    if not lists:
        raise ReportConfigError(f"{path}: finance.lists names no recipients")
    return ReportConfig(
        str((data or {}).get("sender") or "estatehub@localhost"), lists, _recipient_lists(path, data, "kpi")
    )


def _recipient_lists(path: Path, data: Any, report: str) -> tuple[RecipientList, ...]:
    """The recipient lists of one report (`<report>.lists` of the file), each checked."""
    lists = []
    for i, entry in enumerate((((data or {}).get(report) or {}).get("lists")) or []):
        where = f"{path}: {report}.lists[{i}]"
        if not isinstance(entry, dict):
            raise ReportConfigError(f"{where} must be a mapping with name, language, recipients")
        lang = entry.get("language", "zh-CN")
        if lang not in i18n.LANGUAGES:
            raise ReportConfigError(f"{where}.language must be one of {', '.join(i18n.LANGUAGES)}, got {lang!r}")
        recipients = entry.get("recipients") or []
        if not recipients or not all(isinstance(r, str) and "@" in r for r in recipients):
            raise ReportConfigError(f"{where}.recipients must be a list of e-mail addresses")
        lists.append(RecipientList(str(entry.get("name", f"list-{i}")), lang, tuple(recipients)))
    return tuple(lists)


@functools.cache
def template_environment() -> jinja2.Environment:
    """The reports' templates (`reports/templates/`), autoescaped, an unknown name an error."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )


def render(template: str, **context: Any) -> str:
    """A report template of `templates/` with `context` and the reports' shared cell styles (th, td, tdn:
    inline, as mail clients drop style sheets)."""
    return template_environment().get_template(template).render(**TABLE_STYLES, **context)


def build(data: FinanceData, *, lang: str) -> Report:
    labels = i18n.labels(lang)
    open_total = sum(s.open_count + s.acknowledged for s in data.summaries)
    new_total = sum(s.new_today for s in data.summaries)
    subject = (
        labels["subject_clean"].format(day=data.day)
        if data.nothing_to_report
        else labels["subject"].format(day=data.day, open=open_total, new=new_total)
    )
    html = render(
        "finance.html.j2",
        d=data,
        L=labels,
        lang=lang,
        yuan=yuan,
        reason=lambda code: i18n.reason(lang, code),
        rec_name=lambda name: i18n.reconciliation_name(lang, name),
        buckets=[name for name, _, _ in AGE_BUCKETS],
        invoice_buyer=lambda b: b.party_masked or "",
        invoice_kind=lambda b: b.kind or "",
        cash_ran=any(s.reconciliation == "cash" and s.ran for s in data.summaries),
        limit=HTML_LIMIT,
    )
    return Report(
        lang,
        data.day,
        subject,
        _text(data, lang),
        html,
        _workbook(data, lang),
        labels["attachment"].format(day=data.day),
    )


def _text(data: FinanceData, lang: str) -> str:
    labels = i18n.labels(lang)
    lines = [f"{labels['title']} {data.day}", ""]
    if data.nothing_to_report:
        lines.append(labels["nothing"])
    for s in data.summaries:
        name = i18n.reconciliation_name(lang, s.reconciliation)
        if not s.ran:
            lines.append(f"- {name}: {labels['not_run']}")
            continue
        lines.append(
            f"- {name}: {labels['open']} {s.open_count}, {labels['acknowledged']} {s.acknowledged}, "
            f"{labels['open_amount']} {yuan(s.open_fen)}, {labels['new_today']} {s.new_today}, "
            f"{labels['closed_today']} {s.closed_today}"
        )
    lines += ["", labels["footer"]]
    return "\n".join(lines)


def _workbook(data: FinanceData, lang: str) -> bytes:
    L = i18n.labels(lang)  # noqa: N806 - the labels, as in the template
    book = new_workbook()
    add_sheet(
        book,
        L["sheet_summary"],
        [
            (L["reconciliation"], "text"),
            (L["open"], "int"),
            (L["acknowledged"], "int"),
            (L["open_amount"], "yuan"),
            (L["new_today"], "int"),
            (L["closed_today"], "int"),
            (L["matches"], "int"),
        ],
        [
            (
                i18n.reconciliation_name(lang, s.reconciliation),
                s.open_count if s.ran else None,
                s.acknowledged if s.ran else None,
                s.open_fen if s.ran else None,
                s.new_today if s.ran else None,
                s.closed_today if s.ran else None,
                s.matches if s.ran else None,
            )
            for s in data.summaries
        ],
    )
    columns = [
        (L["break_key"], "text"),
        (L["reason"], "text"),
        (L["subject_col"], "text"),
        (L["amount"], "yuan"),
        (L["first_on"], "date"),
        (L["due_on"], "date"),
        (L["days"], "int"),
        (L["status"], "text"),
        (L["opened_on"], "date"),
        (L["who"], "text"),
        (L["note"], "text"),
        (L["detail"], "text"),
    ]
    for name in RECONCILIATIONS:
        summary = next(s for s in data.summaries if s.reconciliation == name)
        if not summary.ran:
            continue
        add_sheet(
            book,
            i18n.reconciliation_name(lang, name),
            columns,
            [
                (
                    b.break_key,
                    i18n.reason(lang, b.reason),
                    b.subject,
                    b.amount_fen,
                    b.first_on,
                    b.due_on,
                    b.age_days,
                    i18n.STATUSES[lang][b.status],
                    b.opened_on,
                    b.who,
                    b.note,
                    b.detail,
                )
                for b in data.breaks.get(name, [])
            ],
        )
    add_sheet(
        book,
        L["sheet_receivables"],
        [
            (L["contract"], "text"),
            ("#", "int"),
            (L["project"], "text"),
            (L["buyer"], "text"),
            (L["kind"], "text"),
            (L["due_on"], "date"),
            (L["amount"], "yuan"),
            (L["received"], "yuan"),
            (L["outstanding"], "yuan"),
            (L["state"], "text"),
            (L["days_overdue"], "int"),
            (L["ageing"], "text"),
        ],
        [
            (
                r.contract_no,
                r.seq,
                r.project_code,
                r.buyer_masked,
                r.kind,
                r.due_on,
                r.amount_fen,
                r.received_fen,
                r.outstanding_fen,
                r.state,
                r.days_overdue,
                r.ageing,
            )
            for r in data.receivables
        ],
    )
    add_sheet(
        book,
        L["sheet_invoices"],
        [
            (L["subject_col"], "text"),
            (L["buyer"], "text"),
            (L["kind"], "text"),
            (L["amount"], "yuan"),
            (L["first_on"], "date"),
            (L["days"], "int"),
        ],
        [(b.subject, b.party_masked, b.kind, b.amount_fen, b.first_on, b.age_days) for b in data.invoices_to_issue],
    )
    add_sheet(
        book,
        L["sheet_matches"],
        [
            (L["reconciliation"], "text"),
            (L["tier"], "text"),
            (L["left"], "text"),
            (L["right"], "text"),
            (L["amount"], "yuan"),
            (L["amount_delta"], "yuan"),
            (L["date_delta"], "int"),
            (L["text_score"], "float"),
            (L["confidence"], "float"),
        ],
        [
            (
                i18n.reconciliation_name(lang, m.reconciliation),
                m.rule or m.tier_name,
                m.left_id,
                m.right_id,
                m.left_amount_fen,
                m.amount_delta_fen,
                m.date_delta_days,
                m.text_score,
                m.confidence,
            )
            for m in data.matches
        ],
    )
    return to_bytes(book)


def message(report: Report, *, sender: str, recipients: tuple[str, ...]) -> EmailMessage:
    """The email of a report: text and HTML alternatives, the report's inline PNG images (the HTML shows
    them as `cid:<id>`) and the workbook attached."""
    msg = EmailMessage()
    msg["Subject"] = report.subject
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "estatehub")
    msg.set_content(report.text)
    msg.add_alternative(report.html, subtype="html")
    if report.images:
        html_part = msg.get_body(("html",))
        for cid, png in report.images.items():
            html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>", filename=f"{cid}.png")
    maintype, subtype = XLSX.split("/")
    msg.add_attachment(report.workbook, maintype=maintype, subtype=subtype, filename=report.attachment_name)
    return msg


def write(report: Report, folder: Path, *, stem: str | None = None) -> list[Path]:
    """The email's HTML and text and the workbook, as files (the same as would be sent), named
    `<stem>.html|.txt|.xlsx` (by default `<name>_<day>_<lang>`); inline images beside them, the HTML
    pointing at those files instead of the message's parts."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = stem or f"{report.name}_{report.day}_{report.lang}"
    paths = [folder / f"{stem}.html", folder / f"{stem}.txt", folder / f"{stem}.xlsx"]
    html = report.html
    for cid, png in report.images.items():
        image = folder / f"{stem}_{cid}.png"
        image.write_bytes(png)
        html = html.replace(f'src="cid:{cid}"', f'src="{image.name}"')
        paths.append(image)
    paths[0].write_text(html, encoding="utf-8")
    paths[1].write_text(f"Subject: {report.subject}\n\n{report.text}\n", encoding="utf-8")
    paths[2].write_bytes(report.workbook)
    return paths


def finance_reports(warehouse: Warehouse, day: date, languages: tuple[str, ...]) -> dict[str, Report]:
    with warehouse.engine.connect() as conn:
        data = read(conn, day)
    return {lang: build(data, lang=lang) for lang in dict.fromkeys(languages)}


def send_finance_report(
    warehouse: Warehouse,
    day: date,
    *,
    config: ReportConfig,
    send: Callable[[EmailMessage], Any],
    out: Path | None = None,
) -> list[str]:
    """Send the report of `day` to every recipient list in its language; return the lists it went to."""
    reports = finance_reports(warehouse, day, tuple(lst.language for lst in config.finance))
    return send_to_lists(
        warehouse, reports, config.finance, sender=config.sender, send=send, out=out, label=f"finance {day}"
    )


def send_to_lists(
    warehouse: Warehouse,
    reports: dict[str, Report],
    lists: tuple[RecipientList, ...],
    *,
    sender: str,
    send: Callable[[EmailMessage], Any],
    out: Path | None,
    label: str,
) -> list[str]:
    """Each list gets the report of its language (also written to `out` when given), and each sending is
    recorded for the supervisors' page as `<label> <list> (<language>)`; returns the lists it went to."""
    sent = []
    for lst in lists:
        report = reports[lst.language]
        if out is not None:
            write(report, out)
        send(message(report, sender=sender, recipients=lst.recipients))
        record_report_sent(
            warehouse,
            f"{label} {lst.name} ({lst.language})",
            recipients=len(lst.recipients),
            path=str(out / f"{report.name}_{report.day}_{lst.language}.html") if out is not None else None,
        )
        sent.append(lst.name)
    return sent
