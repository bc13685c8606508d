"""Money as people read it. The warehouse keeps amounts in fen (integers); text shows yuan with two
decimals and thousands separators, computed on integers so that no amount is ever rounded by a float.

    >>> yuan(123456789)
    '1,234,567.89'
    >>> yuan(-5)
    '-0.05'
    >>> wan(123456789)
    '123.46'
"""

from __future__ import annotations


def yuan(fen: int | None) -> str:
    """`fen` as yuan with two decimals and thousands separators; None reads as 0.00."""
    fen = int(fen or 0)
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def wan(fen: int | None, places: int = 2) -> str:
    """`fen` in 万元 (ten thousand yuan), rounded half up to `places` decimals: what a manager reads."""
    fen = int(fen or 0)
    sign = "-" if fen < 0 else ""
    unit = 1_000_000 // 10**places  # fen per last shown digit
    steps = (abs(fen) + unit // 2) // unit
    whole, part = divmod(steps, 10**places)
    return f"{sign}{whole:,}" + (f".{part:0{places}d}" if places else "")
