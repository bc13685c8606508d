"""End-to-end fixtures: one generated world, the real trading-network server on loopback. The syncs here
prepare their batches in a forked process, as installations do (`estatehub.sync.batches`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests

from estatehub.settings import BUSINESS_TZ

WORLD_UNITS = 300
WORLD_SEED = 7
LAST_DAY = datetime(2026, 3, 31, 18, 0, tzinfo=BUSINESS_TZ)
# five business days ending on LAST_DAY, the demo's period
DAYS = [LAST_DAY - timedelta(days=offset) for offset in range(4, -1, -1)]


@pytest.fixture(autouse=True)
def _read_ahead_in_a_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESTATEHUB_READ_AHEAD", "process")


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> Path:
    from sandbox.world import ensure_world

    return ensure_world(tmp_path_factory.mktemp("world"), units=WORLD_UNITS, seed=WORLD_SEED)


@pytest.fixture
def tn_server(world: Path) -> Iterator:
    """The trading network over the world, clock at the first day; faults off."""
    from sandbox.serve import DEFAULT_ACCOUNT, DEFAULT_PASSWORD
    from sandbox.trading_network.server import TradingNetworkServer

    server = TradingNetworkServer(world, account=DEFAULT_ACCOUNT, password=DEFAULT_PASSWORD, clock=DAYS[0])
    server.start()
    try:
        yield server
    finally:
        server.stop()


def set_clock(server, when: datetime) -> None:
    requests.post(f"{server.url}/_sandbox/clock", json={"now": when.isoformat()}, timeout=60).raise_for_status()


def visible_contract_numbers(world: Path, when: datetime) -> set[str]:
    """What the world says the network shows at `when` — the ground truth of a complete sync."""
    from sandbox.world import contract_as_of, open_world

    with open_world(world) as store:
        return {view["contract_no"] for doc in store.iter_docs() if (view := contract_as_of(doc, when)) is not None}
