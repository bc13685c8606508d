"""The trading network's building tables (楼盘表): every unit of a permit with its sale state at the clock.

A permit's building table is cut from the one world: its units (`world.units`) and, for each unit,
the contracts on it that exist at the clock (`contract_as_of`). The sale state agrees with them:

- a main contract (预售 / 现售) signed and not cancelled: `已签`, or `已备案` once it was filed
  (已备案, 已领证, and 变更 of a filed contract);
- otherwise (no contract, only a 认购 agreement, a draft 待签, or every contract cancelled): `可售`,
  unless the unit never has a contract in the whole world and the seed set it aside: `不可售`
  (kept by the developer, 回迁) or `限制` (with `restriction` 查封: sealed by a court);
- parking spaces (车位) are in the building table of their project's first permit; the world sells
  none of them, so they are `可售`, or `不可售` (人防车位) or `限制`.

A row's `updated_at` is the latest change at or before the clock of a contract on the unit (the
moment its state last could have changed), else the world's start: `updated_since` keeps the rows
at or after it. Values are written as the real network writes them, not always tidily (see
`messy`): an area with `㎡`, a price with thousands separators, a floor as text, a state with a
stray space, the 28-character 不动产单元号 in groups; a few units not yet measured carry `待测绘` for
their 套内面积 — a row a reader must quarantine.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.world.clock import BUSINESS_TZ

AVAILABLE = "可售"
SIGNED = "已签"
FILED = "已备案"
RESTRICTED = "限制"
NOT_FOR_SALE = "不可售"
SALE_STATES = (AVAILABLE, SIGNED, FILED, RESTRICTED, NOT_FOR_SALE)
SUBSCRIPTION = "认购"
PARKING = "车位"
PARKING_BUILDING = "地下室"
UNMEASURED = "待测绘"

_FILED_STATES = frozenset({"已备案", "已领证", "变更"})
_PARKING_PER_UNITS = 5  # one space per five residential units of the project


def _draw(seed: str, *parts: object) -> int:
    """A number 0..9999 fixed by the seed and the parts: the same unit always draws the same."""
    digest = hashlib.sha256("/".join([seed, *map(str, parts)]).encode()).digest()
    return int.from_bytes(digest[:4], "big") % 10_000


def _money(text: str) -> Decimal:
    return Decimal(text).quantize(Decimal("0.01"))


class BuildingTables:
    """The building tables of one world store (`sandbox.trading_network.store.WorldStore`)."""

    def __init__(self, seed: str, start_at: str, contract_as_of: Callable[[dict, datetime], dict | None]) -> None:
        self._seed = seed
        self._start_at = start_at  # UTC key of the world's start: updated_at of a row nothing changed
        self._contract_as_of = contract_as_of

    # -- permits -----------------------------------------------------------------------------------

    @staticmethod
    def permits(conn: sqlite3.Connection) -> list[dict[str, Any]]:
        """Every permit with its project, building and number of units (parking included), by number."""
        rows = conn.execute(
            "select permit_no, project_code, project_name, min(building), count(*) from world.units"
            " where permit_no is not null group by permit_no, project_code, project_name order by permit_no"
        ).fetchall()
        first_permit = {}
        for permit_no, project_code, *_ in rows:
            first_permit.setdefault(project_code, permit_no)
        parking = _parking_counts(conn)
        return [
            {
                "permit_no": permit_no,
                "project_code": project_code,
                "project_name": project_name,
                "building": building,
                "unit_count": count + (parking.get(project_code, 0) if first_permit[project_code] == permit_no else 0),
            }
            for permit_no, project_code, project_name, building, count in rows
        ]

    # -- one permit's table ------------------------------------------------------------------------

    def rows(
        self, conn: sqlite3.Connection, permit_no: str, now: datetime, *, messy: bool = True
    ) -> list[dict[str, Any]] | None:
        """The building table of `permit_no` at `now`, in (updated_at, unit_code) order; None when
        there is no such permit. `messy=False`: the clean values, as the developer's own table holds
        them (`sandbox.trading_network.developer_file`)."""
        units = _query(conn, "select * from world.units where permit_no = ? order by house_id", (permit_no,))
        if not units:
            return None
        project_code = units[0]["project_code"]
        contracts = self._contracts(conn, permit_no, now)
        ever_sold = {
            house_id
            for (house_id,) in conn.execute(
                "select distinct c.house_id from world.units u"
                " cross join world.contracts c on c.house_id = u.house_id where u.permit_no = ?",
                (permit_no,),
            )
        }
        rows = [
            self._unit_row(unit, contracts.get(unit["house_id"], []), unit["house_id"] in ever_sold) for unit in units
        ]
        first = conn.execute(
            "select min(permit_no) from world.units where project_code = ?", (project_code,)
        ).fetchone()[0]
        if first == permit_no:
            rows += self._parking_rows(conn, units[0], permit_no)
        keyed = [(row["_updated_key"], row["unit_code"], row) for row in rows]
        keyed.sort(key=lambda entry: entry[:2])
        return [self._shown(row) if messy else self._clean(row) for _, _, row in keyed]

    def _contracts(self, conn: sqlite3.Connection, permit_no: str, now: datetime) -> dict[str, list[tuple[str, dict]]]:
        """house_id → [(updated_at UTC key, view at `now`)] of the contracts visible at the clock."""
        found: dict[str, list[tuple[str, dict]]] = {}
        for house_id, updated_at, doc in conn.execute(
            "select c.house_id, v.updated_at, c.doc from world.units u"
            " cross join world.contracts c on c.house_id = u.house_id"
            " cross join visible v on v.contract_no = c.contract_no"
            " where u.permit_no = ?",
            (permit_no,),
        ):
            view = self._contract_as_of(json.loads(doc), now)
            if view is not None:
                found.setdefault(house_id, []).append((updated_at, view))
        return found

    def _unit_row(self, unit: dict[str, Any], contracts: list[tuple[str, dict]], ever_sold: bool) -> dict[str, Any]:
        house_id = unit["house_id"]
        state, restriction = AVAILABLE, None
        live = [
            view
            for _, view in contracts
            if view["contract_type"] != SUBSCRIPTION and view["state"] not in ("撤销", "待签")
        ]
        if live:
            view = max(live, key=lambda item: (item["history"][0]["at"], item["contract_no"]))
            state = FILED if view["state"] in _FILED_STATES else SIGNED
        elif not ever_sold:
            draw = _draw(self._seed, "inventory-state", house_id)
            if draw < 1_500:
                state = NOT_FOR_SALE
            elif draw < 2_500:
                state, restriction = RESTRICTED, "查封"
        updated_key = max((updated for updated, _ in contracts), default=self._start_at)
        unit_code = f"{unit['building']}{unit['unit']}{unit['room']}"
        return {
            "_updated_key": updated_key,
            "_house_id": house_id,
            "unit_code": unit_code,
            "house_id": house_id,
            "realty_unit_no": self._realty_unit_no(unit),
            "building": unit["building"],
            "unit": unit["unit"],
            "floor": unit["floor"],
            "room": unit["room"],
            "usage": unit["usage"],
            "building_area": unit["building_area"],
            "inner_area": unit["inner_area"],
            "record_unit_price": str(_money(unit["unit_price"])),
            "record_total_price": str(_money(unit["list_total"])),
            "sale_state": state,
            "restriction": restriction,
        }

    def _realty_unit_no(self, unit: dict[str, Any]) -> str | None:
        """The 28-character 不动产单元号 (6 district + 6 cadastral area + GB + 5 parcel + F + 8 fixture),
        which the network carries for about seven units in ten."""
        if _draw(self._seed, "realty-unit-no", unit["house_id"]) >= 7_000 or not unit["room"].isdigit():
            return None
        district = 440300 + _draw(self._seed, "district", unit["district"]) % 10 + 1
        project = int(unit["project_code"].lstrip("P") or 0)
        building = int(unit["house_id"].split("-")[1])
        return f"{district:06d}{project:06d}GB{project:05d}F{building:04d}{int(unit['room']):04d}"

    def _parking_rows(self, conn: sqlite3.Connection, first: dict[str, Any], permit_no: str) -> list[dict[str, Any]]:
        project_code = first["project_code"]
        count = _parking_counts(conn).get(project_code, 0)
        rows = []
        for number in range(1, count + 1):
            level = "B1" if number <= (count + 1) // 2 else "B2"
            room = f"{level}-{number:03d}"
            house_id = f"{project_code}-CW-{room}"
            area = Decimal(1200 + _draw(self._seed, "parking-area", house_id) % 250) / 100
            total = Decimal(150_000 + 1_000 * (_draw(self._seed, "parking-price", house_id) % 150))
            draw = _draw(self._seed, "parking-state", house_id)
            state, restriction = AVAILABLE, None
            if number <= count // 5:
                state = NOT_FOR_SALE  # 人防车位: the civil-defence spaces may be let, not sold
            elif draw < 800:
                state, restriction = RESTRICTED, "查封"
            rows.append(
                {
                    "_updated_key": self._start_at,
                    "_house_id": house_id,
                    "unit_code": f"{PARKING_BUILDING}{room}",
                    "house_id": house_id,
                    "realty_unit_no": None,
                    "building": PARKING_BUILDING,
                    "unit": "",
                    "floor": -1 if level == "B1" else -2,
                    "room": room,
                    "usage": PARKING,
                    "building_area": f"{area:.2f}",
                    "inner_area": f"{area:.2f}",
                    "record_unit_price": str((total / area).quantize(Decimal("0.01"))),
                    "record_total_price": f"{total:.2f}",
                    "sale_state": state,
                    "restriction": restriction,
                }
            )
        return rows

    @staticmethod
    def _clean(row: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in row.items() if not key.startswith("_")}

    def _shown(self, row: dict[str, Any]) -> dict[str, Any]:
        """The row as the network writes it: the clean values, some of them messy (see the module doc)."""
        house_id = row.pop("_house_id")
        updated_key = row.pop("_updated_key")
        shown = dict(row)
        shown["updated_at"] = datetime.fromisoformat(updated_key).astimezone(BUSINESS_TZ).isoformat()
        draw = _draw(self._seed, "messy", house_id)
        if draw < 500:
            shown["building_area"] = f"{row['building_area']}㎡"
        elif draw < 800:
            shown["building_area"] = f" {Decimal(row['building_area']).normalize():f} "
        if 1_000 <= draw < 1_600:
            shown["record_total_price"] = f"{Decimal(row['record_total_price']):,.2f}"
        if 2_000 <= draw < 2_500:
            shown["floor"] = str(row["floor"])
        if 3_000 <= draw < 3_300:
            shown["sale_state"] = f"{row['sale_state']} "
        if 4_000 <= draw < 4_400 and row["realty_unit_no"]:
            number = row["realty_unit_no"]
            shown["realty_unit_no"] = " ".join((number[:6], number[6:12], number[12:19], number[19:]))
        if 5_000 <= draw < 5_080 and row["sale_state"] in (AVAILABLE, NOT_FOR_SALE):
            shown["inner_area"] = UNMEASURED
        return shown


def _query(conn: sqlite3.Connection, sql: str, params: tuple) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def _parking_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Parking spaces per project: one per five residential units."""
    return {
        project_code: count // _PARKING_PER_UNITS
        for project_code, count in conn.execute(
            "select project_code, count(*) from world.units where usage = '住宅' group by project_code"
        )
    }
