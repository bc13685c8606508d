"""Every contract document in the world: numbers, histories, prices, payment plans, handovers."""

from __future__ import annotations

import re
import sqlite3
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from sandbox.world import generate_world, open_world
from sandbox.world.contracts import ALLOWED_TRANSITIONS
from sandbox.world.view import utc_to_beijing_text

NUMBER = re.compile(r"^(RG|YS|XS)20\d\dP\d{2,3}\d{6}$")
PREFIX = {"认购": "RG", "预售": "YS", "现售": "XS"}
BJ_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")
UTC_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
MONEY = re.compile(r"^-?\d+\.\d\d$")
YUAN = Decimal("1")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    info = generate_world(tmp_path_factory.mktemp("contracts") / "world.sqlite", units=2000, seed=21)
    db = sqlite3.connect(info.path)
    units = {row[0]: row for row in db.execute("select house_id, delivery_on, building_area from units")}
    rows = db.execute("select contract_no, house_id, first_at from contracts").fetchall()
    events = defaultdict(list)
    for contract_no, at in db.execute("select contract_no, at from events order by at"):
        events[contract_no].append(at)
    with open_world(info.path) as store:
        docs = list(store.iter_docs())
    return {"info": info, "units": units, "rows": rows, "events": events, "docs": docs}


def main_contracts(world):
    return [doc for doc in world["docs"] if doc["contract_type"] != "认购"]


def day(text):
    return date.fromisoformat(text[:10])


def test_contract_numbers_are_unique_and_name_type_year_and_project(world):
    numbers = [doc["contract_no"] for doc in world["docs"]]
    assert len(numbers) == len(set(numbers))
    for doc in world["docs"]:
        number = doc["contract_no"]
        assert NUMBER.match(number), number
        assert number[:2] == PREFIX[doc["contract_type"]]
        assert number[2:6] == doc["history"][0]["at"][:4]
        assert number[6:].startswith(doc["project"]["code"])


def test_store_columns_agree_with_the_document(world):
    docs = {doc["contract_no"]: doc for doc in world["docs"]}
    for contract_no, house_id, first_at in world["rows"]:
        doc = docs[contract_no]
        assert house_id == doc["house"]["house_id"] in world["units"]
        assert UTC_TIME.match(first_at)
        assert utc_to_beijing_text(first_at) == doc["history"][0]["at"]


def test_histories_are_in_time_order_and_follow_allowed_transitions(world):
    for doc in world["docs"]:
        previous_state, previous_at = None, ""
        for entry in doc["history"]:
            assert BJ_TIME.match(entry["at"])
            assert entry["state"] in ALLOWED_TRANSITIONS[previous_state], (doc["contract_no"], entry)
            assert entry["at"] >= previous_at
            previous_state, previous_at = entry["state"], entry["at"]
        assert doc["state"] == previous_state


def test_subscriptions_never_go_past_signed(world):
    states = Counter(doc["state"] for doc in world["docs"] if doc["contract_type"] == "认购")
    assert set(states) == {"已签", "撤销"}


def test_document_fields_follow_the_history(world):
    for doc in world["docs"]:
        history = doc["history"]
        signed = [entry["at"] for entry in history if entry["state"] == "已签"]
        filed = [entry["at"] for entry in history if entry["state"] == "已备案"]
        assert doc["signed_at"] == (signed[0] if signed else None)
        assert doc["filed_at"] == (filed[0] if filed else None)
        if history[-1]["state"] == "撤销":
            last = history[-1]
            assert doc["cancellation"] == {
                "cancelled_at": last["at"], "reason_code": last["reason_code"], "reason": last["reason"]
            }  # fmt: skip
            assert last["reason_code"] in ("资金问题", "输入错误", "换房退房", "增减权益人", "楼盘表调整", "其他")
        else:
            assert doc["cancellation"] is None


def test_updated_at_is_the_last_event(world):
    for doc in world["docs"]:
        moments = world["events"][doc["contract_no"]]
        assert moments == sorted(set(moments))
        assert doc["updated_at"] == utc_to_beijing_text(moments[-1])
        assert utc_to_beijing_text(moments[0]) == doc["history"][0]["at"]


