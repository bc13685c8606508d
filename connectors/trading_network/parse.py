"""A contract as the trading network sends it (a JSON object) → a `Contract`, or a `QuarantineItem`.

Nothing here raises on bad input: every problem of a record is collected and, if there is any, the
record comes back as a `QuarantineItem` whose reason names each field, what was expected and what
came. ID numbers and phones are never written into a reason, only what is wrong with them.

Times arrive as ISO 8601 with an offset and leave as timezone-aware UTC; money and areas arrive as
strings with at most two decimals and leave as `Decimal`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.identity import ID_TYPE_USCC, InvalidIdentifier, validate_identifier, validate_phone
from connectors.trading_network.records import (
    CANCEL_REASONS,
    CONTRACT_STATES,
    CONTRACT_TYPES,
    ID_TYPES,
    PAYMENT_METHODS,
    PLAN_KINDS,
    REGISTRATION_STATUSES,
    SOURCE,
    Buyer,
    Cancellation,
    Contract,
    Handover,
    House,
    PlanItem,
    QuarantineItem,
    Registration,
    StateChange,
)

ENTITY = "contract"
BEIJING = timezone(timedelta(hours=8), "CST")  # the network's own clock; China keeps no daylight saving
SUBSCRIPTION = "认购"
TRUE_UP_KIND = "补差"  # the payment-plan line added once the as-built area is known
MAX_REASONS = 12

_DECIMAL_RE = re.compile(r"^[+-]?\d+(\.\d+)?$")
_MISSING = object()


class BadValue(ValueError):
    """A value that is not what the field expects; the message says what was expected and what came."""


# -- values ------------------------------------------------------------------------------------------


def describe(value: Any) -> str:
    """A short, safe description of a JSON value for a reason (strings cut at 40 characters)."""
    if value is _MISSING:
        return "nothing (the field is missing)"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if not value.strip():
            return "an empty string"
        return repr(value if len(value) <= 40 else value[:40] + "…")
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return f"a {type(value).__name__}"


def _json_type(value: Any) -> str:
    names = {str: "string", bool: "boolean", int: "number", float: "number", list: "list", dict: "object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def to_decimal(value: Any, *, places: int = 2, signed: bool = False) -> Decimal:
    """A decimal string (or JSON number) with at most `places` decimals; negative only when `signed`."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BadValue(f"expected a decimal string like '4010400.00', got {describe(value)}")
    text = str(value).strip() if isinstance(value, str) else repr(value)
    match = _DECIMAL_RE.match(text)
    if match is None:
        raise BadValue(f"expected a decimal string like '4010400.00', got {describe(value)}")
    try:
        number = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern only lets valid decimals through
        raise BadValue(f"expected a decimal string, got {describe(value)}") from exc
    # the decimals as written (the pattern's `.` and digits): the number's exponent, without `as_tuple`
    fraction = match.group(1)
    if fraction is not None and len(fraction) - 1 > places and number != number.quantize(Decimal(1).scaleb(-places)):
        raise BadValue(f"expected at most {places} decimals, got {describe(value)}")
    if number < 0 and not signed:
        raise BadValue(f"expected a number of zero or more, got {describe(value)}")
    return number


def to_utc(value: Any) -> datetime:
    """An ISO 8601 time with an offset (`2026-03-31T10:15:00+08:00`) → an aware UTC `datetime`."""
    if not isinstance(value, str):
        raise BadValue(f"expected an ISO 8601 time with offset like '2026-03-31T10:15:00+08:00', got {describe(value)}")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise BadValue(
            f"expected an ISO 8601 time with offset like '2026-03-31T10:15:00+08:00', got {describe(value)}"
        ) from exc
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise BadValue(f"expected a time with an offset (+08:00), got {describe(value)} without one")
    return moment.astimezone(UTC)


