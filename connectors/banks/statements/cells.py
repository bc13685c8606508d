"""The cells of a statement row: cleaning, placeholders, amounts, dates and times, as banks write them.

Bank exports pad fields with spaces, TABs and full-width spaces, write `-`, `--` or a run of dashes
for "nothing", put thousands separators into amounts and a `+` before credits, mask balances
(`xx,yyyy.zz`), and write dates as `20250101`, `2025-01-01`, `2025/01/01` or `2025年01月01日`, with or
without a time. These functions are on the hot path of a million-line file: plain string operations,
regular expressions only where the text is unusual.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, time
from decimal import Decimal, InvalidOperation

PAD = " \t\u3000\xa0\r\n\ufeff"
_LEADING_DASHES = re.compile(r"^-{3,}\s*")
_AMOUNT_RE = re.compile(r"-?\d+(?:\.\d{1,2})?")
_AMOUNT_DROP = str.maketrans("", "", ",，¥￥ \u3000\t")
_MASK_CHARS = frozenset("xXyYzZ*")
_CN_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_HEADER_DROP = re.compile(r"[\s\"'\ufeff]+")
_TWO_PLACES = Decimal("0.01")


class BadCell(ValueError):
    """A cell that is not what its column expects; the message says what was expected and what came."""


def clean(cell: str | None) -> str | None:
    """The cell without padding; None for an empty cell or a placeholder (`-`, `--`, `------`).

    A run of three or more dashes in front of text is a placeholder glued to it (seen in real exports):
    it is dropped and the text kept.
    """
    if cell is None:
        return None
    text = cell.strip(PAD)
    if not text:
        return None
    if text[0] == "-":
        if not text.strip("-"):
            return None
        if text.startswith("---"):
            text = _LEADING_DASHES.sub("", text)
            return text or None
    return text


def header_name(cell: str | None) -> str:
    """A header cell as the layouts name it: NFKC (full-width → ASCII), no spaces, no quotes."""
    if not cell:
        return ""
    return _HEADER_DROP.sub("", unicodedata.normalize("NFKC", cell))


def describe(text: str | None) -> str:
    if text is None:
        return "nothing"
    return repr(text if len(text) <= 40 else text[:40] + "…")


def is_masked(text: str) -> bool:
    """`xx,yyyy.zz` or `***`: a value the bank hid on purpose."""
    return any(ch in _MASK_CHARS for ch in text)


def parse_amount(text: str) -> Decimal:
    """`"1,234.56"`, `"+10000.00"`, `"-2,600.00"`, `"67.0"` → Decimal with at most two decimals."""
    compact = text.translate(_AMOUNT_DROP)
    if compact[:1] == "+":
        compact = compact[1:]
    if not _AMOUNT_RE.fullmatch(compact):
        raise BadCell(f"expected an amount like 1,234.56, got {describe(text)}")
    return Decimal(compact)


def parse_number_cell(value: float) -> str:
    """A numeric spreadsheet cell as amount text: exact to the fen, or a `BadCell`."""
    try:
        number = Decimal(repr(value))
    except InvalidOperation as exc:  # nan, inf
        raise BadCell(f"expected an amount, got the number {value!r}") from exc
    rounded = number.quantize(_TWO_PLACES)
    if abs(rounded - number) > Decimal("0.000001"):
        raise BadCell(f"expected an amount in yuan and fen, got the number {value!r}")
    return format(rounded, "f")


def parse_date(text: str) -> tuple[date, time | None]:
    """A date cell, possibly with a time after it: `20250101`, `2025-01-01 10:15:32`, `20250101 101532`."""
    try:
        if len(text) >= 8 and text[:8].isdigit():
            day = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
            rest = text[8:]
        elif len(text) >= 10 and text[4] in "-/." and text[7] == text[4]:
            day = date(int(text[:4]), int(text[5:7]), int(text[8:10]))
            rest = text[10:]
        else:
            found = _CN_DATE.match(text)
            if found is None:
                raise BadCell(f"expected a date like 20250101 or 2025-01-01, got {describe(text)}")
            day = date(int(found[1]), int(found[2]), int(found[3]))
            rest = text[found.end() :]
    except ValueError as exc:
        if isinstance(exc, BadCell):
            raise
        raise BadCell(f"expected a date like 20250101 or 2025-01-01, got {describe(text)}") from exc
    rest = rest.strip(PAD + "T")
    return day, (parse_time(rest) if rest else None)


def parse_time(text: str) -> time | None:
    """`123456`, `12:34:56`, `12:34`, `12.34.56` → time; empty → None."""
    if not text:
        return None
    digits = text.replace(":", "").replace(".", "")
    if not digits.isdigit() or len(digits) not in (4, 6):
        raise BadCell(f"expected a time like 12:34:56 or 123456, got {describe(text)}")
    try:
        return time(int(digits[:2]), int(digits[2:4]), int(digits[4:6] or 0))
    except ValueError as exc:
        raise BadCell(f"expected a time like 12:34:56 or 123456, got {describe(text)}") from exc


_COUNTERPARTY_RE = re.compile(r"^(.*?)\s*([0-9][0-9*]{5,}[0-9A-Za-z]?)$")


def split_counterparty(text: str) -> tuple[str | None, str | None]:
    """`"张三 66666666666666"` → ("张三", "66666666666666"); `"12341234123412341"` → (None, digits)."""
    found = _COUNTERPARTY_RE.match(text)
    if found is None:
        return text, None
    name = found[1].strip(PAD) or None
    return name, found[2]


CURRENCIES = {
    "人民币": "CNY",
    "RMB": "CNY",
    "CNY": "CNY",
    "本币": "CNY",
    "美元": "USD",
    "USD": "USD",
    "港币": "HKD",
    "港元": "HKD",
    "HKD": "HKD",
    "欧元": "EUR",
    "EUR": "EUR",
}


def parse_currency(text: str) -> str:
    code = CURRENCIES.get(text.strip(PAD).upper())
    if code is None:
        raise BadCell(f"expected a currency like 人民币 or CNY, got {describe(text)}")
    return code
