"""The generated inventory: projects, buildings and a price table that looks like a real one."""

from __future__ import annotations

import inspect
import re
from collections import defaultdict
from datetime import date

from sandbox.world.layout import (
    COMMERCIAL,
    floor_factor_bp,
    generated_units,
    list_price,
    list_total,
    plan_projects,
    project_count,
)

START = date(2025, 1, 1)
PERMIT = re.compile(r"^深房许字（20\d\d）(南山|福田|罗湖|宝安|龙华|龙岗|光明|坪山)\d{3}号$")


def units_of(count, seed=7):
    return list(generated_units(seed, count, START, 546))


def test_units_are_streamed_by_a_generator():
    assert inspect.isgenerator(generated_units(7, 500_000, START, 546))


def test_demo_scale_has_several_projects_and_large_worlds_many():
    assert project_count(300) == 3
    assert project_count(20_000) == 10
    assert project_count(500_000) == 250
    names = [project.name for project, _ in plan_projects(7, 500_000)]
    assert len(set(names)) == len(names)


def test_unit_count_and_house_ids_are_exact_and_unique():
    units = units_of(1000)
    assert len(units) == 1000
    assert [unit.index for unit in units] == list(range(1000))
    assert len({unit.house_id for unit in units}) == 1000
    assert re.match(r"^P\d\d-\d\d-\d-\d{3,4}$", units[0].house_id)


def test_floor_premium_dips_low_rises_and_dips_at_the_top():
    factors = [floor_factor_bp(floor, 30, 50) for floor in range(1, 31)]
    assert factors[0] < factors[1] < factors[2] < factors[3]
    assert all(a < b for a, b in zip(factors[3:28], factors[4:29], strict=True))
    assert factors[29] < factors[28]


def test_prices_follow_the_project_base_and_the_floor():
    units = units_of(2000)
    for unit in units:
        assert 38_000 <= unit.project.base_price <= 72_000
        assert unit.list_total == list_total(unit.unit_price, unit.building_area)
    stacks = defaultdict(dict)
    for unit in units:
        if unit.usage != COMMERCIAL:
            stacks[(unit.house_id.rsplit("-", 1)[0], unit.room[-2:])][unit.floor] = unit.unit_price
    for prices in stacks.values():
        floors = sorted(prices)
        middle = [prices[f] for f in floors if 4 <= f < max(floors) - 1]
        assert middle == sorted(middle)


def test_areas_match_room_types_and_efficiency():
    for unit in units_of(2000):
        if unit.usage == COMMERCIAL:
            continue
        assert any(-60 <= unit.building_area - nominal * 100 <= 99 for nominal in (68, 89, 105, 128, 143))
        assert 0.76 <= unit.inner_area / unit.building_area <= 0.82
        assert unit.shared_area == unit.building_area - unit.inner_area


def test_buildings_have_permits_and_delivery_dates():
    buildings = {unit.building for unit in units_of(3000)}
    for building in buildings:
        assert PERMIT.match(building.permit_no), building.permit_no
        assert building.launch_on >= START
    delivered_before_sale = sum(b.delivery_on < b.launch_on for b in buildings)
    assert 0 < delivered_before_sale < len(buildings)


def test_list_price_rounds_half_up_to_the_yuan():
    assert list_price(45_000, 10_000, 10_000) == 45_000
    assert list_price(45_000, 10_001, 10_000) == 45_005  # 45004.5
    assert list_price(45_000, 9_999, 10_000) == 44_996  # 44995.5
