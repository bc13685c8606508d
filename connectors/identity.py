"""Identifiers of people and companies (PIPL): validation and masked forms of ID numbers, credit
codes, phones and bank account or card numbers.

Pure functions, no I/O, shared by whoever needs the rules: the connectors validate what they read,
the sandbox generates valid numbers with the check digits, the hub masks what people see. The keyed
hash of an identifier is the hub's own business (`estatehub.pii.PiiHasher`): its key is a secret.
"""

from __future__ import annotations

import re
from datetime import date
from operator import mul

# GB 11643-1999, resident identity number: 17 digits and a check character.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")

# GB 32100-2015, unified social credit code: 17 characters and a check character over 31 symbols.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")

_PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
_PHONE_NOISE = re.compile(r"[\s\-]")

ID_TYPE_RESIDENT = "身份证"
ID_TYPE_USCC = "统一社会信用代码"


class InvalidIdentifier(ValueError):
    """An ID number, credit code or phone that does not pass its check."""


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of a resident ID number."""
    if len(first17) != 17 or not first17.isdigit():
        raise InvalidIdentifier(f"expected 17 digits, got {len(first17)} characters")
    return _ID_CHECK[sum(map(mul, map(int, first17), _ID_WEIGHTS)) % 11]  # 17 digits, 17 weights


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a unified social credit code."""
    try:
        total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    except ValueError as exc:
        raise InvalidIdentifier("a credit code has 17 characters from the GB 32100 set before its check") from exc
    return USCC_CHARSET[(31 - total % 31) % 31]


_FULL_WIDTH_TO_ASCII = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


def normalize_id_number(value: str) -> str:
    """Strip spaces and full-width characters; upper-case the trailing x."""
    text = value.strip().replace(" ", "").replace("\u3000", "")
    if not text.isascii():
        text = text.translate(_FULL_WIDTH_TO_ASCII)
    return text.upper()


def validate_resident_id(value: str) -> str:
    """Return the normalised 18-character resident ID number, or raise `InvalidIdentifier`."""
    number = normalize_id_number(value)
    if not _ID_RE.match(number):
        raise InvalidIdentifier(f"resident ID number must be 17 digits and a check digit; got {len(number)} chars")
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise InvalidIdentifier("resident ID number has an impossible birth date") from exc
    expected = id_check_char(number[:17])
    if number[17] != expected:
        raise InvalidIdentifier("resident ID number fails the GB 11643 check digit")
    return number


def validate_uscc(value: str) -> str:
    """Return the normalised unified social credit code, or raise `InvalidIdentifier`."""
    code = normalize_id_number(value)
    if not _USCC_RE.match(code):
        raise InvalidIdentifier("unified social credit code must be 18 characters of the GB 32100 set")
    if code[17] != uscc_check_char(code[:17]):
        raise InvalidIdentifier("unified social credit code fails the GB 32100 check character")
    return code


def validate_identifier(id_type: str, value: str) -> str:
    """Validate a buyer's identifier by its type; other document types (passport, ...) are kept as given."""
    if id_type == ID_TYPE_RESIDENT:
        return validate_resident_id(value)
    if id_type == ID_TYPE_USCC:
        return validate_uscc(value)
    number = normalize_id_number(value)
    if not number:
        raise InvalidIdentifier(f"{id_type} number is empty")
    return number


def validate_phone(value: str) -> str:
    """Return an 11-digit mainland mobile number (a +86 prefix and separators are dropped)."""
    digits = _PHONE_NOISE.sub("", value)
    if digits.startswith("+86"):
        digits = digits[3:]
    if not _PHONE_RE.match(digits):
        raise InvalidIdentifier("phone must be an 11-digit mainland mobile number")
    return digits


def mask_id(value: str) -> str:
    """`110***********123X`: first three and last four characters kept."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_phone(value: str) -> str:
    """`138****5678`."""
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


_ACCOUNT_NOISE = re.compile(r"[\s-]")


def normalize_account(value: str) -> str:
    """A bank account or card number as one run of characters: spaces and dashes dropped."""
    return _ACCOUNT_NOISE.sub("", value)


def mask_account(value: str) -> str:
    """`6217***********3333`: a bank card or account number (16–19 digits for a card) keeps its first
    four and last four characters; a shorter number (12 or fewer) only its last four."""
    number = normalize_account(value)
    if len(number) <= 4:
        return "*" * len(number)
    if len(number) <= 12:
        return "*" * (len(number) - 4) + number[-4:]
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_name(value: str) -> str:
    """`张*` for two characters, `张*三` for three, `欧阳**` keeps the first and last of longer names."""
    name = value.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
