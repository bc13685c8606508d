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
be matched to a person. `payload_hash` is the keyed HMAC of the canonical JSON of the payload *as
received* (before redaction): equal payloads, equal hashes, and nothing can be guessed from it.

NUL characters become U+FFFD (PostgreSQL's jsonb refuses them). Generic: every source uses it.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from estatehub.pii import InvalidIdentifier, PiiHasher, mask_id, mask_phone, normalize_id_number, validate_phone

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
_RUN = re.compile(r"(?<!\d)(?:(?P<id>\d{17}[\dXx])|(?P<phone>(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}))(?!\d)")


def canonical_json(payload: Any) -> str:
    """The canonical JSON text of a payload: sorted keys, no spaces, UTF-8 characters kept."""
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def payload_hash(hasher: PiiHasher, payload: Any) -> str:
    """Keyed HMAC of the canonical JSON of the payload as received."""
    return hasher.hash(PAYLOAD, canonical_json(payload))


@functools.lru_cache(maxsize=8192)
def normalize_phone(value: str) -> str:
    """11 digits for a mainland mobile (separators and +86 dropped); other values stripped as they are."""
    try:
        return validate_phone(value)
    except InvalidIdentifier:
        return value.strip()


# normalising builds a translation table on each call: remember the recent results
_normalized_id = functools.lru_cache(maxsize=8192)(normalize_id_number)


def hash_id_number(hasher: PiiHasher, value: str) -> str:
    """The keyed hash that identifies a person or company by ID number across every source."""
    return hasher.hash(ID_NUMBER, _normalized_id(value))


def hash_phone(hasher: PiiHasher, value: str) -> str:
    return hasher.hash(PHONE, normalize_phone(value))


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
    if kind == ID_NUMBER:
        return {"redacted": kind, "masked": mask_id_number(value), "hash": hash_id_number(hasher, value)}
    return {"redacted": kind, "masked": mask_phone_number(value), "hash": hash_phone(hasher, value)}


def redact_text(hasher: PiiHasher, text: str) -> str:
    """`text` with every ID-like and mobile-like run replaced by its masked form and keyed hash."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if len(text) < 11:
        return text

    def replace(match: re.Match[str]) -> str:
        kind = ID_NUMBER if match.group("id") else PHONE
        stored = redact_value(hasher, kind, match.group(0))
        return f"[{kind} {stored['masked']} {stored['hash']}]"

    return _RUN.sub(replace, text)


def redact_payload(hasher: PiiHasher, payload: Any) -> Any:
    """A copy of a JSON payload (object, array or text) that is safe to store; see the module doc."""
    kind = type(payload)
    if kind is dict:
        # the hot loop of a bulk load: inlined type checks, one dict lookup per key
        redacted = {}
        for key, value in payload.items():
            sensitive = _key_kinds.get(key, _UNSEEN)
            if sensitive is _UNSEEN:
                sensitive = _remember_key(key)
            if sensitive is not None:
                redacted[key] = _redact_sensitive(hasher, sensitive, value)
                continue
            value_kind = type(value)
            if value_kind is str:
                short = len(value) < 11 and "\x00" not in value
                redacted[key] = value if short else redact_text(hasher, value)
            elif value is None or value_kind in _SCALARS:
                redacted[key] = value
            else:
                redacted[key] = redact_payload(hasher, value)
        return redacted
    if kind is list or kind is tuple:
        return [redact_payload(hasher, item) for item in payload]
    if kind is str:
        return redact_text(hasher, payload) if len(payload) >= 11 or "\x00" in payload else payload
    if isinstance(payload, str | dict | list | tuple):  # subclasses
        return redact_payload(hasher, _plain(payload))
    return payload


_SCALARS = (int, float, bool)
_UNSEEN = object()
_key_kinds: dict[Any, str | None] = {}


def _remember_key(key: Any) -> str | None:
    kind = sensitive_kind(key) if isinstance(key, str) else None
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
