from __future__ import annotations

import json

import pytest

from estatehub.pii import PiiHasher
from estatehub.warehouse import redact
from estatehub.warehouse.redact import (
    ID_NUMBER,
    PayloadShape,
    canonical_json,
    hash_id_number,
    hash_phone,
    payload_hash,
    redact_payload,
    redact_text,
    stored_payload,
)
from tests.support.trading_network_fakes import person_id_number, person_phone

HASHER = PiiHasher(b"redaction-tests-key-0123456789-kQz")
ID = person_id_number(42)
PHONE = person_phone(42)
CARD = "6222021234567894"  # passes the Luhn check: a bank card's number


def test_id_numbers_and_phones_under_known_keys_become_masked_form_and_keyed_hash():
    payload = {
        "contract_no": "YS2026P01000123",
        "buyers": [{"name": "张三", "id_type": "身份证", "id_number": ID, "phone": PHONE, "share": "100.00"}],
    }
    redacted = redact_payload(HASHER, payload)
    buyer = redacted["buyers"][0]
    assert buyer["id_number"] == {
        "redacted": "id_number",
        "masked": ID[:3] + "*" * 11 + ID[-4:],
        "hash": hash_id_number(HASHER, ID),
    }
    assert buyer["phone"] == {
        "redacted": "phone",
        "masked": PHONE[:3] + "****" + PHONE[-4:],
        "hash": hash_phone(HASHER, PHONE),
    }
    assert buyer["name"] == "张三" and redacted["contract_no"] == "YS2026P01000123"
    assert payload["buyers"][0]["id_number"] == ID  # the input is not changed


def test_chinese_and_variant_keys_are_redacted_too():
    payload = {"证件号码": ID, "手机": PHONE, "联系电话": "+86 139-0000-0042", "ID-Number": ID, "mobileNo": 13900000042}
    redacted = redact_payload(HASHER, payload)
    assert {key: value["redacted"] for key, value in redacted.items()} == {
        "证件号码": "id_number",
        "手机": "phone",
        "联系电话": "phone",
        "ID-Number": "id_number",
        "mobileNo": "phone",
    }
    assert redacted["联系电话"]["hash"] == hash_phone(HASHER, PHONE) == hash_phone(HASHER, "13900000042")
    assert ID not in json.dumps(redacted) and PHONE not in json.dumps(redacted)


def test_a_text_payload_has_id_like_and_mobile_like_runs_redacted():
    text = f"<html>502 Bad Gateway: buyer {ID} tel {PHONE}, 备用 139 0000 0042; order 12345678901234567890</html>"
    redacted = redact_text(HASHER, text)
    assert ID not in redacted and PHONE not in redacted and "139 0000 0042" not in redacted
    assert f"[id_number {ID[:3]}{'*' * 11}{ID[-4:]} {hash_id_number(HASHER, ID)}]" in redacted
    assert f"[phone 139****0042 {hash_phone(HASHER, PHONE)}]" in redacted
    assert "12345678901234567890" in redacted  # a longer digit run is neither
    assert redact_payload(HASHER, text) == redacted


def test_free_text_values_under_other_keys_are_scanned_but_codes_and_amounts_are_kept():
    payload = {
        "reason": f"客户 {ID} 要求换房",
        "contract_no": "YS2026P01000123",
        "house_id": "P01-03-2-1502",
        "total_price": "4010400.00",
        "certificate_no": "粤（2026）深圳市不动产权第0000123号",
    }
    redacted = redact_payload(HASHER, payload)
    assert ID not in redacted["reason"] and "[id_number" in redacted["reason"]
    assert {k: v for k, v in redacted.items() if k != "reason"} == {k: v for k, v in payload.items() if k != "reason"}


def test_payload_hash_is_the_keyed_hmac_of_the_canonical_json_of_the_redacted_payload():
    one = {"b": [1, 2], "a": {"phone": PHONE, "名": "张三"}}
    same_in_another_order = {"a": {"名": "张三", "phone": PHONE}, "b": [1, 2]}
    assert canonical_json(one) == canonical_json(same_in_another_order)
    assert payload_hash(HASHER, one) == payload_hash(HASHER, same_in_another_order)
    stored = canonical_json(redact_payload(HASHER, one))
    assert stored_payload(HASHER, one) == (stored, HASHER.hash("payload", stored))
    assert payload_hash(HASHER, one) == HASHER.hash("payload", stored)
    assert payload_hash(HASHER, one) != payload_hash(PiiHasher(b"another-key-0123456789abcdefghij"), one)
    assert payload_hash(HASHER, one) != payload_hash(HASHER, {**one, "b": [2, 1]})
    # another phone, another hash: the redacted form carries the phone's keyed hash
    assert payload_hash(HASHER, one) != payload_hash(HASHER, {**one, "a": {"phone": person_phone(43), "名": "张三"}})


