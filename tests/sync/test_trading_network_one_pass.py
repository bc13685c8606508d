"""The contract's buyers are normalised once (decision 0033): the stored form the hub makes from the
parser's normalised numbers (`buyer_redactions`) is the one the redaction makes from the numbers as
received, in the raw payload and in the staging rows, also for numbers written loosely."""

from __future__ import annotations

import copy
from datetime import timedelta

from connectors.identity import id_check_char
from connectors.trading_network.parse import parse_contract
from connectors.trading_network.records import Contract
from estatehub.pii import PiiHasher
from estatehub.trading_network.load import CONTRACT_PAYLOAD, buyer_redactions, stage_contract
from estatehub.warehouse.redact import (
    canonical_json,
    hash_id_number,
    hash_phone,
    mask_id_number,
    mask_phone_number,
    redact_payload,
    stored_payload,
)
from tests.support.trading_network_fakes import BASE_AT, world_at

HASHER = PiiHasher(b"one-pass-test-key-0123456789abcdefghij")


def _id_ending_in_x() -> str:
    for serial in range(1000):
        first17 = f"11010519491231{serial:03d}"
        if id_check_char(first17) == "X":
            return first17 + "X"
    raise AssertionError("no ID number ending in X")


def _loose_payloads() -> list[dict]:
    payloads = [copy.deepcopy(contract.payload) for contract in world_at(12, BASE_AT + timedelta(days=30))]
    number = _id_ending_in_x()
    loose = payloads[0]["buyers"][0]
    loose["id_type"] = "身份证"
    loose["id_number"] = f" {number[:6]} {number[6:14]} {number[14:].lower()}\u3000"
    loose["phone"] = "+86 138-1234-5678"
    return payloads


def test_buyer_redactions_give_the_redactions_stored_form():
    contracts = [parse_contract(payload) for payload in _loose_payloads()]
    assert all(isinstance(contract, Contract) for contract in contracts)
    assert contracts[0].buyers[0].id_number != contracts[0].payload["buyers"][0]["id_number"]  # normalised
    for contract in contracts:
        known = buyer_redactions(contract, HASHER)
        assert len(known) >= len(contract.buyers)
        expected = stored_payload(HASHER, contract.payload, CONTRACT_PAYLOAD)
        assert stored_payload(HASHER, contract.payload, CONTRACT_PAYLOAD, known) == expected
        assert expected[0] == canonical_json(redact_payload(HASHER, contract.payload))  # the full walk's text
        rows = stage_contract(contract, payload_hash=expected[1], hasher=HASHER).buyers
        for row, received in zip(rows, contract.payload["buyers"], strict=True):
            phone = received.get("phone")
            assert row[2] == hash_id_number(HASHER, received["id_number"])
            assert row[4] == mask_id_number(received["id_number"])
            assert row[6] == (hash_phone(HASHER, phone) if phone else None)
            assert row[7] == (mask_phone_number(phone) if phone else None)


def test_a_value_the_hub_was_not_given_is_redacted_as_before():
    contract = parse_contract(_loose_payloads()[0])
    assert isinstance(contract, Contract)
    expected = stored_payload(HASHER, contract.payload, CONTRACT_PAYLOAD)
    partial = dict(list(buyer_redactions(contract, HASHER).items())[1:])  # the first number not known
    assert stored_payload(HASHER, contract.payload, CONTRACT_PAYLOAD, partial) == expected
