"""From a unit named in a memo to the house it means, within one project's rooms.

A memo names building, 单元 and room, or only some of them (`3栋1502`, `A座15F02`); the ledger's
auxiliary accounting names the project (phase). `RoomDirectory` holds the rooms of one project and
answers which houses fit a `UnitRef`: a building letter stands for its ordinal (`A` = 1栋) unless the
project really has a lettered building; a missing part matches any. A reference resolves when exactly
one house fits.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from estatehub.memo.normalize import normalize
from estatehub.memo.parser import UnitRef, room_number

Key = tuple[str, str, str]

_LEADING_NUMBER = re.compile(r"^\s*(\d+|[A-Z])")


def address_part(name: str | None) -> str | None:
    """`"3栋"` → `"3"`, `"2单元"` → `"2"`, `"A座"` → `"A"`, `"十二栋"` → `"12"`; None when it has no number."""
    if not name:
        return None
    found = _LEADING_NUMBER.match(normalize(name))
    if found is None:
        return None
    value = found.group(1)
    return value if value.isalpha() else str(int(value))


def _letter_ordinal(value: str) -> str | None:
    if len(value) == 1 and "A" <= value <= "Z":
        return str(ord(value) - ord("A") + 1)
    return None


class RoomDirectory:
    """The rooms of one project, indexed by every combination a memo may leave out."""

    def __init__(self, rooms: Iterable[tuple[str, str, str, str]] = ()) -> None:
        self._exact: dict[Key, str] = {}
        self._partial: defaultdict[tuple[str | None, str | None, str], list[str]] = defaultdict(list)
        self._buildings: set[str] = set()
        for house_id, building, unit, room in rooms:
            self.add(house_id, building, unit, room)

    def add(self, house_id: str, building: str, unit: str, room: str) -> None:
        """Add one house by its names as the trading network writes them (`3栋`, `2单元`, `1502`)."""
        b, u, r = address_part(building), address_part(unit), room_number(room) or room
        if b is None:
            raise ValueError(f"expected a building name with a number or letter, got {building!r}")
        u = u or "1"
        if (b, u, r) in self._exact:
            return
        self._exact[(b, u, r)] = house_id
        self._buildings.add(b)
        for key in ((b, None, r), (None, u, r), (None, None, r)):
            self._partial[key].append(house_id)

    def __len__(self) -> int:
        return len(self._exact)

    def candidates(self, ref: UnitRef) -> list[str]:
        """Every house of the project that fits the reference."""
        buildings = [ref.building] if ref.building is not None else [None]
        if ref.building is not None and ref.building.isalpha():
            ordinal = _letter_ordinal(ref.building)
            if ordinal is not None and ref.building not in self._buildings:
                buildings = [ordinal]
        found: list[str] = []
        for building in buildings:
            if building is not None and ref.unit is not None:
                house = self._exact.get((building, ref.unit, ref.room))
                found.extend([house] if house else [])
            else:
                found.extend(self._partial.get((building, ref.unit, ref.room), ()))
        return found

    def resolve(self, ref: UnitRef) -> str | None:
        """The one house the reference means, or None when none or several fit."""
        found = self.candidates(ref)
        return found[0] if len(found) == 1 else None
