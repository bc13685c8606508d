"""`estatehub import-inventory`: the developer's 一房一价 table, messy as exported, checked against the
network's building tables in the warehouse (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import select

from connectors.trading_network import InventoryUnit
from estatehub.cli import main
from estatehub.inventory import developer_file
from estatehub.inventory.developer_file import InventoryFileError, import_inventory_file
from estatehub.inventory.tables import inventory_diff, inventory_file_unit, inventory_import
from estatehub.settings import SyncSettings
from estatehub.trading_network.inventory import sync_unit_inventory
from estatehub.warehouse.tables import etl_quarantine
from tests.conftest import TEST_PII_KEY

PERMIT = "深房许字（2026）南山001号"
AT = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
SETTINGS = SyncSettings(quarantine_threshold=0.5, quarantine_min_records=20)


def network_unit(room: str, total: str, *, usage: str = "住宅", area: str = "89.12", building="1栋", unit="1单元"):
    return InventoryUnit(
        permit_no=PERMIT,
        unit_code=f"{building}{unit}{room}",
        house_id=None,
        realty_unit_no=None,
        building=building,
        unit=unit or None,
        floor=15,
        room=room,
        usage=usage,
        building_area=Decimal(area),
        inner_area=Decimal("70.01"),
        record_unit_price=Decimal("40000.00"),
        record_total_price=Decimal(total),
        sale_state="可售",
        restriction=None,
        updated_at=AT,
        payload={"room": room},
        project_code="P01",
        project_name="滨江悦府",
    )


class Network:
    def __init__(self, units):
        self.units = units

    def iter_inventory(self, updated_since):
        return iter(self.units)


@pytest.fixture
def synced(warehouse):
    units = [
        network_unit("1501", "3564800.00"),
        network_unit("1502", "3564800.00"),
        network_unit("1601", "3564800.00", usage="商业"),
        network_unit("B1-001", "180000.00", usage="车位", area="12.50", building="地下室", unit=""),
    ]
    sync_unit_inventory(Network(units), warehouse, settings=SETTINGS)
    return warehouse


ROWS = [
    ["滨江悦府一房一价表（2026年3月）"],  # a title line before the header
    ["预售许可证号", "楼栋", "单元", "房号", "用途", "建筑面积(㎡)", "套内面积（㎡）", "备案单价", "备案总价(元)"],
    [PERMIT, "1", "1", "1501", "住宅", "89.12㎡", "70.01", "40,000.00", "3,564,800.00"],  # agrees, untidily
    [PERMIT, "1栋", "1单元", "1502", "住宅", "89.12", "70.01", "40000", "3500000.00"],  # price differs
    [PERMIT, "1栋", "1单元", "1601", "住宅", "89.12", "70.01", "40000", "3564800"],  # use differs
    [PERMIT, "1栋", "1单元", "1701", "住宅", "89.12", "待测绘", "40000", "3564800"],  # quarantined
    [PERMIT, "1栋", "1单元", "1801", "住宅", "90.00", "70.01", "40000", "3600000"],  # not on the network
    ["", "", "", "", "", "", "", "", ""],  # an empty line
    [PERMIT, "1", "1", "1501", "住宅", "89.12", "70.01", "40000", "3564800"],  # repeats line 3
    ["合计", "", "", "", "", "445.60", "", "", "17,858,400.00"],  # a total line: quarantined
]

EXPECTED = [
    (PERMIT, "1栋1单元1502", "record_total_price", "3500000.00", "3564800.00"),
    (PERMIT, "1栋1单元1601", "usage", "住宅", "商业"),
    (PERMIT, "1栋1单元1801", "missing_on_network", "3600000", None),
    (PERMIT, "地下室B1-001", "missing_in_file", None, "180000.00"),
]


def write_csv(path, rows, encoding="gbk"):
    path.write_bytes("\r\n".join(",".join(f'"{c}"' if "," in c else c for c in row) for row in rows).encode(encoding))
    return path


def write_xlsx(path, rows):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def differences(result):
    return [(d.permit_no, d.unit_code, d.kind, d.file_value, d.network_value) for d in result.differences]


@pytest.mark.parametrize("writer", [write_csv, write_xlsx], ids=["csv-gbk", "xlsx"])
def test_import_lists_the_differences_and_quarantines_bad_rows(synced, tmp_path, writer):
    path = writer(tmp_path / f"一房一价.{'csv' if writer is write_csv else 'xlsx'}", ROWS)
    result = import_inventory_file(synced, path)
    assert (result.rows, result.loaded, result.network_units) == (7, 4, 4)
    assert differences(result) == EXPECTED
    assert [line for line, _ in result.quarantined] == [6, 9, 10]
    reasons = dict(result.quarantined)
    assert "套内面积: expected an area in m²" in reasons[6] and "'待测绘'" in reasons[6]
    assert reasons[9] == "line 9: unit 1栋1单元1501 repeats line 3"
    assert "房号: expected a value, got an empty cell" in reasons[10]

    with synced.engine.connect() as conn:
        stored = conn.execute(
            select(inventory_diff.c.unit_code, inventory_diff.c.kind).order_by(inventory_diff.c.unit_code)
        ).all()
        header = conn.execute(select(inventory_import)).one()
        units = conn.execute(
            select(inventory_file_unit.c.unit_code, inventory_file_unit.c.record_total_price_fen)
        ).all()
        quarantined = conn.execute(
            select(etl_quarantine.c.source, etl_quarantine.c.record_key).order_by(etl_quarantine.c.record_key)
        ).all()
    assert sorted(stored) == sorted((d[1], d[2]) for d in EXPECTED)
    assert (header.row_count, header.loaded_count, header.quarantined_count, header.diff_count) == (7, 4, 3, 4)
    assert header.file_name == path.name
    assert dict(units)["1栋1单元1501"] == 356_480_000
    assert [tuple(q) for q in quarantined] == [
        ("developer_inventory", f"{path.name}:10"),
        ("developer_inventory", f"{path.name}:6"),
        ("developer_inventory", f"{path.name}:9"),
    ]


@pytest.fixture
def warehouse_connection(monkeypatch, warehouse_url):
    """The `warehouse` Connection with the tests' PII key (the key the `warehouse` fixture built with)."""
    extra = {"pii_key": TEST_PII_KEY.decode()}
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": "unused", "extra": extra}))
    return warehouse_url


