"""Each bank adapter against the running sandbox over loopback: loans, statements, every fault survived."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
import requests

from connectors.banks import errors
from connectors.banks.records import Loan, QuarantineItem, StageEvent
from connectors.banks.statements import StatementReader
from sandbox.banks import accounts
from tests.banks.conftest import client_for

LOAN_BANKS = ("icbc", "ccb", "cmb", "hpf")
API_BANKS = ("icbc", "ccb", "cmb")
LOAN_PATHS = {"icbc": "/api/icbc/v1/loans", "ccb": "/ccb/loan", "cmb": "/cmb/api/mortgage", "hpf": "/hpf/"}


def faults(servers, code: str, rules: list[dict]) -> None:
    response = requests.post(servers.urls[code] + "/_sandbox/faults", json={"rules": rules, "seed": 3}, timeout=5)
    assert response.status_code == 200, response.text


def loans_of(client, since=None) -> tuple[dict[str, Loan], list[QuarantineItem]]:
    loans: dict[str, Loan] = {}
    bad: list[QuarantineItem] = []
    for item in client.iter_loans(since):
        if isinstance(item, Loan):
            assert item.loan_no not in loans, f"{item.loan_no} yielded twice"
            loans[item.loan_no] = item
        else:
            bad.append(item)
    return loans, bad


def world_loans(bank_world, code: str) -> dict[str, dict]:
    """The bank's loans in the world now; for the fund centre, as its latest list (yesterday's end) has them."""
    moment = bank_world.now_bj
    if code == "hpf":
        moment = datetime.combine(moment.date() - timedelta(days=1), time(23, 59, 59))
    return {loan["loan_no"]: loan for loan in bank_world.iter_loans_as_of(code, moment)}


@pytest.fixture(scope="module")
def clean(running_banks, tmp_path_factory):
    """The loans each bank lists without faults: what every faulty run must reproduce."""
    out = {}
    for code in LOAN_BANKS:
        with client_for(running_banks, code, tmp_path_factory.mktemp(code)) as client:
            out[code] = loans_of(client)[0]
    return out


@pytest.mark.parametrize("code", LOAN_BANKS)
def test_adapter_lists_every_loan_of_its_bank_as_the_world_has_it(banks, clean, bank_world, code):
    expected = world_loans(bank_world, code)
    got = clean[code]
    assert set(got) == set(expected) and got
    for number, loan in got.items():
        truth = expected[number]
        assert loan.bank == code
        assert loan.stage == truth["stage"]
        assert [event.stage for event in loan.stages] == [e["stage"] for e in truth["events"]]
        assert loan.applied_amount is not None and loan.applied_amount * 100 == truth["applied_fen"]
        assert (loan.disbursed_amount * 100 if loan.disbursed_amount is not None else None) == truth["disbursed_fen"]
        assert loan.borrower_id_number == truth["borrower_id_number"]
        assert loan.property_address == truth["property_address"]
        assert loan.contract_no == (truth["contract_no"] if truth["shows_contract_no"] else None)
        assert loan.updated_at.tzinfo is not None and loan.updated_at.utcoffset().total_seconds() == 0
        released = truth.get("guarantee_released_at")
        assert loan.guarantee_released_at == (datetime.fromisoformat(released).astimezone(UTC) if released else None), (
            "the day the bank paid the guarantee deposit out, as every bank that holds one reports it"
        )
        if code != "hpf":  # the fund centre's list has dates only; a release is an update of the loan
            assert loan.updated_at == max(event.at for event in (*loan.stages, *released_event(loan)))


def released_event(loan: Loan) -> list[StageEvent]:
    return [StageEvent("released", loan.guarantee_released_at)] if loan.guarantee_released_at else []


def test_every_bank_that_holds_guarantee_deposits_reports_their_release(clean):
    held = [loan for code in ("icbc", "ccb", "cmb") for loan in clean[code].values() if loan.guarantee_amount]
    assert any(loan.guarantee_released_at for loan in held)
    assert all(loan.guarantee_released_at is None for loan in clean["hpf"].values())


def test_ccb_leaves_out_some_contract_numbers_and_the_fund_centre_all(clean):
    assert all(loan.contract_no for loan in clean["icbc"].values())
    assert any(loan.contract_no is None for loan in clean["ccb"].values())
    assert all(loan.contract_no is None for loan in clean["hpf"].values())
    assert all(loan.property_address for code in LOAN_BANKS for loan in clean[code].values())


@pytest.mark.parametrize("code", API_BANKS)
def test_updated_since_lists_only_later_loans(banks, clean, code):
    since = datetime(2025, 10, 1, tzinfo=UTC)
    with client_for(banks, code) as client:
        later, _ = loans_of(client, since)
    assert set(later) == {n for n, loan in clean[code].items() if loan.updated_at >= since}
    assert 0 < len(later) < len(clean[code])


FAULTS = {
    "5xx": [{"kind": "http_503", "every": 2, "times": 3}, {"kind": "http_500", "after": 3, "times": 1}],
    "429": [{"kind": "rate_limit", "retry_after": 0, "every": 2, "times": 3}],
    "truncated": [{"kind": "truncate", "keep": 0.4, "every": 2, "times": 2}],
    "slow": [{"kind": "slow", "delay": 1.5, "after": 1, "times": 1}],
    "duplicate": [{"kind": "duplicate", "every": 1}],
    "expired": [{"kind": "expire_tokens", "every": 2}],
}


@pytest.mark.parametrize("code", LOAN_BANKS)
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_loans_survive_the_fault(banks, clean, code, fault, tmp_path):
    faults(banks, code, FAULTS[fault])
    with client_for(banks, code, tmp_path, timeout=1.0, page_size=20) as client:
        got, bad = loans_of(client)
    assert bad == []
    assert got == clean[code]


@pytest.mark.parametrize("code", API_BANKS)
def test_malformed_records_are_quarantined_and_the_rest_loads(banks, clean, code):
    faults(banks, code, [{"kind": "malformed", "count": 1, "every": 1}])
    with client_for(banks, code, page_size=25) as client:
        got, bad = loans_of(client)
    assert bad and all(item.entity == "loan" and item.reason for item in bad)
    assert all(item.source == f"bank_{code}" for item in bad)
    assert len(got) + len(bad) == len(clean[code])
    assert all(clean[code][number] == loan for number, loan in got.items())
    reasons = " ".join(item.reason for item in bad)
    assert any(word in reasons for word in ("ID number", "time", "amount", "fen", "expected text"))
    assert not re.search(r"\d{17}[\dX]", reasons), "a reason must never show an ID number"


@pytest.mark.parametrize("code", LOAN_BANKS)
def test_a_bank_clock_skewed_by_fifteen_minutes_is_followed(banks, clean, code, tmp_path):
    requests.post(banks.urls[code] + "/_sandbox/skew", json={"seconds": 900}, timeout=5)
    with client_for(banks, code, tmp_path) as client:
        got, _ = loans_of(client)
        assert 880 < client.api.signer.offset < 920
    assert got == clean[code]


def test_a_wrong_secret_is_a_signature_error_with_the_banks_code(banks):
    credentials = banks.credentials["icbc"]
    from connectors.banks import make_client

    client = make_client("icbc", banks.urls["icbc"], app_id=credentials.app_id, secret="wrong")
    with client, pytest.raises(errors.SignatureRejected) as caught:
        list(client.iter_loans())
    assert caught.value.api_code == errors.SIGNATURE_MISMATCH
    assert "wrong" not in str(caught.value)


def test_one_bank_down_for_the_whole_run_fails_only_its_own_calls(banks, clean, tmp_path):
    faults(banks, "ccb", [{"kind": "down"}])
    results = {}
    for code in LOAN_BANKS:
        with client_for(banks, code, tmp_path / code) as client:
            try:
                results[code] = loans_of(client)[0]
            except errors.BankError as exc:
                results[code] = exc
    assert isinstance(results["ccb"], errors.RetriableError)
    assert "503" in str(results["ccb"])
    for code in ("icbc", "cmb", "hpf"):
        assert results[code] == clean[code]


@pytest.mark.parametrize("code", API_BANKS)
def test_statements_of_a_month_download_and_add_up(banks, bank_world, code, tmp_path):
    first, last = date(2025, 5, 1), date(2025, 5, 31)
    held = [account["account_no"] for account in bank_world.bank_accounts(code)]
    with client_for(banks, code) as client:
        listed = client.list_statement_files(first, last)
        assert {f.account_no for f in listed} == set(held)  # a file a day for each account the bank holds
        lines: dict[str, list] = {account: [] for account in held}
        for account in held:
            days = {f.period_start for f in listed if f.version == 1 and f.account_no == account}
            assert days == {date(2025, 5, d) for d in range(1, 32)}
        for file in listed:
            assert file.bank == code
            path = client.download_statement(file, tmp_path)
            reader = StatementReader(path, bank=code)
            items = list(reader)
            assert all(not isinstance(item, QuarantineItem) for item in items)
            reader.check_totals()
            assert reader.account_no == file.account_no
            assert reader.period == (file.period_start, file.period_end)
            same = [
                f.version for f in listed if f.period_start == file.period_start and f.account_no == file.account_no
            ]
            if file.version == max(same):
                lines[file.account_no] += items
        period = client.download_period(first, last, tmp_path)
        whole = list(StatementReader(period, bank=code))
    for account in held:
        expected = bank_world.statement_lines(account, first, last)
        assert [line.amount * 100 for line in lines[account]] == [row["amount_fen"] for row in expected]
        assert [line.balance * 100 for line in lines[account]] == [row["balance_fen"] for row in expected]
    # the period file (the general account's) carries the same lines with the same keys
    general = accounts.ACCOUNTS[code]
    assert [line.line_key for line in whole] == [line.line_key for line in lines[general]]


@pytest.mark.parametrize("code", API_BANKS)
def test_statement_downloads_survive_truncated_bodies_and_5xx(banks, code, tmp_path):
    faults(banks, code, [{"kind": "truncate", "keep": 0.5, "every": 2, "times": 3}, {"kind": "http_502", "times": 1}])
    with client_for(banks, code) as client:
        listed = client.list_statement_files(date(2025, 6, 1), date(2025, 6, 5))
        for file in listed:
            path = client.download_statement(file, tmp_path)
            reader = StatementReader(path, bank=code)
            list(reader)
            reader.check_totals()
    assert not list(tmp_path.glob("*.part"))


def test_the_fund_centre_has_no_statements(banks, tmp_path):
    with client_for(banks, "hpf", tmp_path) as client:
        assert client.list_statement_files(date(2025, 1, 1), date(2025, 12, 31)) == []
        assert client.has_statements is False