def test_nul_characters_are_replaced_so_postgresql_can_store_the_payload():
    assert redact_payload(HASHER, {"body": "trunc\x00ated"}) == {"body": "trunc\ufffdated"}


BUYER = PayloadShape({"name": None, "id_number": ID_NUMBER, "phone": redact.PHONE})
SHAPE = PayloadShape(
    {
        "contract_no": None,
        "note": None,
        "buyers": [BUYER],
        "price": PayloadShape({"total": None}),
        "plan": [PayloadShape({"seq": None})],
    }
)


def shaped_payload(**changes):
    payload = {
        "contract_no": "YS2026P01000123",
        "note": "客户要求换房",
        "buyers": [{"name": "张三", "id_number": ID, "phone": PHONE}, {"name": "李四", "id_number": ID, "phone": None}],
        "price": {"total": "4010400.00"},
        "plan": [{"seq": 1}, {"seq": 2}],
    }
    return {**payload, **changes}


@pytest.mark.parametrize(
    "payload",
    [
        shaped_payload(),
        shaped_payload(price=None, plan=[], buyers=[{"name": "王五", "id_number": " ", "phone": ""}]),
        # not of the shape: the full walk decides
        shaped_payload(extra_mobile=PHONE),
        shaped_payload(price={"total": "1", "手机": PHONE}),
        shaped_payload(plan=[{"seq": 1, "contact": {"phone": PHONE}}]),
        shaped_payload(note={"phone": PHONE}),
        shaped_payload(buyers=[{"name": "张三", "id_number": 110101199003070000, "phone": None}]),
        # of the shape, with something ID-like or mobile-like outside the declared keys
        shaped_payload(note=f"客户 {ID} 要求换房"),
        shaped_payload(note=f"备用 {PHONE[:3]} {PHONE[3:7]}-{PHONE[7:]}"),
        shaped_payload(note="备用 " + PHONE.translate({c: c + 0xFEE0 for c in range(0x30, 0x3A)})),
        shaped_payload(note=f"line\n{PHONE[:3]}\n{PHONE[3:7]}\n{PHONE[7:]}"),
        shaped_payload(note="trunc\x00ated", contract_no="order 12345678901234567890"),
        # a bank card (Luhn-valid) written in groups of 4, 8 and 4: no eleven digits in a row
        shaped_payload(note=f"退款卡号 {CARD[:4]} {CARD[4:12]}-{CARD[12:]}"),
        # values the shaped path writes with another JSON writer: the same text, or the full walk
        shaped_payload(note=1e16, contract_no=1e-07),
        shaped_payload(note=0.5, contract_no=-0.0),
        shaped_payload(note=10**30, contract_no=-(2**63) - 1),
        shaped_payload(note="段落\u2028分隔 \u00e9 \U0001f600 \x7f", contract_no=True),
        shaped_payload(note='引号 " 反斜杠 \\ 制表\t', contract_no="\x1f"),
    ],
)
def test_a_payload_of_a_known_shape_is_stored_as_the_full_walk_stores_it(payload):
    expected = canonical_json(redact_payload(HASHER, payload))
    assert stored_payload(HASHER, payload, SHAPE) == (expected, HASHER.hash("payload", expected))
    assert ID not in expected and PHONE not in expected and CARD[4:12] not in expected


def test_a_shape_must_declare_every_key_that_names_an_id_number_or_phone():
    with pytest.raises(ValueError, match="mobile"):
        PayloadShape({"mobile": None})
    with pytest.raises(ValueError, match="id_number"):
        PayloadShape({"id_number": redact.PHONE})


def test_a_payload_of_the_shape_without_runs_elsewhere_skips_the_full_walk(monkeypatch):
    walked = []
    monkeypatch.setattr(redact, "redact_payload", lambda hasher, payload: walked.append(payload))
    text, _ = stored_payload(HASHER, shaped_payload(), SHAPE)
    assert walked == [] and ID not in text and PHONE not in text and hash_id_number(HASHER, ID) in text


def test_a_remembered_text_is_redacted_under_each_key_apart():
    """`redact_text` remembers the recent short texts it redacted: a text met again under another key (another
    warehouse in the same process) gets that key's hashes, never the first one's."""
    other = PiiHasher(b"another-warehouse-key-0123456789-Zq")
    text = f"付款人 {PHONE} 转账"
    masked = redact.mask_phone_number(PHONE)
    first, again = redact_text(HASHER, text), redact_text(HASHER, text)
    assert first == again == f"付款人 [phone {masked} {hash_phone(HASHER, PHONE)}] 转账"
    assert redact_text(other, text) == f"付款人 [phone {masked} {hash_phone(other, PHONE)}] 转账"
    long = f"{'备注' * 120} {PHONE}"  # longer than what is remembered: redacted all the same
    assert hash_phone(other, PHONE) in redact_text(other, long) and PHONE not in redact_text(other, long)
