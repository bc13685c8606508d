"""Exact amounts: money in integer fen, areas in integer hundredths of a m², and their API text.

The generator computes with integers (exact, like the warehouse's `_fen` columns) and writes the
API's two-decimal strings; `Decimal` enters only where text comes in (an inventory CSV).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def hundredths_text(value: int) -> str:
    """`401040000` → `"4010400.00"`; `-1260` → `"-12.60"`. Works for fen and for area hundredths."""
    if value < 0:
        return "-" + hundredths_text(-value)
    whole, part = divmod(value, 100)
    return f"{whole}.{part:02d}"


def round_div(numerator: int, denominator: int) -> int:
    """Integer division rounding half away from zero (ROUND_HALF_UP), for positive denominators."""
    if numerator >= 0:
        return (2 * numerator + denominator) // (2 * denominator)
    return -((-2 * numerator + denominator) // (2 * denominator))


def text_to_hundredths(text: str) -> int:
    """`"89.12"` → `8912`. Raises ValueError for text that is not a number with at most two decimals."""
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation as exc:
        raise ValueError(f"expected a number like 89.12, got {text!r}") from exc
    if not value.is_finite():
        raise ValueError(f"expected a finite number, got {text!r}")
    scaled = value * 100
    if scaled != scaled.to_integral_value():
        raise ValueError(f"expected at most two decimals, got {text!r}")
    return int(scaled)
