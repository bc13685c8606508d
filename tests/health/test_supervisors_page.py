"""The supervisors' page as the plugin renders it from the `warehouse` Connection (SQLite and
PostgreSQL): what a supervisor must read is there, personal data is masked, and sections whose
tables come later say so instead of showing anything made up. Without a login it is refused."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from estatehub.health.reports import record_report_sent
from estatehub.policy.tables import core_policy_change
from estatehub.settings import BUSINESS_TZ
from estatehub.warehouse.tables import etl_quarantine, etl_run
from tests.conftest import TEST_PII_KEY
from tests.health.test_health_check import ACCOUNT, fund_list, statement, synced

NOW = datetime(2026, 12, 3, 10, 36, tzinfo=BUSINESS_TZ).astimezone(UTC)
PHONE = "13812345678"


@pytest.fixture
def page_warehouse(warehouse, warehouse_url, monkeypatch):
    for name in [name for name in os.environ if name.startswith("AIRFLOW_CONN_")]:
        monkeypatch.delenv(name)
    conn = {"conn_type": "postgres", "extra": {"url": warehouse_url}}  # extra url: as any warehouse Connection
    conn["extra"]["pii_key"] = TEST_PII_KEY.decode()
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps(conn))
    return warehouse


def seed(warehouse, now: datetime = NOW, *, any_time: bool = False) -> None:
    """A warehouse a supervisor must act on at `now`: the trading network 2 h behind, the ICBC statement
    of the day before yesterday the newest, a failed ledger run, three quarantined contracts, a policy alert.

    `any_time`: for a test on the real clock, stale and late whatever the hour — the network two days behind
    (2 h behind at 21:00 is fresh: the night does not age it) and the newest statement three days old
    (before 08:00 yesterday's is not due yet)."""
    today = now.astimezone(BUSINESS_TZ).date()
    statement(warehouse, today - timedelta(days=3 if any_time else 2))  # yesterday's is late (after 08:00)
    fund_list(warehouse, today - timedelta(days=1))
    synced(warehouse, now - (timedelta(days=2) if any_time else timedelta(hours=2)), run_id="run-ok")
    with warehouse.begin() as conn:
        conn.execute(
            etl_run.insert().values(
                run_id="run-bad",
                source="finance_ledger",
                stream="receipts",
                mode="incremental",
                started_at=now - timedelta(hours=1),
                finished_at=now - timedelta(minutes=50),
                status="failed",
                fetched=0,
                loaded=0,
                quarantined=0,
                message=f"ledger refused the token for user {PHONE}",
            )
        )
        for n in range(3):
            conn.execute(
                etl_quarantine.insert().values(
                    source="trading_network",
                    entity="contract",
                    record_key=f"C{n}",
                    reason="bad area",
                    payload_hash=f"q{n}",
                    first_run_id="r",
                    last_run_id="r",
                    first_seen_at=now - timedelta(days=n),
                    last_seen_at=now,
                    seen_count=1,
                )
            )
        conn.execute(
            core_policy_change.insert().values(
                run_id="p",
                watch_id="notices",
                document_key="d",
                notice_key="n",
                kind="new",
                title="关于进一步规范商品房预售资金监管的通知",
                url="http://bureau.example/n/1.html",
                doc_number="房管〔2026〕12号",
                added_lines=[],
                removed_lines=[],
                topics=["预售资金"],
                urgency="high",
                urgency_reasons=[],
                detected_at=now - timedelta(hours=3),
                alerted_at=now - timedelta(hours=3),
            )
        )


def test_the_page_shows_freshness_quarantine_failures_and_alerts_with_personal_data_masked(page_warehouse):
    import supervisors_page

    seed(page_warehouse)
    html = supervisors_page.build_page(now=NOW)

    assert "截至 2026-12-03 10:36 北京时间" in html
    assert "过期 stale" in html and "2026-12-03 08:36" in html  # the trading network, 2 h since its last success
    assert "icbc 6222**********5678" in html and "未到 late" in html
    assert "ccb (30 天内无文件 no file in 30 days)" in html
    assert ACCOUNT not in html
    assert "finance_ledger/receipts" in html and "user 138****5678</td>" in html and PHONE not in html
    assert '<td class="num">3</td>' in html  # three open quarantined contracts
    assert "关于进一步规范商品房预售资金监管的通知" in html and "房管〔2026〕12号" in html
    assert "none recorded yet" in html
    assert "no quality check has run yet" in html and "no open break" in html
    assert "no work list item (or the work lists were not built yet" in html


def test_the_page_shows_the_latest_quality_check_and_open_breaks_by_age(page_warehouse):
    from datetime import date

    import supervisors_page
    from sqlalchemy import insert

    from estatehub.ledger.tables import core_voucher, core_voucher_line
    from estatehub.quality.gates import check_sources
    from estatehub.reconcile.tables import rec_break

    seed(page_warehouse)
    with page_warehouse.engine.begin() as conn:
        conn.execute(
            insert(core_voucher),
            [
                {
                    "voucher_id": 1,
                    "voucher_group": "记",
                    "voucher_number": 7,
                    "year": 2026,
                    "period": 11,
                    "voucher_on": date(2026, 11, 30),
                    "is_audited": True,
                    "is_voided": False,
                    "is_reversal": False,
                    "created_at": NOW,
                    "modified_at": NOW,
                }
            ],
        )
        conn.execute(
            insert(core_voucher_line),
            [
                {
                    "entry_id": 1,
                    "voucher_id": 1,
                    "seq": 1,
                    "voucher_on": date(2026, 11, 30),
                    "memo": "x",
                    "account_no": "1002",
                    "debit_fen": 100,
                    "credit_fen": 0,
                    "is_voided": False,
                }
            ],
        )
        breaks = [("b1", "open", 5, 1_000_00), ("b2", "acknowledged", 45, -2_000_00), ("b3", "resolved", 200, 9)]
        conn.execute(
            insert(rec_break),
            [
                {
                    "break_key": key,
                    "reconciliation": "receivables",
                    "reason": "overdue",
                    "left_ids": "[]",
                    "right_ids": "[]",
                    "amount_fen": amount,
                    "left_amount_fen": 0,
                    "right_amount_fen": 0,
                    "age_days": age,
                    "detail": "x",
                    "status": status,
                    "opened_on": date(2026, 11, 1),
                    "changed_on": date(2026, 11, 1),
                    "first_run_id": "r",
                    "last_run_id": "r",
                }
                for key, status, age, amount in breaks
            ],
        )
    check_sources(page_warehouse, as_of=date(2026, 12, 2), purpose="reconcile")
    html = supervisors_page.build_page(now=NOW)
    assert "failed</span>" in html and "voucher_balanced" in html and "debits 1.00 against credits 0.00" in html
    row = html[html.index("<td>receivables</td>") :].split("</tr>")[0]
    cells = [c.split(">")[-1] for c in row.split("</td>")[:-1]]
    assert cells[1:] == ["1", "1", "3,000.00", "1", "1", "0", "0"], "resolved breaks are not counted"


def test_the_last_reports_sent_are_listed_newest_first(page_warehouse):
    import supervisors_page

    for report, hours in (("kpi_weekly", 30), ("finance_daily", 3)):
        record_report_sent(
            page_warehouse,
            report,
            recipients=2,
            path=f"var/reports/{report}.html",
            sent_at=NOW - timedelta(hours=hours),
        )
    html = supervisors_page.build_page(now=NOW)
    assert "none recorded yet" not in html
    assert html.index("finance_daily") < html.index("kpi_weekly")
    assert "var/reports/kpi_weekly.html" in html


def test_the_page_shows_the_size_of_each_work_list_and_how_many_are_late(page_warehouse):
    import supervisors_page
    from sqlalchemy import insert

    from estatehub.worklists.tables import mart_work_item

    day = NOW.date()
    rows = [
        ("refund_due", "refund:YS3", -45),
        ("refund_due", "refund:YS9", 3),
        ("handover_late", "handover:YS2", -1),
    ]
    with page_warehouse.begin() as conn:
        conn.execute(
            insert(mart_work_item),
            [
                {
                    "list_name": name,
                    "item_key": key,
                    "deadline_on": day + timedelta(days=left),
                    "days_left": left,
                    "detail": "",
                    "first_listed_on": day,
                    "as_of_on": day,
                    "build_id": "wl-1",
                }
                for name, key, left in rows
            ],
        )
    html = supervisors_page.build_page(now=NOW)
    assert "no work list item" not in html
    assert '<td>refund_due</td><td class="num">2</td><td class="num">1</td>' in html
    assert '<td>handover_late</td><td class="num">1</td><td class="num">1</td>' in html
    assert str(day - timedelta(days=45)) in html


def test_without_a_login_the_page_is_refused():
    import supervisors_page

    response = TestClient(supervisors_page.app).get("/")
    assert response.status_code == 401
    assert "icbc" not in response.text
