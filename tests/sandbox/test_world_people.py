"""Buyers in the world: valid, clearly fake identifiers, and the mix of buyer kinds."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest

from connectors.identity import validate_phone, validate_resident_id, validate_uscc
from sandbox.world import generate_world, open_world


@pytest.fixture(scope="module")
def buyers(tmp_path_factory):
    info = generate_world(tmp_path_factory.mktemp("people") / "world.sqlite", units=3000, seed=11)
    with open_world(info.path) as store:
        return [doc["buyers"] for doc in store.iter_docs() if doc["contract_type"] == "认购"]


def all_buyers(buyers):
    return [buyer for group in buyers for buyer in group]


def test_every_resident_id_passes_gb11643_and_is_clearly_fake(buyers):
    residents = [b for b in all_buyers(buyers) if b["id_type"] == "身份证"]
    assert residents
    for buyer in residents:
        number = validate_resident_id(buyer["id_number"])
        assert number.startswith("99"), "no real area code starts with 99"
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        assert date(1955, 1, 1) <= born <= date(2007, 12, 31)


def test_every_company_credit_code_passes_gb32100(buyers):
    companies = [b for b in all_buyers(buyers) if b["id_type"] == "统一社会信用代码"]
    assert companies
    for buyer in companies:
        assert validate_uscc(buyer["id_number"])[2:4] == "99"
        assert buyer["name"].endswith("有限公司")


def test_phones_are_valid_mobiles_in_a_fake_range(buyers):
    phones = [b["phone"] for b in all_buyers(buyers) if b["phone"] is not None]
    for phone in phones:
        assert validate_phone(phone).startswith("1990")
    assert all(b["phone"] for b in all_buyers(buyers) if b["id_type"] != "统一社会信用代码")


def test_shares_add_up_to_one_hundred_and_one_primary(buyers):
    for group in buyers:
        assert sum(Decimal(b["share"]) for b in group) == Decimal("100.00")
        assert [b["is_primary"] for b in group].count(True) == 1
        assert group[0]["is_primary"]


def test_buyer_mix_is_plausible(buyers):
    kinds = Counter()
    for group in buyers:
        if group[0]["id_type"] == "统一社会信用代码":
            kinds["company"] += 1
        elif group[0]["id_type"] == "护照":
            kinds["passport"] += 1
        elif len(group) == 2:
            kinds["couple"] += 1
        else:
            kinds["single"] += 1
    total = sum(kinds.values())
    assert 0.24 <= kinds["couple"] / total <= 0.36
    assert 0.015 <= kinds["company"] / total <= 0.06
    assert 0 < kinds["passport"] / total <= 0.03


def test_spouses_are_of_the_other_sex(buyers):
    for group in buyers:
        if len(group) == 2:
            first, second = (int(b["id_number"][16]) % 2 for b in group)
            assert first != second


def test_one_passport_number_is_one_person(buyers):
    """Decision 0036: drawn at random from a million, two holders shared a number in a world of 100,000
    contracts; the number now follows the buyer's serial, distinct below a million serials (62,500 units)."""
    from sandbox.world.people import passport_number

    holders: dict[str, set[str]] = {}
    for buyer in all_buyers(buyers):
        if buyer["id_type"] == "护照":
            holders.setdefault(buyer["id_number"], set()).add(buyer["name"])
    assert holders and all(len(names) == 1 for names in holders.values())
    assert all(number.startswith("X99") and len(number) == 9 for number in holders)
    assert len({passport_number(serial) for serial in range(1_000_000)}) == 1_000_000
