"""A unit inventory from a CSV file (a developer's 楼盘表 export) instead of generated units.

UTF-8 (a BOM is fine), one header line, then one unit per line. Columns: 楼栋, 单元, 楼层, 房号, 单价
(whole yuan per m²), 建筑面积, 套内面积 (m², at most two decimals); optional 项目 (project name),
用途 (住宅 by default), 朝向. Everything else about a unit — project code and district, permit number,
sales opening and delivery dates — is drawn from the seed, per project and building, so the same
lives are simulated over these units.

The file is read twice: once to check every line (a bad line raises `InventoryError` naming it),
once to stream the units.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sandbox.world.amounts import text_to_hundredths
from sandbox.world.dice import between, pick
from sandbox.world.layout import (
    RESIDENTIAL,
    Building,
    Project,
    Unit,
    building_schedule,
    list_total,
    permit_number,
)
from sandbox.world.names import DISTRICTS

REQUIRED_COLUMNS = ("楼栋", "单元", "楼层", "房号", "单价", "建筑面积", "套内面积")
DEFAULT_PROJECT = "滨江悦府"


class InventoryError(ValueError):
    """An inventory CSV that cannot drive the world; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class InventoryRow:
    line: int
    project: str
    building: str
    unit: str
    floor: int
    room: str
    unit_price: int  # yuan
    building_area: int  # hundredths of a m²
    inner_area: int
    usage: str
    orientation: str | None


def _with_suffix(text: str, suffix: str) -> str:
    return text + suffix if text.isdigit() else text


def _parse_row(path: Path, line: int, record: dict[str, str | None]) -> InventoryRow:
    def fail(message: str) -> InventoryError:
        return InventoryError(f"{path} line {line}: {message}")

    values = {key: (value or "").strip() for key, value in record.items() if key is not None}
    if None in record:
        raise fail(f"expected {len(values)} fields as in the header, got more: {record[None]!r}")
    for column in REQUIRED_COLUMNS:
        if not values.get(column):
            raise fail(f"column {column} is empty")
    try:
        floor = int(values["楼层"])
    except ValueError as exc:
        raise fail(f"楼层 must be a whole number, got {values['楼层']!r}") from exc
    numbers = {}
    for column in ("单价", "建筑面积", "套内面积"):
        try:
            numbers[column] = text_to_hundredths(values[column])
        except ValueError as exc:
            raise fail(f"{column}: {exc}") from exc
        if numbers[column] <= 0:
            raise fail(f"{column} must be positive, got {values[column]!r}")
    if numbers["单价"] % 100:
        raise fail(f"单价 must be whole yuan per m², got {values['单价']!r}")
    if numbers["套内面积"] > numbers["建筑面积"]:
        raise fail(f"套内面积 {values['套内面积']} exceeds 建筑面积 {values['建筑面积']}")
    return InventoryRow(
        line=line,
        project=values.get("项目") or DEFAULT_PROJECT,
        building=_with_suffix(values["楼栋"], "栋"),
        unit=_with_suffix(values["单元"], "单元"),
        floor=floor,
        room=values["房号"],
        unit_price=numbers["单价"] // 100,
        building_area=numbers["建筑面积"],
        inner_area=numbers["套内面积"],
        usage=values.get("用途") or RESIDENTIAL,
        orientation=values.get("朝向") or None,
    )


def read_inventory(path: str | Path, limit: int | None = None) -> Iterator[InventoryRow]:
    """The checked rows of the inventory, in file order (the first `limit` rows if given)."""
    path = Path(path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        try:
            header = reader.fieldnames or []
            missing = [column for column in REQUIRED_COLUMNS if column not in header]
            if missing:
                raise InventoryError(f"{path} line 1: header lacks {', '.join(missing)}; found {', '.join(header)}")
            for count, record in enumerate(reader):
                if limit is not None and count >= limit:
                    return
                yield _parse_row(path, reader.line_num, record)
        except UnicodeDecodeError as exc:
            after = reader.line_num
            raise InventoryError(f"{path} after line {after}: not UTF-8 ({exc.reason}); save it as UTF-8") from exc


class _InventoryWorld:
    """Projects and buildings of an inventory, each drawn from the seed on first sight."""

    def __init__(self, seed: int, start_on: date, period_days: int) -> None:
        self.seed, self.start_on, self.period_days = seed, start_on, period_days
        self.projects: dict[str, Project] = {}
        self.buildings: dict[tuple[str, str], Building] = {}
        self.next_local: dict[str, int] = {}

    def project(self, name: str, unit_price: int) -> Project:
        if name not in self.projects:
            rng = random.Random(f"{self.seed}/inventory-project/{name}")
            district = pick(rng, DISTRICTS)[0]
            self.projects[name] = Project(f"P{len(self.projects) + 1:02d}", name, district, unit_price)
        return self.projects[name]

    def building(self, project: Project, name: str) -> Building:
        key = (project.name, name)
        if key not in self.buildings:
            rng = random.Random(f"{self.seed}/inventory-building/{project.name}/{name}")
            permit_on, launch, delivery = building_schedule(rng, self.start_on, self.period_days * 7 // 10)
            digits = "".join(ch for ch in name if ch.isdigit())
            building_key = f"{int(digits):02d}" if digits else name
            permit = permit_number(permit_on.year, project.district, between(rng, 1, 199))
            self.buildings[key] = Building(project, name, building_key, permit, launch, delivery, 0)
        return self.buildings[key]


def _units_with_lines(
    path: str | Path, seed: int, start_on: date, period_days: int, limit: int | None
) -> Iterator[tuple[int, Unit]]:
    world = _InventoryWorld(seed, start_on, period_days)
    for index, row in enumerate(read_inventory(path, limit)):
        project = world.project(row.project, row.unit_price)
        building = world.building(project, row.building)
        local = world.next_local.get(project.name, 0)
        world.next_local[project.name] = local + 1
        yield (
            row.line,
            Unit(
                index=index,
                local_index=local,
                building=building,
                unit=row.unit,
                floor=row.floor,
                room=row.room,
                usage=row.usage,
                orientation=row.orientation or "",
                building_area=row.building_area,
                inner_area=row.inner_area,
                unit_price=row.unit_price,
                list_total=list_total(row.unit_price, row.building_area),
            ),
        )


def check_inventory(path: str | Path, *, seed: int, start_on: date, period_days: int, limit: int | None = None) -> int:
    """Read the whole file once: the number of units, or `InventoryError` naming the first bad line."""
    seen: dict[str, int] = {}
    for line, unit in _units_with_lines(path, seed, start_on, period_days, limit):
        if unit.house_id in seen:
            raise InventoryError(f"{path} line {line}: house {unit.house_id} repeats line {seen[unit.house_id]}")
        seen[unit.house_id] = line
    if not seen:
        raise InventoryError(f"{path}: no units after the header line")
    return len(seen)


def inventory_units(
    path: str | Path, *, seed: int, start_on: date, period_days: int, limit: int | None = None
) -> Iterator[Unit]:
    """The inventory's units, in file order. Call `check_inventory` first to fail before generating."""
    for _, unit in _units_with_lines(path, seed, start_on, period_days, limit):
        yield unit
