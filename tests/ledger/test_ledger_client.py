"""The ledger connector against the running ERP sandbox (real HTTP), and on edge cases with mocks."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import responses

from connectors.http import RetryPolicy
from connectors.ledger import (
    AuthError,
    Invoice,
    LedgerClient,
    QuarantineItem,
    QueryError,
    Receipt,
    Refund,
    VoucherLine,
)
from connectors.ledger.client import LOGIN_PATH, QUERY_PATH
from connectors.ledger.parse import FIELDS, parse_row
from sandbox.ledger.server import LedgerServer

TABLES = {"vouchers": "entries", "receipts": "receipts", "refunds": "refunds", "invoices": "invoices"}


def _expected(ledger_path: Path, table: str, now: str) -> int:
    db = sqlite3.connect(ledger_path)
    try:
        if table == "entries":
            sql = "select count(*) from entries e join vouchers v using (voucher_id) where v.created_at <= ?"
        else:
            sql = f"select count(*) from {table} where created_at <= ?"
        return db.execute(sql, (now,)).fetchone()[0]
    finally:
        db.close()


def _all(client: LedgerClient, since: datetime | None = None) -> dict[str, list]:
    return {
        "vouchers": list(client.iter_vouchers(since)),
        "receipts": list(client.iter_receipts(since)),
        "refunds": list(client.iter_refunds(since)),
        "invoices": list(client.iter_invoices(since)),
    }


def test_a_full_listing_brings_every_row_of_every_form(
    erp: LedgerServer, ledger_path: Path, make_client: Callable[..., LedgerClient]
) -> None:
    found = _all(make_client())
    now = erp._now.isoformat()
    for name, table in TABLES.items():
        assert len(found[name]) == _expected(ledger_path, table, now), name
        assert len({item.key for item in found[name]}) == len(found[name])
    assert all(isinstance(item, VoucherLine) for item in found["vouchers"])
    assert all(isinstance(item, Receipt) for item in found["receipts"])
    assert all(isinstance(item, Refund) for item in found["refunds"])
    assert all(isinstance(item, Invoice) for item in found["invoices"])
    line = found["vouchers"][0]
    assert isinstance(line.debit, Decimal) and line.created_at.tzinfo is UTC


def test_voided_and_red_items_come_marked(make_client: Callable[..., LedgerClient], ledger_path: Path) -> None:
    found = _all(make_client())
    assert any(item.is_voided for item in found["receipts"])
    assert any(line.is_red and line.memo.startswith("冲销") for line in found["vouchers"])
    assert any(invoice.is_red and invoice.amount < 0 for invoice in found["invoices"])
    db = sqlite3.connect(ledger_path)
    voided = {bill for (bill,) in db.execute("select bill_no from receipts where voided_at is not null")}
    assert {item.bill_no for item in found["receipts"] if item.is_voided} <= voided


FAULTS = [
    pytest.param([{"kind": "http_500", "every": 3}], id="http_500"),
    pytest.param([{"kind": "http_502", "every": 4}], id="http_502"),
    pytest.param([{"kind": "http_503", "every": 2, "times": 6}], id="http_503"),
    pytest.param([{"kind": "rate_limit", "every": 3, "retry_after": 0}], id="rate_limit"),
    pytest.param([{"kind": "slow", "every": 5, "times": 2, "delay": 1.5}], id="slow"),
    pytest.param([{"kind": "truncate", "every": 3, "keep": 0.6}], id="truncate"),
    pytest.param([{"kind": "duplicate", "path": "/k3cloud", "every": 2}], id="duplicate"),
    pytest.param([{"kind": "expire_tokens", "every": 4}], id="expire_tokens"),
    pytest.param([{"kind": "malformed", "every": 3, "count": 2}], id="malformed"),
    pytest.param([{"kind": "down", "after": 2, "times": 3}], id="down"),
]


@pytest.mark.parametrize("rules", FAULTS)
def test_the_connector_survives_the_fault(
    rules: list[dict], erp: LedgerServer, ledger_path: Path, make_client: Callable[..., LedgerClient]
) -> None:
    erp.faults.replace(rules, seed=11)
    client = make_client(timeout=1.0)
    found = _all(client)
    now = erp._now.isoformat()
    assert erp.faults.describe()["rules"][0]["fired"] > 0
    for name, table in TABLES.items():
        records = [item for item in found[name] if not isinstance(item, QuarantineItem)]
        assert len({item.key for item in records}) == len(records), f"{name}: a row came twice"
        bad = [item for item in found[name] if isinstance(item, QuarantineItem)]
        assert len(records) + len(bad) == _expected(ledger_path, table, now), name
        assert all(item.reason for item in bad)
    if rules[0]["kind"] == "expire_tokens":
        assert client.logins > 1


def test_a_row_that_stays_unreadable_is_quarantined_with_its_reason(
    erp: LedgerServer, make_client: Callable[..., LedgerClient]
) -> None:
    erp.faults.replace(
        [{"kind": "malformed", "path": "/k3cloud", "count": 1, "corruptions": ["non_numeric_price"]}], seed=3
    )
    receipts = list(make_client(refetch_bad_pages=1).iter_receipts())
    bad = [item for item in receipts if isinstance(item, QuarantineItem)]
    assert bad and all("FRECTOTALAMOUNTFOR" in item.reason and "12万5千" in item.reason for item in bad)
    assert all(item.key is not None and item.entity == "AR_RECEIVEBILL" for item in bad)


def test_an_incremental_listing_brings_what_changed_since_the_watermark(
    erp: LedgerServer, make_client: Callable[..., LedgerClient]
) -> None:
    erp.set_clock(datetime(2026, 2, 27, 18, 0, tzinfo=UTC))
    client = make_client()
    first = {item.key: item for item in client.iter_vouchers()}
    watermark = max(item.modified_at for item in first.values())
    erp.set_clock(datetime(2026, 4, 30, 18, 0, tzinfo=UTC))
    changed = list(client.iter_vouchers(watermark - timedelta(hours=1)))
    assert changed and all(item.modified_at >= watermark - timedelta(hours=1) for item in changed)
    merged = {**first, **{item.key: item for item in changed}}
    full = {item.key: item for item in client.iter_vouchers()}
    assert merged.keys() == full.keys()
    assert {k: (v.is_voided, v.is_audited, v.modified_at) for k, v in merged.items()} == {
        k: (v.is_voided, v.is_audited, v.modified_at) for k, v in full.items()
    }


def test_wrong_credentials_raise_auth_error(erp: LedgerServer) -> None:
    client = LedgerClient(erp.url, "dev-sandbox", "wrong", retry=RetryPolicy(max_attempts=1))
    with pytest.raises(AuthError, match="LoginResultType 0"):
        list(client.iter_receipts())
    client.close()


# -- edge cases on a mocked ERP --------------------------------------------------------------------

BASE = "http://erp.example"


def _ok_login(mocked: responses.RequestsMock) -> None:
    mocked.post(
        BASE + LOGIN_PATH,
        json={"LoginResultType": 1, "KDSVCSessionId": "s1"},
        headers={"Set-Cookie": "kdservice-sessionid=s1; path=/"},
    )


def test_an_erp_error_object_becomes_a_query_error() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mocked:
        _ok_login(mocked)
        error = [
            [
                {
                    "Result": {
                        "ResponseStatus": {"IsSuccess": False, "MsgCode": 9, "Errors": [{"Message": "字段 FX 不存在"}]}
                    }
                }
            ]
        ]
        mocked.post(BASE + QUERY_PATH, json=error)
        client = LedgerClient(BASE, "a", "b", sleep=lambda s: None)
        with pytest.raises(QueryError, match="字段 FX 不存在"):
            client.query("GL_VOUCHER", ["FX"])


def test_a_session_lost_twice_in_a_row_is_an_auth_error() -> None:
    lost = [
        [{"Result": {"ResponseStatus": {"IsSuccess": False, "MsgCode": 1, "Errors": [{"Message": "会话信息已丢失"}]}}}]
    ]
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mocked:
        _ok_login(mocked)
        mocked.post(BASE + QUERY_PATH, json=lost)
        _ok_login(mocked)
        mocked.post(BASE + QUERY_PATH, json=lost)
        client = LedgerClient(BASE, "a", "b", sleep=lambda s: None)
        with pytest.raises(AuthError, match="again right after logging in"):
            client.query("GL_VOUCHER", ["FVOUCHERID"])
        assert client.logins == 2


def _receipt_row(**changes) -> list:  # noqa: ANN003
    row = dict(
        zip(
            FIELDS["AR_RECEIVEBILL"],
            [
                7,
                "SKD00000007",
                "2026-03-12T00:00:00",
                "KH2026P01000011",
                "张三",
                "张建国",
                "网银转账",
                "预收房款",
                "9940020209000012345",
                "工商银行深圳南山支行",
                1153120.1,
                "收3-2-1502首付",
                "P01",
                "滨江悦府",
                "C",
                "A",
                "2026-03-12T14:03:00",
                "2026-03-13T09:00:00",
            ],
            strict=True,
        )
    )
    row.update(changes)
    return list(row.values())


def test_parse_row_reads_amounts_exactly_and_times_as_utc() -> None:
    receipt = parse_row("AR_RECEIVEBILL", FIELDS["AR_RECEIVEBILL"], _receipt_row())
    assert isinstance(receipt, Receipt)
    assert receipt.amount == Decimal("1153120.10")
    assert receipt.created_at == datetime(2026, 3, 12, 6, 3, tzinfo=UTC)
    assert receipt.is_audited and not receipt.is_voided


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"FRECTOTALAMOUNTFOR": "12万5千"}, "FRECTOTALAMOUNTFOR"),
        ({"FRECTOTALAMOUNTFOR": -5.0}, "FRECTOTALAMOUNTFOR"),
        ({"FRECTOTALAMOUNTFOR": 1.005}, "FRECTOTALAMOUNTFOR"),
        ({"FDATE": "2026-02-30T25:61:00"}, "FDATE"),
        ({"FID": None}, "FID"),
        ({"FCancelStatus": "X"}, "FCancelStatus"),
    ],
)
def test_parse_row_quarantines_a_bad_row_naming_the_field(changes: dict, field: str) -> None:
    item = parse_row("AR_RECEIVEBILL", FIELDS["AR_RECEIVEBILL"], _receipt_row(**changes))
    assert isinstance(item, QuarantineItem)
    assert field in item.reason


def test_a_negative_voucher_line_is_accepted_only_as_a_reversal() -> None:
    keys = FIELDS["GL_VOUCHER"]
    values = dict.fromkeys(keys)
    values.update(
        {
            "FEntity_FEntryID": 1,
            "FVOUCHERID": 1,
            "FVOUCHERGROUPNO": 3,
            "FYEAR": 2026,
            "FPERIOD": 3,
            "FDate": "2026-03-02T00:00:00",
            "FEntity_FSEQ": 1,
            "FACCOUNTID.FNumber": "1002.01",
            "FDEBIT": -100.0,
            "FCREDIT": 0.0,
            "FDocumentStatus": "C",
            "FCancelStatus": "A",
            "FCreateDate": "2026-03-02T10:00:00",
            "FModifyDate": "2026-03-02T10:00:00",
            "FEXPLANATION": "冲销2026年2期记-0046号凭证",
        }
    )
    assert isinstance(parse_row("GL_VOUCHER", keys, list(values.values())), VoucherLine)
    values["FEXPLANATION"] = "收3-2-1502首付"
    assert isinstance(parse_row("GL_VOUCHER", keys, list(values.values())), QuarantineItem)
