"""The hourly health check on a real warehouse (SQLite and PostgreSQL) and the sandbox's real SMTP
server: a staleness finding is stored, mailed to the supervisors once, closed when the data arrives,
and told again only when it comes back; a mail the server never took stays due."""

from __future__ import annotations

import os
import socket
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from estatehub.banks.tables import etl_bank_statement_file
from estatehub.connections import SMTP_CONN_ID
from estatehub.freshness.rules import parse_rules
from estatehub.health.check import check_health
from estatehub.health.tables import etl_health_finding
from estatehub.mail import MailError, SmtpSender, SmtpSettings
from estatehub.settings import BUSINESS_TZ
from estatehub.warehouse.tables import etl_run, raw_record
from sandbox.smtp import MailSink

ACCOUNT = "622202100112345678"  # a collection account: shown masked only

RULES = parse_rules(
    {
        "syncs": [
            {
                "source": "trading_network",
                "label": "交易网",
                "streams": ["contracts"],
                "every": "1h",
                "grace": "30m",
                "hours": "09:00-19:00",
            }
        ],
        "daily_files": [
            {
                "name": "bank_statements",
                "label": "对账单",
                "kind": "bank_statement",
                "banks": ["icbc"],
                "due": "07:30",
                "grace": "30m",
            },
            {
                "name": "hpf_loan_list",
                "label": "公积金贷款业务明细",
                "kind": "fund_loan_list",
                "source": "bank_hpf",
                "due": "07:30",
                "grace": "30m",
            },
        ],
    }
)


def bj(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BUSINESS_TZ).astimezone(UTC)


