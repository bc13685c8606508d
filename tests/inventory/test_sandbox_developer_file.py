"""The sandbox's developer inventory file (一房一价 of one project, `estatehub sandbox inventory-file`)
imported after a sync of the sandbox's building tables at the same clock: the differences the import
lists are exactly the ones the sandbox planted (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
import requests

from connectors.trading_network import TradingNetworkClient
from estatehub.cli import main
from estatehub.inventory.developer_file import import_inventory_file
from estatehub.trading_network.inventory import sync_unit_inventory
from sandbox.world.clock import BUSINESS_TZ

AT = datetime(2025, 6, 30, 18, 0, tzinfo=BUSINESS_TZ)  # early in sales: units for sale, some unsurveyed
NETWORK = {"account": "dev-file", "password": "dev-file-password"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from sandbox.world import generate_world

    return generate_world(tmp_path_factory.mktemp("world") / "world.sqlite", units=300, seed=7).path  # the demo's world


@pytest.fixture
def synced(warehouse, world):
    from sandbox.trading_network.server import TradingNetworkServer

    with TradingNetworkServer(world, **NETWORK) as server:
        requests.post(f"{server.url}/_sandbox/clock", json={"now": AT.isoformat()}, timeout=30).raise_for_status()
        with TradingNetworkClient(server.url, NETWORK["account"], NETWORK["password"]) as client:
            sync_unit_inventory(client, warehouse)
    return warehouse


def test_the_import_lists_exactly_the_differences_the_sandbox_planted(synced, world, tmp_path, capsys):
    out = tmp_path / "一房一价.csv"
    assert main(["sandbox", "inventory-file", "--world", str(world), "--at", AT.isoformat(), "--out", str(out)]) == 0
    planted = json.loads(out.with_name(out.name + ".planted.json").read_text(encoding="utf-8"))
    assert f"{len(planted)} planted differences" in capsys.readouterr().out
    # the file's own three (a repriced unit is two differences), and the units the network shows with
    # their 套内面积 待测绘, which the sync quarantined
    assert sorted(p["why"] for p in planted) == [
        "held_back", "network_unsurveyed", "network_unsurveyed", "parking_missing", "repriced", "repriced"
    ]  # fmt: skip

    result = import_inventory_file(synced, out)
    assert result.quarantined == [] and result.loaded > 50
    listed = {(d.permit_no, d.unit_code, d.kind) for d in result.differences}
    assert listed == {(p["permit_no"], p["unit_code"], p["kind"]) for p in planted}
    assert len(result.differences) == len(planted)
    parking = next(p for p in planted if p["why"] == "parking_missing")
    assert parking["unit_code"].startswith("地下室")
