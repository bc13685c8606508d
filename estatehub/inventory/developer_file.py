"""The developer's own unit inventory (一房一价 table, CSV or Excel) imported and checked against the
trading network's building tables (`core_unit_inventory`).

    result = import_inventory_file(warehouse, Path("一房一价-滨江悦府.xlsx"))
    result.differences  # [Difference(permit_no, unit_code, kind, file_value, network_value), ...]

The file is read by the one tabular reader (`connectors.banks.statements.tabular.open_rows`: CSV in
UTF-8 or GBK, `.xls`, `.xlsx`, told apart by their first bytes), after two caps: its size on disk and,
for a zip-based workbook, the size its members expand to. The header row is found among the first
rows by its labels (预售许可证号, 楼栋, 单元, 房号, 用途, 建筑面积, 套内面积, 备案单价, 备案总价, with
their usual variants); cells are read with the connector's functions for the network's own untidy
values (`89.12㎡`, `4,010,400.00`). A unit's code is built as the network writes it: 楼栋 + 单元 + 房号
(`3栋2单元1502`; a bare `3` is `3栋`, a bare `2` is `2单元`).

A row that cannot be read (a missing permit or room, an area `待测绘`, a total line, a unit repeated)
is quarantined with its line and reason (`etl_quarantine`, source `developer_inventory`), never
dropped. The import, its rows, its quarantine and its differences commit in one transaction.

Differences, for the permits the file names: a unit in the file and not on the network
(`missing_on_network`), on the network and not in the file (`missing_in_file`), and for a unit on
both a `record_total_price`, `record_unit_price`, `building_area`, `inner_area` or `usage` that
differs (compared only where both sides have a value).
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from connectors.banks.errors import UnreadableFile
from connectors.banks.statements.tabular import ZIP_MAGIC, open_rows
from connectors.trading_network.inventory import clean_text, to_amount, to_area
from connectors.trading_network.parse import BadValue
from estatehub.errors import UsageError
from estatehub.inventory.tables import inventory_diff, inventory_file_unit, inventory_import
from estatehub.trading_network.tables import core_unit_inventory
from estatehub.warehouse.engine import Warehouse
from estatehub.warehouse.etl import Received, bulk_insert, quarantine, quarantine_rows, utcnow
from estatehub.warehouse.redact import redact_text
from estatehub.warehouse.types import from_fen, to_fen

log = logging.getLogger(__name__)

SOURCE = "developer_inventory"
ENTITY = "inventory_row"
MAX_FILE_BYTES = 20 * 1024 * 1024  # a 一房一价 table of 100,000 units is a few MB
MAX_EXPANDED_BYTES = 200 * 1024 * 1024  # what a workbook's members may expand to
MAX_ROWS = 200_000
HEADER_SEARCH_ROWS = 20

MISSING_ON_NETWORK = "missing_on_network"
MISSING_IN_FILE = "missing_in_file"
COMPARED = ("usage", "building_area", "inner_area", "record_unit_price", "record_total_price")

# column → the labels a developer's export uses for it (compared after `_label`)
LABELS: dict[str, tuple[str, ...]] = {
    "permit_no": ("预售许可证号", "预售证号", "许可证号", "预售许可证", "预售证"),
    "building": ("楼栋", "栋号", "楼号", "楼栋号", "栋"),
    "unit": ("单元", "单元号"),
    "room": ("房号", "房间号", "室号"),
    "usage": ("用途", "房屋用途", "产品类型", "业态"),
    "building_area": ("建筑面积", "预测建筑面积", "实测建筑面积"),
    "inner_area": ("套内面积", "套内建筑面积", "预测套内面积"),
    "record_unit_price": ("备案单价", "单价", "建筑面积单价", "申报单价"),
    "record_total_price": ("备案总价", "总价", "申报总价", "房屋总价"),
}
REQUIRED = ("permit_no", "building", "room", "record_total_price")


class InventoryFileError(UsageError):
    """A file that cannot be imported at all: too big, unreadable, or without the header it needs."""


@dataclass(frozen=True, slots=True)
class Difference:
    permit_no: str
    unit_code: str
    kind: str
    file_value: str | None
    network_value: str | None


@dataclass(slots=True)
class ImportResult:
    import_id: str
    file_name: str
    rows: int = 0
    loaded: int = 0
    quarantined: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    differences: list[Difference] = field(default_factory=list)
    network_units: int = 0  # units of the file's permits in the warehouse's building tables


def _label(value: Any) -> str:
    """A header cell reduced for matching: NFKC, no spaces, no bracketed unit (`建筑面积(㎡)` → `建筑面积`)."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    text = re.sub(r"[(\[（【].*?[)\]）】]", "", text)
    return re.sub(r"\s+", "", text)