def test_total_price_is_unit_price_times_area_rounded_to_the_yuan(world):
    for doc in world["docs"]:
        price, house = doc["price"], doc["house"]
        for text in (*price.values(), house["building_area"], house["inner_area"], house["shared_area"]):
            assert MONEY.match(text)
        unit_price = Decimal(price["unit_price"])
        assert unit_price == unit_price.quantize(YUAN)
        expected = (unit_price * Decimal(house["building_area"])).quantize(YUAN, ROUND_HALF_UP)
        assert Decimal(price["total_price"]) == expected
        assert Decimal(house["inner_area"]) + Decimal(house["shared_area"]) == Decimal(house["building_area"])
        ratio = Decimal(house["inner_area"]) / Decimal(house["building_area"])
        assert Decimal("0.75") <= ratio <= Decimal("0.83")


def test_payment_plans_add_up_to_the_total_price(world):
    for doc in main_contracts(world):
        lines = doc["payment_plan"]
        assert [line["seq"] for line in lines] == list(range(1, len(lines) + 1))
        assert lines[0]["kind"] == "定金" and lines[0]["amount"] == doc["price"]["deposit"]
        contract_lines = [line for line in lines if line["kind"] != "补差"]
        assert sum(Decimal(line["amount"]) for line in contract_lines) == Decimal(doc["price"]["total_price"])
        assert all(Decimal(line["amount"]) >= 0 for line in contract_lines)


def test_payment_plans_match_their_method(world):
    banks = {"工商银行", "建设银行", "招商银行"}
    for doc in main_contracts(world):
        lines = doc["payment_plan"]
        kinds = [line["kind"] for line in lines if line["kind"] != "补差"]
        method = doc["payment_method"]
        expected = {
            "一次性": ["定金", "一次性"],
            "分期": ["定金", "首付", "分期", "分期", "分期"],
            "商贷": ["定金", "首付", "按揭"],
            "公积金": ["定金", "首付", "公积金"],
            "组合": ["定金", "首付", "按揭", "公积金"],
        }[method]
        assert kinds == expected, doc["contract_no"]
        total = Decimal(doc["price"]["total_price"])
        if "首付" in kinds:
            down = sum(Decimal(line["amount"]) for line in lines if line["kind"] in ("定金", "首付"))
            assert down >= total * Decimal("0.30")
            first_due = next(line["due_on"] for line in lines if line["kind"] == "首付")
            assert 7 <= (date.fromisoformat(first_due) - day(doc["signed_at"])).days <= 15
        for line in lines:
            if line["kind"] == "按揭":
                assert line["bank"] in banks
                assert Decimal(line["amount"]) % 10_000 == 0
            elif line["kind"] == "公积金":
                assert line["bank"] == "公积金中心"
            else:
                assert line["bank"] is None


def test_subscription_agreements_carry_the_deposit_and_a_planned_signing_date(world):
    for doc in world["docs"]:
        if doc["contract_type"] != "认购":
            assert doc["planned_signing_on"] is None
            continue
        deposit = Decimal(doc["price"]["deposit"])
        assert Decimal(20_000) <= deposit <= Decimal(100_000) and deposit % 10_000 == 0
        assert doc["payment_method"] is None and doc["subscription_no"] is None
        assert [line["kind"] for line in doc["payment_plan"]] == ["定金"]
        assert doc["payment_plan"][0]["amount"] == doc["price"]["deposit"]
        waiting = (date.fromisoformat(doc["planned_signing_on"]) - day(doc["history"][0]["at"])).days
        assert 7 <= waiting <= 20


def test_main_contracts_are_drafted_shortly_before_signing_near_the_planned_date(world):
    subscriptions = {doc["contract_no"]: doc for doc in world["docs"] if doc["contract_type"] == "认购"}
    checked = 0
    for doc in main_contracts(world):
        if doc["signed_at"] is None or doc["previous_contract_no"]:
            continue
        drafted, signed = day(doc["history"][0]["at"]), day(doc["signed_at"])
        assert 0 <= (signed - drafted).days <= 2
        planned = date.fromisoformat(subscriptions[doc["subscription_no"]]["planned_signing_on"])
        assert -6 <= (signed - planned).days <= 5
        checked += 1
    assert checked > 1000


