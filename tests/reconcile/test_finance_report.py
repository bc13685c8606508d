"""The finance report as finance receives it: through a real SMTP server, one message per recipient list
in its language, the workbook attached and opened, its totals equal to the warehouse's; sent also when
everything matches; the HTML rendered in headless Chromium."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from estatehub.mail import SmtpSender, SmtpSettings
from estatehub.reconcile.city import CityRules
from estatehub.reconcile.run import run_reconciliation
from estatehub.reconcile.tables import rec_break, rec_receivable
from estatehub.reports.finance import RecipientList, ReportConfig, build, send_finance_report, write
from estatehub.reports.finance_data import NoReconciliation, read
from estatehub.reports.i18n import LABELS, REASONS
from estatehub.reports.workbook import add_sheet, new_workbook, to_bytes
from sandbox.smtp import MailSink
from tests.reconcile.conftest import END, START
from tests.support.browser import assert_page_with_text, needs_chromium, screenshot

CONFIG = ReportConfig(
    sender="estatehub@dev.example",
    finance=(
        RecipientList("finance-team", "zh-CN", ("finance@dev.example", "cashier@dev.example")),
        RecipientList("controller", "en", ("controller@dev.example",)),
    ),
)


def _received(folder: Path) -> list:
    return [BytesParser(policy=policy.default).parsebytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]


def _parts(message):
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    (attachment,) = list(message.iter_attachments())
    return html, text, attachment


def test_each_list_gets_its_language_and_the_workbook_holds_the_warehouse_s_totals(world, tmp_path):
    run_reconciliation(world, date_from=START, date_to=END, city=CityRules())
    with MailSink(tmp_path / "mail") as sink:
        sent = send_finance_report(
            world, END, config=CONFIG, send=SmtpSender(SmtpSettings("127.0.0.1", sink.port)).send, out=tmp_path / "out"
        )
    assert sent == ["finance-team", "controller"]
    from estatehub.health.tables import etl_report_sent

    with world.engine.connect() as conn:
        recorded = conn.execute(select(etl_report_sent.c.report, etl_report_sent.c.recipients_count)).all()
    assert sorted(recorded) == [
        ("finance 2026-06-30 controller (en)", 1),
        ("finance 2026-06-30 finance-team (zh-CN)", 2),
    ]
    zh, en = sorted(_received(tmp_path / "mail"), key=lambda m: "controller" in m["To"])
    assert zh["To"] == "finance@dev.example, cashier@dev.example" and en["To"] == "controller@dev.example"
    assert zh["Subject"].startswith("【对账】2026-06-30") and en["Subject"].startswith("[Reconciliation] 2026-06-30")

    html, text, attachment = _parts(zh)
    assert "每日对账报告" in html and "收款未开票" in html and "张*丰" in html
    assert "张三丰" not in html + text, "names are masked"
    assert attachment.get_filename() == "对账明细_2026-06-30.xlsx"
    book = openpyxl.load_workbook(BytesIO(attachment.get_content()))
    sheets = ["汇总", "合同", "应收", "按揭放款", "资金流水", "发票"]
    assert book.sheetnames == [*sheets, "应收账款", "待开发票", "匹配明细"]

    with world.engine.connect() as conn:
        plan_total = conn.execute(select(func.sum(rec_receivable.c.amount_fen))).scalar_one()
        received_total = conn.execute(select(func.sum(rec_receivable.c.received_fen))).scalar_one()
        open_breaks = dict(
            conn.execute(
                select(rec_break.c.reconciliation, func.count())
                .where(rec_break.c.status != "resolved")
                .group_by(rec_break.c.reconciliation)
            ).all()
        )
    receivables = book["应收账款"]
    header = [c.value for c in receivables[1]]
    amounts = [row[header.index("金额（元）")] for row in receivables.iter_rows(min_row=2, values_only=True)]
    received = [row[header.index("已收（元）")] for row in receivables.iter_rows(min_row=2, values_only=True)]
    assert round(sum(amounts) * 100) == plan_total and round(sum(received) * 100) == received_total
    for sheet, name in (("合同", "contracts"), ("应收", "receivables"), ("发票", "invoices")):
        assert book[sheet].max_row - 1 == open_breaks[name], sheet
    summary = {row[0]: row for row in book["汇总"].iter_rows(min_row=2, values_only=True)}
    assert summary["合同"][1] == open_breaks["contracts"] and summary["资金流水"][1] == 0, "cash ran: nothing open"
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
    amount_cell = receivables.cell(row=2, column=header.index("金额（元）") + 1)
    assert amount_cell.number_format == "#,##0.00" and isinstance(amount_cell.value, float | int)
    assert receivables.cell(row=2, column=header.index("应收日") + 1).number_format == "yyyy-mm-dd"

    en_html, _, en_attachment = _parts(en)
    assert "Daily reconciliation report" in en_html and "invoice to issue" in en_html
    assert en_attachment.get_filename() == "reconciliation_2026-06-30.xlsx"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "finance_2026-06-30_en.html",
        "finance_2026-06-30_en.txt",
        "finance_2026-06-30_en.xlsx",
        "finance_2026-06-30_zh-CN.html",
        "finance_2026-06-30_zh-CN.txt",
        "finance_2026-06-30_zh-CN.xlsx",
    ]


def test_a_day_when_everything_matches_is_reported_too(warehouse, tmp_path):
    run_reconciliation(warehouse, date_from=START, date_to=END, city=CityRules())
    with warehouse.engine.connect() as conn:
        data = read(conn, END)
    assert data.nothing_to_report
    zh, en = build(data, lang="zh-CN"), build(data, lang="en")
    assert zh.subject == "【对账】2026-06-30 全部相符，无差异" and "没有需要处理的差异" in zh.html
    assert en.subject == "[Reconciliation] 2026-06-30: everything matches" and "nothing to report" in en.text


def test_no_report_for_a_day_no_reconciliation_ran(world):
    with world.engine.connect() as conn, pytest.raises(NoReconciliation, match="estatehub reconcile"):
        read(conn, END)


def test_every_label_and_reason_exists_in_both_languages():
    assert set(LABELS["zh-CN"]) == set(LABELS["en"])
    assert set(REASONS["zh-CN"]) == set(REASONS["en"])


def test_text_from_outside_never_becomes_a_formula_in_the_workbook():
    book = new_workbook()
    add_sheet(book, "x", [("memo", "text")], [('=HYPERLINK("http://evil")',), ("+1",), ("plain",)])
    sheet = openpyxl.load_workbook(BytesIO(to_bytes(book)))["x"]
    assert [sheet.cell(row=r, column=1).value for r in (2, 3, 4)] == ['\'=HYPERLINK("http://evil")', "'+1", "plain"]
    assert sheet.cell(row=2, column=1).data_type == "s"


@pytest.mark.slow
@needs_chromium
def test_the_html_email_renders_in_a_browser(world, tmp_path):
    run_reconciliation(world, date_from=START, date_to=END, city=CityRules())
    with world.engine.connect() as conn:
        report = build(read(conn, END), lang="zh-CN")
    html, _, _ = write(report, tmp_path)
    shot = screenshot(html.as_uri(), tmp_path / "report.png", size=(1000, 1400))
    assert_page_with_text(shot, width=1000, height=1400)
