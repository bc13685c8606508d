"""Fixtures of the KPI tests: a generated world with its ledger and banks, and a warehouse loaded from
them as the syncs load it (contracts as the network shows them at the world's end, the ledger through
the ERP sandbox, the loans through the bank sandboxes)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from connectors.http import RetryPolicy
from connectors.ledger import LedgerClient
from connectors.trading_network.parse import parse_contract
from estatehub.banks.loans import sync_bank_loans
from estatehub.ledger.sync import sync_ledger
from estatehub.settings import SyncSettings
from estatehub.trading_network.load import load_batch
from estatehub.warehouse import Warehouse
from sandbox.world import contract_as_of, open_world

# the reconciliation tests' hand-made world (four contracts, plans, receipts, a loan, invoices): its
# numbers are small enough to know by heart
from tests.reconcile.conftest import world  # noqa: F401

SEED = 7
UNITS = 300
WORLD_END_ON = date(2026, 6, 30)
WORLD_END = datetime(2026, 6, 30, 15, 59, 59, tzinfo=UTC)  # 23:59:59 in Beijing
BANKS = ("icbc", "ccb", "cmb", "hpf")


@pytest.fixture(scope="session")
def world_faces(tmp_path_factory) -> dict[str, Path]:
    from sandbox.truth import faces
    from sandbox.world import generate_world

    path = tmp_path_factory.mktemp("kpi-world") / "world.sqlite"
    generate_world(path, units=UNITS, seed=SEED)
    return faces(path)


@pytest.fixture(scope="module")
def sandbox_servers(world_faces) -> Iterator[dict]:
    from sandbox.banks.server import start_bank_servers
    from sandbox.ledger.server import LedgerServer

    ledger = LedgerServer(world_faces["ledger"])
    ledger.start()
    banks = start_bank_servers(world_faces["world"], seed=SEED)
    try:
        yield {"ledger": ledger, "banks": banks}
    finally:
        banks.stop()
        ledger.stop()


@pytest.fixture
def loaded(warehouse: Warehouse, world_faces, sandbox_servers, tmp_path) -> Warehouse:
    """The warehouse holding the world at its end: contracts, ledger, loans."""
    from sandbox.ledger.server import DEFAULT_ACCOUNT, DEFAULT_PASSWORD
    from tests.banks.conftest import client_for

    with open_world(world_faces["world"]) as store:
        records = [parse_contract(view) for doc in store.iter_docs() if (view := contract_as_of(doc, WORLD_END))]
    with warehouse.begin() as conn:
        load_batch(conn, warehouse, records, run_id="kpi-tn", batch_id="kpi-tn:000001", fetched_at=WORLD_END)
    retry = RetryPolicy(max_attempts=6, backoff_initial=0.01, jitter=0.0)
    ledger = sandbox_servers["ledger"]
    with LedgerClient(ledger.url, DEFAULT_ACCOUNT, DEFAULT_PASSWORD, retry=retry, timeout=5.0, page_size=500) as client:
        sync_ledger(client, warehouse, settings=SyncSettings(batch_size=400))
    for code in BANKS:
        with client_for(sandbox_servers["banks"], code, tmp_path / "lists") as bank:
            sync_bank_loans(bank, warehouse)
    return warehouse
