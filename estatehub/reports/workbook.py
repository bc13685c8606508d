"""Excel workbooks people open: yuan and date formats, a frozen header, filters, widths that fit.

    book = Workbook()
    add_sheet(book, "应收账款", columns, rows)   # columns: (header, kind) with kind yuan / date / int / float / text
    save(book, path)

Amounts are given in fen and written in yuan (a number, formatted `#,##0.00`, so sums work in Excel);
dates as dates. Widths are measured from the text, counting a CJK character as two.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

YUAN = "#,##0.00"
DATE = "yyyy-mm-dd"
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
MAX_WIDTH = 60
INVALID_TITLE = set("[]:*?/\\")


def new_workbook() -> Workbook:
    book = Workbook()
    book.remove(book.active)
    return book


def add_sheet(book: Workbook, title: str, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]]) -> int:
    """A sheet of `rows` under `columns` ((header, kind) pairs); returns the number of rows written."""
    clean = "".join("_" if ch in INVALID_TITLE else ch for ch in title)[:31]
    sheet = book.create_sheet(clean)
    sheet.append([header for header, _ in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="center")
    widths = [_width(header) for header, _ in columns]
    count = 0
    for row in rows:
        values = [_value(value, kind) for value, (_, kind) in zip(row, columns, strict=True)]
        sheet.append(values)
        count += 1
        for i, (value, (_, kind)) in enumerate(zip(values, columns, strict=True)):
            widths[i] = max(widths[i], _width(_shown(value, kind)))
    for i, (_, kind) in enumerate(columns, start=1):
        letter = get_column_letter(i)
        fmt = {"yuan": YUAN, "date": DATE, "float": "0.00"}.get(kind)
        if fmt:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = fmt
        sheet.column_dimensions[letter].width = min(widths[i - 1] + 2, MAX_WIDTH)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"
    return count


def to_bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "yuan":
        return round(int(value) / 100, 2)
    if kind == "date" and isinstance(value, datetime):
        return value.date()
    if kind == "text":
        text = str(value)
        return "'" + text if text[:1] in ("=", "+", "-", "@") else text  # never a formula from outside data
    return value


def _shown(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "yuan":
        return f"{value:,.2f}"
    if kind == "date" and isinstance(value, date):
        return value.isoformat()
    return str(value)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)
