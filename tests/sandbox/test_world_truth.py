"""The ground truth: every planted irregularity is recorded, matches the documents, at plausible rates."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from sandbox.world import GROUND_TRUTH_KINDS, generate_world, open_world


def load(path):
    with open_world(path) as store:
        docs = {doc["contract_no"]: doc for doc in store.iter_docs()}
        truth = list(store.iter_ground_truth())
        meta = store.meta
    return docs, truth, date.fromisoformat(meta["end_on"])


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return load(generate_world(tmp_path_factory.mktemp("demo") / "world.sqlite", units=300, seed=7).path)


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    return load(generate_world(tmp_path_factory.mktemp("large") / "world.sqlite", units=4000, seed=5).path)


def day(text):
    return date.fromisoformat(text[:10])


def by_kind(truth, kind):
    return {row.contract_no: row for row in truth if row.kind == kind}


def successors(docs):
    return {doc["previous_contract_no"]: doc for doc in docs.values() if doc["previous_contract_no"]}


def test_every_kind_is_planted_in_the_demo_world(demo):
    _, truth, _ = demo
    counts = Counter(row.kind for row in truth)
    assert set(counts) == set(GROUND_TRUTH_KINDS)
    assert all(counts[kind] >= 1 for kind in GROUND_TRUTH_KINDS)


def test_demo_world_has_plausible_counts(demo):
    docs, truth, _ = demo
    counts = Counter(row.kind for row in truth)
    main = sum(doc["contract_type"] != "认购" for doc in docs.values())
    assert 200 <= main <= 330
    assert counts["late_filing"] + counts["unfiled_overdue"] <= 0.2 * main
    assert counts["cancelled_contract"] <= 0.12 * len(docs)


def test_iter_ground_truth_filters_by_kind(tmp_path):
    info = generate_world(tmp_path / "world.sqlite", units=300, seed=7)
    with open_world(info.path) as store:
        rows = list(store.iter_ground_truth("late_filing"))
        assert rows and {row.kind for row in rows} == {"late_filing"}
        assert [row.on_date for row in rows] == sorted(row.on_date for row in rows)
        assert sum(info.ground_truth.values()) == store.count("ground_truth")


def test_rates_are_plausible_at_scale(large):
    docs, truth, end_on = large
    counts = Counter(row.kind for row in truth)
    subscriptions = [doc for doc in docs.values() if doc["contract_type"] == "认购"]
    main = [doc for doc in docs.values() if doc["contract_type"] != "认购" and doc["signed_at"]]
    cancels = Counter(row.detail["contract_type"] == "认购" for row in truth if row.kind == "cancelled_contract")
    handed = [
        doc for doc in main if doc["handover"] and day(doc["handover"]["handed_over_on"]) < end_on - timedelta(90)
    ]

    def rate(count, population):
        return count / len(population)

    assert 0.06 <= rate(cancels[True], subscriptions) <= 0.12
    assert 0.01 <= rate(counts["expired_subscription"], subscriptions) <= 0.045
    assert 0.025 <= rate(cancels[False], main) <= 0.07
    assert 0.04 <= rate(counts["late_filing"], main) <= 0.10
    assert 0.01 <= rate(counts["unfiled_overdue"], main) <= 0.05
    assert 0.01 <= rate(counts["room_change"] + counts["rename"], main) <= 0.04
    assert 0.005 <= rate(counts["late_handover"], main) <= 0.05
    assert 0.05 <= rate(counts["late_registration"], handed) <= 0.25


def test_late_and_missing_filings_match_the_documents(large):
    docs, truth, end_on = large
    late, unfiled = by_kind(truth, "late_filing"), by_kind(truth, "unfiled_overdue")
    for doc in docs.values():
        if doc["contract_type"] == "认购" or doc["signed_at"] is None:
            continue
        signed, number = day(doc["signed_at"]), doc["contract_no"]
        overdue_on = signed + timedelta(days=31)
        stopped = day(doc["cancellation"]["cancelled_at"]) if doc["cancellation"] else end_on
        if doc["filed_at"] and (day(doc["filed_at"]) - signed).days > 30:
            assert late[number].on_date == overdue_on.isoformat()
            assert late[number].detail["filed_on"] == doc["filed_at"][:10]
        else:
            assert number not in late
        if doc["filed_at"] is None and overdue_on <= stopped:
            assert unfiled[number].on_date == overdue_on.isoformat()
        else:
            assert number not in unfiled


def test_expired_subscriptions_were_neither_converted_nor_cancelled(large):
    docs, truth, end_on = large
    converted = {doc["subscription_no"] for doc in docs.values() if doc["subscription_no"]}
    expired = by_kind(truth, "expired_subscription")
    for doc in docs.values():
        if doc["contract_type"] != "认购":
            continue
        planned = date.fromisoformat(doc["planned_signing_on"])
        should = doc["state"] == "已签" and doc["contract_no"] not in converted
        should = should and planned + timedelta(days=15) <= end_on
        assert (doc["contract_no"] in expired) == should
        if should:
            assert expired[doc["contract_no"]].on_date == (planned + timedelta(days=15)).isoformat()


def test_every_cancellation_is_recorded_with_its_refund_or_successor(large):
    docs, truth, _ = large
    cancelled, following = by_kind(truth, "cancelled_contract"), successors(docs)
    for doc in docs.values():
        if doc["state"] != "撤销":
            assert doc["contract_no"] not in cancelled
            continue
        row = cancelled[doc["contract_no"]]
        cancelled_on = day(doc["cancellation"]["cancelled_at"])
        assert row.on_date == cancelled_on.isoformat()
        assert row.detail["reason_code"] == doc["cancellation"]["reason_code"]
        successor = following.get(doc["contract_no"])
        if successor is None:
            assert row.detail["is_return"] is True
            assert row.detail["refund_due_on"] == (cancelled_on + timedelta(days=15)).isoformat()
        else:
            assert row.detail["successor_contract_no"] == successor["contract_no"]
            assert row.detail["refund_due_on"] is None


def test_room_changes_move_the_same_buyers_to_another_unit(large):
    docs, truth, _ = large
    rows = by_kind(truth, "room_change")
    assert rows
    for number, row in rows.items():
        old, new = docs[number], docs[row.detail["new_contract_no"]]
        assert old["cancellation"]["reason_code"] == "换房退房"
        assert new["previous_contract_no"] == number
        assert new["house"]["house_id"] == row.detail["new_house_id"] != old["house"]["house_id"]
        assert [b["id_number"] for b in new["buyers"]] == [b["id_number"] for b in old["buyers"]]
        assert new["price"]["deposit"] == old["price"]["deposit"]


def test_renames_keep_the_unit_and_change_the_buyers(large):
    docs, truth, _ = large
    rows = by_kind(truth, "rename")
    assert rows
    for number, row in rows.items():
        old, new = docs[number], docs[row.detail["new_contract_no"]]
        assert old["cancellation"]["reason_code"] == "增减权益人"
        assert new["house"] == old["house"] and new["previous_contract_no"] == number
        before = [(b["id_number"], b["share"], b["is_primary"]) for b in old["buyers"]]
        after = [(b["id_number"], b["share"], b["is_primary"]) for b in new["buyers"]]
        assert before != after


def test_input_errors_are_signed_again_within_a_day_with_the_same_buyers(large):
    docs, _, _ = large
    following = successors(docs)
    checked = 0
    for doc in docs.values():
        if doc["cancellation"] and doc["cancellation"]["reason_code"] == "输入错误":
            new = following[doc["contract_no"]]
            assert new["buyers"] == doc["buyers"] and new["house"] == doc["house"]
            gap = day(new["signed_at"]) - day(doc["cancellation"]["cancelled_at"])
            assert gap <= timedelta(days=1)
            checked += 1
    assert checked


def test_late_registrations_match_the_documents(large):
    docs, truth, end_on = large
    late = by_kind(truth, "late_registration")
    for doc in docs.values():
        if not doc["handover"]:
            assert doc["contract_no"] not in late
            continue
        due = date.fromisoformat(doc["handover"]["handed_over_on"]) + timedelta(days=90)
        registered = doc["registration"] and doc["registration"]["registered_on"]
        should = due + timedelta(days=1) <= end_on and (not registered or date.fromisoformat(registered) > due)
        assert (doc["contract_no"] in late) == should, doc["contract_no"]


def test_loan_refusals_are_marked_on_funding_cancellations(large):
    _, truth, _ = large
    refused = [row for row in truth if row.kind == "cancelled_contract" and row.detail["cause"] == "loan_refused"]
    assert refused
    for row in refused:
        assert row.detail["reason_code"] == "资金问题"
        assert row.detail["payment_method"] in ("商贷", "公积金", "组合")


def test_a_few_filed_contracts_are_amended_and_filed_again(large):
    docs, _, _ = large
    amended = []
    for doc in docs.values():
        states = [entry["state"] for entry in doc["history"]]
        if "变更" in states:
            at = states.index("变更")
            assert states[at - 1] == "已备案" and states[at + 1 : at + 2] in (["已备案"], ["撤销"])
            amended.append(doc)
    main = sum(doc["contract_type"] != "认购" for doc in docs.values())
    assert 0.005 <= len(amended) / main <= 0.04


def test_a_returned_unit_can_be_sold_again_to_other_buyers(large):
    docs, truth, _ = large
    returns = [row for row in truth if row.kind == "cancelled_contract" and row.detail["is_return"]]
    by_house = {}
    for doc in docs.values():
        by_house.setdefault(doc["house"]["house_id"], []).append(doc)
    resold = 0
    for row in returns:
        returned = docs[row.contract_no]
        later = [
            doc for doc in by_house[row.house_id]
            if doc["history"][0]["at"] > returned["cancellation"]["cancelled_at"]
        ]  # fmt: skip
        if later:
            resold += 1
            assert all(doc["buyers"] != returned["buyers"] for doc in later)
    assert resold >= 0.5 * len(returns)
