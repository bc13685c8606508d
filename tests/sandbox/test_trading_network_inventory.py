"""The sandbox trading network's building tables (楼盘表): pages, `updated_since`, and sale states that
agree with the contracts the same server shows at the same clock."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from urllib.parse import quote

import pytest
import requests

from sandbox.trading_network.server import TradingNetworkServer
from sandbox.world import generate_world
from sandbox.world.clock import BUSINESS_TZ

ACCOUNT = "dev-inventory"
PASSWORD = "inventory-password"
FILED = {"已备案", "已领证", "变更"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    world = generate_world(tmp_path_factory.mktemp("world") / "world.sqlite", units=300, seed=7)
    with TradingNetworkServer(world.path, account=ACCOUNT, password=PASSWORD) as running:
        yield running


@pytest.fixture
def headers(server):
    response = requests.post(
        f"{server.url}/api/v1/auth/login", json={"account": ACCOUNT, "password": PASSWORD}, timeout=5
    )
    return {"Authorization": f"Bearer {response.json()['data']['token']}"}


def get(server, path: str, headers: dict, **params) -> requests.Response:
    return requests.get(f"{server.url}{path}", headers=headers, params=params, timeout=30)


def walk(server, path: str, headers: dict, **params) -> list[dict]:
    """Every item of a keyset listing, following page tokens; no token may repeat."""
    items, tokens, token = [], set(), None
    while True:
        query = dict(params)
        if token:
            query["page_token"] = token
        response = get(server, path, headers, **query)
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        items += data["items"]
        token = data["next_page_token"]
        if token is None:
            return items
        assert token not in tokens
        tokens.add(token)


def units_path(permit_no: str) -> str:
    return f"/api/v1/permits/{quote(permit_no, safe='')}/units"


def set_clock(server, when: datetime) -> None:
    requests.post(f"{server.url}/_sandbox/clock", json={"now": when.isoformat()}, timeout=30).raise_for_status()


@pytest.fixture
def at_world_end(server):
    set_clock(server, server.store.world_end)
    yield
    set_clock(server, server.store.world_end)


def all_units(server, headers, **params) -> dict[str, list[dict]]:
    permits = walk(server, "/api/v1/permits", headers, page_size=3)
    return {p["permit_no"]: walk(server, units_path(p["permit_no"]), headers, **params) for p in permits}


def expected_states(server, headers) -> dict[str, str]:
    """house_id → the sale state the contracts imply: the signed, uncancelled main contract's."""
    contracts = walk(server, "/api/v1/contracts", headers, page_size=500, expand="detail")
    states: dict[str, str] = defaultdict(lambda: "可售")
    for contract in contracts:
        if contract["contract_type"] == "认购" or contract["state"] in ("撤销", "待签"):
            continue
        states[contract["house"]["house_id"]] = "已备案" if contract["state"] in FILED else "已签"
    return states


def test_permit_listing_pages_cover_every_permit_once(server, headers, at_world_end):
    small = walk(server, "/api/v1/permits", headers, page_size=2)
    whole = walk(server, "/api/v1/permits", headers, page_size=500)
    assert small == whole
    assert len(whole) == 8
    numbers = [p["permit_no"] for p in whole]
    assert numbers == sorted(numbers) and len(set(numbers)) == 8


def test_building_table_pages_give_each_unit_once_in_order(server, headers, at_world_end):
    for permit_no, rows in all_units(server, headers, page_size=500).items():
        paged = walk(server, units_path(permit_no), headers, page_size=7)
        assert paged == rows
        keys = [(datetime.fromisoformat(r["updated_at"]), r["unit_code"]) for r in rows]
        assert keys == sorted(keys)
        assert len({r["unit_code"] for r in rows}) == len(rows)


def test_building_tables_hold_every_unit_of_the_world_and_parking(server, headers, at_world_end):
    tables = all_units(server, headers, page_size=500)
    rows = [row for table in tables.values() for row in table]
    with server.store.reading() as (conn, _):
        world_units = {house_id for (house_id,) in conn.execute("select house_id from world.units")}
    assert {r["house_id"] for r in rows if r["usage"] != "车位"} == world_units
    assert {r["usage"] for r in rows} == {"住宅", "商业", "车位"}
    parking = [r for r in rows if r["usage"] == "车位"]
    assert len(parking) == 57  # one space per five residential units of each project
    assert all(r["realty_unit_no"] is None and r["sale_state"].strip() in ("可售", "不可售", "限制") for r in parking)
    with_number = [r for r in rows if r["realty_unit_no"]]
    assert 0 < len(with_number) < len(rows) - len(parking)
    assert all(len(r["realty_unit_no"].replace(" ", "")) == 28 for r in with_number)


def test_updated_since_keeps_the_rows_changed_at_or_after_it(server, headers, at_world_end):
    tables = all_units(server, headers, page_size=500)
    permit_no, rows = max(tables.items(), key=lambda item: len(item[1]))
    middle = rows[len(rows) // 2]["updated_at"]
    since = walk(server, units_path(permit_no), headers, page_size=5, updated_since=middle)
    assert since == [r for r in rows if datetime.fromisoformat(r["updated_at"]) >= datetime.fromisoformat(middle)]
    assert 0 < len(since) < len(rows)


def test_sale_states_agree_with_the_contracts_at_the_clock(server, headers, at_world_end):
    for when in (datetime(2025, 6, 1, tzinfo=BUSINESS_TZ), server.store.world_end):
        set_clock(server, when)
        expected = expected_states(server, headers)
        rows = [row for table in all_units(server, headers, page_size=500).values() for row in table]
        seen = defaultdict(int)
        for row in rows:
            state = row["sale_state"].strip()
            seen[state] += 1
            if row["usage"] == "车位":
                continue
            if state in ("限制", "不可售"):
                assert row["house_id"] not in expected, row  # set aside: never contracted
            else:
                assert state == expected[row["house_id"]], row
        assert seen["已备案"] > 0 and seen["可售"] > 0


def test_before_any_sale_every_unit_is_for_sale_or_set_aside(server, headers, at_world_end):
    set_clock(server, datetime(2025, 1, 1, 0, 1, tzinfo=BUSINESS_TZ))
    rows = [row for table in all_units(server, headers, page_size=500).values() for row in table]
    assert {row["sale_state"].strip() for row in rows} <= {"可售", "限制", "不可售"}
    assert any(row["sale_state"].strip() == "限制" and row["restriction"] == "查封" for row in rows)


def test_messy_values_appear_as_the_network_writes_them(server, headers, at_world_end):
    rows = [row for table in all_units(server, headers, page_size=500).values() for row in table]
    assert any(str(r["building_area"]).endswith("㎡") for r in rows)
    assert any("," in r["record_total_price"] for r in rows)
    assert any(isinstance(r["floor"], str) for r in rows)
    assert any(r["sale_state"] != r["sale_state"].strip() for r in rows)


def test_unknown_permit_is_404_and_a_token_of_another_permit_is_400(server, headers, at_world_end):
    assert get(server, units_path("深房许字（1999）无此000号"), headers).json()["code"] == 40400
    permits = walk(server, "/api/v1/permits", headers, page_size=500)
    first = get(server, units_path(permits[0]["permit_no"]), headers, page_size=2).json()["data"]
    other = get(server, units_path(permits[1]["permit_no"]), headers, page_size=2, page_token=first["next_page_token"])
    assert other.status_code == 400 and other.json()["code"] == 40001
