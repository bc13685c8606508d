"""Edge cases of the bank adapters with mocked answers (every mocked call must be made)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import responses

from connectors.banks import errors, make_client
from connectors.banks.records import Loan, QuarantineItem
from connectors.banks.signing import HEADER_SERVER_TIME
from connectors.http import RetryPolicy

BASE = "https://bank.example"
NO_WAIT = RetryPolicy(max_attempts=2, backoff_initial=0.0, jitter=0.0)


def icbc(**options):
    # these mocks answer unsigned: response signatures are tested against servers that sign
    # (tests/hostile/test_bank_response_signatures.py and the sandbox banks)
    return make_client(
        "icbc", BASE, app_id="estatehub-icbc", secret="s3cret", retry=NO_WAIT, verify_responses=False, **options
    )


def icbc_record(loan_no: str, update_time: str) -> dict:
    return {
        "loan_no": loan_no,
        "contract_no": "YS2025P01000011",
        "borrower_name": "张三",
        "cert_type": "01",
        "cert_no": "11010519491231002X",
        "house_addr": "滨江悦府3栋2单元1502室",
        "loan_type": "个人住房商业贷款",
        "branch_name": "中国工商银行深圳南山支行",
        "apply_amt": 280728000,
        "approve_amt": None,
        "loan_amt": None,
        "stage_code": "20",
        "stage_name": "已递交",
        "stage_list": [
            {"stage_code": "10", "stage_name": "资料收齐", "stage_time": "20250102090000"},
            {"stage_code": "20", "stage_name": "已递交", "stage_time": update_time},
        ],
        "update_time": update_time,
    }


def page(records, has_next):
    return {"return_code": "0", "return_msg": "success", "data": {"records": records, "has_next": has_next}}


@responses.activate(assert_all_requests_are_fired=True)
def test_an_error_envelope_in_a_200_answer_is_an_unexpected_response():
    responses.get(f"{BASE}/api/icbc/v1/loans", json={"return_code": "50001", "return_msg": "系统繁忙"})
    with icbc() as client, pytest.raises(errors.UnexpectedResponse, match="系统繁忙"):
        list(client.iter_loans())


@responses.activate(assert_all_requests_are_fired=True)
def test_a_stale_timestamp_is_signed_again_with_the_banks_clock():
    url = f"{BASE}/api/icbc/v1/loans"
    responses.get(
        url,
        status=401,
        json={"return_code": "40105", "return_msg": "时间戳超出允许范围"},
        headers={HEADER_SERVER_TIME: "2000000000"},
    )
    responses.get(url, json=page([icbc_record("L1", "20250103100000")], False))
    with icbc(clock=lambda: 1_999_999_000.0) as client:
        items = list(client.iter_loans())
        assert client.api.signer.offset == 1000.0
    assert [item.loan_no for item in items] == ["L1"]
    assert responses.calls[1].request.headers["X-Timestamp"] == "2000000000"


@responses.activate(assert_all_requests_are_fired=True)
def test_a_stale_timestamp_without_the_banks_clock_is_a_signature_error():
    responses.get(f"{BASE}/api/icbc/v1/loans", status=401, json={"return_code": "40105", "return_msg": "x"})
    with icbc() as client, pytest.raises(errors.SignatureRejected, match="NTP") as caught:
        list(client.iter_loans())
    assert caught.value.api_code == errors.TIMESTAMP_OUT_OF_WINDOW


@responses.activate(assert_all_requests_are_fired=True)
def test_an_unknown_app_id_is_a_signature_error_naming_the_login():
    responses.get(f"{BASE}/api/icbc/v1/loans", status=401, json={"return_code": "40106", "return_msg": "x"})
    with icbc() as client, pytest.raises(errors.SignatureRejected, match="app id"):
        list(client.iter_loans())
    assert len(responses.calls) == 1


@responses.activate(assert_all_requests_are_fired=True)
def test_a_listing_that_never_advances_is_refused():
    same = page([icbc_record("L1", "20250103100000")], True)
    for _ in range(4):
        responses.get(f"{BASE}/api/icbc/v1/loans", json=same)
    with icbc() as client, pytest.raises(errors.PaginationError):
        list(client.iter_loans())


@responses.activate(assert_all_requests_are_fired=True)
def test_a_record_with_a_bad_id_number_is_quarantined_without_showing_it():
    bad = icbc_record("L2", "20250103100000")
    bad["cert_no"] = "110105194912310021"  # wrong check digit
    responses.get(f"{BASE}/api/icbc/v1/loans", json=page([icbc_record("L1", "20250103090000"), bad], False))
    with icbc() as client:
        items = list(client.iter_loans())
    assert isinstance(items[0], Loan) and isinstance(items[1], QuarantineItem)
    assert items[1].key == "L2" and "check digit" in items[1].reason
    assert "110105194912310021" not in items[1].reason and "110105194912310021" not in repr(items[0])


@responses.activate(assert_all_requests_are_fired=True)
def test_ccb_follows_cursors_until_there_is_none():
    url = f"{BASE}/ccb/loan/progress/query"
    item = {
        "loanNo": "C1",
        "buyContractNo": None,
        "custName": "李四",
        "idType": "身份证",
        "idNo": "11010519491231002X",
        "houseAddress": "滨江悦府1栋1单元101室",
        "loanKind": "商业性个人住房贷款",
        "orgName": "建行",
        "applyAmount": "100000.00",
        "approveAmount": None,
        "lendAmount": None,
        "status": "已递交",
        "history": [{"status": "已递交", "time": "2025-01-02 10:00:00"}],
        "updateTime": "2025-01-02 10:00:00",
    }
    responses.post(url, json={"code": "000000", "result": {"items": [item], "nextCursor": "c2"}})
    responses.post(url, json={"code": "000000", "result": {"items": [dict(item, loanNo="C2")], "nextCursor": None}})
    with make_client("ccb", BASE, app_id="a", secret="s", retry=NO_WAIT, verify_responses=False) as client:
        loans = list(client.iter_loans())
    assert [loan.loan_no for loan in loans] == ["C1", "C2"]
    assert loans[0].contract_no is None and loans[0].applied_amount == Decimal("100000.00")
    assert json.loads(responses.calls[0].request.body)["cursor"] is None
    assert json.loads(responses.calls[1].request.body)["cursor"] == "c2"


def test_make_client_refuses_an_unknown_bank():
    with pytest.raises(ValueError, match="icbc, ccb, cmb, hpf"):
        make_client("abc", BASE, app_id="a", secret="s")
