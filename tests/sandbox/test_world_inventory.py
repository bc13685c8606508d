"""A unit inventory CSV drives the world instead of generated units; a bad line is named."""

from __future__ import annotations

import csv
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from sandbox.world import InventoryError, ensure_world, generate_world, open_world
from sandbox.world.__main__ import main as world_command

FIXTURE = Path(__file__).with_name("test_world_inventory.csv")
HEADER = "项目,楼栋,单元,楼层,房号,单价,建筑面积,套内面积"


def fixture_rows():
    with FIXTURE.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return generate_world(tmp_path_factory.mktemp("inventory") / "world.sqlite", units=None, seed=7,
                          inventory_csv=FIXTURE)  # fmt: skip


def write_csv(tmp_path, *lines, bom=False):
    path = tmp_path / "units.csv"
    path.write_text(("\ufeff" if bom else "") + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_inventory_rows_become_the_worlds_units(world):
    db = sqlite3.connect(world.path)
    units = db.execute(
        "select project_name, building, unit, floor, room, unit_price, building_area, inner_area, house_id"
        " from units order by rowid"
    ).fetchall()
    expected = [
        (r["项目"], r["楼栋"], r["单元"], int(r["楼层"]), r["房号"], f"{Decimal(r['单价']):.2f}",
         r["建筑面积"], r["套内面积"])
        for r in fixture_rows()
    ]  # fmt: skip
    assert [unit[:8] for unit in units] == expected
    assert units[0][8] == "P01-01-1-201" and units[-1][8] == "P02-03-2-1702"
    assert world.units == len(expected)


def test_contracts_are_simulated_over_the_inventory_units(world):
    db = sqlite3.connect(world.path)
    houses = {row[0] for row in db.execute("select house_id from units")}
    contract_houses = {row[0] for row in db.execute("select house_id from contracts")}
    assert contract_houses and contract_houses <= houses
    prices = dict(db.execute("select house_id, unit_price from units"))
    with open_world(world.path) as store:
        for doc in store.iter_docs():
            listed = Decimal(prices[doc["house"]["house_id"]])
            assert listed * Decimal("0.98") - 1 <= Decimal(doc["price"]["unit_price"]) <= listed
        assert store.meta["inventory_sha256"]


def test_the_inventory_world_is_deterministic(world, tmp_path):
    from sandbox.world import world_digest

    again = generate_world(tmp_path / "again.sqlite", units=None, seed=7, inventory_csv=FIXTURE)
    assert world_digest(again.path) == world_digest(world.path)


def test_units_limits_the_inventory_to_its_first_rows(tmp_path):
    info = generate_world(tmp_path / "world.sqlite", units=5, seed=7, inventory_csv=FIXTURE)
    rooms = [row[0] for row in sqlite3.connect(info.path).execute("select room from units order by rowid")]
    assert rooms == [row["房号"] for row in fixture_rows()[:5]]


def test_project_column_is_optional_and_plain_numbers_get_their_suffix(tmp_path):
    path = write_csv(tmp_path, "楼栋,单元,楼层,房号,单价,建筑面积,套内面积", "5,1,9,901,50000,89.00,70.00")
    info = generate_world(tmp_path / "world.sqlite", units=None, seed=1, inventory_csv=path)
    row = sqlite3.connect(info.path).execute("select house_id, building, unit, list_total from units").fetchone()
    assert row == ("P01-05-1-901", "5栋", "1单元", "4450000.00")


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("南山云著,1栋,1单元,2,202,六万,89.12,70.01", "line 3: 单价"),
        ("南山云著,1栋,1单元,二,202,60000,89.12,70.01", "line 3: 楼层"),
        ("南山云著,1栋,1单元,2,202,60000,89.123,70.01", "line 3: 建筑面积"),
        ("南山云著,1栋,1单元,2,202,60000.50,89.12,70.01", "line 3: 单价 must be whole yuan"),
        ("南山云著,1栋,1单元,2,202,60000,89.12,90.00", "line 3: 套内面积"),
        ("南山云著,1栋,1单元,2,,60000,89.12,70.01", "line 3: column 房号 is empty"),
        ("南山云著,1栋,1单元,2,202,60000,89.12,70.01,extra", "line 3: expected 8 fields"),
        ("南山云著,1栋,1单元,2,201,60000,89.12,70.01", "line 3: house P01-01-1-201 repeats line 2"),
    ],
)
def test_a_malformed_row_is_refused_naming_its_line(tmp_path, bad_line, message):
    path = write_csv(tmp_path, HEADER, "南山云著,1栋,1单元,2,201,60000,89.12,70.01", bad_line, bom=True)
    with pytest.raises(InventoryError, match=message):
        generate_world(tmp_path / "world.sqlite", units=None, seed=1, inventory_csv=path)
    assert not (tmp_path / "world.sqlite").exists()


def test_a_missing_column_is_named(tmp_path):
    path = write_csv(tmp_path, "楼栋,单元,楼层,房号,单价,建筑面积", "1栋,1单元,2,201,60000,89.12")
    with pytest.raises(InventoryError, match="line 1: header lacks 套内面积"):
        generate_world(tmp_path / "world.sqlite", units=None, seed=1, inventory_csv=path)


def test_a_file_that_is_not_utf8_is_refused_with_a_hint(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes((HEADER + "\n" + "南山云著,1栋,1单元,2,201,60000,89.12,70.01\n").encode("gbk"))
    with pytest.raises(InventoryError, match="not UTF-8"):
        generate_world(tmp_path / "world.sqlite", units=None, seed=1, inventory_csv=path)


def test_an_empty_inventory_is_refused(tmp_path):
    with pytest.raises(InventoryError, match="no units"):
        generate_world(tmp_path / "w.sqlite", units=None, seed=1, inventory_csv=write_csv(tmp_path, HEADER))


def test_command_reports_a_bad_inventory_line(tmp_path, capsys):
    path = write_csv(tmp_path, HEADER, "南山云著,1栋,1单元,2,201,abc,89.12,70.01")
    code = world_command(["generate", "--seed", "1", "--out", str(tmp_path / "w.sqlite"), "--inventory", str(path)])
    assert code == 2
    assert "line 2: 单价" in capsys.readouterr().err


def test_ensure_world_keys_the_cache_on_the_inventory_contents(tmp_path):
    cache = tmp_path / "cache"
    first = ensure_world(cache, units=None, seed=7, inventory_csv=FIXTURE)
    assert ensure_world(cache, units=None, seed=7, inventory_csv=FIXTURE) == first
    limited = ensure_world(cache, units=1000, seed=7, inventory_csv=FIXTURE)  # more than the file holds
    assert ensure_world(cache, units=1000, seed=7, inventory_csv=FIXTURE) == limited
    assert (
        limited.stat().st_mtime_ns == ensure_world(cache, units=1000, seed=7, inventory_csv=FIXTURE).stat().st_mtime_ns
    )
    changed = write_csv(tmp_path, HEADER, "南山云著,1栋,1单元,2,201,60000,89.12,70.01")
    assert ensure_world(cache, units=None, seed=7, inventory_csv=changed) != first
