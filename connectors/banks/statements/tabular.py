"""Rows of a statement file, whatever its container: CSV text (UTF-8 or GBK), legacy `.xls`, `.xlsx`.

`open_rows(path)` tells the container by its first bytes, not by its name (banks name `.xls` files
`.csv` and the other way round), and returns a `RowSource`: an iterator of `(line_no, cells)` with
`line_no` the 1-based line of a text file or row of a sheet, and `encoding`/`kind`/`sheet_name` for
the messages. Text is read line by line in constant memory; the encoding is decided on the first
64 KiB (UTF-8 when they decode as UTF-8, else GB 18030, the superset of GBK / code page 936). A
line that does not decode keeps its bytes as surrogates, so the reader can quarantine that row and
carry on.

`.xls` files (BIFF, at most 65,536 rows by the format) are read whole with xlrd; `.xlsx` with
openpyxl in read-only mode, row by row, once the zip's directory says its members inflate to at most
`max_inflated` bytes in all (`MAX_XLSX_INFLATED`, a statement's or a loan list's, unless told; at most
`MAX_XLSX_MEMBERS` members): a workbook of a few hundred KB that inflates to gigabytes is refused
unread. The directory's sizes bind: `zipfile` never inflates a member past the size its directory
entry states (a member that would is a CRC error).

Whatever the container's library raises while opening or reading (a CSV field over the csv module's
limit of 128 KiB, which is kept: no cell of a statement is that long; a broken workbook; a zip that is
not one) becomes `UnreadableFile`, a `StatementError` naming the file and the line: the file is
quarantined, the other files and banks go on.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from connectors.banks.errors import UnreadableFile
from connectors.banks.statements.cells import BadCell, parse_number_cell

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
SNIFF_BYTES = 64 * 1024
# a year of a busy account's lines, or a fund centre's whole loan list, is a few MiB of sheet XML
MAX_XLSX_INFLATED = 64 * 1024 * 1024
MAX_XLSX_MEMBERS = 1_000


_SURROGATE = re.compile("[\udc80-\udcff]")


def has_undecodable(cells: list[str]) -> bool:
    """Whether a row carries bytes its encoding could not read (kept as lone surrogates)."""
    return _SURROGATE.search("".join(cells)) is not None


def sniff_encoding(head: bytes) -> str:
    """`utf-8-sig` when the bytes decode as UTF-8 (a character cut at the end is fine), else `gb18030`."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"


