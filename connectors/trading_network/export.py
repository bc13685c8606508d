"""The contract-list export (`.xlsx`, the fallback when the API is down) → `ContractSummary` records.

Layout (docs/trading_network_api.md): one sheet `合同列表`, title lines, then a header row, then one
row per contract. The header row is found by its labels (extra and full-width spaces, and a unit in
brackets such as `建筑面积（㎡）`, are tolerated); columns may come in any order. Rows stream through
openpyxl's read-only mode, so a large export is read in constant memory. Blank rows are skipped; a bad
row becomes a `QuarantineItem` whose reason gives its line number.
"""

from __future__ import annotations

import logging
import os
import re
import zipfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from connectors.identity import mask_id
from connectors.trading_network.errors import ExportFormatError
from connectors.trading_network.parse import BEIJING, BadValue, describe, to_choice, to_decimal
from connectors.trading_network.records import (
    CONTRACT_STATES,
    CONTRACT_TYPES,
    PAYMENT_METHODS,
    SOURCE,
    ContractSummary,
    QuarantineItem,
)

log = logging.getLogger(__name__)

ENTITY = "contract_summary"
SHEET_NAME = "合同列表"
# how far down the header row may be (two title lines in the documented layout; slack for more)
HEADER_SEARCH_ROWS = 30
# label in the export -> field of ContractSummary
COLUMNS = {
    "合同编号": "contract_no",
    "合同类型": "contract_type",
    "合同状态": "state",
    "项目名称": "project_name",
    "房屋编号": "house_id",
    "楼栋": "building",
    "单元": "unit",
    "楼层": "floor",
    "房号": "room",
    "建筑面积": "building_area",
    "套内面积": "inner_area",
    "成交单价": "unit_price",
    "成交总价": "total_price",
    "付款方式": "payment_method",
    "签约时间": "signed_at",
    "备案时间": "filed_at",
    "买受人": "buyer_names",
    "证件号码": "buyer_ids_masked",
    "更新时间": "updated_at",
}
KEY_LABEL = "合同编号"
LIST_SEPARATOR = "、"
_LIST_SPLIT = re.compile(r"[、,，;；]")
_UNIT_SUFFIX = re.compile(r"[（(][^（()）]*[）)]$")
_EXPORT_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


def normalize_label(value: Any) -> str:
    """`' 建筑面积（㎡）'` → `'建筑面积'`: no whitespace of any width, no unit in brackets."""
    if value is None:
        return ""
    text = re.sub(r"\s+", "", str(value))  # \s covers the full-width space U+3000
    return _UNIT_SUFFIX.sub("", text)


def read_contract_export(path: str | os.PathLike[str]) -> Iterator[ContractSummary | QuarantineItem]:
    """Open the export and find its header now (raising `ExportFormatError` naming the file when it is
    not the contract-list layout); return an iterator over its rows, which closes the file at the end."""
    source = Path(path)
    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ExportFormatError(
            f"{source}: expected an .xlsx workbook (the trading network's contract-list export), "
            f"could not open it ({type(exc).__name__}); download the export again"
        ) from exc
    try:
        sheet = _contract_sheet(workbook, source)
        sheet.reset_dimensions()  # exporters often write a wrong <dimension>; read every row there is
        rows = enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)
        columns, header_line = _find_header(rows, source)
    except BaseException:
        workbook.close()
        raise
    log.info("reading the contract export %s (header on line %d)", source.name, header_line)
    return _records(workbook, rows, columns)


def _contract_sheet(workbook: Any, source: Path) -> Any:
    if SHEET_NAME in workbook.sheetnames:
        return workbook[SHEET_NAME]
    if len(workbook.sheetnames) == 1:
        return workbook.worksheets[0]
    raise ExportFormatError(
        f"{source}: expected a sheet named {SHEET_NAME}, got sheets {', '.join(workbook.sheetnames)}; "
        "is this the contract-list export of the trading network?"
    )


def _find_header(rows: Iterator[tuple[int, tuple[Any, ...]]], source: Path) -> tuple[dict[str, int], int]:
    """The column index of each label, and the header's line; consumes `rows` up to the header."""
    for line, row in rows:
        labels = [normalize_label(value) for value in row]
        if KEY_LABEL in labels:
            columns = {label: index for index, label in enumerate(labels) if label in COLUMNS}
            missing = [label for label in COLUMNS if label not in columns]
            if missing:
                raise ExportFormatError(
                    f"{source}: expected the header row (line {line}) to name every column of the "
                    f"contract-list export, it lacks {', '.join(missing)}; has the export layout changed?"
                )
            return columns, line
        if line >= HEADER_SEARCH_ROWS:
            break
    raise ExportFormatError(
        f"{source}: expected a header row starting with {KEY_LABEL}, {', '.join(list(COLUMNS)[1:4])} … "
        f"within the first {HEADER_SEARCH_ROWS} lines of the sheet, found none; is this the "
        "contract-list export of the trading network?"
    )


