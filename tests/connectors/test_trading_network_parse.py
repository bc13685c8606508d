"""JSON contract → Contract, or QuarantineItem with a reason that names the field, expected and got."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from tn_fixtures import credit_code, make_contract, resident_id

from connectors.trading_network import Contract, QuarantineItem, parse_contract
from connectors.trading_network.records import SOURCE

X_CHECKED = "99010119880307102"  # 17 digits whose GB 11643 check character is X


def quarantined(raw) -> QuarantineItem:
    record = parse_contract(raw)
    assert isinstance(record, QuarantineItem), record
    assert record.source == SOURCE and record.entity == "contract"
    assert record.payload is raw
    return record


def full_detail() -> dict:
    """The API document's example, grown to every optional part: cancellation aside, all filled."""
    raw = make_contract("YS2026P01000123", "2026-09-01T10:00:00+08:00")
    raw["buyers"] = [
        {
            "name": "张三",
            "id_type": "身份证",
            "id_number": " " + resident_id(X_CHECKED).lower(),  # as typed: a space, a small x
            "phone": "+86 138-0013-8000",
            "share": "50.00",
            "is_primary": True,
        },
        {
            "name": "深圳市某某贸易有限公司",
            "id_type": "统一社会信用代码",
            "id_number": credit_code(),
            "phone": None,
            "share": "50.00",
            "is_primary": False,
        },
    ]
    raw["payment_plan"].append({"seq": 4, "kind": "补差", "due_on": "2026-09-15", "amount": "-12600.00", "bank": None})
    raw["handover"] = {
        "handed_over_on": "2026-09-01",
        "as_built_area": "88.84",
        "area_diff_amount": "-12600.00",
    }
    raw["registration"] = {
        "status": "办理中",
        "applied_on": "2026-09-01",
        "registered_on": None,
        "certificate_no": None,
    }
    raw["history"][-1]["at"] = "2026-03-20T09:30:00+08:00"
    return raw


def test_parse_of_a_full_detail_example():
    raw = full_detail()

    contract = parse_contract(raw)

    assert isinstance(contract, Contract)
    assert contract.contract_no == "YS2026P01000123"
    assert (contract.contract_type, contract.state, contract.payment_method) == ("预售", "已备案", "商贷")
    assert contract.updated_at == datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
    assert contract.signed_at == datetime(2026, 3, 12, 6, 3, tzinfo=UTC)
    assert contract.filed_at.tzinfo is UTC
    house = contract.house
    assert (house.project_code, house.project_name, house.house_id, house.floor) == (
        "P01",
        "滨江悦府",
        "P01-03-2-1502",
        15,
    )
    assert (house.building_area, house.inner_area, house.shared_area) == (
        Decimal("89.12"),
        Decimal("70.01"),
        Decimal("19.11"),
    )
    assert (contract.unit_price, contract.total_price, contract.deposit) == (
        Decimal("45000.00"),
        Decimal("4010400.00"),
        Decimal("50000.00"),
    )
    person, company = contract.buyers
    assert person.id_number == resident_id(X_CHECKED)  # normalised: trimmed, the x upper-cased
    assert person.id_number.endswith("X")
    assert person.phone == "13800138000"  # normalised: +86 and separators dropped
    assert company.is_company and company.phone is None
    assert [(p.seq, p.kind, p.amount) for p in contract.payment_plan][-1] == (4, "补差", Decimal("-12600.00"))
    assert contract.payment_plan[0].due_on == date(2026, 3, 1)
    assert [h.state for h in contract.history] == ["待签", "已签", "已备案"]
    assert contract.handover.as_built_area == Decimal("88.84")
    assert contract.handover.area_diff_amount == Decimal("-12600.00")
    assert contract.registration.status == "办理中" and contract.registration.registered_on is None
    assert contract.subscription_no == "RG2026P01000045" and contract.cancellation is None
    assert contract.payload is raw


def test_repr_of_a_contract_shows_no_id_number_or_phone():
    contract = parse_contract(full_detail())

    assert resident_id() not in repr(contract) and "13800138000" not in repr(contract)


def test_cancelled_contract_carries_its_cancellation():
    raw = make_contract(state="撤销")
    raw["history"].append(
        {"state": "撤销", "at": "2026-04-01T10:00:00+08:00", "reason_code": "换房退房", "reason": "换到 1602"}
    )
    raw["cancellation"] = {
        "cancelled_at": "2026-04-01T10:00:00+08:00",
        "reason_code": "换房退房",
        "reason": "换到 1602",
    }

    contract = parse_contract(raw)

    assert contract.cancellation.reason_code == "换房退房"
    assert contract.history[-1].reason_code == "换房退房"


def test_cancelled_contract_without_its_cancellation_is_quarantined():
    raw = make_contract(state="撤销")
    raw["history"].append({"state": "撤销", "at": "2026-04-01T10:00:00+08:00"})

    assert "cancellation: expected the cancellation of a contract in state 撤销" in quarantined(raw).reason


def test_subscription_plans_only_its_deposit_and_is_accepted():
    raw = make_contract("RG2026P01000045", contract_type="认购", payment_method=None, state="待签")
    raw["history"] = raw["history"][:1]
    raw["payment_plan"] = raw["payment_plan"][:1]
    raw["planned_signing_on"] = "2026-03-15"

    contract = parse_contract(raw)

    assert isinstance(contract, Contract) and contract.planned_signing_on == date(2026, 3, 15)


