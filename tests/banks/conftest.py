"""Fixtures of the bank tests: a generated demo-size world, its bank world, the running bank servers."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.banks import make_client
from connectors.http import RetryPolicy

SEED = 7
UNITS = 300
FAST_RETRY = RetryPolicy(max_attempts=4, backoff_initial=0.01, backoff_max=0.05, jitter=0.0, retry_after_max=0.1)


@pytest.fixture(scope="session")
def world_path(tmp_path_factory) -> Path:
    from sandbox.world import ensure_world

    return ensure_world(tmp_path_factory.mktemp("bank-world"), units=UNITS, seed=SEED)


@pytest.fixture(scope="session")
def bank_world_path(world_path) -> Path:
    from sandbox.banks.world import ensure_bank_world

    return ensure_bank_world(world_path)


@pytest.fixture(scope="session")
def bank_world(bank_world_path):
    from sandbox.banks.world import BankWorld

    world = BankWorld(bank_world_path)
    yield world
    world.close()


@pytest.fixture(scope="module")
def running_banks(world_path):
    from sandbox.banks.server import start_bank_servers

    servers = start_bank_servers(world_path, seed=SEED)
    yield servers
    servers.stop()


@pytest.fixture
def banks(running_banks):
    """The module's bank servers at the world's end, without faults or skew (reset after each test)."""
    clocks = {code: server.world.now for code, server in running_banks.servers.items()}
    yield running_banks
    for code, server in running_banks.servers.items():
        server.faults.replace([])
        server.skew = 0.0
        server.world.set_clock(clocks[code])


def client_for(servers, code: str, tmp_path: Path | None = None, **options):
    credentials = servers.credentials[code]
    options.setdefault("retry", FAST_RETRY)
    options.setdefault("timeout", 2.0)
    if code == "hpf":
        options.setdefault("folder", tmp_path)
    return make_client(code, servers.urls[code], app_id=credentials.app_id, secret=credentials.secret, **options)
