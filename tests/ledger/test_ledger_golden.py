"""The warehouse a ledger sync writes, pinned: every row of raw, staging, core and quarantine the ledger writes
(without run ids and load times), receipts linked, for the tests' world and the ERP sandbox at its clock,
against digests taken on main at 8e3d4d1, before the ledger's batches were prepared faster (decision 0043). A
change to the sync's speed must leave these rows exactly as they were: the same payload text and keyed hashes,
the same typed and redacted columns, what the memos say, the same links.

When the sandbox's ledger itself changes (its version in `sandbox/ledger/book.py`), the digests are taken again
with the code of the commit before, and the commit says so."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import pytest

from connectors.ledger import LedgerClient
from estatehub.ledger.sync import sync_ledger
from estatehub.settings import SyncSettings
from tests.ledger.test_ledger_warehouse import _load_contracts
from tests.support.snapshot import snapshot

SETTINGS = SyncSettings(batch_size=400)
LEDGER_TABLES = ("raw_record", "stg_fl_", "core_voucher", "core_receipt", "core_refund", "core_invoice", "core_deposit")
VOLATILE = frozenset(
    {"batch_id", "run_id", "loaded_at", "linked_at", "fetched_at", "raw_record_id", "quarantine_id"}
    | {"first_run_id", "last_run_id", "first_seen_at", "last_seen_at", "resolved_at"}
)

# taken with main at 8e3d4d1, on SQLite and PostgreSQL alike
EXPECTED = {
    "core_deposit": "82:ed7ec81f1c60f428",
    "core_invoice": "1483:c34a2f97d2ce9d2f",
    "core_receipt": "2112:bc06adb5454dc3f7",
    "core_refund": "145:5669aa7778603d12",
    "core_voucher": "3073:319f8d9efdac7f46",
    "core_voucher_line": "6987:c5866e264b6f900c",
    "raw_record": "11336:3440c0c90de2e6c4",
    "stg_fl_invoice": "1483:0f9e30554c44ed00",
    "stg_fl_receipt": "2112:16fde240bdef7343",
    "stg_fl_refund": "145:c4a8ffe877d4ca16",
    "stg_fl_voucher_line": "6987:c1cda8e8c987d826",
}


@pytest.fixture
def client(make_client: Callable[..., LedgerClient]) -> LedgerClient:
    return make_client(page_size=500)


def _digests(engine) -> dict[str, str]:
    tables = snapshot(engine, prefixes=(*LEDGER_TABLES, "etl_quarantine"), exclude_columns=VOLATILE)
    return {
        name: f"{len(rows)}:"
        + hashlib.sha256(json.dumps(rows, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()[:16]
        for name, rows in tables.items()
        if rows
    }


def test_a_full_sync_writes_exactly_the_rows_it_wrote_before(warehouse, client: LedgerClient, world_path) -> None:
    _load_contracts(warehouse, world_path)
    sync_ledger(client, warehouse, settings=SETTINGS)

    assert _digests(warehouse.engine) == EXPECTED
