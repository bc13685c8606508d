"""The banks' collection accounts and supervision records: the bank API, the connector and the warehouse
(issue 11, section 1: the warehouse learns which account is supervised and for which permit)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from connectors.banks.records import ACCOUNT_GENERAL, ACCOUNT_SUPERVISED, QuarantineItem
from connectors.banks.supervision import parse_account, parse_supervision
from estatehub.banks.supervision import sync_bank_accounts, sync_bank_supervision
from estatehub.banks.tables import core_bank_account, core_bank_supervision
from estatehub.warehouse import tables
from sandbox.banks import accounts
from tests.banks.conftest import client_for

STATEMENT_BANKS = ("icbc", "ccb", "cmb")


@pytest.mark.parametrize("code", STATEMENT_BANKS)
def test_each_bank_lists_its_general_and_supervised_accounts(banks, bank_world, code):
    with client_for(banks, code) as client:
        listed = list(client.iter_accounts())
    assert not [item for item in listed if isinstance(item, QuarantineItem)]
    expected = {row["account_no"]: row for row in bank_world.bank_accounts(code)}
    assert {account.account_no for account in listed} == set(expected)
    general = [account for account in listed if account.account_type == ACCOUNT_GENERAL]
    assert [account.account_no for account in general] == [accounts.ACCOUNTS[code]]
    for account in listed:
        row = expected[account.account_no]
        if account.account_type == ACCOUNT_SUPERVISED:
            assert account.permit_no == row["permit_no"] and account.permit_no.startswith("深房许字")
            assert account.key_supervision_amount * 100 == row["key_supervision_fen"] > 0


def test_the_fund_centre_holds_no_collection_account(banks, tmp_path):
    with client_for(banks, "hpf", tmp_path) as client:
        assert list(client.iter_accounts()) == []


def test_supervision_records_come_with_their_amounts(banks, bank_world):
    first, last = bank_world.start_on, bank_world.end_on
    with client_for(banks, "cmb") as client:
        records = list(client.iter_supervision(first, last))
    assert records and not [item for item in records if isinstance(item, QuarantineItem)]
    kinds = {record.record_type for record in records}
    assert kinds == {"refund_approval", "release"}
    for record in records:
        if record.record_type == "release":
            assert record.milestone and record.allowed_amount is not None and record.retained_amount is not None
            assert record.counter_account_no == accounts.ACCOUNTS["cmb"]
        else:
            assert record.contract_no and record.amount > 0


def test_a_bad_account_or_record_is_quarantined_with_its_reasons():
    bad = parse_account("icbc", {"account_no": "123", "account_type": "监管户", "permit_no": None})
    assert isinstance(bad, QuarantineItem)
    assert "permit_no" in bad.reason and "key_supervision_amount" in bad.reason
    odd = parse_supervision("icbc", {"record_no": "X1", "record_type": "转账", "account_no": "1", "amount": "-5"})
    assert isinstance(odd, QuarantineItem)
    assert "record_type" in odd.reason and "amount" in odd.reason and "approved_at" in odd.reason


def test_the_warehouse_learns_every_account_and_supervision_record(warehouse, running_banks, bank_world):
    for code in STATEMENT_BANKS:
        with client_for(running_banks, code) as bank:
            sync_bank_accounts(bank, warehouse)
            sync_bank_supervision(bank, warehouse, today=bank_world.end_on)
            again = sync_bank_supervision(bank, warehouse, today=bank_world.end_on)
            assert again.quarantined == 0
    with warehouse.engine.connect() as conn:
        stored = {
            row.account_no: row
            for row in conn.execute(select(core_bank_account))
        }  # fmt: skip
        supervision = conn.execute(select(core_bank_supervision)).all()
        quarantined = conn.execute(select(func.count()).select_from(tables.etl_quarantine)).scalar()
    expected = [row for code in STATEMENT_BANKS for row in bank_world.bank_accounts(code)]
    assert {row["account_no"] for row in expected} == set(stored)
    for row in expected:
        account = stored[row["account_no"]]
        assert (account.account_type, account.permit_no, account.key_supervision_fen) == (
            row["kind"],
            row["permit_no"],
            row["key_supervision_fen"],
        )
    world_records = bank_world._query("select record_no, amount_fen, allowed_fen from supervision")
    assert sorted((r.record_no, r.amount_fen, r.allowed_fen) for r in supervision) == sorted(world_records)
    over = [r for r in supervision if r.record_type == "release" and r.amount_fen > r.allowed_fen]
    planted = bank_world.ground_truth("release_over_allowed")
    assert len(over) == len(planted)
    assert quarantined == 0
    assert all(isinstance(r.approved_on, date) for r in supervision)


def test_guarantee_deposits_and_combined_loans_reach_the_warehouse(warehouse, running_banks, bank_world, tmp_path):
    from estatehub.banks.loans import sync_bank_loans
    from estatehub.banks.tables import core_bank_loan

    for code in ("icbc", "ccb", "cmb", "hpf"):
        with client_for(running_banks, code, tmp_path / "lists") as bank:
            sync_bank_loans(bank, warehouse)
    with warehouse.engine.connect() as conn:
        stored = {(r.bank, r.loan_no): r for r in conn.execute(select(core_bank_loan))}
    docs = [json.loads(doc) for (doc,) in bank_world._query("select doc from loans")]
    held = [d for d in docs if d.get("guarantee_fen") and d["bank"] != "hpf"]
    assert held  # CCB and CMB hold a deposit back from their disbursements
    for doc in held:
        row = stored[(doc["bank"], doc["loan_no"])]
        assert (row.guarantee_fen, row.disbursed_fen) == (doc["guarantee_fen"], doc["disbursed_fen"])
        assert row.disbursed_fen > row.guarantee_fen > 0
        released = doc.get("guarantee_released_at")  # Beijing time: its day is the day's first ten characters
        assert row.guarantee_released_on == (date.fromisoformat(released[:10]) if released else None)
    assert any(doc.get("guarantee_released_at") for doc in held)
    linked = [d for d in docs if d.get("linked_loan_no") and d["bank"] != "hpf"]
    assert linked  # the commercial part of a 组合贷 names its fund part
    for doc in linked:
        assert stored[(doc["bank"], doc["loan_no"])].linked_loan_no == doc["linked_loan_no"]
        assert doc["linked_loan_no"].startswith("GJJ")