def _records(
    workbook: Any, rows: Iterable[tuple[int, tuple[Any, ...]]], columns: dict[str, int]
) -> Iterator[ContractSummary | QuarantineItem]:
    count = bad = 0
    try:
        for line, row in rows:
            if all(_blank(value) for value in row):
                continue
            record = parse_export_row(row, columns, line)
            count += 1
            bad += isinstance(record, QuarantineItem)
            yield record
    finally:
        workbook.close()
    log.info("read %d rows of the contract export, %d quarantined", count, bad)


def parse_export_row(row: tuple[Any, ...], columns: dict[str, int], line: int) -> ContractSummary | QuarantineItem:
    """One export row → `ContractSummary`, or `QuarantineItem` naming the line and each bad cell."""
    cells = {label: (row[index] if index < len(row) else None) for label, index in columns.items()}
    payload = {label: _jsonable(value) for label, value in cells.items()}
    problems: list[str] = []

    def cell(label: str, convert: Any, *, required: bool = True, **options: Any) -> Any:
        value = cells[label]
        if _blank(value):
            if required:
                problems.append(f"{label}: expected a value, got an empty cell")
            return None
        try:
            return convert(value, **options)
        except BadValue as exc:
            problems.append(f"{label}: {exc}")
            return None

    values = {
        "contract_no": cell("合同编号", _text),
        "contract_type": cell("合同类型", _choice, allowed=CONTRACT_TYPES),
        "state": cell("合同状态", _choice, allowed=CONTRACT_STATES),
        "project_name": cell("项目名称", _text),
        "house_id": cell("房屋编号", _text),
        "building": cell("楼栋", _text),
        "unit": cell("单元", _text),
        "floor": cell("楼层", _whole),
        "room": cell("房号", _text),
        "building_area": cell("建筑面积", _decimal),
        "inner_area": cell("套内面积", _decimal, required=False),
        "unit_price": cell("成交单价", _decimal),
        "total_price": cell("成交总价", _decimal),
        "payment_method": cell("付款方式", _choice, required=False, allowed=PAYMENT_METHODS),
        "signed_at": cell("签约时间", _beijing_time, required=False),
        "filed_at": cell("备案时间", _beijing_time, required=False),
        "buyer_names": cell("买受人", _names),
        "buyer_ids_masked": _masked_ids(cells["证件号码"]),
        "updated_at": cell("更新时间", _beijing_time),
    }
    names, ids = values["buyer_names"], values["buyer_ids_masked"]
    if names is not None and ids and len(ids) != len(names):
        problems.append(f"证件号码: expected one ID number per buyer ({len(names)}), got {len(ids)}")
    if problems:
        key = values["contract_no"]
        return QuarantineItem(
            source=SOURCE,
            entity=ENTITY,
            key=key,
            reason=f"line {line}" + (f" (contract {key})" if key else "") + ": " + "; ".join(problems),
            payload=payload,
            updated_at=values["updated_at"],
        )
    return ContractSummary(**values, payload=payload)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str | int) and not isinstance(value, bool):
        return str(value).strip()
    raise BadValue(f"expected text, got {describe(value)}")


def _choice(value: Any, allowed: tuple[str, ...]) -> str:
    return to_choice(normalize_label(value) if isinstance(value, str) else value, allowed)


def _whole(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    raise BadValue(f"expected a whole number, got {describe(value)}")


def _decimal(value: Any) -> Decimal:
    if isinstance(value, float):  # a cell typed as number: its shortest repr is what Excel shows
        value = repr(value)
    if isinstance(value, str):
        value = value.replace(",", "").strip()
    return to_decimal(value)


def _beijing_time(value: Any) -> datetime:
    """`2026-03-12 14:03:00` (Beijing time, as text or as an Excel date cell) → aware UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        moment = _parse_export_time(value.strip())
    else:
        raise BadValue(f"expected a time like '2026-03-12 14:03:00', got {describe(value)}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BEIJING)
    return moment.astimezone(UTC)


def _parse_export_time(text: str) -> datetime:
    for pattern in _EXPORT_TIME_FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise BadValue(f"expected a time like '2026-03-12 14:03:00', got {describe(text)}")


def _names(value: Any) -> tuple[str, ...]:
    names = tuple(part.strip() for part in _LIST_SPLIT.split(_text(value)) if part.strip())
    if not names:
        raise BadValue(f"expected buyer names joined by {LIST_SEPARATOR}, got {describe(value)}")
    return names


def _masked_ids(value: Any) -> tuple[str, ...]:
    """Masked ID numbers; one that arrives unmasked is masked here (the payload keeps what came)."""
    if _blank(value):
        return ()
    parts = (re.sub(r"\s+", "", part) for part in _LIST_SPLIT.split(str(value)))
    return tuple(part if "*" in part else mask_id(part) for part in parts if part)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