def unit_code(building: str, unit: str | None, room: str) -> str:
    """The network's code of a unit: 楼栋 + 单元 + 房号 (`3栋2单元1502`), bare numbers completed."""
    building, room = clean_text(building).replace(" ", ""), clean_text(room).replace(" ", "")
    unit = clean_text(unit or "").replace(" ", "")
    if building.isdigit():
        building += "栋"
    if unit.isdigit():
        unit += "单元"
    return f"{building}{unit}{room}"


def check_size(path: Path) -> None:
    """`InventoryFileError` for a file above `MAX_FILE_BYTES`, or a workbook whose members expand above
    `MAX_EXPANDED_BYTES` (read from the zip directory, before anything is decompressed)."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InventoryFileError(
            f"{path.name}: expected an inventory file of at most {MAX_FILE_BYTES // 2**20} MiB, got "
            f"{size / 2**20:.1f} MiB; split it by project"
        )
    with path.open("rb") as handle:
        zipped = handle.read(len(ZIP_MAGIC)) == ZIP_MAGIC
    if not zipped:
        return
    try:
        with zipfile.ZipFile(path) as archive:
            expanded = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise InventoryFileError(f"{path.name}: expected a readable .xlsx workbook, got a broken zip: {exc}") from exc
    if expanded > MAX_EXPANDED_BYTES:
        raise InventoryFileError(
            f"{path.name}: expected a workbook that expands to at most {MAX_EXPANDED_BYTES // 2**20} MiB, got "
            f"{expanded / 2**20:.0f} MiB; refused (a zip bomb, or a table to split by project)"
        )


def _find_header(rows: Iterable[tuple[int, list[str]]], file_name: str) -> tuple[dict[str, int], int]:
    wanted = {column: {_label(label) for label in labels} for column, labels in LABELS.items()}
    for line_no, cells in rows:
        found: dict[str, int] = {}
        for index, cell in enumerate(cells):
            label = _label(cell)
            for column, labels in wanted.items():
                if label in labels and column not in found:
                    found[column] = index
        if all(column in found for column in REQUIRED):
            return found, line_no
        if line_no >= HEADER_SEARCH_ROWS:
            break
    raise InventoryFileError(
        f"{file_name}: expected a header row within the first {HEADER_SEARCH_ROWS} rows naming at least "
        f"{', '.join(LABELS[c][0] for c in REQUIRED)}, found none; export the 一房一价 table with its headers"
    )


@dataclass(frozen=True, slots=True)
class FileUnit:
    line_no: int
    permit_no: str
    unit_code: str
    usage: str | None
    building_area: Decimal | None
    inner_area: Decimal | None
    record_unit_price: Decimal | None
    record_total_price: Decimal


def parse_row(cells: list[str], columns: dict[str, int], line_no: int) -> FileUnit | str:
    """One data row → `FileUnit`, or the reason it cannot be read."""
    problems: list[str] = []

    def cell(column: str, *, normalize: bool = True) -> str:
        index = columns.get(column)
        value = str(cells[index] if index is not None and index < len(cells) else "")
        return clean_text(value) if normalize else value.strip()

    def read(column: str, convert: Any, *, required: bool) -> Any:
        text = cell(column, normalize=column != "permit_no")  # the permit as written; matched by match_key
        if not text:
            if required:
                problems.append(f"{LABELS[column][0]}: expected a value, got an empty cell")
            return None
        try:
            return convert(text)
        except BadValue as exc:
            problems.append(f"{LABELS[column][0]}: {exc}")
            return None

    permit_no = read("permit_no", str, required=True)
    building = read("building", str, required=True)
    room = read("room", str, required=True)
    building_area = read("building_area", to_area, required=False)
    inner_area = read("inner_area", to_area, required=False)
    unit_price = read("record_unit_price", to_amount, required=False)
    total_price = read("record_total_price", to_amount, required=True)
    if problems:
        return f"line {line_no}: " + "; ".join(problems)
    return FileUnit(
        line_no=line_no,
        permit_no=permit_no,
        unit_code=unit_code(building, cell("unit"), room),
        usage=cell("usage") or None,
        building_area=building_area,
        inner_area=inner_area,
        record_unit_price=unit_price,
        record_total_price=total_price,
    )


def read_inventory_file(path: Path) -> tuple[list[FileUnit], list[tuple[int, str, list[str]]], int]:
    """(units, bad rows as (line, reason, cells), data rows read) of the file at `path`."""
    check_size(path)
    units: list[FileUnit] = []
    bad: list[tuple[int, str, list[str]]] = []
    seen: dict[tuple[str, str], int] = {}
    count = 0
    try:
        source = open_rows(path, file_name=path.name, max_inflated=MAX_EXPANDED_BYTES)
    except UnreadableFile as exc:
        raise InventoryFileError(str(exc)) from exc
    try:
        rows = iter(source)
        columns, _ = _find_header(rows, path.name)
        for line_no, cells in rows:
            if not any(clean_text(str(value)) for value in cells):
                continue  # an empty line holds no unit
            count += 1
            if count > MAX_ROWS:
                raise InventoryFileError(f"{path.name}: expected at most {MAX_ROWS:,} units, got more; split it")
            parsed = parse_row(cells, columns, line_no)
            if isinstance(parsed, str):
                bad.append((line_no, parsed, cells))
                continue
            key = (parsed.permit_no, parsed.unit_code)
            if key in seen:
                bad.append((line_no, f"line {line_no}: unit {parsed.unit_code} repeats line {seen[key]}", cells))
                continue
            seen[key] = line_no
            units.append(parsed)
    except UnreadableFile as exc:
        raise InventoryFileError(str(exc)) from exc
    finally:
        source.close()
    return units, bad, count


def _text(value: Decimal | str | None) -> str | None:
    return None if value is None else str(value)


def match_key(permit_no: str, code: str) -> tuple[str, str]:
    """How a unit is matched across the two sides: NFKC, without spaces (a file may write the permit's
    full-width brackets （） half-width)."""
    return (clean_text(permit_no).replace(" ", ""), clean_text(code).replace(" ", ""))


def compare(units: list[FileUnit], network: list[dict[str, Any]]) -> list[Difference]:
    """The differences between the file's units and the network's rows of the same permits; a unit the
    network has is named as the network writes it."""
    by_key = {match_key(row["permit_no"], row["unit_code"]): row for row in network}
    in_file = {match_key(unit.permit_no, unit.unit_code) for unit in units}
    differences: list[Difference] = []
    for unit in units:
        row = by_key.get(match_key(unit.permit_no, unit.unit_code))
        if row is None:
            differences.append(
                Difference(unit.permit_no, unit.unit_code, MISSING_ON_NETWORK, _text(unit.record_total_price), None)
            )
            continue
        theirs = {
            "usage": row["usage"],
            "building_area": row["building_area"],
            "inner_area": row["inner_area"],
            "record_unit_price": from_fen(row["record_unit_price_fen"]),
            "record_total_price": from_fen(row["record_total_price_fen"]),
        }
        for name in COMPARED:
            mine, other = getattr(unit, name), theirs[name]
            if mine is not None and other is not None and mine != other:
                differences.append(Difference(row["permit_no"], row["unit_code"], name, _text(mine), _text(other)))
    for key, row in sorted(by_key.items()):
        if key not in in_file:
            differences.append(
                Difference(
                    row["permit_no"],
                    row["unit_code"],
                    MISSING_IN_FILE,
                    None,
                    _text(from_fen(row["record_total_price_fen"])),
                )
            )
    return differences


def import_inventory_file(warehouse: Warehouse, path: Path) -> ImportResult:
    """Import the developer's inventory file at `path` and check it against the network's (one
    transaction). Raises `InventoryFileError` for a file that cannot be imported at all."""
    if not path.is_file():
        raise InventoryFileError(f"no inventory file at {path}")
    check_size(path)
    sha256 = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha256.update(chunk)
    digest = sha256.hexdigest()
    units, bad, count = read_inventory_file(path)
    imported_at = utcnow()
    import_id = f"inv-{imported_at:%Y%m%dT%H%M%S%f}-{digest[:12]}"
    result = ImportResult(import_id=import_id, file_name=path.name, rows=count, loaded=len(units))
    hasher = warehouse.hasher
    # a reason quotes the cell it could not read, which may hold an ID number or a phone
    bad = [(line_no, redact_text(hasher, reason), cells) for line_no, reason, cells in bad]
    result.quarantined = [(line_no, reason) for line_no, reason, _ in bad]
    received = [
        Received.of(
            hasher,
            source=SOURCE,
            entity=ENTITY,
            record_key=f"{path.name}:{line_no}",
            payload={"file_name": path.name, "line_no": line_no, "row": [str(value) for value in cells]},
            reason=f"{path.name} {reason}",
        )
        for line_no, reason, cells in bad
    ]
    warehouse.prepare()
    with warehouse.begin() as conn:
        network = _network_rows(conn, {match_key(unit.permit_no, "")[0] for unit in units})
        result.network_units = len(network)
        result.differences = compare(units, network)
        conn.execute(
            inventory_import.insert().values(
                import_id=import_id,
                file_name=path.name,
                file_sha256=digest,
                imported_at=imported_at,
                row_count=count,
                loaded_count=len(units),
                quarantined_count=len(bad),
                diff_count=len(result.differences),
            )
        )
        bulk_insert(
            conn,
            inventory_file_unit,
            [
                {
                    "import_id": import_id,
                    "permit_no": unit.permit_no,
                    "unit_code": unit.unit_code,
                    "line_no": unit.line_no,
                    "usage": unit.usage,
                    "building_area": unit.building_area,
                    "inner_area": unit.inner_area,
                    "record_unit_price_fen": to_fen(unit.record_unit_price),
                    "record_total_price_fen": to_fen(unit.record_total_price),
                }
                for unit in units
            ],
        )
        bulk_insert(
            conn,
            inventory_diff,
            [
                {
                    "import_id": import_id,
                    "permit_no": d.permit_no,
                    "unit_code": d.unit_code,
                    "kind": d.kind,
                    "file_value": d.file_value,
                    "network_value": d.network_value,
                }
                for d in result.differences
            ],
        )
        quarantine(conn, quarantine_rows(hasher, received, run_id=import_id, seen_at=imported_at))
    log.info(
        "inventory file %s: %d rows, %d loaded, %d quarantined, %d differences",
        path.name,
        count,
        len(units),
        len(bad),
        len(result.differences),
    )
    return result


def _network_rows(conn: Connection, permits: set[str]) -> list[dict[str, Any]]:
    """The network's rows of the permits the file names (matched as `match_key` matches them)."""
    if not permits:
        return []
    c = core_unit_inventory.c
    spellings = [p for p in conn.execute(select(c.permit_no).distinct()).scalars() if match_key(p, "")[0] in permits]
    if not spellings:
        return []
    query = select(
        c.permit_no,
        c.unit_code,
        c.usage,
        c.building_area,
        c.inner_area,
        c.record_unit_price_fen,
        c.record_total_price_fen,
    ).where(c.permit_no.in_(spellings))
    return [dict(row._mapping) for row in conn.execute(query)]


__all__ = [
    "Difference",
    "ImportResult",
    "InventoryFileError",
    "import_inventory_file",
    "read_inventory_file",
]