@pytest.fixture(autouse=True)
def _no_outside_connections(monkeypatch):
    for name in [name for name in os.environ if name.startswith("AIRFLOW_CONN_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def sink(tmp_path, monkeypatch):
    with MailSink(tmp_path / "mail") as sink:
        monkeypatch.setenv(
            "AIRFLOW_CONN_SMTP_DEFAULT",
            f"smtp://{sink.host}:{sink.port}?disable_ssl=true&disable_tls=true&from_email=estatehub@estatehub.example",
        )
        yield sink


def synced(warehouse, finished_at: datetime, *, run_id: str) -> None:
    with warehouse.begin() as conn:
        conn.execute(
            etl_run.insert().values(
                run_id=run_id,
                source="trading_network",
                stream="contracts",
                mode="incremental",
                started_at=finished_at - timedelta(minutes=2),
                finished_at=finished_at,
                status="succeeded",
                fetched=10,
                loaded=10,
                quarantined=0,
            )
        )


def statement(warehouse, day: date) -> None:
    with warehouse.begin() as conn:
        conn.execute(
            etl_bank_statement_file.insert().values(
                bank="icbc",
                account_no=ACCOUNT,
                file_name=f"icbc_{day:%Y%m%d}.csv",
                sha256=f"sha-{day}",
                period_start_on=day,
                period_end_on=day,
                line_count=3,
                quarantined_count=0,
                credit_count=3,
                debit_count=0,
                credit_fen=100,
                debit_fen=0,
                status="loaded",
                origin="api",
                run_id="r",
                loaded_at=datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC),
            )
        )


def fund_list(warehouse, day: date) -> None:
    with warehouse.begin() as conn:
        conn.execute(
            raw_record.insert().values(
                source="bank_hpf",
                entity="loan",
                record_key="L1",
                run_id="r",
                payload_hash=f"h-{day}",
                fetched_at=bj(day.year, day.month, day.day, 6, 40) + timedelta(days=1),
                is_quarantined=False,
                payload={"贷款编号": "L1", "_file": f"公积金贷款业务明细_{day:%Y%m%d}.xlsx", "_line": 4},
            )
        )


def open_findings(warehouse) -> dict[str, datetime | None]:
    table = etl_health_finding
    with warehouse.engine.connect() as conn:
        rows = conn.execute(select(table.c.finding_key, table.c.alerted_at).where(table.c.resolved_at.is_(None)))
        return dict(rows.all())


def test_a_stale_source_is_told_once_then_closes_and_is_told_again_when_it_comes_back(warehouse, sink):
    send = SmtpSender(SMTP_CONN_ID).send  # the DAG's path: Airflow's lookup finds smtp_default
    statement(warehouse, date(2026, 12, 2))
    fund_list(warehouse, date(2026, 12, 2))
    synced(warehouse, bj(2026, 12, 3, 9, 5), run_id="run-1")

    assert check_health(warehouse, RULES, send, now=bj(2026, 12, 3, 10, 35)).as_dict() == {
        "found": 0,
        "new": 0,
        "resolved": 0,
        "alerted": 0,
    }, "1h30m after 09:05 exactly: within the limit"
    assert sink.messages() == []

    result = check_health(warehouse, RULES, send, now=bj(2026, 12, 3, 10, 36))
    assert result.as_dict() == {"found": 1, "new": 1, "resolved": 0, "alerted": 1}
    [alert] = sink.messages()
    assert "数据时效告警" in alert["Subject"] and "1 项新问题" in alert["Subject"]
    assert alert["To"] == "cs-supervisor-1@estatehub.example, cs-supervisor-2@estatehub.example"
    body = alert.get_body(("plain",)).get_content()
    assert "trading_network/contracts" in body and "2026-12-03 09:05" in body

    for minutes in (60, 120):  # the same finding an hour later, and the next: no second mail
        again = check_health(warehouse, RULES, send, now=bj(2026, 12, 3, 10, 36) + timedelta(minutes=minutes))
        assert again.as_dict() == {"found": 1, "new": 0, "resolved": 0, "alerted": 0}
    assert len(sink.messages()) == 1
    assert set(open_findings(warehouse)) == {"sync_stale:trading_network/contracts"}

    synced(warehouse, bj(2026, 12, 3, 12, 50), run_id="run-2")
    closed = check_health(warehouse, RULES, send, now=bj(2026, 12, 3, 13, 0))
    assert closed.as_dict() == {"found": 0, "new": 0, "resolved": 1, "alerted": 0}
    assert open_findings(warehouse) == {}

    back = check_health(warehouse, RULES, send, now=bj(2026, 12, 3, 14, 30))
    assert back.as_dict() == {"found": 1, "new": 1, "resolved": 0, "alerted": 1}
    assert len(sink.messages()) == 2, "it ended and came back: a new finding, told again"


def test_a_statement_and_the_fund_list_not_arrived_by_their_time_are_told_with_the_account_masked(warehouse, sink):
    statement(warehouse, date(2026, 12, 1))
    fund_list(warehouse, date(2026, 12, 1))
    synced(warehouse, bj(2026, 12, 3, 8, 0), run_id="run-1")
    send = SmtpSender(SMTP_CONN_ID).send

    assert check_health(warehouse, RULES, send, now=bj(2026, 12, 3, 8, 0)).found == 0, "due 07:30 + 30m exactly"
    result = check_health(warehouse, RULES, send, now=bj(2026, 12, 3, 8, 1))
    assert result.as_dict() == {"found": 2, "new": 2, "resolved": 0, "alerted": 2}
    [alert] = sink.messages()
    body = alert.get_body(("plain",)).get_content()
    assert "icbc 6222**********5678" in body and "2026-12-02" in body
    assert "公积金贷款业务明细" in body
    assert ACCOUNT not in alert.as_string() and ACCOUNT not in str(open_findings(warehouse))

    statement(warehouse, date(2026, 12, 2))
    fund_list(warehouse, date(2026, 12, 2))
    assert check_health(warehouse, RULES, send, now=bj(2026, 12, 3, 9, 0)).as_dict()["resolved"] == 2


def test_an_alert_the_server_never_took_stays_due_and_goes_out_on_the_next_run(warehouse, sink):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    down = SmtpSender(SmtpSettings("127.0.0.1", closed_port, timeout=2, sender="estatehub@estatehub.example"))
    statement(warehouse, date(2026, 12, 2))
    fund_list(warehouse, date(2026, 12, 2))
    synced(warehouse, bj(2026, 12, 3, 9, 0), run_id="run-1")
    now = bj(2026, 12, 3, 12, 0)

    with pytest.raises(MailError):
        check_health(warehouse, RULES, down.send, now=now)
    assert open_findings(warehouse) == {"sync_stale:trading_network/contracts": None}, "stored, not told"

    retried = check_health(warehouse, RULES, SmtpSender(SMTP_CONN_ID).send, now=now + timedelta(minutes=5))
    assert retried.as_dict() == {"found": 1, "new": 0, "resolved": 0, "alerted": 1}
    assert len(sink.messages()) == 1
