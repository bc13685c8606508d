"""Breaks: reason, amount, age, quarantined input, keys that survive re-runs, and status carry-over."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from estatehub.reconcile import (
    BREAK_COLUMNS,
    BreakStatus,
    MatchInputError,
    Status,
    StatusError,
    acknowledge,
    carry_over,
    match,
    resolve,
    statuses_frame,
    statuses_from_frame,
)
from estatehub.reconcile.breaks import stable_key
from tests.reconcile.frames import AS_OF, reasons, side


def test_unmatched_items_are_breaks_with_amount_and_age():
    result = match(
        side({"id": "L1", "amount": 1234_56, "on": 0}),
        side({"id": "B1", "amount": 99, "on": 20}),
        as_of=AS_OF,
    )
    frame = result.breaks.set_index("reason")
    assert list(result.breaks.columns) == list(BREAK_COLUMNS)
    assert frame.loc["unmatched_ledger", "amount_fen"] == 123456
    assert frame.loc["unmatched_ledger", "age_days"] == 30  # 2026-03-01 → 2026-03-31
    assert frame.loc["unmatched_ledger", "first_on"] == date(2026, 3, 1)
    assert frame.loc["unmatched_bank", "age_days"] == 10
    assert frame.loc["unmatched_bank", "right_ids"] == ("B1",)


def test_side_names_give_the_reason_codes():
    result = match(side({"id": "P1", "amount": 1, "on": 0}), side(), as_of=AS_OF, sides=("plan", "receipts"))
    assert result.breaks["reason"].tolist() == ["unmatched_plan"]


def test_amount_mismatch_by_unit_needs_the_date_window():
    left = side({"id": "L1", "amount": 1000, "on": 0, "unit": "U"})
    assert reasons(match(left, side({"id": "B1", "amount": 900, "on": 3, "unit": "U"}), as_of=AS_OF)) == {
        (("L1",), ("B1",)): "amount_mismatch"
    }
    assert sorted(
        reasons(match(left, side({"id": "B1", "amount": 900, "on": 4, "unit": "U"}), as_of=AS_OF)).values()
    ) == [
        "unmatched_bank",
        "unmatched_ledger",
    ]


def test_bad_lines_are_quarantined_as_invalid_input_never_dropped():
    left = pd.DataFrame(
        {
            "id": ["L1", "L2", "L3", "L3", "L4"],
            "amount_fen": pd.array([100, None, 300, 301, 400], dtype="Int64"),
            "on": ["2026-03-02", "2026-03-02", "2026-03-02", "2026-03-04", "not a date"],
            "unit": "U",
        }
    )
    result = match(left, side({"id": "B1", "amount": 100, "on": 1, "unit": "U"}), as_of=AS_OF)
    invalid = result.breaks[result.breaks["reason"] == "invalid_input"].set_index("left_ids")
    assert sorted(invalid.index) == [("L2",), ("L3",), ("L4",)]
    assert "no amount" in invalid.loc[[("L2",)], "detail"].iloc[0]
    assert "more than once" in invalid.loc[[("L3",)], "detail"].iloc[0]
    assert invalid.loc[[("L3",)], "amount_fen"].iloc[0] == 601  # both lines of the duplicated id
    assert "no readable date" in invalid.loc[[("L4",)], "detail"].iloc[0]
    assert pd.isna(invalid.loc[[("L4",)], "age_days"].iloc[0])
    assert result.matches[["left_id", "right_id"]].values.tolist() == [["L1", "B1"]]


def test_input_contract_violations_are_errors_that_say_what_to_do():
    good = side({"id": "L1", "amount": 1, "on": 0})
    with pytest.raises(MatchInputError, match="never float yuan"):
        match(good.assign(amount_fen=[1.0]), good, as_of=AS_OF)
    with pytest.raises(MatchInputError, match="lacks column.*on"):
        match(good.drop(columns="on"), good, as_of=AS_OF)
    with pytest.raises(MatchInputError, match="without an id"):
        match(good.assign(id=[None]), good, as_of=AS_OF)
    with pytest.raises(MatchInputError, match="holds 1.5"):
        match(good.assign(amount_fen=pd.Series([1.5], dtype=object)), good, as_of=AS_OF)


def test_every_item_ends_in_exactly_one_place():
    rng = np.random.default_rng(3)
    n = 300
    left = pd.DataFrame(
        {
            "id": [f"L{i}" for i in range(n)],
            "amount_fen": rng.integers(1, 6, n) * 100,
            "on": pd.to_datetime("2026-03-01") + pd.to_timedelta(rng.integers(0, 10, n), unit="D"),
            "unit": [f"U{u}" for u in rng.integers(0, 20, n)],
            "text": rng.choice(["张三", "李四", "王五", None], n),
        }
    )
    right = left.sample(frac=0.9, random_state=1).assign(id=lambda f: "B" + f["id"].str[1:])
    right = pd.concat(
        [right, left.head(30).assign(id=lambda f: "X" + f["id"], amount_fen=lambda f: f["amount_fen"] // 2)]
    )
    result = match(left, right, as_of=AS_OF)
    placed_left = list(result.matches["left_id"].unique()) + [i for ids in result.breaks["left_ids"] for i in ids]
    placed_right = list(result.matches["right_id"].unique()) + [i for ids in result.breaks["right_ids"] for i in ids]
    assert sorted(placed_left) == sorted(left["id"])
    assert sorted(placed_right) == sorted(right["id"])


# --- keys ----------------------------------------------------------------------------------------------


def test_break_key_is_made_of_the_items_not_the_row():
    one = match(side({"id": "L1", "amount": 1, "on": 0}, {"id": "L2", "amount": 2, "on": 0}), side(), as_of=AS_OF)
    other = match(
        side({"id": "L0", "amount": 5, "on": 0}, {"id": "L2", "amount": 2, "on": 9}), side(), as_of=date(2026, 4, 2)
    )
    key_of = lambda r: dict(zip(r.breaks["left_ids"], r.breaks["break_key"], strict=True))  # noqa: E731
    assert key_of(one)[("L2",)] == key_of(other)[("L2",)]
    assert key_of(one)[("L1",)] != key_of(one)[("L2",)]
    # an independently computed key: blake2b-64 of scope, left ids, right ids
    import hashlib

    expected = "b" + hashlib.blake2b(b"ledger~bank\x1fL2\x1f", digest_size=8).hexdigest()
    assert key_of(one)[("L2",)] == expected


def test_break_key_depends_on_the_scope_and_the_side():
    assert stable_key("b", "cash", ["X1"], []) != stable_key("b", "loans", ["X1"], [])
    assert stable_key("b", "cash", ["X1"], []) != stable_key("b", "cash", [], ["X1"])
    assert stable_key("b", "cash", ["A", "B"], []) == stable_key("b", "cash", ["B", "A"], [])


def test_a_reclassified_break_keeps_its_key():
    from estatehub.reconcile import parse_yaml_rules

    bank = side({"id": "B1", "amount": 15, "on": 1, "text": "手续费"})
    plain = match(side(), bank, as_of=AS_OF)
    rules = parse_yaml_rules(
        "rules:\n - {name: f, side: bank, when: {text_contains: 手续费}, action: classify, reason: bank_fee}"
    )
    classified = match(side(), bank, as_of=AS_OF, rules=rules)
    assert classified.breaks["reason"].tolist() == ["bank_fee"]
    assert classified.breaks["break_key"].tolist() == plain.breaks["break_key"].tolist()


# --- status carry-over ------------------------------------------------------------------------------


D1, D2, D3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)


def test_carry_over_sorts_breaks_into_new_kept_reopened_and_closed():
    previous = {
        "kept-open": BreakStatus("kept-open", Status.OPEN, opened_on=D1, changed_on=D1),
        "kept-ack": BreakStatus("kept-ack", Status.ACKNOWLEDGED, D1, D1, who="li", note="refund on its way"),
        "gone": BreakStatus("gone", Status.OPEN, D1, D1),
        "gone-ack": BreakStatus("gone-ack", Status.ACKNOWLEDGED, D1, D1, who="li", note="n"),
        "back": BreakStatus("back", Status.RESOLVED, D1, D1, who="li", how="booked the fee"),
        "done": BreakStatus("done", Status.RESOLVED, D1, D1, who="li", how="x"),
    }
    out = carry_over(previous, ["kept-open", "kept-ack", "back", "fresh"], on=D2)
    assert out.new == ("fresh",)
    assert out.kept == ("kept-ack", "kept-open")
    assert out.reopened == ("back",)
    assert out.auto_closed == ("gone", "gone-ack")
    assert out.statuses["kept-ack"] == previous["kept-ack"]  # who and note survive the re-run
    assert out.statuses["fresh"] == BreakStatus("fresh", Status.OPEN, opened_on=D2, changed_on=D2)
    assert out.statuses["gone"].status is Status.RESOLVED and out.statuses["gone"].how == "data_changed"
    assert out.statuses["gone-ack"].note == "n"
    assert out.statuses["back"].status is Status.OPEN and out.statuses["back"].opened_on == D2
    assert out.statuses["done"] == previous["done"]


def test_rerunning_the_same_day_changes_nothing():
    first = carry_over({}, ["a", "b"], on=D1)
    again = carry_over(first.statuses, ["a", "b"], on=D1)
    assert again.statuses == first.statuses
    assert again.new == () and again.auto_closed == ()


def test_acknowledged_break_survives_reruns_until_its_data_changes():
    ledger = side({"id": "L1", "amount": 1000, "on": 0, "unit": "U"}, {"id": "L2", "amount": 50, "on": 0})
    day1 = match(ledger, side(), as_of=D1)
    state = carry_over({}, day1.breaks["break_key"], on=D1).statuses
    key_l1 = day1.breaks.set_index("left_ids").loc[[("L1",)], "break_key"].iloc[0]
    state[key_l1] = acknowledge(state[key_l1], who="li", note="buyer pays next week", on=D1)

    day2 = match(ledger, side(), as_of=D2)  # nothing changed
    out = carry_over(state, day2.breaks["break_key"], on=D2)
    assert out.statuses[key_l1].status is Status.ACKNOWLEDGED and out.statuses[key_l1].note == "buyer pays next week"
    assert out.new == ()

    day3 = match(ledger, side({"id": "B1", "amount": 1000, "on": 2, "unit": "U"}), as_of=D3)  # the money came
    out = carry_over(out.statuses, day3.breaks["break_key"], on=D3)
    assert out.auto_closed == (key_l1,)
    assert out.statuses[key_l1].how == "data_changed"
    assert len(out.kept) == 1  # L2 still open


def test_status_changes_that_make_no_sense_are_refused():
    resolved = resolve(BreakStatus("k", opened_on=D1), how="refunded", who="li", on=D2)
    assert (resolved.status, resolved.how, resolved.who) == (Status.RESOLVED, "refunded", "li")
    with pytest.raises(StatusError, match="resolved"):
        acknowledge(resolved, who="li", note="n", on=D2)
    with pytest.raises(StatusError, match="already resolved"):
        resolve(resolved, how="again", who="li", on=D2)
    with pytest.raises(StatusError, match="note"):
        acknowledge(BreakStatus("k"), who="li", note=" ", on=D2)


def test_statuses_round_trip_through_their_table_columns():
    state = carry_over({"old": BreakStatus("old", Status.ACKNOWLEDGED, D1, D1, "li", "n", None)}, ["old", "new"], on=D2)
    frame = statuses_frame(state.statuses)
    assert frame["break_key"].tolist() == ["new", "old"]
    assert frame["status"].tolist() == ["open", "acknowledged"]
    assert statuses_from_frame(frame) == state.statuses
