"""A permit and a building-table row (楼盘表) as the trading network sends them → typed records, or a
`QuarantineItem` naming every problem.

The network writes these rows untidily, and the forms it is known to use are read here, once:
an area with its unit (`"89.12㎡"`, `"89.12 m²"`) or padded (`" 89.1 "`), an amount with thousands
separators (`"4,010,400.00"`), a floor as text (`"15"`, `"-1"`), a state with a stray space, the
不动产单元号 in space-separated groups. Anything else (`"待测绘"` for an area not yet surveyed, an
unknown state, a 不动产单元号 of the wrong shape) is a problem: the row is quarantined, never dropped.
The developer's own inventory file (`estatehub.inventory`) reads its cells with the same functions.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Any

from connectors.trading_network.parse import MAX_REASONS, BadValue, _Fields, describe, to_decimal, to_text, to_utc
from connectors.trading_network.records import (
    INVENTORY_ENTITY,
    PERMIT_ENTITY,
    SALE_STATES,
    SOURCE,
    InventoryUnit,
    Permit,
    QuarantineItem,
    inventory_key,
)

MAX_UNIT_AREA = Decimal(100_000)  # m²: no unit of a building table is larger; a larger number is another field
_UNIT_SUFFIXES = ("平方米", "㎡", "m²", "m2", "M2", "平米")
_THOUSANDS_RE = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_FLOOR_RE = re.compile(r"^-?\d{1,3}$")
# 6 district + 6 cadastral area/sub-area + 2 letters and 5 digits (parcel) + 1 letter and 8 digits (fixture)
REALTY_UNIT_NO_RE = re.compile(r"^\d{12}[A-Z]{2}\d{5}[FLQW]\d{8}$")


def clean_text(value: str) -> str:
    """NFKC (full-width digits and letters to half-width), surrounding spaces removed."""
    return unicodedata.normalize("NFKC", value).strip()


def to_area(value: Any) -> Decimal:
    """An area in m² with at most two decimals, its unit (㎡, m², 平方米) and padding allowed."""
    if isinstance(value, str):
        text = clean_text(value)
        for suffix in _UNIT_SUFFIXES:
            if text.endswith(suffix):
                text = text[: -len(suffix)].strip()
                break
        value = text
    try:
        area = to_decimal(value)
    except BadValue as exc:
        raise BadValue(f"expected an area in m² like '89.12' (or '89.12㎡'), got {describe(value)}") from exc
    if area > MAX_UNIT_AREA:
        raise BadValue(f"expected the area of one unit (at most {MAX_UNIT_AREA} m²), got {describe(value)}")
    return area


def to_amount(value: Any) -> Decimal:
    """An amount in yuan with at most two decimals; thousands separators (`4,010,400.00`) allowed."""
    if isinstance(value, str):
        text = clean_text(value)
        if _THOUSANDS_RE.match(text):
            text = text.replace(",", "")
        value = text
    try:
        return to_decimal(value)
    except BadValue as exc:
        raise BadValue(f"expected an amount in yuan like '4010400.00', got {describe(value)}") from exc


def to_floor(value: Any) -> int:
    """A floor: a whole number, or its text (`"15"`, `"-1"` for a basement)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _FLOOR_RE.match(clean_text(value)):
        return int(clean_text(value))
    raise BadValue(f"expected a floor number like 15 or -1, got {describe(value)}")


def to_realty_unit_no(value: Any) -> str:
    """The 28-character 不动产单元号, spaces between its groups allowed."""
    if not isinstance(value, str):
        raise BadValue(f"expected a 28-character 不动产单元号, got {describe(value)}")
    text = re.sub(r"\s+", "", clean_text(value)).upper()
    if not REALTY_UNIT_NO_RE.match(text):
        raise BadValue(
            "expected a 28-character 不动产单元号 (12 digits, 2 letters, 5 digits, F/L/Q/W, 8 digits), "
            f"got {describe(value)}"
        )
    return text


