"""The ERP sandbox speaks K/3 Cloud's Web API: login, sessions, bill queries, filters, the clock."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import pytest
import requests

from sandbox.ledger.filters import FilterError, parse_filter, to_sql
from sandbox.ledger.forms import RECEIPT, VOUCHER
from sandbox.ledger.server import DEFAULT_ACCOUNT, DEFAULT_PASSWORD, LOGIN_PATH, QUERY_PATH, LedgerServer


def _login(erp: LedgerServer) -> requests.Session:
    session = requests.Session()
    answer = session.post(
        erp.url + LOGIN_PATH,
        json={"acctID": "x", "username": DEFAULT_ACCOUNT, "password": DEFAULT_PASSWORD, "lcid": 2052},
        timeout=5,
    ).json()
    assert answer["LoginResultType"] == 1
    return session


def _query(session: requests.Session, erp: LedgerServer, **data) -> list:  # noqa: ANN003
    return session.post(erp.url + QUERY_PATH, json={"data": data}, timeout=5).json()


def test_login_with_a_wrong_password_is_refused_with_http_200(erp: LedgerServer) -> None:
    response = requests.post(
        erp.url + LOGIN_PATH, json={"parameters": ["x", DEFAULT_ACCOUNT, "wrong", 2052]}, timeout=5
    )
    assert response.status_code == 200
    assert response.json()["LoginResultType"] == 0
    assert "kdservice-sessionid" not in response.cookies


def test_a_query_without_a_session_says_the_session_is_lost(erp: LedgerServer) -> None:
    answer = _query(requests.Session(), erp, FormId="GL_VOUCHER", FieldKeys="FVOUCHERID")
    status = answer[0][0]["Result"]["ResponseStatus"]
    assert status["IsSuccess"] is False and status["MsgCode"] == 1


def test_rows_come_as_arrays_in_field_key_order(erp: LedgerServer) -> None:
    session = _login(erp)
    rows = _query(session, erp, FormId="AR_RECEIVEBILL", FieldKeys="FBillNo,FRECTOTALAMOUNTFOR,FDATE", Limit=3)
    assert len(rows) == 3
    bill_no, amount, day = rows[0]
    assert bill_no.startswith("SKD") and isinstance(amount, float) and day.endswith("T00:00:00")


def test_an_unknown_field_key_is_an_error_that_names_it(erp: LedgerServer) -> None:
    answer = _query(_login(erp), erp, FormId="GL_VOUCHER", FieldKeys="FVOUCHERID,FNOSUCHFIELD")
    assert "FNOSUCHFIELD" in answer[0][0]["Result"]["ResponseStatus"]["Errors"][0]["Message"]


def test_start_row_paging_and_keyset_paging_give_the_same_rows(erp: LedgerServer) -> None:
    session = _login(erp)
    by_offset, start = [], 0
    while True:
        rows = _query(session, erp, FormId="GL_VOUCHER", FieldKeys="FEntity_FEntryID", StartRow=start, Limit=700)
        by_offset += [row[0] for row in rows]
        start += len(rows)
        if len(rows) < 700:
            break
    by_key, last = [], 0
    while True:
        rows = _query(
            session,
            erp,
            FormId="GL_VOUCHER",
            FieldKeys="FEntity_FEntryID",
            FilterString=f"FEntity_FEntryID > {last}",
            Limit=700,
        )
        by_key += [row[0] for row in rows]
        if len(rows) < 700:
            break
        last = rows[-1][0]
    assert by_offset == by_key == sorted(set(by_key))


def test_the_modification_time_filter_takes_times_with_a_space(erp: LedgerServer, ledger_path) -> None:  # noqa: ANN001
    session = _login(erp)
    rows = _query(
        session,
        erp,
        FormId="AR_RECEIVEBILL",
        FieldKeys="FBillNo,FModifyDate",
        FilterString="FModifyDate >= '2026-03-01 00:00:00' and FModifyDate < '2026-04-01'",
        Limit=10000,
    )
    assert rows and all("2026-03-01T00:00:00" <= modified < "2026-04-01" for _, modified in rows)


def test_the_clock_shows_the_books_as_they_stood_then(erp: LedgerServer, ledger_path) -> None:  # noqa: ANN001
    session = _login(erp)
    everything = _query(session, erp, FormId="AR_RECEIVEBILL", FieldKeys="FID", Limit=10000)
    assert requests.post(erp.url + "/_sandbox/clock", json={"now": "2025-09-30T18:00:00+08:00"}, timeout=5).ok
    earlier = _query(session, erp, FormId="AR_RECEIVEBILL", FieldKeys="FID,FCreateDate,FCancelStatus", Limit=10000)
    assert 0 < len(earlier) < len(everything)
    assert all(created <= "2025-09-30T18:00:00" for _, created, _ in earlier)
    db = sqlite3.connect(ledger_path)
    voided_later = {
        bill_id
        for (bill_id,) in db.execute(
            "select bill_id from receipts"
            " where created_at <= '2025-09-30T18:00:00' and voided_at > '2025-09-30T18:00:00'"
        )
    }
    assert all(status == "A" for bill_id, _, status in earlier if bill_id in voided_later)
    assert requests.get(erp.url + "/_sandbox/clock", timeout=5).json()["now"] == "2025-09-30T18:00:00+08:00"


def test_set_clock_refuses_a_naive_time(erp: LedgerServer) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        erp.set_clock(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("text", "sql", "params"),
    [
        ("FBillNo = 'SKD1'", "(x.bill_no) = ?", ["SKD1"]),
        ("FBillNo in ('A', 'B''C')", "(x.bill_no) in (?,?)", ["A", "B'C"]),
        ("FREMARK like '%1502%' and not FID > 3", "((x.remark) like ? and not ((x.bill_id) > ?))", ["%1502%", "3"]),
        ("FDATE between '2026-03-01' and '2026/03/31'", "(x.date) between ? and ?", ["2026-03-01", "2026-03-31"]),
        ("FRECTOTALAMOUNTFOR >= 1000.5 or FREMARK is null", "((x.amount_fen) >= ? or (x.remark) is null)", [100050]),
        ("FCreateDate >= '2026-03-01T02:00:00+00:00'", "(x.created_at) >= ?", ["2026-03-01T10:00:00"]),
    ],
)
def test_filter_strings_become_sql(text: str, sql: str, params: list) -> None:
    found: list = []
    assert to_sql(parse_filter(RECEIPT, text), found) == sql
    assert found == params


@pytest.mark.parametrize("text", ["FBillNo = ", "FNoSuch = 1", "FBillNo = 'a' and", "(FID > 1", "FDATE > 'soon'"])
def test_filter_strings_that_cannot_be_read_are_refused(text: str) -> None:
    with pytest.raises(FilterError):
        parse_filter(VOUCHER if "FID" not in text else RECEIPT, text)
