"""PIPL helpers: check digits, masks and keyed hashes."""

from __future__ import annotations

import pytest

from connectors import identity as pii
from estatehub.pii import PiiHasher

# GB 11643-1999 appendix example and a check digit of X; USCC of a well-known published example form
VALID_IDS = ["11010519491231002X", "440524188001010014"]


@pytest.mark.parametrize("number", VALID_IDS)
def test_validate_resident_id_accepts_numbers_with_the_right_check_digit(number):
    assert pii.validate_resident_id(number) == number


def test_validate_resident_id_normalises_full_width_digits_and_lower_case_x():
    assert pii.validate_resident_id("１１０１０５１９４９１２３１００２x") == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("110105194912310021", "check digit"),
        ("11010519491331002X", "birth date"),
        ("1101051949123100", "17 digits"),
        ("11010519491231002Y", "17 digits"),
    ],
)
def test_validate_resident_id_rejects_bad_numbers_without_echoing_them(number, why):
    with pytest.raises(pii.InvalidIdentifier) as error:
        pii.validate_resident_id(number)
    assert why in str(error.value)
    assert number not in str(error.value)


def test_id_check_char_matches_the_standard_weights():
    assert pii.id_check_char("11010519491231002") == "X"
    assert pii.id_check_char("44052418800101001") == "4"


def test_uscc_check_char_round_trips_and_a_changed_character_is_rejected():
    body = "91350100M000100Y4"
    code = body + pii.uscc_check_char(body)
    assert pii.validate_uscc(code) == code
    assert code == "91350100M000100Y43"
    tampered = code[:5] + ("1" if code[5] != "1" else "2") + code[6:]
    with pytest.raises(pii.InvalidIdentifier):
        pii.validate_uscc(tampered)


def test_validate_identifier_dispatches_on_the_id_type():
    assert pii.validate_identifier("身份证", VALID_IDS[0]) == VALID_IDS[0]
    with pytest.raises(pii.InvalidIdentifier):
        pii.validate_identifier("统一社会信用代码", VALID_IDS[0])
    assert pii.validate_identifier("护照", " e1234567 ") == "E1234567"


def test_validate_phone_drops_prefix_and_separators_and_rejects_landlines():
    assert pii.validate_phone("+86 138-0013-8000") == "13800138000"
    with pytest.raises(pii.InvalidIdentifier):
        pii.validate_phone("0755-88886666")


def test_masks_keep_only_the_ends():
    assert pii.mask_id("11010519491231002X") == "110***********002X"
    assert pii.mask_phone("13800138000") == "138****8000"
    assert pii.mask_name("张三") == "张*"
    assert pii.mask_name("张小三") == "张*三"
    assert pii.mask_name("欧阳小明") == "欧**明"


def test_keyed_hash_is_stable_per_key_and_differs_across_keys_and_kinds():
    one = PiiHasher(b"key-one-0123456789abcdefghijklmnop")
    two = PiiHasher(b"key-two-0123456789abcdefghijklmnop")
    assert one.hash("id", VALID_IDS[0]) == one.hash("id", VALID_IDS[0])
    assert one.hash("id", VALID_IDS[0]) != two.hash("id", VALID_IDS[0])
    assert one.hash("id", VALID_IDS[0]) != one.hash("phone", VALID_IDS[0])
    assert VALID_IDS[0] not in one.hash("id", VALID_IDS[0])
    assert one.fingerprint() != two.fingerprint()


def test_a_short_key_is_refused():
    with pytest.raises(ValueError):
        PiiHasher(b"short")