class RowSource:
    """An iterator of `(line_no, cells)`; `close()` releases the file."""

    kind = "text"
    encoding: str | None = None
    sheet_name: str | None = None

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the file."""


class CsvRows(RowSource):
    kind = "csv"

    def __init__(self, handle: BinaryIO, encoding: str) -> None:
        self._handle = handle
        self.encoding = encoding

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        text = io.TextIOWrapper(self._handle, encoding=self.encoding, errors="surrogateescape", newline="")
        reader = csv.reader(text, strict=False)
        last = 0
        for cells in reader:
            # a quoted cell may span lines: the row is numbered by the line it starts on
            start = last + 1
            last = reader.line_num
            yield start, cells
        text.detach()

    def close(self) -> None:
        self._handle.close()


class XlsRows(RowSource):
    kind = "xls"

    def __init__(self, path: Path) -> None:
        import xlrd

        self._xlrd = xlrd
        try:
            self._book = xlrd.open_workbook(str(path), on_demand=True)
        except xlrd.XLRDError as exc:
            raise BadCell(f"not a readable .xls workbook: {exc}") from exc
        self._sheet = self._book.sheet_by_index(0)
        self.sheet_name = self._sheet.name
        self.encoding = self._book.encoding

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        xlrd = self._xlrd
        for index in range(self._sheet.nrows):
            cells: list[str] = []
            for cell in self._sheet.row(index):
                if cell.ctype == xlrd.XL_CELL_NUMBER:
                    value = cell.value
                    cells.append(str(int(value)) if value == int(value) and abs(value) >= 1e7 else _number(value))
                elif cell.ctype == xlrd.XL_CELL_DATE:
                    moment = xlrd.xldate_as_datetime(cell.value, self._book.datemode)
                    cells.append(moment.strftime("%Y-%m-%d %H:%M:%S"))
                elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                    cells.append("")
                else:
                    cells.append(str(cell.value))
            yield index + 1, cells

    def close(self) -> None:
        self._book.release_resources()


class XlsxRows(RowSource):
    kind = "xlsx"

    def __init__(self, path: Path, max_inflated: int = MAX_XLSX_INFLATED) -> None:
        import openpyxl

        _check_inflated_size(path, max_inflated)
        self._book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        self._sheet = self._book.worksheets[0]
        self.sheet_name = self._sheet.title

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        for index, row in enumerate(self._sheet.iter_rows(values_only=True), start=1):
            cells = []
            for value in row:
                if value is None:
                    cells.append("")
                elif isinstance(value, bool | int):
                    cells.append(str(value))
                elif isinstance(value, float):
                    cells.append(_number(value))
                elif isinstance(value, datetime):
                    cells.append(value.strftime("%Y-%m-%d %H:%M:%S"))
                else:
                    cells.append(str(value))
            yield index, cells

    def close(self) -> None:
        self._book.close()


def _check_inflated_size(path: Path, max_inflated: int) -> None:
    """`ValueError` for a workbook whose zip directory lists too many members or members that inflate
    past `max_inflated` bytes in all (read from the directory, nothing inflated)."""
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
    inflated = sum(member.file_size for member in members)
    if len(members) > MAX_XLSX_MEMBERS or inflated > max_inflated:
        raise ValueError(
            f"a workbook of {len(members)} members that inflate to {inflated / 2**20:,.0f} MiB, more than the "
            f"{MAX_XLSX_MEMBERS} members and {max_inflated // 2**20} MiB a file of this kind may need: "
            "refused unread (a zip bomb, or a file to split by period)"
        )


def _number(value: float) -> str:
    """A numeric cell as text: the amount to the fen when it is one, else the number as written."""
    try:
        return parse_number_cell(value)
    except BadCell:
        return repr(value)


class GuardedRows(RowSource):
    """A `RowSource` whose container errors become `UnreadableFile` naming the file and the line."""

    def __init__(self, inner: RowSource, file_name: str) -> None:
        self._inner = inner
        self.file_name = file_name
        self.kind, self.encoding, self.sheet_name = inner.kind, inner.encoding, inner.sheet_name

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        rows = iter(self._inner)
        line_no = 0
        while True:
            try:
                line_no, cells = next(rows)
            except StopIteration:
                return
            except Exception as exc:  # whatever the csv module, xlrd or openpyxl raise on a broken file
                raise _unreadable(self.file_name, self.kind, exc, after=line_no) from exc
            yield line_no, cells

    def close(self) -> None:
        self._inner.close()


def _unreadable(file_name: str, kind: str | None, exc: BaseException, *, after: int | None = None) -> UnreadableFile:
    where = f" after line {after}" if after else ""
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, csv.Error) and "field limit" in detail:
        detail = f"a field longer than the {csv.field_size_limit() // 1024} KiB any statement cell fits in ({detail})"
    return UnreadableFile(
        f"{file_name}: expected a readable {kind or 'statement'} file, got an error{where}: {detail}; "
        "the file is damaged or not a statement: ask the bank for it again",
        file_name=file_name,
    )


def open_rows(path: str | Path, *, file_name: str | None = None, max_inflated: int = MAX_XLSX_INFLATED) -> RowSource:
    """The rows of the file at `path`, by its first bytes: `.xls`, `.xlsx`, else CSV text; a file that
    cannot be opened or read raises `UnreadableFile` (see the module docstring)."""
    path = Path(path)
    name = file_name or path.name
    try:
        return GuardedRows(_open_rows(path, max_inflated), name)
    except (OSError, UnreadableFile):
        raise
    except Exception as exc:
        raise _unreadable(name, None, exc) from exc


def _open_rows(path: Path, max_inflated: int) -> RowSource:
    handle = path.open("rb")
    try:
        head = handle.read(SNIFF_BYTES)
        if head.startswith(OLE2_MAGIC):
            handle.close()
            return XlsRows(path)
        if head.startswith(ZIP_MAGIC):
            handle.close()
            return XlsxRows(path, max_inflated)
        handle.seek(0)
        return CsvRows(handle, sniff_encoding(head))
    except BaseException:
        handle.close()
        raise
