"""Projects, buildings and units: the world's inventory, generated from the seed.

A project has buildings; a building has 单元 (stair cores), floors and room positions; each position is
a stack with one room type (建筑面积), one orientation and one 得房率 from the bottom to the top. The
list price of a room is the project's base price × a floor factor × a position factor, rounded to the
yuan; the list total is the unit price × 建筑面积, rounded to the yuan.

Units are produced by a generator in a fixed order (project, building, 单元, floor, position), so the
whole inventory is never held in memory; only the small project and building records are.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from sandbox.world.amounts import round_div
from sandbox.world.dice import below, between, pick
from sandbox.world.names import DISTRICTS, PHASES, PROJECT_PREFIXES, PROJECT_SUFFIXES

RESIDENTIAL = "住宅"
COMMERCIAL = "商业"

# room templates per stack: (nominal 建筑面积 m², orientation); one template per building
_TEMPLATES = {
    2: (((143, "南北通透"), (128, "南")), ((128, "南北通透"), (105, "东南"))),
    3: (((128, "南北通透"), (89, "南"), (105, "西南")), ((105, "东南"), (68, "北"), (89, "南"))),
    4: (
        ((128, "东南"), (89, "南"), (68, "北"), (105, "西南")),
        ((105, "南北通透"), (89, "南"), (89, "北"), (128, "西南")),
    ),
}
_SHOP_AREAS = (45, 68, 96, 120)
SHOP_ORIENTATION = "临街"
# price premium of a position, in basis points of the base price
_ORIENTATION_BP = {"南北通透": 400, "南": 300, "东南": 200, "西南": 100, "东": 0, "西": -100, "北": -300}
_CORNER_BP = 150
_SHOP_BP = 6_000


@dataclass(frozen=True, slots=True)
class Project:
    code: str
    name: str
    district: str
    base_price: int  # 元/m², whole yuan


@dataclass(frozen=True, slots=True)
class Building:
    project: Project
    name: str  # "3栋"
    key: str  # "03": the building's part of house_id
    permit_no: str
    launch_on: date  # sales open (开盘)
    delivery_on: date  # 交付
    floors: int  # top floor; 0 when unknown (an inventory CSV)


@dataclass(frozen=True, slots=True)
class Unit:
    """One room for sale. Areas are integer hundredths of a m²; prices integer yuan."""

    index: int  # position in the world's inventory, 0-based
    local_index: int  # position within its project: the base of its contract numbers
    building: Building
    unit: str  # "2单元"
    floor: int
    room: str  # "1502"
    usage: str
    orientation: str
    building_area: int
    inner_area: int
    unit_price: int
    list_total: int

    house_id: str = ""  # filled in from the fields above: "P01-03-2-1502"

    def __post_init__(self) -> None:
        unit_key = "".join(ch for ch in self.unit if ch.isdigit()) or self.unit
        house_id = f"{self.building.project.code}-{self.building.key}-{unit_key}-{self.room}"
        object.__setattr__(self, "house_id", house_id)

    @property
    def project(self) -> Project:
        return self.building.project

    @property
    def shared_area(self) -> int:
        return self.building_area - self.inner_area


def floor_factor_bp(floor: int, top: int, step_bp: int) -> int:
    """Price factor of a floor in basis points: a dip on floors 1–3, rising above, a dip on the top floor."""
    if floor <= 3:
        return 10_000 - (4 - floor) * 200
    factor = 10_000 + (min(floor, top - 1) - 4) * step_bp
    return factor - 300 if floor >= top and top > 6 else factor


def position_factor_bp(orientation: str, corner: bool) -> int:
    return 10_000 + _ORIENTATION_BP.get(orientation, 0) + (_CORNER_BP if corner else 0)


def list_price(base_price: int, floor_bp: int, position_bp: int) -> int:
    """单价 in whole yuan: base × floor factor × position factor, rounded half up."""
    return round_div(base_price * floor_bp * position_bp, 100_000_000)


def list_total(unit_price: int, building_area: int) -> int:
    """总价 in whole yuan: 单价 × 建筑面积 (hundredths of a m²), rounded half up."""
    return round_div(unit_price * building_area, 100)


def inner_area_for(building_area: int, efficiency_bp: int) -> int:
    """套内面积 in hundredths of a m² for a 得房率 in basis points."""
    return round_div(building_area * efficiency_bp, 10_000)


def building_schedule(rng: random.Random, opens_after: date, period_days: int) -> tuple[date, date, date]:
    """(permit issued, sales open, delivery) of a building; about one in four is delivered before sale."""
    launch = opens_after + timedelta(days=below(rng, max(1, period_days)))
    if rng.random() < 0.25:
        delivery = launch - timedelta(days=between(rng, 30, 240))
    else:
        delivery = launch + timedelta(days=between(rng, 90, 420))
    permit = launch - timedelta(days=between(rng, 5, 40))
    return permit, launch, delivery


def permit_number(year: int, district: str, sequence: int) -> str:
    return f"深房许字（{year}）{district}{sequence:03d}号"


def project_count(units: int) -> int:
    """A few projects for a demo, about one per 2,000 units for a large world."""
    return max(1, min(math.ceil(units / 100), max(3, math.ceil(units / 2_000))))


def plan_projects(seed: int, units: int) -> list[tuple[Project, int]]:
    """The world's projects and how many units each holds (shares differ by at most one)."""
    count = project_count(units)
    names = [prefix + suffix for prefix, suffix in itertools.product(PROJECT_PREFIXES, PROJECT_SUFFIXES)]
    random.Random(f"{seed}/project-names").shuffle(names)
    projects = []
    for number in range(count):
        rng = random.Random(f"{seed}/project/{number}")
        district, low, high = pick(rng, DISTRICTS)
        phase = PHASES[min(number // len(names), len(PHASES) - 1)]
        name = names[number % len(names)] + phase
        base = low + 100 * below(rng, (high - low) // 100 + 1)
        share = units // count + (1 if number < units % count else 0)
        projects.append((Project(f"P{number + 1:02d}", name, district, base), share))
    return projects


def _building_shape(rng: random.Random, share: int) -> tuple[int, int, int]:
    """(floors, 单元 count, rooms per floor per 单元): mid-rise for small projects, towers for large."""
    if share <= 400:
        return between(rng, 9, 18), between(rng, 1, 2), pick(rng, (2, 3, 4))
    return between(rng, 18, 34), between(rng, 1, 3), pick(rng, (2, 3, 4))


def _project_units(
    project: Project, share: int, first_index: int, seed: int, start_on: date, period_days: int
) -> Iterator[Unit]:
    rng = random.Random(f"{seed}/project-buildings/{project.code}")
    project_open = start_on + timedelta(days=below(rng, max(1, period_days // 3)))
    last_open = start_on + timedelta(days=period_days * 7 // 10)
    has_shops = rng.random() < 0.35
    permit_base = between(rng, 1, 180)
    produced = 0
    for number in itertools.count(1):
        floors, cores, per_floor = _building_shape(rng, share)
        stacks = pick(rng, _TEMPLATES[per_floor])
        step_bp = between(rng, 30, 70)
        efficiency = [between(rng, 7_600, 8_200) for _ in stacks]
        extra = [between(rng, -60, 99) for _ in stacks]
        window = min(30 * number, (last_open - project_open).days)
        permit_on, launch, delivery = building_schedule(rng, project_open, window)
        building = Building(
            project=project,
            name=f"{number}栋",
            key=f"{number:02d}",
            permit_no=permit_number(permit_on.year, project.district, permit_base + number),
            launch_on=launch,
            delivery_on=delivery,
            floors=floors,
        )
        shops_here = has_shops and number == 1
        for core, floor, position in itertools.product(range(1, cores + 1), range(1, floors + 1), range(len(stacks))):
            if produced == share:
                return
            nominal, orientation = stacks[position]
            usage = RESIDENTIAL
            floor_bp = floor_factor_bp(floor, floors, step_bp)
            position_bp = position_factor_bp(orientation, position in (0, len(stacks) - 1))
            if shops_here and floor == 1:
                nominal, orientation, usage = _SHOP_AREAS[position], SHOP_ORIENTATION, COMMERCIAL
                position_bp = 10_000 + _SHOP_BP
            area = nominal * 100 + extra[position]
            price = list_price(project.base_price, floor_bp, position_bp)
            yield Unit(
                index=first_index + produced,
                local_index=produced,
                building=building,
                unit=f"{core}单元",
                floor=floor,
                room=f"{floor}{position + 1:02d}",
                usage=usage,
                orientation=orientation,
                building_area=area,
                inner_area=inner_area_for(area, efficiency[position]),
                unit_price=price,
                list_total=list_total(price, area),
            )
            produced += 1


def generated_units(seed: int, units: int, start_on: date, period_days: int) -> Iterator[Unit]:
    """Every unit of a generated world, in inventory order."""
    index = 0
    for project, share in plan_projects(seed, units):
        yield from _project_units(project, share, index, seed, start_on, period_days)
        index += share
