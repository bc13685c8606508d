"""Fixtures of the ledger tests: a small world, its ledger store, a running ERP sandbox, a client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.http import RetryPolicy
from connectors.ledger import LedgerClient
from sandbox.banks.world import ensure_bank_world
from sandbox.ledger.book import WorldContracts, build_ledger
from sandbox.ledger.server import DEFAULT_ACCOUNT, DEFAULT_PASSWORD, LedgerServer
from sandbox.world import generate_world

SEED = 7
UNITS = 300


@pytest.fixture(scope="session")
def world_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ledger-world") / "world.sqlite"
    generate_world(path, units=UNITS, seed=SEED)
    return path


@pytest.fixture(scope="session")
def ledger_path(world_path: Path) -> Path:
    path = world_path.with_name("ledger.db")
    source = WorldContracts(world_path)
    try:
        build_ledger(source, path, seed=SEED, bank_world=ensure_bank_world(world_path))
    finally:
        source.close()
    return path


@pytest.fixture
def erp(ledger_path: Path) -> Iterator[LedgerServer]:
    """The ERP sandbox, started for one test (fault rules are set per test)."""
    server = LedgerServer(ledger_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def make_client(erp: LedgerServer) -> Iterator[Callable[..., LedgerClient]]:
    """Clients of the running sandbox that do not sleep between retries."""
    made: list[LedgerClient] = []

    def build(**options: Any) -> LedgerClient:
        options.setdefault("retry", RetryPolicy(max_attempts=6, backoff_initial=0.01, jitter=0.0))
        options.setdefault("sleep", lambda seconds: None)
        options.setdefault("timeout", 5.0)
        options.setdefault("page_size", 400)
        client = LedgerClient(erp.url, DEFAULT_ACCOUNT, DEFAULT_PASSWORD, **options)
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()