def test_command_prints_the_differences(synced, tmp_path, capsys, warehouse_connection):
    warehouse_url = warehouse_connection
    path = write_csv(tmp_path / "一房一价.csv", ROWS, encoding="utf-8")
    assert main(["import-inventory", str(path), "--warehouse-url", warehouse_url]) == 0
    out = capsys.readouterr().out
    assert "7 rows, 4 units read, 3 quarantined, 4 differences" in out
    assert f"{PERMIT} 1栋1单元1502: 备案总价 differs (file 3500000.00, network 3564800.00)" in out
    assert f"{PERMIT} 地下室B1-001: not in the file (file -, network 180000.00)" in out
    assert "quarantined line 6:" in out


def test_a_file_without_the_header_is_refused_with_what_it_needs(synced, tmp_path, capsys, warehouse_connection):
    warehouse_url = warehouse_connection
    path = write_csv(tmp_path / "别的表.csv", [["姓名", "电话"], ["张三", "13800138000"]])
    with pytest.raises(SystemExit) as exit_info:
        main(["import-inventory", str(path), "--warehouse-url", warehouse_url])
    assert exit_info.value.code == 2
    assert "expected a header row within the first 20 rows naming at least 预售许可证号, 楼栋, 房号, 备案总价" in (
        capsys.readouterr().err
    )


def test_too_big_a_file_and_a_workbook_that_expands_too_far_are_refused(synced, tmp_path, monkeypatch):
    path = write_csv(tmp_path / "一房一价.csv", ROWS)
    monkeypatch.setattr(developer_file, "MAX_FILE_BYTES", 100)
    with pytest.raises(InventoryFileError, match="expected an inventory file of at most 0 MiB"):
        import_inventory_file(synced, path)
    monkeypatch.setattr(developer_file, "MAX_FILE_BYTES", 20 * 2**20)
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (2 * 2**20))
    monkeypatch.setattr(developer_file, "MAX_EXPANDED_BYTES", 2**20)
    with pytest.raises(InventoryFileError, match="expected a workbook that expands to at most 1 MiB, got 2 MiB"):
        import_inventory_file(synced, bomb)
    with synced.engine.connect() as conn:
        assert conn.execute(select(inventory_import)).all() == []


def test_a_phone_in_a_bad_cell_is_neither_printed_nor_stored_in_full(synced, tmp_path):
    rows = [ROWS[1], [PERMIT, "1栋", "1单元", "1501", "住宅", "13800138000", "70.01", "40000", "3564800"]]
    result = import_inventory_file(synced, write_csv(tmp_path / "一房一价.csv", rows))
    [(line_no, reason)] = result.quarantined
    assert line_no == 2 and "建筑面积: expected the area of one unit (at most 100000 m²)" in reason
    assert "138****8000" in reason
    assert "13800138000" not in reason
    with synced.engine.connect() as conn:
        stored = conn.execute(select(etl_quarantine.c.reason, etl_quarantine.c.payload)).one()
    assert "13800138000" not in stored.reason and "13800138000" not in json.dumps(stored.payload)