def to_date(value: Any) -> date:
    """A `YYYY-MM-DD` date."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise BadValue(f"expected a date like '2026-03-15', got {describe(value)}")
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise BadValue(f"expected a real calendar date, got {describe(value)}") from exc


def to_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadValue(f"expected a whole number, got {describe(value)}")
    return value


def to_text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadValue(f"expected a non-empty string, got {describe(value)}")
    return value.strip()


def to_choice(value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value.strip() not in allowed:
        raise BadValue(f"expected one of {'/'.join(allowed)}, got {describe(value)}")
    return value.strip()


# -- reading an object field by field, collecting problems ---------------------------------------


class _Fields:
    """Reads the fields of one JSON object; each bad field adds a problem and reads as None."""

    def __init__(self, obj: dict[str, Any], where: str, problems: list[str]) -> None:
        self.obj = obj
        self.where = where
        self.problems = problems

    def _path(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def problem(self, name: str, text: str) -> None:
        self.problems.append(f"{self._path(name)}: {text}")

    def read(self, name: str, convert: Any, *, required: bool = True, **options: Any) -> Any:
        value = self.obj.get(name, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.problem(name, f"expected a value, got {describe(value)}")
            return None
        try:
            return convert(value, **options)
        except BadValue as exc:
            self.problem(name, str(exc))
            return None

    def secret(self, name: str, convert: Any, *, required: bool = True, expected: str = "a value") -> Any:
        """Like `read`, for ID numbers and phones: the reason never shows the value."""
        value = self.obj.get(name, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.problem(name, f"expected {expected}, got {describe(value)}")
            return None
        if not isinstance(value, str):
            self.problem(name, f"expected a string, got a {type(value).__name__}")
            return None
        try:
            return convert(value)
        except InvalidIdentifier as exc:
            self.problem(name, f"expected a valid number, got one that fails: {exc}")
            return None

    def child(self, name: str, *, required: bool = True) -> _Fields | None:
        value = self.obj.get(name, _MISSING)
        if value is _MISSING or value is None:
            if required:
                self.problem(name, f"expected an object, got {describe(value)}")
            return None
        if not isinstance(value, dict):
            self.problem(name, f"expected an object, got {describe(value)}")
            return None
        return _Fields(value, self._path(name), self.problems)

    def children(self, name: str, *, min_items: int = 0) -> list[_Fields] | None:
        value = self.obj.get(name, _MISSING)
        if not isinstance(value, list):
            self.problem(name, f"expected a list, got {describe(value)}")
            return None
        if len(value) < min_items:
            self.problem(name, f"expected at least {min_items} entries, got {len(value)}")
            return None
        entries = []
        for index, entry in enumerate(value):
            where = f"{self._path(name)}[{index}]"
            if isinstance(entry, dict):
                entries.append(_Fields(entry, where, self.problems))
            else:
                # only the kind of value: a stray entry in `buyers` may be an ID number
                self.problems.append(f"{where}: expected an object, got a {_json_type(entry)}")
        return entries if len(entries) == len(value) else None


# -- the contract ---------------------------------------------------------------------------------


def parse_contract(raw: Any) -> Contract | QuarantineItem:
    """One contract object (detail form) → `Contract`, or `QuarantineItem` listing every problem."""
    if not isinstance(raw, dict):
        return QuarantineItem(
            source=SOURCE,
            entity=ENTITY,
            key=None,
            reason=f"expected a JSON object for a contract, got {describe(raw)}",
            payload=raw,
        )
    problems: list[str] = []
    top = _Fields(raw, "", problems)
    contract_no = top.read("contract_no", to_text)
    updated_at = top.read("updated_at", to_utc)
    contract_type = top.read("contract_type", to_choice, allowed=CONTRACT_TYPES)
    state = top.read("state", to_choice, allowed=CONTRACT_STATES)
    house = _house(top)
    price = top.child("price")
    unit_price = price.read("unit_price", to_decimal) if price else None
    total_price = price.read("total_price", to_decimal) if price else None
    deposit = price.read("deposit", to_decimal, required=False) if price else None
    payment_method = top.read("payment_method", to_choice, required=False, allowed=PAYMENT_METHODS)
    refund_days = top.read("refund_days", to_int, required=False)
    if refund_days is not None and not 1 <= refund_days <= 180:
        problems.append(f"refund_days: expected the contract's refund term in days (1-180), got {refund_days}")
    subscription_no = top.read("subscription_no", to_text, required=False)
    previous_contract_no = top.read("previous_contract_no", to_text, required=False)
    planned_signing_on = top.read("planned_signing_on", to_date, required=False)
    delivery_on = top.read("delivery_on", to_date, required=False)
    registration_days = top.read("registration_days", to_int, required=False)
    if registration_days is not None and not 1 <= registration_days <= 1000:
        problems.append(
            f"registration_days: expected the contract's registration term in days (1-1000), got {registration_days}"
        )
    signed_at = top.read("signed_at", to_utc, required=False)
    filed_at = top.read("filed_at", to_utc, required=False)
    cancellation = _cancellation(top)
    buyers = _buyers(top)
    plan = _payment_plan(top)
    history = _history(top)
    handover = _handover(top)
    registration = _registration(top)

    if history and state is not None and history[-1].state != state:
        problems.append(f"state: expected the state of the last history entry ({history[-1].state}), got {state}")
    if state == "撤销" and raw.get("cancellation") is None:
        problems.append("cancellation: expected the cancellation of a contract in state 撤销, got null")
    # a 认购 agreement plans only its deposit; the full plan belongs to the main contract
    if plan and total_price is not None and contract_type != SUBSCRIPTION:
        _check_plan_sum(plan, total_price, handover, raw.get("handover"), problems)

    key = contract_no if contract_no else _raw_key_text(raw)
    if problems:
        return QuarantineItem(
            source=SOURCE,
            entity=ENTITY,
            key=key,
            reason=_reason(key, problems),
            payload=raw,
            updated_at=updated_at,
        )
    return Contract(
        contract_no=contract_no,
        contract_type=contract_type,
        state=state,
        updated_at=updated_at,
        house=house,
        unit_price=unit_price,
        total_price=total_price,
        deposit=deposit,
        payment_method=payment_method,
        refund_days=refund_days,
        subscription_no=subscription_no,
        previous_contract_no=previous_contract_no,
        planned_signing_on=planned_signing_on,
        signed_at=signed_at,
        filed_at=filed_at,
        cancellation=cancellation,
        buyers=buyers,
        payment_plan=plan,
        history=history,
        handover=handover,
        registration=registration,
        payload=raw,
        delivery_on=delivery_on,
        registration_days=registration_days,
    )


def _house(top: _Fields) -> House | None:
    project = top.child("project")
    house = top.child("house")
    if project is None or house is None:
        return None
    values = {
        "project_code": project.read("code", to_text),
        "project_name": project.read("name", to_text),
        "house_id": house.read("house_id", to_text),
        "building": house.read("building", to_text),
        "unit": house.read("unit", to_text),
        "floor": house.read("floor", to_int),
        "room": house.read("room", to_text),
        "permit_no": house.read("permit_no", to_text, required=False),
        "usage": house.read("usage", to_text, required=False),
        "building_area": house.read("building_area", to_decimal),
        "inner_area": house.read("inner_area", to_decimal, required=False),
        "shared_area": house.read("shared_area", to_decimal, required=False),
    }
    required = (
        "project_code",
        "project_name",
        "house_id",
        "building",
        "unit",
        "floor",
        "room",
        "building_area",
    )
    if any(values[name] is None for name in required):
        return None
    return House(**values)


def _cancellation(top: _Fields) -> Cancellation | None:
    fields = top.child("cancellation", required=False)
    if fields is None:
        return None
    cancelled_at = fields.read("cancelled_at", to_utc)
    reason_code = fields.read("reason_code", to_choice, allowed=CANCEL_REASONS)
    reason = fields.read("reason", to_text, required=False)
    if cancelled_at is None or reason_code is None:
        return None
    return Cancellation(cancelled_at=cancelled_at, reason_code=reason_code, reason=reason)


def _buyers(top: _Fields) -> tuple[Buyer, ...] | None:
    entries = top.children("buyers", min_items=1)
    if entries is None:
        return None
    buyers = []
    for fields in entries:
        name = fields.read("name", to_text)
        id_type = fields.read("id_type", to_choice, allowed=ID_TYPES)
        id_number = None
        if id_type is not None:
            id_number = fields.secret("id_number", lambda value, kind=id_type: validate_identifier(kind, value))
        phone = fields.secret(
            "phone",
            validate_phone,
            required=id_type != ID_TYPE_USCC,
            expected="a phone (only a company buyer may have none)",
        )
        share = fields.read("share", to_decimal, required=False)
        is_primary = fields.read("is_primary", _to_bool)
        if name is None or id_number is None or is_primary is None:
            continue
        if phone is None and id_type != ID_TYPE_USCC:
            continue
        buyers.append(
            Buyer(
                name=name,
                id_type=id_type,
                id_number=id_number,
                phone=phone,
                share=share,
                is_primary=is_primary,
            )
        )
    return tuple(buyers) if len(buyers) == len(entries) else None


def _payment_plan(top: _Fields) -> tuple[PlanItem, ...] | None:
    entries = top.children("payment_plan")
    if entries is None:
        return None
    plan = []
    for fields in entries:
        seq = fields.read("seq", to_int)
        kind = fields.read("kind", to_choice, allowed=PLAN_KINDS)
        due_on = fields.read("due_on", to_date, required=False)
        amount = fields.read("amount", to_decimal, signed=kind == TRUE_UP_KIND)
        bank = fields.read("bank", to_text, required=False)
        if seq is None or kind is None or amount is None:
            continue
        plan.append(PlanItem(seq=seq, kind=kind, due_on=due_on, amount=amount, bank=bank))
    return tuple(plan) if len(plan) == len(entries) else None


def _history(top: _Fields) -> tuple[StateChange, ...] | None:
    entries = top.children("history", min_items=1)
    if entries is None:
        return None
    history = []
    for fields in entries:
        state = fields.read("state", to_choice, allowed=CONTRACT_STATES)
        at = fields.read("at", to_utc)
        reason_code = fields.read("reason_code", to_choice, required=False, allowed=CANCEL_REASONS)
        reason = fields.read("reason", to_text, required=False)
        if state is None or at is None:
            continue
        history.append(StateChange(state=state, at=at, reason_code=reason_code, reason=reason))
    if len(history) != len(entries):
        return None
    for index in range(1, len(history)):
        entry, before = history[index], history[index - 1]
        if entry.at < before.at:
            top.problems.append(
                f"history[{index}].at: expected entries in time order, got {entry.state} at "
                f"{_beijing(entry.at)} before {before.state} at {_beijing(before.at)}"
            )
            return None
    return tuple(history)


def _handover(top: _Fields) -> Handover | None:
    fields = top.child("handover", required=False)
    if fields is None:
        return None
    handed_over_on = fields.read("handed_over_on", to_date)
    as_built_area = fields.read("as_built_area", to_decimal)
    area_diff_amount = fields.read("area_diff_amount", to_decimal, signed=True)
    if handed_over_on is None or as_built_area is None or area_diff_amount is None:
        return None
    return Handover(handed_over_on=handed_over_on, as_built_area=as_built_area, area_diff_amount=area_diff_amount)


def _registration(top: _Fields) -> Registration | None:
    fields = top.child("registration", required=False)
    if fields is None:
        return None
    status = fields.read("status", to_choice, allowed=REGISTRATION_STATUSES)
    applied_on = fields.read("applied_on", to_date, required=False)
    registered_on = fields.read("registered_on", to_date, required=False)
    certificate_no = fields.read("certificate_no", to_text, required=False)
    if status is None:
        return None
    return Registration(
        status=status, applied_on=applied_on, registered_on=registered_on, certificate_no=certificate_no
    )


def _check_plan_sum(
    plan: tuple[PlanItem, ...],
    total_price: Decimal,
    handover: Handover | None,
    raw_handover: Any,
    problems: list[str],
) -> None:
    """The plan adds up to total_price, plus the 补差 line (which must equal the handover's true-up)."""
    true_up = [item.amount for item in plan if item.kind == TRUE_UP_KIND]
    planned = sum((item.amount for item in plan), Decimal(0))
    true_up_sum = sum(true_up, Decimal(0))
    expected = total_price + true_up_sum
    if planned != expected:
        what = f"total_price {total_price}" + (f" + 补差 {true_up_sum}" if true_up else "")
        problems.append(
            f"payment_plan: expected the amounts to add up to {what} = {expected}, got {planned} "
            f"(off by {planned - expected})"
        )
    if true_up and handover is not None and true_up_sum != handover.area_diff_amount:
        problems.append(
            f"payment_plan: expected the 补差 line to equal handover.area_diff_amount "
            f"{handover.area_diff_amount}, got {true_up_sum}"
        )
    elif true_up and handover is None and raw_handover is None:
        problems.append("payment_plan: expected a 补差 line only once the handover is recorded, got one without")


def _to_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadValue(f"expected true or false, got {describe(value)}")
    return value


def _raw_key_text(raw: dict[str, Any]) -> str | None:
    value = raw.get("contract_no")
    return value.strip() if isinstance(value, str) and value.strip() else None


def _beijing(moment: datetime) -> str:
    return moment.astimezone(BEIJING).isoformat(timespec="seconds")


def _reason(key: str | None, problems: list[str]) -> str:
    shown = problems[:MAX_REASONS]
    more = len(problems) - len(shown)
    text = "; ".join(shown) + (f"; and {more} more problems" if more else "")
    return f"contract {key or '(without contract_no)'}: {text}"
