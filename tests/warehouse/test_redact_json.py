"""The stored text of a walked payload: msgspec's where it writes what `json.dumps` writes, the same text always.

`redact.stored_payload` writes the canonical JSON of a payload that took the full walk by msgspec, unless the
walk or the text says the two writers may differ; the raw layer keys a payload by the hash of that text, so a
text that changed would store every record of a source again. Each case here is one way they differ.
"""

from __future__ import annotations

import math
import random
import struct
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import IntEnum

import pytest

from estatehub.pii import PiiHasher
from estatehub.warehouse import redact
from estatehub.warehouse.redact import canonical_json, redact_payload, stored_payload
from tests.support.trading_network_fakes import person_id_number, person_phone

HASHER = PiiHasher(b"redaction-json-tests-key-0123456789")


def _canonical(payload):
    return canonical_json(redact_payload(HASHER, payload))


class _Kind(IntEnum):
    ONE = 1


class _Text(str):
    pass


VOUCHER_LINE = {  # a ledger voucher line as the ERP sends it: its amounts are floats
    "FEntity_FEntryID": 2,
    "FDate": "2025-01-07T00:00:00",
    "FEXPLANATION": "1栋 1单元 1302诚意金 杨慧 " + person_phone(7),
    "FACCOUNTID.FBankAcctNo": "4000021209302551551",
    "FDEBIT": 10000.0,
    "FCREDIT": 0.0,
    "FDetailID.FFLEX6.FNumber": None,
    "FDocumentStatus": "C",
    "is_red": False,
}

ODD = [
    pytest.param({"amount": 1e16}, id="exponent: json 1e+16, msgspec 1e16"),
    pytest.param({"amount": 9.999e-05}, id="exponent: json 9.999e-05, msgspec 0.00009999"),
    pytest.param({"amount": -2.5e300}, id="a large negative exponent"),
    pytest.param({"amount": math.nan}, id="NaN: json NaN, msgspec null"),
    pytest.param({"amount": math.inf}, id="infinity"),
    pytest.param([1.0, [2.0, {"x": 1e-7}]], id="an exponent deep in lists"),
    pytest.param(1e20, id="a payload that is a float"),
    pytest.param({"at": datetime(2025, 1, 7, 8, 0, tzinfo=UTC)}, id="datetime: json str(), msgspec ISO"),
    pytest.param({"on": date(2025, 1, 7)}, id="date"),
    pytest.param({"amount": Decimal("10000.00")}, id="Decimal: json str(), msgspec a string too, maybe not alike"),
    pytest.param({"kind": _Kind.ONE}, id="an IntEnum"),
    pytest.param({1: "a", 2: "b"}, id="integer keys"),
    pytest.param({_Text("b"): 1, "a": 2}, id="a key of a str subclass"),
    pytest.param({"big": 2**70}, id="an integer over 64 bits"),
    pytest.param({"text": "a\nb", "quote": 'say "hi"'}, id="escapes"),
    pytest.param({"text": "\ud800 lone surrogate"}, id="a lone surrogate: msgspec refuses it"),
    pytest.param({"text": "NUL\x00 in text, and a tab\t"}, id="NUL and a tab"),
    pytest.param({"id_number": {"redacted": "id_number", "masked": "x", "hash": "y", "at": math.nan}}, id="redacted"),
]


@pytest.mark.parametrize("payload", ODD)
def test_a_payload_msgspec_would_write_otherwise_is_stored_as_json_writes_it(payload):
    assert redact._walked_json(HASHER, payload) == _canonical(payload)


def test_every_character_is_written_alike_by_both():
    every = "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code < 0xE000)
    payload = {"text": every, every: "key"}
    assert redact._walked_json(HASHER, payload) == _canonical(payload)


def test_a_plain_payload_is_written_by_msgspec_not_json(monkeypatch):
    def no_json(payload):
        raise AssertionError("json.dumps was asked")

    monkeypatch.setattr(redact, "canonical_json", no_json)
    text, _ = stored_payload(HASHER, VOUCHER_LINE)
    assert '"FDEBIT":10000.0' in text
    assert person_phone(7) not in text  # and it was redacted


def _value(rng: random.Random, depth: int):
    roll = rng.random()
    if depth < 3 and roll < 0.12:
        return {_key(rng): _value(rng, depth + 1) for _ in range(rng.randint(0, 5))}
    if depth < 3 and roll < 0.2:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if roll < 0.35:
        return rng.choice([None, True, False, 0, -1, rng.randint(-(2**63), 2**63 - 1)])
    if roll < 0.6:
        return rng.choice(
            [
                struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0],  # any double, NaN and infinities too
                round(rng.uniform(-1e9, 1e9), rng.randint(0, 6)),
                rng.uniform(-1, 1) * 10 ** rng.uniform(-8, 20),
                0.0,
                -0.0,
            ]
        )
    return rng.choice(
        [
            "",
            "收101-1-1501房款",
            "2025-01-07T00:00:00",
            "工商银行深圳南山支行监管户255155",
            "4000021209302551551",
            "6222 0212 3456 7894",
            person_id_number(rng.randint(1, 99)),
            f"付款人 {person_phone(rng.randint(1, 99))} 转账",
            'tab\tand quote" and backslash\\',
            "emoji 🏠 and U+2028\u2028",
            "\x7f delete",
            "".join(chr(rng.randint(0x20, 0x2FFF)) for _ in range(rng.randint(0, 12))),
        ]
    )


def _key(rng: random.Random) -> str:
    return rng.choice(["a", "B", "金额", "FDate", "phone", "id_number", "身份证号", "remark", "é", "Z9", "_x"])


def test_random_payloads_are_stored_as_json_writes_them():
    rng = random.Random(20261205)
    plain = 0
    for _ in range(5000):
        payload = {_key(rng): _value(rng, 0) for _ in range(rng.randint(0, 8))}
        odd: list = []
        redact._walk(HASHER, payload, odd)
        plain += not odd
        assert redact._walked_json(HASHER, payload) == _canonical(payload), payload
    assert 500 < plain < 4500  # both ways were taken, many times each