def to_state(value: Any) -> str:
    if not isinstance(value, str) or clean_text(value) not in SALE_STATES:
        raise BadValue(f"expected one of {'/'.join(SALE_STATES)}, got {describe(value)}")
    return clean_text(value)


def parse_permit(raw: Any) -> Permit | QuarantineItem:
    """One item of the permit listing → `Permit`, or `QuarantineItem`."""
    if not isinstance(raw, dict):
        reason = f"expected a JSON object for a permit, got {describe(raw)}"
        return QuarantineItem(source=SOURCE, entity=PERMIT_ENTITY, key=None, reason=reason, payload=raw)
    problems: list[str] = []
    top = _Fields(raw, "", problems)
    permit_no = top.read("permit_no", to_text)
    project_code = top.read("project_code", to_text)
    project_name = top.read("project_name", to_text)
    building = top.read("building", to_text, required=False)
    unit_count = top.read("unit_count", to_floor, required=False)
    if problems:
        return QuarantineItem(
            source=SOURCE,
            entity=PERMIT_ENTITY,
            key=permit_no,
            reason=_reason("permit", permit_no, problems),
            payload=raw,
        )
    return Permit(
        permit_no=permit_no,
        project_code=project_code,
        project_name=project_name,
        building=building,
        unit_count=unit_count,
        payload=raw,
    )


def parse_inventory_unit(raw: Any, permit_no: str) -> InventoryUnit | QuarantineItem:
    """One row of the building table of `permit_no` → `InventoryUnit`, or `QuarantineItem` listing
    every problem (keyed `<permit_no>|<unit_code>` when the unit code could be read)."""
    if not isinstance(raw, dict):
        reason = f"expected a JSON object for a unit of permit {permit_no}, got {describe(raw)}"
        return QuarantineItem(source=SOURCE, entity=INVENTORY_ENTITY, key=None, reason=reason, payload=raw)
    problems: list[str] = []
    top = _Fields(raw, "", problems)
    unit_code = top.read("unit_code", to_text)
    updated_at = top.read("updated_at", to_utc)
    values = {
        "house_id": top.read("house_id", to_text, required=False),
        "realty_unit_no": top.read("realty_unit_no", to_realty_unit_no, required=False),
        "building": top.read("building", to_text),
        "unit": _optional_text(raw.get("unit")),
        "floor": top.read("floor", to_floor),
        "room": top.read("room", to_text),
        "usage": top.read("usage", to_text),
        "building_area": top.read("building_area", to_area),
        "inner_area": top.read("inner_area", to_area, required=False),
        "record_unit_price": top.read("record_unit_price", to_amount, required=False),
        "record_total_price": top.read("record_total_price", to_amount),
        "sale_state": top.read("sale_state", to_state),
        "restriction": top.read("restriction", to_text, required=False),
    }
    if values["building_area"] is not None and values["building_area"] == 0:
        problems.append("building_area: expected an area above zero, got 0")
    if (
        values["inner_area"] is not None
        and values["building_area"] is not None
        and values["inner_area"] > values["building_area"]
    ):
        problems.append(
            f"inner_area: expected at most building_area {values['building_area']}, got {values['inner_area']}"
        )
    key = inventory_key(permit_no, unit_code) if unit_code else None
    if problems:
        return QuarantineItem(
            source=SOURCE,
            entity=INVENTORY_ENTITY,
            key=key,
            reason=_reason(f"unit of permit {permit_no}", unit_code, problems),
            payload=raw,
            updated_at=updated_at,
        )
    return InventoryUnit(permit_no=permit_no, unit_code=unit_code, updated_at=updated_at, payload=raw, **values)


def _optional_text(value: Any) -> str | None:
    return clean_text(value) or None if isinstance(value, str) else None


def _reason(what: str, key: str | None, problems: list[str]) -> str:
    shown = problems[:MAX_REASONS]
    more = len(problems) - len(shown)
    text = "; ".join(shown) + (f"; and {more} more problems" if more else "")
    return f"{what} {key or '(without its number)'}: {text}"
