"""Building tables (楼盘表) through the connector: the parser on untidy rows, and the client against the
real sandbox server on loopback, faults included."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests

from connectors.http import RetryPolicy
from connectors.trading_network import (
    InventoryUnit,
    Permit,
    QuarantineItem,
    TradingNetworkClient,
    parse_inventory_unit,
    parse_permit,
)

PERMIT = "深房许字（2025）南山012号"
ACCOUNT = "dev-inventory"
PASSWORD = "inventory-password"


def row(**changes: Any) -> dict[str, Any]:
    base = {
        "unit_code": "3栋2单元1502",
        "house_id": "P01-03-2-1502",
        "realty_unit_no": "440302000001GB00001F00031502",
        "building": "3栋",
        "unit": "2单元",
        "floor": 15,
        "room": "1502",
        "usage": "住宅",
        "building_area": "89.12",
        "inner_area": "70.01",
        "record_unit_price": "45000.00",
        "record_total_price": "4010400.00",
        "sale_state": "已备案",
        "restriction": None,
        "updated_at": "2026-03-31T10:15:00+08:00",
    }
    base.update(changes)
    return base


# -- the parser ---------------------------------------------------------------------------------------


def test_parse_inventory_unit_reads_a_clean_row():
    unit = parse_inventory_unit(row(), PERMIT)
    assert isinstance(unit, InventoryUnit)
    assert unit.key == "深房许字（2025）南山012号|3栋2单元1502"
    assert unit.building_area == Decimal("89.12") and unit.record_total_price == Decimal("4010400.00")
    assert unit.updated_at == datetime(2026, 3, 31, 2, 15, tzinfo=UTC)
    assert unit.floor == 15 and unit.sale_state == "已备案"


def test_parse_inventory_unit_reads_the_networks_untidy_forms():
    unit = parse_inventory_unit(
        row(
            building_area=" 89.1 ",
            inner_area="70.01㎡",
            record_total_price="4,010,400.00",
            floor="-1",
            sale_state="可售 ",
            realty_unit_no="440302 000001 GB00001 F00031502",
        ),
        PERMIT,
    )
    assert isinstance(unit, InventoryUnit), unit
    assert unit.building_area == Decimal("89.1") and unit.inner_area == Decimal("70.01")
    assert unit.record_total_price == Decimal("4010400.00")
    assert unit.floor == -1 and unit.sale_state == "可售"
    assert unit.realty_unit_no == "440302000001GB00001F00031502"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"inner_area": "待测绘"}, "inner_area: expected an area in m² like '89.12' (or '89.12㎡'), got '待测绘'"),
        ({"sale_state": "已售"}, "sale_state: expected one of 可售/已签/已备案/限制/不可售, got '已售'"),
        ({"realty_unit_no": "4403020000"}, "realty_unit_no: expected a 28-character 不动产单元号"),
        ({"record_total_price": "40,10,400"}, "record_total_price: expected an amount in yuan"),
        ({"inner_area": "95.00"}, "inner_area: expected at most building_area 89.12, got 95.00"),
        ({"floor": "15层"}, "floor: expected a floor number like 15 or -1, got '15层'"),
    ],
)
def test_parse_inventory_unit_quarantines_a_bad_row_with_its_reason(changes, reason):
    item = parse_inventory_unit(row(**changes), PERMIT)
    assert isinstance(item, QuarantineItem)
    assert item.entity == "inventory_unit" and item.key == f"{PERMIT}|3栋2单元1502"
    assert reason in item.reason
    assert item.payload["unit_code"] == "3栋2单元1502"


def test_parse_inventory_unit_without_unit_code_is_quarantined_without_key():
    raw = row()
    del raw["unit_code"]
    item = parse_inventory_unit(raw, PERMIT)
    assert isinstance(item, QuarantineItem) and item.key is None
    assert "unit_code: expected a value, got nothing (the field is missing)" in item.reason


def test_parse_permit_reads_and_refuses():
    permit = parse_permit({"permit_no": PERMIT, "project_code": "P01", "project_name": "滨江悦府", "unit_count": 3})
    assert isinstance(permit, Permit) and permit.unit_count == 3
    bad = parse_permit({"permit_no": PERMIT, "project_name": "滨江悦府"})
    assert isinstance(bad, QuarantineItem) and "project_code: expected a value" in bad.reason


# -- the client against the sandbox -----------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Iterator[str]:
    from sandbox.serve import serve
    from sandbox.world import generate_world

    world = generate_world(tmp_path_factory.mktemp("world") / "world.sqlite", units=120, seed=5)
    with serve(world.path, account=ACCOUNT, password=PASSWORD) as running:
        yield running.urls["trading_network"]


def set_faults(url: str, rules: list[dict[str, Any]]) -> None:
    requests.post(f"{url}/_sandbox/faults", json={"rules": rules, "seed": 5}, timeout=5).raise_for_status()


def client(url: str, page_size: int = 6) -> TradingNetworkClient:
    retry = RetryPolicy(max_attempts=5, backoff_initial=0.05, backoff_max=0.2, jitter=0.0)
    return TradingNetworkClient(url, ACCOUNT, PASSWORD, page_size=page_size, retry=retry, timeout=5)


@pytest.fixture(scope="module")
def clean(sandbox) -> list[InventoryUnit]:
    set_faults(sandbox, [])
    with client(sandbox, page_size=500) as tn:
        records = list(tn.iter_inventory())
    assert all(isinstance(r, InventoryUnit) for r in records)
    return records


def test_iter_inventory_reads_every_permit_with_small_pages(sandbox, clean):
    set_faults(sandbox, [])
    with client(sandbox) as tn:
        permits = list(tn.iter_permits())
        records = list(tn.iter_inventory())
    assert [r.key for r in records] == [r.key for r in clean]
    assert sum(p.unit_count for p in permits) == len(clean)
    assert {r.usage for r in clean} == {"住宅", "车位"} or {r.usage for r in clean} == {"住宅", "商业", "车位"}
    assert len({r.key for r in clean}) == len(clean)


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "duplicate", "path": "/api/v1/permits"},
        {"kind": "expire_tokens", "path": "/api/v1/permits", "every": 3},
        {"kind": "http_503", "path": "/api/v1/permits", "every": 3},
        {"kind": "rate_limit", "path": "/api/v1/permits", "every": 4, "retry_after": 0},
        {"kind": "truncate", "path": "/api/v1/permits", "every": 3},
    ],
    ids=lambda rule: rule["kind"],
)
def test_iter_inventory_survives_faults_with_every_unit_once(sandbox, clean, rule):
    set_faults(sandbox, [rule])
    try:
        with client(sandbox) as tn:
            records = list(tn.iter_inventory())
        fired = requests.get(f"{sandbox}/_sandbox/faults", timeout=5).json()
    finally:
        set_faults(sandbox, [])
    assert [r.key for r in records] == [r.key for r in clean]
    assert sum(entry["fired"] for entry in fired["rules"]) > 0


def test_iter_permit_units_since_keeps_only_later_rows(sandbox, clean):
    set_faults(sandbox, [])
    permit = Counter(r.permit_no for r in clean).most_common(1)[0][0]
    rows = [r for r in clean if r.permit_no == permit]
    since = sorted(r.updated_at for r in rows)[len(rows) // 2]
    with client(sandbox) as tn:
        later = list(tn.iter_permit_units(permit, since))
    assert [r.key for r in later] == [r.key for r in rows if r.updated_at >= since]


def test_malformed_rows_are_quarantined_with_their_reason_and_the_rest_read_once(sandbox, clean):
    rule = {
        "kind": "malformed",
        "path": "/api/v1/permits/",
        "every": 2,
        "count": 1,
        "corruptions": ["missing_key", "bad_date", "negative_price", "non_numeric_price"],
    }
    set_faults(sandbox, [rule])
    try:
        with client(sandbox) as tn:
            records = list(tn.iter_inventory())
        corrupted = requests.get(f"{sandbox}/_sandbox/faults", timeout=5).json()["corrupted"]
    finally:
        set_faults(sandbox, [])
    bad = [r for r in records if isinstance(r, QuarantineItem)]
    good = [r for r in records if isinstance(r, InventoryUnit)]
    assert len(bad) == len(corrupted) >= 4
    assert {c["corruption"] for c in corrupted} == {"missing_key", "bad_date", "negative_price", "non_numeric_price"}
    reasons = " ".join(item.reason for item in bad)
    for expected in (
        "unit_code: expected a value",
        "updated_at: expected an ISO 8601 time",
        "record_total_price: expected an amount in yuan",
    ):
        assert expected in reasons
    assert len(good) + len(bad) == len(clean)
    assert len({r.key for r in good}) == len(good)
