"""The developer's own unit inventory (一房一价) of one project, written from the world's building tables
with a few differences from the network's planted in it: what `estatehub import-inventory` must list.

    planted = write_developer_file(world_path, Path("一房一价-P01.csv"), at=moment)

The file (CSV, UTF-8 with a BOM, as Excel saves it) holds every unit of the project's permits as the
network shows them at `at`, in the tidy values of the developer's own table, except three planted
differences, returned and written beside the file as `<file>.planted.json`:

- `repriced`: a residential unit the developer repriced (备案单价 and 备案总价 2% up) where the network
  still records the old price — listed as `record_unit_price` and `record_total_price`;
- `held_back`: a residential unit for sale (可售) that the developer holds back (销控) and leaves out of
  its price list — `missing_in_file`;
- `parking_missing`: the project's last parking space, left out of the file — `missing_in_file`.

One more is listed where the network has it, not planted by the file: a unit whose 套内面积 the
network shows `待测绘` (not yet surveyed) is a row a reader quarantines, so the file's unit is
`missing_on_network` (`network_unsurveyed`).
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from sandbox.trading_network.inventory import AVAILABLE, PARKING, UNMEASURED, BuildingTables
from sandbox.trading_network.server import load_view
from sandbox.trading_network.store import WorldStore
from sandbox.world.layout import RESIDENTIAL

HEADER = ("预售许可证号", "楼栋", "单元", "房号", "用途", "建筑面积", "套内面积", "备案单价", "备案总价")
REPRICE = Decimal("1.02")
CENT = Decimal("0.01")


def project_rows(world_path: Path, at: datetime, project_code: str | None = None) -> list[tuple[str, dict, bool]]:
    """(permit_no, clean building-table row, whether the network shows it unsurveyed) of every unit of
    the project (default: the first) at `at`."""
    store = WorldStore(world_path, now=at)
    try:
        tables = BuildingTables(str(store.meta.get("seed", "")), store.start_key, load_view().contract_as_of)
        with store.reading() as (conn, now):
            permits = tables.permits(conn)
            project = project_code or permits[0]["project_code"]
            mine = [p["permit_no"] for p in permits if p["project_code"] == project]
            if not mine:
                known = ", ".join(sorted({p["project_code"] for p in permits}))
                raise ValueError(f"no project {project} in the world's building tables; projects: {known}")
            out = []
            for permit in mine:
                shown = {
                    row["unit_code"]: row["inner_area"] == UNMEASURED for row in tables.rows(conn, permit, now) or []
                }
                out += [
                    (permit, row, shown[row["unit_code"]]) for row in tables.rows(conn, permit, now, messy=False) or []
                ]
            return out
    finally:
        store.close()


def write_developer_file(
    world_path: str | Path, out: Path, *, at: datetime, project_code: str | None = None
) -> list[dict[str, Any]]:
    """Write the project's 一房一价 table to `out` with the planted differences; return them (also
    written to `<out>.planted.json`): kind as the import names it, permit, unit code, and why."""
    table = sorted(project_rows(Path(world_path), at, project_code), key=lambda item: (item[0], item[1]["unit_code"]))
    rows = [(permit, row) for permit, row, _ in table]
    homes = [(permit, row) for permit, row in rows if row["usage"] == RESIDENTIAL]
    for_sale = [(permit, row) for permit, row in homes if row["sale_state"] == AVAILABLE]
    parking = [(permit, row) for permit, row in rows if row["usage"] == PARKING]
    if not for_sale or len(homes) < 2 or not parking:
        raise ValueError("the project needs a home for sale, another home and a parking space to plant differences")
    held_back, repriced, space = for_sale[0], next(item for item in homes if item != for_sale[0]), parking[-1]
    planted = [
        _planted("record_unit_price", repriced, "repriced"),
        _planted("record_total_price", repriced, "repriced"),
        _planted("missing_in_file", held_back, "held_back"),
        _planted("missing_in_file", space, "parking_missing"),
    ] + [
        _planted("missing_on_network", (permit, row), "network_unsurveyed")
        for permit, row, unsurveyed in table
        if unsurveyed and (permit, row) not in (held_back, space)
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for permit, row in rows:
            if (permit, row) in (held_back, space):
                continue
            unit_price, total = Decimal(row["record_unit_price"]), Decimal(row["record_total_price"])
            if (permit, row) == repriced:
                total = (total * REPRICE).quantize(CENT, ROUND_HALF_UP)
                unit_price = (total / Decimal(row["building_area"])).quantize(CENT, ROUND_HALF_UP)
            writer.writerow(
                (permit, row["building"], row["unit"], row["room"], row["usage"], row["building_area"],
                 row["inner_area"], f"{unit_price:.2f}", f"{total:.2f}")
            )  # fmt: skip
    Path(f"{out}.planted.json").write_text(json.dumps(planted, ensure_ascii=False, indent=1), encoding="utf-8")
    return planted


def _planted(kind: str, item: tuple[str, dict], why: str) -> dict[str, Any]:
    permit, row = item
    return {"kind": kind, "permit_no": permit, "unit_code": row["unit_code"], "why": why}