def test_bad_id_check_digit_is_quarantined_without_showing_the_number():
    raw = make_contract()
    good = raw["buyers"][0]["id_number"]
    raw["buyers"][0]["id_number"] = good[:17] + ("0" if good[17] != "0" else "1")

    item = quarantined(raw)

    assert "buyers[0].id_number: expected a valid number" in item.reason
    assert "check digit" in item.reason
    assert good[:17] not in item.reason and good[:6] not in item.reason
    assert item.key == "YS2026P01000123"
    assert item.updated_at == datetime(2026, 3, 20, 1, 30, tzinfo=UTC)


def test_bad_phone_is_quarantined_without_showing_the_phone():
    raw = make_contract()
    raw["buyers"][0]["phone"] = "12345"

    item = quarantined(raw)

    assert "buyers[0].phone: expected a valid number, got one that fails" in item.reason
    assert "12345" not in item.reason


def test_person_without_phone_is_quarantined_but_a_company_may_have_none():
    person = make_contract()
    person["buyers"][0]["phone"] = None
    company = make_contract()
    company["buyers"][0].update(id_type="统一社会信用代码", id_number=credit_code(), phone=None)

    assert "buyers[0].phone: expected a phone (only a company buyer may have none), got null" in (
        quarantined(person).reason
    )
    assert isinstance(parse_contract(company), Contract)


def test_payment_plan_that_does_not_add_up_is_quarantined():
    raw = make_contract()
    raw["payment_plan"][1]["amount"] = "1153000.00"

    item = quarantined(raw)

    assert (
        "payment_plan: expected the amounts to add up to total_price 4010400.00 = 4010400.00, "
        "got 4010280.00 (off by -120.00)"
    ) in item.reason


def test_true_up_line_must_match_the_handover():
    raw = full_detail()
    raw["handover"]["area_diff_amount"] = "-12000.00"

    assert "expected the 补差 line to equal handover.area_diff_amount -12000.00, got -12600.00" in (
        quarantined(raw).reason
    )


def test_true_up_line_without_a_handover_is_quarantined():
    raw = full_detail()
    raw["handover"] = None

    assert "expected a 补差 line only once the handover is recorded" in quarantined(raw).reason


def test_state_must_be_the_last_history_state():
    raw = make_contract(state="已签")

    assert "state: expected the state of the last history entry (已备案), got 已签" in quarantined(raw).reason


def test_history_out_of_time_order_is_quarantined():
    raw = make_contract()
    raw["history"][1]["at"] = "2026-03-01T00:00:00+08:00"

    assert "history[1].at: expected entries in time order" in quarantined(raw).reason


@pytest.mark.parametrize(
    ("where", "value", "expected"),
    [
        (
            ("price", "total_price"),
            "12万5千",
            "price.total_price: expected a decimal string like '4010400.00', got '12万5千'",
        ),
        (("price", "total_price"), "-4010400.00", "price.total_price: expected a number of zero or more"),
        (
            ("price", "unit_price"),
            "45000.005",
            "price.unit_price: expected at most 2 decimals, got '45000.005'",
        ),
        (("price", "unit_price"), "NaN", "price.unit_price: expected a decimal string"),
        (
            ("house", "building_area"),
            True,
            "house.building_area: expected a decimal string like '4010400.00', got true",
        ),
        (("house", "floor"), "15", "house.floor: expected a whole number, got '15'"),
        (("updated_at",), "2026-02-30T25:61:00+08:00", "updated_at: expected an ISO 8601 time with offset"),
        (("updated_at",), "2026-03-20T09:30:00", "updated_at: expected a time with an offset (+08:00)"),
        (("contract_type",), "抵押", "contract_type: expected one of 认购/预售/现售, got '抵押'"),
        (
            ("payment_method",),
            "现金",
            "payment_method: expected one of 一次性/分期/商贷/公积金/组合, got '现金'",
        ),
        (("planned_signing_on",), "2026-02-30", "planned_signing_on: expected a real calendar date"),
        (("buyers",), [], "buyers: expected at least 1 entries, got 0"),
        (("house",), None, "house: expected an object, got null"),
    ],
)
def test_bad_field_is_quarantined_with_a_reason_naming_field_expected_and_got(where, value, expected):
    raw = make_contract()
    holder = raw
    for name in where[:-1]:
        holder = holder[name]
    holder[where[-1]] = value

    assert expected in quarantined(raw).reason


def test_every_problem_of_a_record_is_named_once():
    raw = make_contract()
    raw["price"]["unit_price"] = "x"
    raw["house"]["room"] = ""

    reason = quarantined(raw).reason

    assert reason.startswith("contract YS2026P01000123: ")
    assert "price.unit_price" in reason and "house.room: expected a non-empty string, got an empty string" in reason


def test_missing_contract_no_gives_a_quarantine_item_without_key():
    raw = make_contract()
    del raw["contract_no"]

    item = quarantined(raw)

    assert item.key is None
    assert item.reason.startswith("contract (without contract_no): contract_no: expected a value")


def test_bad_updated_at_gives_a_quarantine_item_without_time():
    raw = make_contract()
    raw["updated_at"] = "yesterday"

    assert quarantined(raw).updated_at is None


@pytest.mark.parametrize("raw", ["junk", None, 42, ["a"]])
def test_a_record_that_is_not_an_object_is_quarantined(raw):
    record = parse_contract(raw)

    assert isinstance(record, QuarantineItem) and record.key is None
    assert record.reason.startswith("expected a JSON object for a contract, got")


def test_parsing_does_not_change_the_payload():
    raw = full_detail()
    before = copy.deepcopy(raw)

    parse_contract(raw)

    assert raw == before
