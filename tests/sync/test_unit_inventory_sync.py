"""The building-table sync (楼盘表 → core_unit_inventory and its sale-state history), on SQLite and
PostgreSQL: against the sandbox over HTTP at two clocks, and with hand-made rows whose history is known."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests
from sqlalchemy import func, select

from connectors.trading_network import InventoryUnit, QuarantineItem, TradingNetworkClient
from estatehub.settings import SyncSettings
from estatehub.trading_network.inventory import sync_unit_inventory
from estatehub.trading_network.sync import sync_trading_network
from estatehub.trading_network.tables import core_unit, core_unit_inventory, core_unit_inventory_state_history
from estatehub.warehouse import sqlfiles, tables
from sandbox.world.clock import BUSINESS_TZ

ACCOUNT = "dev-sync"
PASSWORD = "sync-password"
SMALL = SyncSettings(page_size=50, batch_size=40, quarantine_threshold=0.5, quarantine_min_records=20)
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)
MID_2025 = datetime(2025, 6, 1, tzinfo=BUSINESS_TZ)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from sandbox.world import generate_world

    return generate_world(tmp_path_factory.mktemp("world") / "world.sqlite", units=120, seed=5).path


@pytest.fixture
def network(world):
    from sandbox.trading_network.server import TradingNetworkServer

    with TradingNetworkServer(world, account=ACCOUNT, password=PASSWORD) as server:
        yield server


def set_clock(server, when: datetime) -> None:
    requests.post(f"{server.url}/_sandbox/clock", json={"now": when.isoformat()}, timeout=30).raise_for_status()


def client(server) -> TradingNetworkClient:
    return TradingNetworkClient(server.url, ACCOUNT, PASSWORD, page_size=SMALL.page_size)


def network_states(server) -> dict[tuple[str, str], str]:
    with client(server) as tn:
        return {(u.permit_no, u.unit_code): u.sale_state for u in tn.iter_inventory()}


def rows(warehouse, statement) -> list:
    with warehouse.engine.connect() as conn:
        return list(conn.execute(statement))


def test_sync_loads_every_unit_and_follows_state_changes_with_history(warehouse, network):
    set_clock(network, MID_2025)
    first = sync_unit_inventory(client(network), warehouse, settings=SMALL)
    at_mid = network_states(network)
    assert first.mode == "full" and first.quarantined == 0
    assert first.loaded == first.fetched == len(at_mid)

    set_clock(network, network.store.world_end)
    second = sync_unit_inventory(client(network), warehouse, settings=SMALL)
    at_end = network_states(network)
    assert second.mode == "incremental" and 0 < second.fetched < len(at_end)  # only what changed since

    c = core_unit_inventory.c
    current = {
        (r.permit_no, r.unit_code): r.sale_state
        for r in rows(warehouse, select(c.permit_no, c.unit_code, c.sale_state))
    }
    assert current == at_end

    h = core_unit_inventory_state_history.c
    history = rows(warehouse, select(h.permit_no, h.unit_code, h.sale_state, h.valid_from, h.valid_to))
    open_states = {(r.permit_no, r.unit_code): r.sale_state for r in history if r.valid_to is None}
    assert open_states == at_end  # one open state per unit, the current one
    changed = {key for key in at_end if at_mid[key] != at_end[key]}
    per_unit = Counter((r.permit_no, r.unit_code) for r in history)
    assert changed
    # the sync saw each unit at two clocks: one state, or two where it changed in between
    assert per_unit == {key: 2 if key in changed else 1 for key in at_end}
    closed = [r for r in history if r.valid_to is not None]
    assert {(r.permit_no, r.unit_code) for r in closed} == changed
    assert all(r.valid_to >= r.valid_from for r in closed)

    again = sync_unit_inventory(client(network), warehouse, settings=SMALL, full=True)
    assert again.fetched == len(at_end)
    assert rows(warehouse, select(func.count()).select_from(core_unit_inventory_state_history))[0][0] == len(history)


def test_inventory_agrees_with_the_contracts_synced_at_the_same_clock(warehouse, network):
    set_clock(network, network.store.world_end)
    sync_trading_network(client(network), warehouse, settings=SMALL)
    sync_unit_inventory(client(network), warehouse, settings=SMALL)
    with warehouse.engine.connect() as conn:
        mismatches = list(sqlfiles.execute(conn, "mart/unit_inventory_contract_mismatches"))
        joined = conn.execute(
            select(func.count()).select_from(
                core_unit_inventory.join(core_unit, core_unit_inventory.c.house_id == core_unit.c.house_id)
            )
        ).scalar_one()
    assert mismatches == []
    assert joined > 0

    # a unit the network now shows 可售 although its contract is live: listed
    c = core_unit_inventory.c
    with warehouse.begin() as conn:
        house_id = conn.execute(select(c.house_id).where(c.sale_state == "已备案").limit(1)).scalar_one()
        conn.execute(core_unit_inventory.update().where(c.house_id == house_id).values(sale_state="可售"))
    with warehouse.engine.connect() as conn:
        listed = list(sqlfiles.execute(conn, "mart/unit_inventory_contract_mismatches"))
    assert [(row.house_id, row.sale_state, row.contract_sale_state) for row in listed] == [(house_id, "可售", "已备案")]


# -- hand-made rows ---------------------------------------------------------------------------------

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def unit(code: str, state: str, at: datetime, *, usage: str = "住宅", area: str = "89.12") -> InventoryUnit:
    return InventoryUnit(
        permit_no="深房许字（2026）南山001号",
        unit_code=code,
        house_id=f"P01-01-1-{code[-4:]}",
        realty_unit_no=None,
        building="1栋",
        unit="1单元",
        floor=int(code[-4:-2]),
        room=code[-4:],
        usage=usage,
        building_area=Decimal(area),
        inner_area=None,
        record_unit_price=Decimal("40000.00"),
        record_total_price=Decimal("3564800.00"),
        sale_state=state,
        restriction="查封" if state == "限制" else None,
        updated_at=at,
        payload={"unit_code": code, "sale_state": state},
        project_code="P01",
        project_name="滨江悦府",
    )


class FakeInventory:
    def __init__(self, records):
        self.records = records

    def iter_inventory(self, updated_since):
        for record in self.records:
            at = getattr(record, "updated_at", None)
            if updated_since is None or at is None or at >= updated_since:
                yield record


def test_history_closes_and_opens_states_and_an_older_row_never_wins(warehouse):
    a1 = unit("1栋1单元1501", "可售", T0)
    b1 = unit("1栋1单元1502", "可售", T0)
    c1 = unit("1栋1单元1601", "不可售", T0, usage="车位", area="12.50")
    sync_unit_inventory(FakeInventory([a1, b1, c1]), warehouse, settings=SMALL)
    a2 = dataclasses.replace(a1, sale_state="已签", updated_at=T0 + timedelta(days=3))
    a3 = dataclasses.replace(a1, sale_state="已备案", updated_at=T0 + timedelta(days=20))
    stale = dataclasses.replace(b1, sale_state="已签", updated_at=T0 - timedelta(days=1))
    sync_unit_inventory(FakeInventory([a2, stale]), warehouse, settings=SMALL, full=True)
    sync_unit_inventory(FakeInventory([a3]), warehouse, settings=SMALL, full=True)

    h = core_unit_inventory_state_history.c
    history = rows(
        warehouse, select(h.unit_code, h.sale_state, h.valid_from, h.valid_to).order_by(h.unit_code, h.valid_from)
    )
    assert [tuple(r) for r in history] == [
        ("1栋1单元1501", "可售", T0, T0 + timedelta(days=3)),
        ("1栋1单元1501", "已签", T0 + timedelta(days=3), T0 + timedelta(days=20)),
        ("1栋1单元1501", "已备案", T0 + timedelta(days=20), None),
        ("1栋1单元1502", "可售", T0, None),
        ("1栋1单元1601", "不可售", T0, None),
    ]

    with warehouse.engine.connect() as conn:
        at_day_5 = [
            tuple(r)
            for r in sqlfiles.execute(
                conn,
                "mart/unit_sell_through",
                {"cutoff_at": T0 + timedelta(days=5)},
                columns=(
                    "project_code",
                    "project_name",
                    "usage",
                    "unit_count",
                    "for_sale_count",
                    "sold_count",
                    "restricted_count",
                    "not_for_sale_count",
                    "for_sale_area",
                    "sold_area",
                ),
            )
        ]
        before = list(sqlfiles.execute(conn, "mart/unit_sell_through", {"cutoff_at": T0 - timedelta(seconds=1)}))
    assert at_day_5 == [
        ("P01", "滨江悦府", "住宅", 2, 2, 1, 0, 0, Decimal("178.24"), Decimal("89.12")),
        ("P01", "滨江悦府", "车位", 1, 0, 0, 0, 1, Decimal("0.00"), Decimal("0.00")),
    ]
    assert before == []


def test_a_bad_row_is_quarantined_with_its_reason_and_the_rest_loads(warehouse):
    bad = QuarantineItem(
        source="trading_network",
        entity="inventory_unit",
        key="深房许字（2026）南山001号|1栋1单元1701",
        reason="unit of permit 深房许字（2026）南山001号 1栋1单元1701: inner_area: expected an area, got '待测绘'",
        payload={"unit_code": "1栋1单元1701", "inner_area": "待测绘"},
        updated_at=T0,
    )
    result = sync_unit_inventory(FakeInventory([unit("1栋1单元1501", "可售", T0), bad]), warehouse, settings=SMALL)
    assert (result.fetched, result.loaded, result.quarantined) == (2, 1, 1)
    q = tables.etl_quarantine.c
    stored = rows(warehouse, select(q.entity, q.record_key, q.reason))
    assert [tuple(r) for r in stored] == [("inventory_unit", bad.key, bad.reason)]
