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


# Keyed-hash vectors computed outside the code under test, with OpenSSL:
#   printf %s 'id_number:11010519491231002X' | openssl dgst -sha256 -hmac 'vector-key-Q7m2Zx9LpW4Rt8Nc3Vb6Hd'
# (the message is `<kind>:<normalised value>`). A plain SHA-256, another kind prefix or a normalisation
# that changed would all give other values.
VECTOR_KEY = b"vector-key-Q7m2Zx9LpW4Rt8Nc3Vb6Hd"
ID_VECTOR = "a0c74fb545a7e18dbf0b5fe9083b3486c2b8f72ce77a2f5b9cbb2ae4e3dadc43"
PHONE_VECTOR = "10db947ddc1add7cf9520c2c414a468e939e82b733192963f13519589bd30d4f"
ACCOUNT_VECTOR = "8633c23f574f54924989268f81cdaf14e8a4803d303cb985a84f35973e1413e2"


def test_the_keyed_hash_of_an_id_number_matches_an_independent_hmac():
    from estatehub.warehouse.redact import hash_id_number

    hasher = PiiHasher(VECTOR_KEY)
    assert hash_id_number(hasher, "11010519491231002X") == ID_VECTOR
    assert hash_id_number(hasher, "11010519491231002x") == ID_VECTOR, "a lower-case x is the same person"


def test_the_keyed_hash_of_a_phone_matches_an_independent_hmac():
    from estatehub.warehouse.redact import hash_phone

    hasher = PiiHasher(VECTOR_KEY)
    assert hash_phone(hasher, "13800138000") == PHONE_VECTOR
    assert hash_phone(hasher, "+86 138-0013-8000") == PHONE_VECTOR, "prefix and separators are dropped"


def test_the_keyed_hash_of_a_counterparty_account_matches_an_independent_hmac():
    from datetime import UTC, date, datetime
    from decimal import Decimal

    from connectors.banks.records import StatementLine
    from estatehub.banks.statements.lines import line_row

    line = StatementLine(
        bank="icbc",
        layout="icbc_csv",
        account_no="4000021209200123456",
        file_name="f.csv",
        line_no=3,
        booked_on=date(2026, 3, 2),
        value_on=None,
        booked_time=None,
        direction="in",
        amount=Decimal("100.00"),
        currency="CNY",
        balance=None,
        counterparty_name="张三",
        counterparty_account="6222 0212 3456 7890 128",
        counterparty_bank=None,
        summary=None,
        memo=None,
        serial=None,
        channel=None,
        line_key="0123456789abcdef0123456789abcdef",
        raw=(),
    )
    row = line_row(PiiHasher(VECTOR_KEY), line, 1, datetime(2026, 3, 2, tzinfo=UTC))
    assert row["counterparty_account_hash"] == ACCOUNT_VECTOR
    assert row["counterparty_account"] == "6222***********0128"