def test_completed_sale_means_the_building_was_delivered_before_signing(world):
    for doc in main_contracts(world):
        delivery_on = date.fromisoformat(world["units"][doc["house"]["house_id"]][1])
        signed = day(doc["signed_at"] or doc["history"][-1]["at"])
        assert (doc["contract_type"] == "现售") == (delivery_on <= signed), doc["contract_no"]


def test_handover_follows_delivery_and_trues_up_the_area(world):
    handed = 0
    for doc in main_contracts(world):
        handover = doc["handover"]
        if handover is None:
            continue
        handed += 1
        delivery_on = date.fromisoformat(world["units"][doc["house"]["house_id"]][1])
        handed_on = date.fromisoformat(handover["handed_over_on"])
        assert handed_on >= max(delivery_on, day(doc["signed_at"]))
        assert utc_to_beijing_text(handover["at"])[:10] == handover["handed_over_on"]
        contract_area, built = Decimal(doc["house"]["building_area"]), Decimal(handover["as_built_area"])
        assert abs(built - contract_area) <= contract_area * Decimal("0.0101")
        diff = (built - contract_area) * Decimal(doc["price"]["unit_price"])
        assert Decimal(handover["area_diff_amount"]) == diff
        true_ups = [line for line in doc["payment_plan"] if line["kind"] == "补差"]
        if diff:
            assert [line["amount"] for line in true_ups] == [handover["area_diff_amount"]]
            assert true_ups[0]["visible_from"] == handover["at"]
        else:
            assert true_ups == []
    assert handed > 500


def test_registration_follows_handover_and_filing(world):
    registered = 0
    for doc in main_contracts(world):
        registration = doc["registration"]
        if registration is None:
            continue
        assert doc["handover"] is not None and doc["filed_at"] is not None
        applied = date.fromisoformat(registration["applied_on"])
        assert applied > date.fromisoformat(doc["handover"]["handed_over_on"])
        assert applied > day(doc["filed_at"])
        if registration["status"] == "已领证":
            registered += 1
            assert registration["registered_on"] > registration["applied_on"]
            assert registration["certificate_no"].startswith("粤（")
            assert doc["history"][-1] == {
                "state": "已领证", "at": utc_to_beijing_text(registration["registered_at"]),
                "reason_code": None, "reason": None,
            }  # fmt: skip
        else:
            assert registration["status"] == "办理中"
            assert registration["registered_at"] is None and registration["certificate_no"] is None
    assert registered > 300


def test_filing_happens_on_a_working_day_three_to_sixty_odd_days_after_signing(world):
    for doc in main_contracts(world):
        if doc["filed_at"] is None:
            continue
        filed = day(doc["filed_at"])
        assert filed.weekday() < 5
        assert 3 <= (filed - day(doc["signed_at"])).days <= 62


def test_payment_methods_have_realistic_shares(world):
    methods = Counter(doc["payment_method"] for doc in main_contracts(world))
    total = sum(methods.values())
    shares = {method: count / total for method, count in methods.items()}
    assert 0.15 <= shares["一次性"] <= 0.27
    assert 0.06 <= shares["分期"] <= 0.16
    assert 0.37 <= shares["商贷"] <= 0.52
    assert 0.06 <= shares["公积金"] <= 0.14
    assert 0.10 <= shares["组合"] <= 0.20


def test_every_moment_lies_inside_the_world_period(world):
    info = world["info"]
    start = datetime.combine(info.start_on, datetime.min.time()) - timedelta(hours=8)
    end = datetime.combine(info.end_on + timedelta(days=1), datetime.min.time()) - timedelta(hours=8)
    for moments in world["events"].values():
        assert start.isoformat() + "+00:00" <= moments[0] and moments[-1] < end.isoformat() + "+00:00"
