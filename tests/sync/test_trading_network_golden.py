"""The warehouse a trading-network sync writes, pinned: every row of raw, staging, core and quarantine
(without run ids and load times) of one fixed world, full then incremental, against digests taken on
main before the sync's write path was changed (decision 0029). A change to the sync's speed must leave
these rows exactly as they were: the same payload text and keyed hashes, the same typed columns, the
same quarantine."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import timedelta

from connectors.trading_network.parse import parse_contract
from estatehub.settings import SyncSettings
from estatehub.trading_network.sync import sync_trading_network
from tests.support.snapshot import snapshot
from tests.support.trading_network_fakes import BASE_AT, FakeTradingNetworkClient, person_phone, world_at

SETTINGS = SyncSettings(page_size=9, batch_size=9, look_back=timedelta(hours=1), quarantine_threshold=0.5)
LAYERS = ("raw_", "stg_", "core_", "etl_quarantine")
VOLATILE = frozenset(
    {
        "batch_id",
        "run_id",
        "loaded_at",
        "linked_at",
        "listed_at",
        "fetched_at",
        "raw_record_id",
        "quarantine_id",
        "first_run_id",
        "last_run_id",
        "first_seen_at",
        "last_seen_at",
        "resolved_at",
    }
)

# taken with main at dad6093 (before decision 0029), on SQLite and PostgreSQL alike
EXPECTED = {
    "etl_quarantine": "1:6e1c6550ea4606d4",
    "raw_record": "71:8cd67e315b4d1cd3",
    "core_buyer": "68:f2bbbf567293745d",
    "core_unit": "55:3cfe8173c2133e34",
    "stg_tn_contract": "60:be0a37091747bb04",
    "stg_tn_contract_buyer": "75:9c13e176437e55b6",
    "stg_tn_payment_plan": "190:a42d4816fff0f94e",
    "stg_tn_state_change": "186:ea4d0d6afb24a0ba",
    "core_contract": "60:5362ea5bd91eca31",
    "core_contract_buyer": "75:7fdb694ede7b7c93",
    "core_contract_state_history": "186:044c30194f07f04b",
    "core_handover": "10:46253336d76642f6",
    "core_payment_plan": "190:a42d4816fff0f94e",
    "core_registration": "10:1f90a9b148c7246c",
}


def _records(now):
    """The world at `now` as the network sends it, through the connector's parser; one contract whose
    free text holds a mobile number (the full redaction walk) and one the parser refuses."""
    payloads = [copy.deepcopy(contract.payload) for contract in world_at(60, now)]
    payloads[5]["history"][-1]["reason"] = f"客户来电 {person_phone(5)} 要求更名"
    refused = copy.deepcopy(payloads[7])
    refused["contract_no"] = "HT-REFUSED-1"
    refused["price"]["total_price"] = "12.345"
    return [parse_contract(payload) for payload in [*payloads, refused]]


def _digests(engine) -> dict[str, str]:
    tables = snapshot(engine, prefixes=LAYERS, exclude_columns=VOLATILE)
    return {
        name: f"{len(rows)}:"
        + hashlib.sha256(json.dumps(rows, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()[:16]
        for name, rows in tables.items()
        if rows
    }


def test_a_full_then_incremental_sync_writes_exactly_the_rows_it_wrote_before(warehouse):
    first = BASE_AT + timedelta(days=60)
    sync_trading_network(FakeTradingNetworkClient(_records(first)), warehouse, settings=SETTINGS)
    sync_trading_network(FakeTradingNetworkClient(_records(first + timedelta(days=90))), warehouse, settings=SETTINGS)

    assert _digests(warehouse.engine) == EXPECTED
