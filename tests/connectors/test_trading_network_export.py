"""The contract-list export reader, on workbooks built here with openpyxl."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from connectors.trading_network import (
    ContractSummary,
    ExportFormatError,
    QuarantineItem,
    read_contract_export,
)
from connectors.trading_network.export import COLUMNS

HEADER = list(COLUMNS)


def row(contract_no: str = "YS2026P01000123", **cells: object) -> list[object]:
    values = {
        "合同编号": contract_no,
        "合同类型": "预售",
        "合同状态": "已备案",
        "项目名称": "滨江悦府",
        "房屋编号": "P01-03-2-1502",
        "楼栋": "3栋",
        "单元": "2单元",
        "楼层": 15,
        "房号": "1502",
        "建筑面积": "89.12",
        "套内面积": "70.01",
        "成交单价": "45000.00",
        "成交总价": "4010400.00",
        "付款方式": "商贷",
        "签约时间": "2026-03-12 14:03:00",
        "备案时间": "2026-03-20 09:30:00",
        "买受人": "张三、李四",
        "证件号码": "990***********1234、990***********5678",
        "更新时间": "2026-03-20 09:30:00",
    }
    values.update(cells)
    return [values[label] for label in HEADER]


def build(path: Path, rows: list[list[object]], *, header: list[object] | None = None, titles: int = 2) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = "合同列表"
    if titles >= 1:
        sheet.append(["合同备案信息导出"])
    if titles >= 2:
        sheet.append(["导出时间：2026-03-31 10:15:00"])
    sheet.append(header if header is not None else HEADER)
    for values in rows:
        sheet.append(values)
    book.save(path)
    return path


def test_export_rows_become_contract_summaries(tmp_path):
    path = build(tmp_path / "export.xlsx", [row("YS1"), row("YS2", 付款方式=None, 备案时间=None)])

    records = list(read_contract_export(path))

    assert all(isinstance(r, ContractSummary) for r in records)
    first, second = records
    assert first.contract_no == "YS1" and first.floor == 15 and first.room == "1502"
    assert (first.building_area, first.total_price) == (Decimal("89.12"), Decimal("4010400.00"))
    assert first.signed_at == datetime(2026, 3, 12, 6, 3, tzinfo=UTC)  # Beijing time → UTC
    assert first.updated_at == datetime(2026, 3, 20, 1, 30, tzinfo=UTC)
    assert first.buyer_names == ("张三", "李四")
    assert first.buyer_ids_masked == ("990***********1234", "990***********5678")
    assert first.payload["合同编号"] == "YS1"
    assert second.payment_method is None and second.filed_at is None


def test_header_is_found_by_its_labels_despite_spaces_full_width_spaces_order_and_title_lines(tmp_path):
    labels = list(reversed(HEADER))
    messy = [f" {label}\u3000" if n % 2 else f"{label[0]} {label[1:]}" for n, label in enumerate(labels)]
    messy[labels.index("建筑面积")] = "建筑面积（㎡）"
    values = list(reversed(row("YS1")))
    path = build(tmp_path / "export.xlsx", [values], header=messy, titles=1)

    (record,) = read_contract_export(path)

    assert isinstance(record, ContractSummary)
    assert record.contract_no == "YS1" and record.building_area == Decimal("89.12")


def test_empty_rows_between_and_after_the_data_are_skipped(tmp_path):
    path = build(tmp_path / "export.xlsx", [row("YS1"), [None] * 19, ["", "  "], row("YS2"), [None], [None]])

    assert [r.contract_no for r in read_contract_export(path)] == ["YS1", "YS2"]


def test_cells_typed_by_excel_as_numbers_and_dates_are_read(tmp_path):
    values = row("YS1", 建筑面积=89.12, 成交总价=4010400, 房号=1502, 更新时间=datetime(2026, 3, 20, 9, 30))
    path = build(tmp_path / "export.xlsx", [values])

    (record,) = read_contract_export(path)

    assert record.building_area == Decimal("89.12") and record.total_price == Decimal("4010400")
    assert record.room == "1502"
    assert record.updated_at == datetime(2026, 3, 20, 1, 30, tzinfo=UTC)


def test_bad_rows_are_quarantined_with_their_line_number_and_good_ones_come_through(tmp_path):
    rows = [row("YS1"), row("YS2", 成交总价="12万5千", 合同状态="作废"), row(None), row("YS4")]
    path = build(tmp_path / "export.xlsx", rows)

    records = list(read_contract_export(path))

    assert [type(r).__name__ for r in records] == [
        "ContractSummary",
        "QuarantineItem",
        "QuarantineItem",
        "ContractSummary",
    ]
    bad, keyless = records[1], records[2]
    assert isinstance(bad, QuarantineItem) and bad.entity == "contract_summary" and bad.key == "YS2"
    assert bad.reason.startswith("line 5 (contract YS2): ")
    assert "成交总价: expected a decimal string like '4010400.00', got '12万5千'" in bad.reason
    assert "合同状态: expected one of" in bad.reason
    assert bad.payload["成交总价"] == "12万5千"
    assert keyless.key is None and keyless.reason.startswith("line 6: 合同编号: expected a value, got an empty cell")


def test_an_unmasked_id_number_is_masked_in_the_record(tmp_path):
    path = build(tmp_path / "export.xlsx", [row("YS1", 买受人="张三", 证件号码="990101198803071230")])

    (record,) = read_contract_export(path)

    assert record.buyer_ids_masked == ("990***********1230",)


def test_a_file_without_the_header_raises_an_error_naming_the_file(tmp_path):
    path = build(tmp_path / "not-an-export.xlsx", [row("YS1")], header=["编号", "名称"])

    with pytest.raises(ExportFormatError) as caught:
        read_contract_export(path)

    assert str(path) in str(caught.value)
    assert "expected a header row starting with 合同编号" in str(caught.value)


def test_a_header_that_lacks_columns_names_the_missing_ones(tmp_path):
    path = build(tmp_path / "old-layout.xlsx", [], header=[label for label in HEADER if label != "套内面积"])

    with pytest.raises(ExportFormatError, match="lacks 套内面积"):
        read_contract_export(path)


def test_a_file_that_is_not_a_workbook_raises_an_error_naming_the_file(tmp_path):
    path = tmp_path / "export.xlsx"
    path.write_bytes(b"<html>503 Service Unavailable</html>")

    with pytest.raises(ExportFormatError) as caught:
        read_contract_export(path)

    assert str(path) in str(caught.value) and "download the export again" in str(caught.value)
