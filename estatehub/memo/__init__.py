"""The memo parser: the unit(s) and payment kind a ledger memo (摘要) names, and how sure that is.

Pure Python, no I/O. `parse_memo(text)` reads a memo; `RoomDirectory` resolves what it read to a
house of a project; `python -m bench.memo_score` measures both against the sandbox's ground truth.
"""

from estatehub.memo.normalize import chinese_numeral_value, normalize
from estatehub.memo.parser import (
    FEE_KINDS,
    KINDS,
    MemoReading,
    UnitRef,
    fee_kind,
    fee_payable_kind,
    find_kinds,
    find_units,
    parse_memo,
    room_number,
)
from estatehub.memo.resolve import RoomDirectory, address_part

__all__ = [
    "FEE_KINDS",
    "KINDS",
    "MemoReading",
    "RoomDirectory",
    "UnitRef",
    "address_part",
    "chinese_numeral_value",
    "fee_kind",
    "fee_payable_kind",
    "find_kinds",
    "find_units",
    "normalize",
    "parse_memo",
    "room_number",
]
