"""Every free-text column of every source is stored redacted (issue 10, item 3, widened to its class):
beside the statements' and the ledger's memos, what a clerk of the network types as a cancellation or
state-change reason, the payer, payee and purpose a ledger clerk types, a bank's branch and property
address of a loan, and the reason a quarantined record is kept with (which quotes the value it could
not read). An ID number, a phone or a card number written there reaches no table in full; its masked
form and keyed hash are kept."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from sqlalchemy import select

from connectors.records import QuarantineItem
from connectors.trading_network.records import Cancellation
from estatehub.settings import SyncSettings
from estatehub.trading_network.tables import core_contract
from estatehub.warehouse.redact import hash_phone
from estatehub.warehouse.tables import etl_quarantine
from tests.support.snapshot import stored_texts
from tests.support.sources import CASES
from tests.support.trading_network_fakes import synthetic_contract

ID_NUMBER = "11010519491231002X"
PHONE = "13800138000"
CARD = "6222021234567890128"  # Luhn-valid
TEXT = f"张三 身份证{ID_NUMBER} 电话{PHONE} 卡{CARD}"
FULL = (ID_NUMBER, PHONE, CARD)
AT = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)


def _leaks(warehouse) -> list[tuple[str, str]]:
    return sorted(
        {(table, column) for table, column, value in stored_texts(warehouse.engine) if any(n in value for n in FULL)}
    )


def test_the_networks_cancellation_and_state_change_reasons_are_stored_redacted(warehouse):
    contract = synthetic_contract(13)  # a cancelled one (every 13th is)
    assert contract is not None and contract.cancellation is not None
    history = tuple(
        dataclasses.replace(change, reason=TEXT) if change.state == "撤销" else change for change in contract.history
    )
    cancellation = Cancellation(contract.cancellation.cancelled_at, contract.cancellation.reason_code, TEXT)
    payload = {**contract.payload, "cancellation": {**contract.payload["cancellation"], "reason": TEXT}}
    typed = dataclasses.replace(contract, cancellation=cancellation, history=history, payload=payload)
    case = CASES["trading_network"]
    case.sync(case.client([typed]), warehouse, settings=SyncSettings())
    with warehouse.engine.connect() as conn:
        stored = conn.execute(select(core_contract.c.cancel_reason)).scalar_one()
    assert "138****8000" in stored and hash_phone(warehouse.hasher, PHONE) in stored, stored
    assert _leaks(warehouse) == []


def test_what_a_ledger_clerk_types_beside_the_memo_is_stored_redacted(warehouse):
    receipt = CASES["ledger_receipts"]
    typed = dataclasses.replace(receipt.record(1, AT, "收3栋1502房款"), payer=TEXT, purpose=f"房款 {PHONE}")
    receipt.sync(receipt.client([typed]), warehouse, settings=SyncSettings())
    refund = CASES["ledger_refunds"]
    refund.sync(refund.client([dataclasses.replace(refund.record(2, AT, "退款"), payee=TEXT)]), warehouse)
    assert _leaks(warehouse) == []


def test_a_banks_free_text_of_a_loan_is_stored_redacted(warehouse):
    case = CASES["bank_loans"]
    typed = dataclasses.replace(case.record(1, AT, "v1"), property_address=TEXT, branch=f"中心支行 {PHONE}")
    case.sync(case.client([typed]), warehouse, settings=SyncSettings())
    assert _leaks(warehouse) == []


def test_a_quarantine_reason_quoting_what_came_keeps_no_number_in_full(warehouse):
    case = CASES["trading_network"]
    bad = QuarantineItem(
        source="trading_network",
        entity="contract",
        key="HT-BAD-1",
        reason=f"house.room: expected a room number, got '{PHONE}'; buyers[0].name: expected a name, got '{ID_NUMBER}'",
        payload={"contract_no": "HT-BAD-1", "room": PHONE},
        updated_at=AT,
    )
    case.sync(case.client([case.record(1, AT, "v1"), bad]), warehouse, settings=SyncSettings(quarantine_threshold=1))
    with warehouse.engine.connect() as conn:
        reason = conn.execute(select(etl_quarantine.c.reason)).scalar_one()
    assert "138****8000" in reason and "110***********002X" in reason, reason
    assert _leaks(warehouse) == []
