"""The KPI report on the reconciliation tests' hand-made world, whose numbers are known by heart: the
windows, the late filings on their first late day, the receivables' ageing, the email per language
with its inline charts and the workbook in exact yuan, the targets file, the schedule, and the HTML
in headless Chromium."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, date, datetime
from email import policy
from email.parser import BytesParser
from io import BytesIO

import openpyxl
import pytest
from sqlalchemy import select

from estatehub.cli import main
from estatehub.health.tables import etl_report_sent
from estatehub.kpi.compute import compute
from estatehub.kpi.periods import report_period, reports_due, windows
from estatehub.kpi.targets import KpiTargetsError, load_targets
from estatehub.mail import SmtpSender, SmtpSettings
from estatehub.reconcile.city import CityRules
from estatehub.reconcile.run import run_reconciliation
from estatehub.reports import kpi_charts
from estatehub.reports.finance import RecipientList, ReportConfig
from estatehub.reports.i18n import KPI_LABELS
from estatehub.reports.kpi import build, kpi_report_files, send_kpi_report, write
from sandbox.smtp import MailSink
from tests.conftest import TEST_PII_KEY
from tests.reconcile.conftest import END, START
from tests.support.browser import needs_chromium, screenshot

JUNE = report_period("month", END)
CONFIG = ReportConfig(
    sender="estatehub@dev.example",
    finance=(RecipientList("finance", "zh-CN", ("finance@dev.example",)),),
    kpi=(
        RecipientList("manager", "zh-CN", ("manager@dev.example",)),
        RecipientList("group", "en", ("gm@dev.example", "cfo@dev.example")),
    ),
)


@pytest.fixture
def reconciled(world):
    run_reconciliation(world, date_from=START, date_to=END, city=CityRules())
    return world


def test_the_known_world_s_numbers_in_each_window(reconciled):
    with reconciled.engine.connect() as conn:
        data = compute(conn, JUNE)
    flows = data.flows
    # four main contracts signed in January and May at 3,000,000.00 yuan each; XS4 on 05-01
    assert flows["signings_units"] == {"week": (0, 0), "month": (0, 1), "ytd": (4, 0), "total": (4, 4)}
    assert flows["signings_amount_fen"]["ytd"] == (1_200_000_000, 0)
    assert flows["subscriptions_units"]["total"] == (1, 1)
    # XS4 signed 05-01, never filed: the 30 days end 05-31, late from 06-01 (June, not May); YS3
    # (signed 01-10, filed 01-15, cancelled 05-01) was filed in time
    assert flows["filings_late"] == {"week": (0, 0), "month": (1, 0), "ytd": (1, 0), "total": (1, 0)}
    # June: the 12,345.00 receipt of 06-01 tied to no contract; May: 10,000.00 分期 on 05-10
    assert flows["collections_amount_fen"]["month"] == (1_234_500, 1_000_000)
    assert flows["collections_首付_fen"]["month"] == (1_234_500, 0)
    assert flows["collections_分期_fen"]["month"] == (0, 1_000_000)
    assert flows["collections_商贷_fen"]["ytd"] == (205_000_000, 0)  # the disbursement booked as 按揭
    assert flows["changes_退房_units"]["month"] == (0, 1)  # YS3 cancelled 05-01, nothing replaced it
    # YS2's two 分期 lines of 100,000.00 due 05-31 and 05-30: 30 and 31 days overdue on 06-30
    assert data.receivables == {
        "not_due": 0,
        "due": 0,
        "1-30": 10_000_000,
        "31-60": 10_000_000,
        "61-90": 0,
        "over_90": 0,
    }
    assert data.receivables_as_of == END
    assert (
        data.pipeline
        == [{"bank": "icbc", "stage": "已放款", "loans": 0, "amount_fen": 0, "avg_days": 0, "max_days": 0}][:0]
    ), "the hand-made loan has no stage history: no pipeline"
    assert data.open_breaks == {"contracts": (3, 3), "invoices": (3, 3), "receivables": (3, 3)}
    assert data.subscriptions_overdue == (0, 0)  # RG1 became YS1


def test_windows_end_on_the_report_s_last_day_and_compare_with_the_same_span_before():
    week = report_period("week", date(2026, 3, 18))
    assert (week.start, week.end, week.label) == (date(2026, 3, 16), date(2026, 3, 22), "2026-W12")
    spans = {name: ((c.start, c.end), (p.start, p.end)) for name, (c, p) in windows(week).items()}
    assert spans == {
        "week": ((date(2026, 3, 16), date(2026, 3, 22)), (date(2026, 3, 9), date(2026, 3, 15))),
        "month": ((date(2026, 3, 1), date(2026, 3, 22)), (date(2026, 2, 1), date(2026, 2, 22))),
        "ytd": ((date(2026, 1, 1), date(2026, 3, 22)), (date(2025, 1, 1), date(2025, 3, 22))),
        "total": ((None, date(2026, 3, 22)), (None, date(2026, 3, 15))),
    }
    month = windows(report_period("month", date(2026, 3, 5)))["month"]
    assert [(w.start, w.end) for w in month] == [
        (date(2026, 3, 1), date(2026, 3, 31)),
        (date(2026, 2, 1), date(2026, 2, 28)),
    ]


def test_monday_sends_the_week_just_ended_and_the_first_the_month_just_ended():
    at_eight = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai, a Monday and the 1st
    assert reports_due(at_eight) == [("week", date(2026, 5, 31)), ("month", date(2026, 5, 31))]
    assert reports_due(datetime(2026, 6, 29, 0, tzinfo=UTC)) == [("week", date(2026, 6, 28))]
    assert reports_due(datetime(2026, 7, 1, 0, tzinfo=UTC)) == [("month", date(2026, 6, 30))]
    assert reports_due(datetime(2026, 7, 2, 3, tzinfo=UTC)) == [("week", date(2026, 6, 28))]  # by hand


def test_each_list_gets_its_language_with_inline_charts_and_the_workbook_in_yuan(reconciled, tmp_path):
    with MailSink(tmp_path / "mail") as sink:
        sent = send_kpi_report(
            reconciled,
            JUNE,
            config=CONFIG,
            send=SmtpSender(SmtpSettings("127.0.0.1", sink.port)).send,
            targets=load_targets(),
        )
    assert sent == ["manager", "group"]
    with reconciled.engine.connect() as conn:
        recorded = sorted(conn.execute(select(etl_report_sent.c.report, etl_report_sent.c.recipients_count)).all())
    assert recorded == [("kpi_month 2026-06 group (en)", 2), ("kpi_month 2026-06 manager (zh-CN)", 1)]
    messages = [BytesParser(policy=policy.default).parsebytes(p.read_bytes()) for p in (tmp_path / "mail").glob("*")]
    zh, en = sorted(messages, key=lambda m: "gm@" in m["To"])
    assert zh["Subject"] == "【客服部月报】2026-06：签约 0.00 万元，回款 1.23 万元"
    assert en["Subject"] == "[Customer service monthly KPIs] 2026-06: signed 0.00 wan yuan, collected 1.23 wan yuan"
    html = zh.get_body(("html",)).get_content()
    assert "客服部月报" in html and "逾期1-30天" in html and "去化率" in html and "（其中本期新增） · 发票" in html
    images = {part["Content-ID"]: part for part in zh.walk() if part.get_content_type() == "image/png"}
    assert set(images) == {"<trend>", "<ageing>", "<pipeline>", "<sell_through>"}
    for cid in ("trend", "ageing", "pipeline"):
        assert f'src="cid:{cid}"' in html
        assert images[f"<{cid}>"].get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    # 万元 in the email: 1,200,000,000 fen = 1,200.00 万元 signed this year
    assert ">1,200.00<" in html and ">10.00<" in html
    (attachment,) = list(zh.iter_attachments())
    assert attachment.get_filename() == "KPI明细_2026-06.xlsx"
    book = openpyxl.load_workbook(BytesIO(attachment.get_content()))
    summary = {row[0]: row for row in book["指标汇总"].iter_rows(min_row=2, values_only=True)}
    # columns: KPI, then (current, previous) per window week, month, ytd, total, then the target
    assert summary["签约金额"][5] == 12_000_000.0 and summary["回款合计"][3] == 12_345.0
    assert summary["签约金额"][9] == 75_000_000.0, "the month's target, 7500 万元, in yuan"
    ageing = list(book["应收账龄"].iter_rows(values_only=True))
    assert ageing[0][:5] == ("项目", "业态", "未到期", "今日到期", "逾期1-30天")
    assert ageing[1][:6] == ("P01", "其他", 0.0, 0.0, 100_000.0, 100_000.0)
    collected = list(book["明细_回款金额"].iter_rows(values_only=True))
    assert collected[0] == ("收款单", "项目", "业态", "日期", "款项", "金额（元）")
    assert collected[1:] == [("SKD00000006", None, "其他", datetime(2026, 6, 1), "首付", 12_345.0)]
    assert book["明细_签约金额"].max_row == 1, "nothing signed in June"
    assert "Key figures" in en.get_body(("html",)).get_content()


def test_project_targets_are_shown_against_the_project_s_figures(reconciled, tmp_path):
    path = tmp_path / "targets.yaml"
    path.write_text("month:\n  projects:\n    P01: {signings_units: 2, collections_amount_wan: 2}\n")
    with reconciled.engine.connect() as conn:
        may = build(compute(conn, report_period("month", date(2026, 5, 31))), lang="en", targets=load_targets(path))
        june = build(compute(conn, JUNE), lang="en", targets=load_targets(path))
    # May: XS4 signed (1 of 2 units), 10,000.00 yuan collected on YS3 (1.00 of 2.00 万元)
    assert "Project targets (This month)" in may.html
    row = '<td style="{td}">P01</td><td style="{td}">Signings (units)</td>'
    assert row.replace("{td}", "padding:6px 8px;border-bottom:1px solid #eaeef2;vertical-align:top") in may.html
    assert may.html.count(">50%<") == 2
    # June: the department collected 12,345.00 yuan, but on no contract: nothing of it is P01's
    assert june.html.count(">0%<") == 2 and ">62%<" not in june.html


def test_every_kpi_label_exists_in_both_languages():
    assert set(KPI_LABELS["zh-CN"]) == set(KPI_LABELS["en"])


def test_chinese_chart_labels_have_their_glyphs():
    labels = KPI_LABELS["zh-CN"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font" for square boxes
        png = kpi_charts.ageing_chart({"1-30": 10_000_000}, labels, {"1-30": "逾期1-30天"})
    assert png[:4] == b"\x89PNG"
    assert kpi_charts.cjk_font() in ("WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK JP")


def test_a_target_the_file_does_not_know_is_an_error_naming_it(tmp_path):
    path = tmp_path / "targets.yaml"
    path.write_text("week:\n  signing_units: 5\n", encoding="utf-8")
    with pytest.raises(KpiTargetsError, match=r"week\.signing_units is no KPI target"):
        load_targets(path)
    path.write_text("month:\n  collections_amount_wan: 12.5\n  projects:\n    P01: {signings_units: 3}\n")
    targets = load_targets(path)
    assert targets.get("month", "collections_amount_fen") == 12_500_000
    assert targets.get("month", "signings_units", "P01") == 3 and targets.get("week", "signings_units") is None


def test_the_command_writes_the_report_without_sending(reconciled, tmp_path, monkeypatch):
    url = reconciled.engine.url.render_as_string(hide_password=False)
    if not url.startswith("sqlite"):
        pytest.skip("the command line reads its own warehouse; one backend is enough")
    connection = {
        "conn_type": "sqlite",
        "host": reconciled.engine.url.database,
        "extra": {"pii_key": TEST_PII_KEY.decode()},
    }
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps(connection))
    assert main(["report", "kpi", "--month", "2026-06", "--out", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "kpi_month_2026-06-30_zh-CN.html" in names and "kpi_month_2026-06-30_en_trend.png" in names
    assert "kpi_month_2026-06-30_zh-CN.xlsx" in names
    with reconciled.engine.connect() as conn:
        assert conn.execute(select(etl_report_sent)).all() == [], "written, not sent: nothing recorded"


@pytest.mark.slow
@needs_chromium
def test_the_html_email_renders_in_a_browser_with_its_charts(reconciled, tmp_path):
    html = next(p for p in kpi_report_files(reconciled, "month", END, tmp_path, languages=("zh-CN",)))
    shot = screenshot(html.as_uri(), tmp_path / "kpi.png", size=(1000, 2600), timeout=90)
    from PIL import Image

    image = Image.open(shot).convert("RGB")
    assert image.size == (1000, 2600)
    colours = image.getcolors(maxcolors=1 << 18)
    assert colours is not None and len(colours) > 200, "a page with text and charts, not blank"
    # the trend chart's bars are drawn in the signings blue (#4C78A8): the image loaded
    assert any(rgb == (0x4C, 0x78, 0xA8) for _, rgb in colours), "the charts show in the page"


def test_written_html_points_at_the_chart_files_beside_it(reconciled, tmp_path):
    with reconciled.engine.connect() as conn:
        report = build(compute(conn, JUNE), lang="en", targets=load_targets())
    paths = write(report, tmp_path)
    html = paths[0].read_text(encoding="utf-8")
    assert "cid:" not in html and 'src="kpi_month_2026-06-30_en_trend.png"' in html
    assert (tmp_path / "kpi_month_2026-06-30_en_trend.png").read_bytes() == report.images["trend"]


def test_policy_changes_count_in_the_business_day_they_were_detected(reconciled):
    from estatehub.policy.tables import core_policy_change

    def change(title: str, detected_at: datetime) -> dict:
        return {
            "run_id": "p",
            "watch_id": "notices",
            "document_key": title,
            "notice_key": title,
            "kind": "changed",
            "title": title,
            "url": "http://bureau.example/n/1.html",
            "added_lines": [],
            "removed_lines": [],
            "topics": [],
            "urgency": "high",
            "urgency_reasons": [],
            "detected_at": detected_at,
        }

    with reconciled.begin() as conn:
        conn.execute(
            core_policy_change.insert(),
            [
                change("五月最后一天（北京）", datetime(2026, 5, 31, 15, 59, tzinfo=UTC)),  # 23:59 on 05-31
                change("六月第一天（北京）", datetime(2026, 5, 31, 16, 0, tzinfo=UTC)),  # 00:00 on 06-01
                change("报告日之后", datetime(2026, 6, 30, 16, 0, tzinfo=UTC)),  # 07-01: not yet
            ],
        )
    with reconciled.engine.connect() as conn:
        data = compute(conn, JUNE)
    assert data.flows["policy_changes"]["month"] == (1, 1)
    assert data.flows["policy_changes"]["total"] == (2, 1)
    assert [c.title for c in data.policy] == ["六月第一天（北京）"]


def _building_table(warehouse) -> None:  # noqa: ANN001
    """P01 住宅: 5 units — A sold before June (已签 05-20), B sold in June (可售 until 06-10, then 已备案),
    C 可售, D 限制 (sealed), E 不可售; P01 车位: 2 spaces, one sold in June. (UTC instants; the month's
    window starts 06-01 Beijing time.)"""
    from decimal import Decimal

    from sqlalchemy import insert

    from estatehub.trading_network.tables import core_unit_inventory, core_unit_inventory_state_history

    def at(month: int, day: int) -> datetime:
        return datetime(2026, month, day, 4, tzinfo=UTC)

    units = {  # code: (usage, area, [(from, state)])
        "A": ("住宅", "90.00", [(at(1, 5), "可售"), (at(5, 20), "已签")]),
        "B": ("住宅", "100.00", [(at(1, 5), "可售"), (at(6, 10), "已备案")]),
        "C": ("住宅", "110.00", [(at(1, 5), "可售")]),
        "D": ("住宅", "120.00", [(at(1, 5), "限制")]),
        "E": ("住宅", "130.00", [(at(1, 5), "不可售")]),
        "P1": ("车位", "12.00", [(at(1, 5), "可售"), (at(6, 2), "已签")]),
        "P2": ("车位", "12.00", [(at(1, 5), "可售")]),
    }
    inventory, history = [], []
    for code, (usage, area, states) in units.items():
        inventory.append(
            {
                "permit_no": "YS-P01-1", "unit_code": code, "project_code": "P01", "project_name": "一期",
                "building": "1栋", "floor": 1, "room": code, "usage": usage, "building_area": Decimal(area),
                "record_total_price_fen": 100, "sale_state": states[-1][1], "updated_at": states[-1][0],
            }
        )  # fmt: skip
        for i, (start, state) in enumerate(states):
            end = states[i + 1][0] if i + 1 < len(states) else None
            history.append(
                {"permit_no": "YS-P01-1", "unit_code": code, "valid_from": start, "valid_to": end, "sale_state": state}
            )
    with warehouse.engine.begin() as conn:
        conn.execute(insert(core_unit_inventory), inventory)
        conn.execute(insert(core_unit_inventory_state_history), history)


def test_sell_through_counts_units_for_sale_at_the_end_and_the_start_of_the_window(reconciled, tmp_path):
    _building_table(reconciled)
    with reconciled.engine.connect() as conn:
        data = compute(conn, JUNE)
    rows = {(r["project_code"], r["usage"]): r for r in data.sell_through}
    home = rows[("P01", "住宅")]
    # for sale: A, B, C (D sealed, E not for sale); sold at the end A and B, before June only A
    assert (home["for_sale"], home["sold"], home["sold_in_window"], home["restricted"], home["not_for_sale"]) == (
        3, 2, 1, 1, 1,
    )  # fmt: skip
    assert (str(home["rate_pct"]), str(home["rate_before_pct"]), str(home["area_rate_pct"])) == ("66.7", "33.3", "63.3")
    parking = rows[("P01", "车位")]
    assert (parking["for_sale"], parking["sold"], str(parking["rate_pct"]), str(parking["rate_before_pct"])) == (
        2, 1, "50.0", "0.0",
    )  # fmt: skip
    total = data.sell_through[-1]
    assert total["project_code"] is None
    assert (total["for_sale"], total["sold"], str(total["rate_pct"])) == (5, 3, "60.0")
    report = build(data, lang="zh-CN", targets=load_targets())
    assert "去化率" in report.html and "66.7" in report.html and "cid:sell_through" in report.html
    sheet = openpyxl.load_workbook(BytesIO(report.workbook))["去化率"]
    assert [c.value for c in sheet[2]][:5] == ["一期", "住宅", 3, 2, 1]
