"""PIPL redaction of payloads before they are stored, and the keyed hashes of what they identify.

The raw layer keeps every record as received, except that ID numbers and phones never reach the
disk in full. `redact_payload` walks a JSON payload and

- replaces the value of every key that names an ID number or a phone (`id_number`, `phone`, `mobile`,
  `证件号码`, `身份证号`, `手机`, `联系电话`, ... in any case, with or without `_`/`-`) by
  `{"redacted": "id_number" | "phone", "masked": "110***********123X", "hash": "<keyed hash>"}`;
- in every other string (and in a payload that is plain text) replaces each 18-character ID-like run
  (17 digits and a digit or X) and each mainland-mobile-like run (11 digits 1[3-9]…, optionally
  +86 and separators) by `[id_number 110***********123X <hash>]` / `[phone 138****5678 <hash>]`.

The hashes are `estatehub.pii.PiiHasher` HMACs of the normalised value under the kinds `id_number` and
`phone` — the same values `core_buyer.id_hash` and `phone_hash` hold, so a redacted payload can still
be matched to a person.

`stored_payload` gives what the raw layer keeps of a payload: the canonical JSON of the redacted
payload and `payload_hash`, the keyed HMAC of that same text. Hashing the redacted form rather than
the payload as received costs one serialisation instead of two and loses nothing: the redacted form
carries the keyed hashes of the ID numbers and phones it replaced, so equal payloads give equal
hashes and payloads that differ (in an ID number too) give different ones. Only payloads that differ
in the *formatting* of an ID number or phone (`138 1234 5678` and `13812345678`, a lower-case `x`) —
or in a NUL against a U+FFFD — redact to the same text and count as one payload. Nothing can be
guessed from the hash: it is keyed.

For a source whose payloads have a known shape (a `PayloadShape`: which keys hold an ID number or a
phone, which hold objects, lists of objects or plain values), `stored_payload` redacts those keys
directly instead of walking every value, then checks the text: a payload with an unknown key, a
value of another type, an escape or anything ID-like or mobile-like left anywhere goes through the
full walk instead. Both ways give the same text.

NUL characters become U+FFFD (PostgreSQL's jsonb refuses them). Generic: every source uses it.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any

import msgspec

from connectors.identity import (
    InvalidIdentifier,
    mask_account,
    mask_id,
    mask_phone,
    normalize_account,
    normalize_id_number,
    validate_phone,
    validate_resident_id,
)
from estatehub.pii import PiiHasher

ID_NUMBER = "id_number"
PHONE = "phone"
PAYLOAD = "payload"

_ID_KEYS = frozenset(
    {
        "idnumber",
        "idno",
        "idnum",
        "idcard",
        "idcardno",
        "idcardnumber",
        "identitynumber",
        "identityno",
        "identitycard",
        "证件号码",
        "证件号",
        "证照号码",
        "身份证",
        "身份证号",
        "身份证号码",
        "身份证件号码",
    }
)
_PHONE_KEYS = frozenset(
    {
        "phone",
        "phoneno",
        "phonenumber",
        "mobile",
        "mobileno",
        "mobilephone",
        "cellphone",
        "tel",
        "telno",
        "telephone",
        "手机",
        "手机号",
        "手机号码",
        "电话",
        "电话号码",
        "联系电话",
        "联系方式",
        "移动电话",
    }
)
_KEY_NOISE = re.compile(r"[\s_\-.]")
CARD = "account"  # a bank card's number: the keyed hash has the kind the statements' payer accounts have
_RUN = re.compile(
    r"(?<!\d)(?:(?P<card>\d{4}(?:[ -]?\d{4}){3}(?:[ -]?\d{1,3})?)(?![\dXx])|(?P<id>\d{17}[\dXx])"
    r"|(?P<phone>(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}))(?!\d)"
)


def canonical_json(payload: Any) -> str:
    """The canonical JSON text of a payload: sorted keys, no spaces, UTF-8 characters kept."""
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def payload_hash(hasher: PiiHasher, payload: Any) -> str:
    """Keyed HMAC of the canonical JSON of the redacted payload (see `stored_payload`)."""
    return stored_payload(hasher, payload)[1]


def stored_payload(
    hasher: PiiHasher,
    payload: Any,
    shape: PayloadShape | None = None,
    known: Mapping[tuple[str, str], dict[str, str]] | None = None,
) -> tuple[str, str]:
    """(the canonical JSON of the redacted payload, its keyed HMAC): what the raw layer stores.

    With a `shape`, a payload of that shape is redacted without the full walk; see the module doc.
    `known`: the stored form (`redact_value`) of ID numbers and phones the caller has already, by
    (kind, value as in the payload); the shaped redaction takes them instead of normalising and
    hashing those values again (`redacted_normalized` makes them from a connector's normalised value).
    """
    text = None
    if shape is not None:
        digests: list[str] = []
        try:
            text = _shaped_json(_redact_shaped(hasher, payload, shape, digests, known or _NOTHING_KNOWN))
        except _NotShaped:
            text = None
        if text is not None and _may_hold_a_run(text, digests):
            text = None
    if text is None:
        text = _walked_json(hasher, payload)
    return text, hasher.hash(PAYLOAD, text)


@functools.lru_cache(maxsize=8192)
def normalize_phone(value: str) -> str:
    """11 digits for a mainland mobile (separators and +86 dropped); other values stripped as they are."""
    try:
        return validate_phone(value)
    except InvalidIdentifier:
        return value.strip()


# normalising takes a few calls: remember the recent results
_normalized_id = functools.lru_cache(maxsize=8192)(normalize_id_number)


# a record's ID numbers and phones are hashed twice (its redacted payload, its staging rows)
@functools.lru_cache(maxsize=8192)
def _keyed_hash(hasher: PiiHasher, kind: str, value: str) -> str:
    return hasher.hash(kind, value)


def hash_id_number(hasher: PiiHasher, value: str) -> str:
    """The keyed hash that identifies a person or company by ID number across every source."""
    return _keyed_hash(hasher, ID_NUMBER, _normalized_id(value))


def hash_phone(hasher: PiiHasher, value: str) -> str:
    return _keyed_hash(hasher, PHONE, normalize_phone(value))


def hash_normalized(hasher: PiiHasher, kind: str, value: str) -> str:
    """`hash_id_number` / `hash_phone` of a value a connector has already normalised (`validate_identifier`,
    `validate_phone`): the same hash without normalising again."""
    return _keyed_hash(hasher, kind, value)


def redacted_normalized(hasher: PiiHasher, kind: str, value: str) -> dict[str, str]:
    """`redact_value` of a value a connector has already normalised, without normalising it again: the
    same stored form for any value as received that normalises to `value`."""
    masked = mask_id(value) if kind == ID_NUMBER else mask_phone(value)
    return {"redacted": kind, "masked": masked, "hash": _keyed_hash(hasher, kind, value)}


def mask_id_number(value: str) -> str:
    return mask_id(_normalized_id(value))


def mask_phone_number(value: str) -> str:
    return mask_phone(normalize_phone(value))


@functools.lru_cache(maxsize=4096)
def sensitive_kind(key: str) -> str | None:
    """`id_number` or `phone` when a JSON key names one, else None."""
    name = _KEY_NOISE.sub("", key).lower()
    if name in _ID_KEYS:
        return ID_NUMBER
    if name in _PHONE_KEYS:
        return PHONE
    return None


def redact_value(hasher: PiiHasher, kind: str, value: str) -> dict[str, str]:
    """The stored form of one ID number or phone: its kind, masked form and keyed hash."""
    normal = _normalized_id(value) if kind == ID_NUMBER else normalize_phone(value)
    return redacted_normalized(hasher, kind, normal)


def redact_text(hasher: PiiHasher, text: str) -> str:
    """`text` with every ID-like and mobile-like run replaced by its masked form and keyed hash."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if len(text) < 11:
        return text
    if len(text) <= _REMEMBERED_TEXT:
        return _redacted_short_text(hasher, text)
    return _redacted_text(hasher, text)


# a bulk load meets the same texts again and again (an account's name and number, a time, a voucher's memo
# on each of its lines, then in its staging row): the recent short ones are remembered
_REMEMBERED_TEXT = 200


def _redacted_text(hasher: PiiHasher, text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        card = match.group("card")
        if card is not None:
            number = normalize_account(card)
            if len(number) == 18 and not (luhn_valid(number) and not _looks_like_id(number)):
                kind = ID_NUMBER  # 18 digits: an ID number (a mistyped one too) unless it can only be a card
            elif luhn_valid(number):
                return f"[{CARD} {mask_account(number)} {_keyed_hash(hasher, CARD, number)}]"
            else:
                return card  # 16, 17 or 19 digits that are no card: an account or reference number of a business
        else:
            kind = ID_NUMBER if match.group("id") else PHONE
        stored = redact_value(hasher, kind, match.group(0))
        return f"[{kind} {stored['masked']} {stored['hash']}]"

    return _RUN.sub(replace, text)


_redacted_short_text = functools.lru_cache(maxsize=16_384)(_redacted_text)


def redact_free_text(hasher: PiiHasher, text: str | None) -> str | None:
    """`redact_text` of a column a person typed (a memo, a reason, an address), which may be empty."""
    return redact_text(hasher, text) if text else text


def luhn_valid(number: str) -> bool:
    """Whether a run of digits passes the Luhn check that bank card numbers (16 to 19 digits) carry."""
    if not number.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _looks_like_id(number: str) -> bool:
    try:
        validate_resident_id(number)
    except InvalidIdentifier:
        return False
    return True


def redact_payload(hasher: PiiHasher, payload: Any) -> Any:
    """A copy of a JSON payload (object, array or text) that is safe to store; see the module doc."""
    return _walk(hasher, payload, [])


def _walked_json(hasher: PiiHasher, payload: Any) -> str:
    """`canonical_json(redact_payload(hasher, payload))`, by msgspec where it writes the same text.

    msgspec writes what `json.dumps` writes for text keys and for text (every character, escapes alike),
    integer, boolean and null values, and for floats of 0 and from 1e-4 to under 1e16 (both the shortest
    digits that read back, without an exponent) — but not a float with an exponent (`1e16` against
    `1e+16`), NaN (null against `NaN`), a key or value of another type (a `datetime`: ISO against `str`).
    The walk notes those (`odd`), and they take `json.dumps`; so does a value msgspec refuses (a lone
    surrogate: `_shaped_json`). Both ways give the same text (`tests/warehouse/test_redact_json.py`)."""
    odd: list[Any] = []
    redacted = _walk(hasher, payload, odd)
    if not odd:
        try:
            return _shaped_json(redacted)
        except _NotShaped:
            pass
    return canonical_json(redacted)


def _walk(hasher: PiiHasher, payload: Any, odd: list[Any]) -> Any:
    """`redact_payload`, noting in `odd` a key or value whose JSON msgspec may write otherwise than `json`."""
    kind = type(payload)
    if kind is dict:
        # the hot loop of a bulk load: inlined type checks, one dict lookup per key
        redacted = {}
        for key, value in payload.items():
            sensitive = _key_kinds.get(key, _UNSEEN)
            if sensitive is _UNSEEN:
                if type(key) is not str:
                    odd.append(key)  # `json` sorts and writes other keys its own way
                sensitive = _remember_key(key)
            if sensitive is not None:
                redacted[key] = stored = _redact_sensitive(hasher, sensitive, value)
                if stored is value and type(value) is dict:
                    odd.append(value)  # kept as it came (redacted before): its values are not walked
                continue
            value_kind = type(value)
            if value_kind is str:
                short = len(value) < 11 and "\x00" not in value
                redacted[key] = value if short else redact_text(hasher, value)
            elif value is None or value_kind in _SCALARS:
                redacted[key] = value
            elif value_kind is float:
                if not _plain_float(value):
                    odd.append(value)
                redacted[key] = value
            else:
                redacted[key] = _walk(hasher, value, odd)
        return redacted
    if kind is list or kind is tuple:
        return [_walk(hasher, item, odd) for item in payload]
    if kind is str:
        return redact_text(hasher, payload) if len(payload) >= 11 or "\x00" in payload else payload
    if isinstance(payload, str | dict | list | tuple):  # subclasses
        return _walk(hasher, _plain(payload), odd)
    if payload is not None and kind not in _SCALARS and not (kind is float and _plain_float(payload)):
        odd.append(payload)
    return payload


def _plain_float(value: float) -> bool:
    """Whether `json` and msgspec write the float alike: 0, or from 1e-4 to under 1e16 (no exponent; not NaN)."""
    return 1e-4 <= abs(value) < 1e16 or value == 0.0


_SCALARS = (int, bool)
_UNSEEN = object()
_key_kinds: dict[Any, str | None] = {}


def _remember_key(key: Any) -> str | None:
    """Whether a key names an ID number or a phone; a text key's answer is remembered (others are asked each
    time, so that the walk notes them every time)."""
    if type(key) is not str:
        return None
    kind = sensitive_kind(key)
    if len(_key_kinds) < 10_000:
        _key_kinds[key] = kind
    return kind


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return dict(value)
    return list(value)


def _redact_sensitive(hasher: PiiHasher, kind: str, value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str | int):
        text = str(value)
        return redact_value(hasher, kind, text) if text.strip() else text
    if isinstance(value, list | tuple):
        return [_redact_sensitive(hasher, kind, item) for item in value]
    if isinstance(value, dict) and value.get("redacted") == kind and "hash" in value:
        return value  # already redacted
    if isinstance(value, dict):
        return {key: _redact_sensitive(hasher, kind, item) for key, item in value.items()}
    return redact_value(hasher, kind, str(value))


# -- payloads of a known shape ---------------------------------------------------------------------


class PayloadShape:
    """The shape of a source's JSON objects: for each key, what its value is —

    - `None`: a plain value (string, number, boolean or null);
    - `ID_NUMBER` / `PHONE`: an ID number / a phone (a string or null), stored redacted;
    - a `PayloadShape`: an object of that shape, or null;
    - `[PayloadShape]`: a list of objects of that shape, or null.

    A key that `sensitive_kind` reads as an ID number or a phone must be declared as one (and only
    such a key), so that the shaped redaction and the full walk agree.
    """

    __slots__ = ("fields", "keys", "other", "plain")

    def __init__(self, fields: dict[str, Any]) -> None:
        for key, spec in fields.items():
            kind = spec if spec in (ID_NUMBER, PHONE) else None
            if sensitive_kind(key) != kind:
                raise ValueError(
                    f"key {key!r}: expected it declared as {sensitive_kind(key) or 'a plain value or a child'}, "
                    f"got {spec!r}"
                )
            if isinstance(spec, list) and (len(spec) != 1 or not isinstance(spec[0], PayloadShape)):
                raise ValueError(f"key {key!r}: expected a list of one PayloadShape, got {spec!r}")
            if spec is not None and not isinstance(spec, str | list | PayloadShape):
                raise ValueError(f"key {key!r}: expected None, {ID_NUMBER!r}, {PHONE!r} or a shape, got {spec!r}")
        self.fields = dict(fields)
        self.keys = frozenset(fields)
        self.plain = tuple(key for key, spec in fields.items() if spec is None)
        self.other = tuple((key, spec) for key, spec in fields.items() if spec is not None)


class _NotShaped(Exception):
    """The payload does not have the shape: the full walk redacts it."""


# no float: msgspec writes an exponent as `1e16` where `json` writes `1e+16` (a payload with a float
# takes the full walk; the network's numbers are integers and decimal strings)
_PLAIN = frozenset({str, int, bool, type(None)})
_SORTED_JSON = msgspec.json.Encoder(order="sorted")


def _shaped_json(redacted: Any) -> str:
    """`canonical_json` of a shaped payload (plain values only, no float), several times faster: the same
    text wherever it holds no backslash — the same compact separators, keys sorted by code point, UTF-8
    kept — and a text with a backslash (an escape, where the two may differ) takes the full walk
    (`_may_hold_a_run`). A value msgspec refuses (a lone surrogate) takes the full walk too."""
    try:
        return _SORTED_JSON.encode(redacted).decode()
    except (msgspec.EncodeError, UnicodeError, TypeError) as exc:
        raise _NotShaped from exc


# Necessary conditions of a `_RUN` match, each found much faster than `_RUN` itself (which tries its
# look-behind at every character): eleven ASCII digits in a row (any ID-like run of ASCII digits has
# them; found in the UTF-8 text with every ASCII digit made a 0, by C loops), a mobile-like run of
# ASCII digits, or a non-ASCII decimal digit (`\d` matches full-width digits too).
_ELEVEN_DIGITS = b"0" * 11
_DIGITS_TO_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_ASCII_MOBILE = re.compile(r"1[3-9][0-9][\s-]?[0-9]{4}[\s-]?[0-9]{4}")
# a card with a separator anywhere between its groups of four (4-4-4-4, 8-4-4, 4-12, ...): any such run
# has four digits, a space or dash and four digits (without one it has eleven digits in a row); in the
# digits-made-0 bytes, for ASCII digits (a non-ASCII digit sends the text to the full walk anyway)
_SPACED_CARD = (b"0000 0000", b"0000-0000")
_OTHER_DIGIT = re.compile(r"[^\x00-\x7f](?<=\d)")


def _may_hold_a_run(text: str, digests: list[str]) -> bool:
    """Whether the values in a canonical JSON text may hold an ID-like or mobile-like run, or an
    escaped character (a NUL, a line break inside a run): then only the full walk can tell.

    Without a backslash every value stands in the text as it is, between quotes that are not digits,
    so a run in a value is a run of the text. The keyed hashes the shaped redaction wrote (hex, which
    can hold eleven digits in a row) are left out of the search.
    """
    if "\\" in text:
        return True
    for digest in digests:
        text = text.replace(digest, "")
    zeroed = text.encode().translate(_DIGITS_TO_ZERO)
    return bool(
        _ELEVEN_DIGITS in zeroed
        or _SPACED_CARD[0] in zeroed
        or _SPACED_CARD[1] in zeroed
        or _ASCII_MOBILE.search(text)
        or _OTHER_DIGIT.search(text)
    )


def _check_plain(payload: Any, shape: PayloadShape) -> None:
    """`_NotShaped` unless `payload` is an object with only the shape's keys and plain values under its
    plain keys (checked in C: no loop in Python)."""
    if (
        type(payload) is not dict
        or not payload.keys() <= shape.keys
        or not _PLAIN.issuperset(map(type, map(payload.get, shape.plain)))
    ):
        raise _NotShaped


_NOTHING_KNOWN: Mapping[tuple[str, str], dict[str, str]] = {}


def _redact_shaped(
    hasher: PiiHasher,
    payload: Any,
    shape: PayloadShape,
    digests: list[str],
    known: Mapping[tuple[str, str], dict[str, str]],
) -> Any:
    """The payload with the shape's ID numbers and phones redacted (their hashes appended to `digests`;
    a value in `known` taken from there); objects without any are shared, not copied (the result is only
    serialised). Strings are not scanned here: `stored_payload` checks the text."""
    _check_plain(payload, shape)
    copy = None
    for key, spec in shape.other:
        value = payload.get(key)
        if value is None:
            continue
        if type(spec) is PayloadShape and not spec.other:  # an object of plain values: kept as it is
            _check_plain(value, spec)
            continue
        if type(spec) is list and not spec[0].other:  # a list of such objects
            if type(value) is not list:
                raise _NotShaped
            item_keys, item_plain = spec[0].keys, spec[0].plain
            for item in value:  # `_check_plain`, inlined: lists of them are long
                if (
                    type(item) is not dict
                    or not item.keys() <= item_keys
                    or not _PLAIN.issuperset(map(type, map(item.get, item_plain)))
                ):
                    raise _NotShaped
            continue
        if type(spec) is str:
            if type(value) is not str:
                raise _NotShaped
            new = known.get((spec, value))
            if new is None:
                if not value.strip():
                    continue
                new = redact_value(hasher, spec, value)
            digests.append(new["hash"])
        elif type(spec) is list:
            if type(value) is not list:
                raise _NotShaped
            new = [_redact_shaped(hasher, item, spec[0], digests, known) for item in value]
        else:
            new = _redact_shaped(hasher, value, spec, digests, known)
            if new is value:
                continue
        if copy is None:
            copy = dict(payload)
        copy[key] = new
    return payload if copy is None else copy
