"""Each tier of the matching engine on small hand-made cases: ties, tolerances at their edges, one-to-one."""

from __future__ import annotations

import math

import pytest

from estatehub.reconcile import Tolerances, match
from tests.reconcile.frames import AS_OF, links, reasons, side, tiers


def run(left, right, sides=("ledger", "bank"), **tolerances):  # noqa: ANN001, ANN201
    return match(left, right, as_of=AS_OF, sides=sides, tolerances=Tolerances(**tolerances))


# --- tier 1: reference ---------------------------------------------------------------------------------


def test_reference_matches_whatever_the_date():
    result = run(
        side({"id": "L1", "amount": 500_00, "on": 0, "reference": "S-77"}),
        side({"id": "B1", "amount": 500_00, "on": 25, "reference": "S-77"}),
    )
    row = result.matches.iloc[0]
    assert (row.left_id, row.right_id, row.tier, row.tier_name) == ("L1", "B1", 1, "reference")
    assert row.date_delta_days == 25
    assert row.amount_delta_fen == 0
    assert math.isnan(row.text_score)
    assert result.breaks.empty


def test_reference_with_another_amount_is_an_amount_mismatch_not_a_match():
    result = run(
        side({"id": "L1", "amount": 500_00, "on": 0, "reference": "S-77"}),
        side({"id": "B1", "amount": 499_00, "on": 20, "reference": "S-77"}),  # a reference pairs at any date
    )
    assert result.matches.empty
    assert reasons(result) == {(("L1",), ("B1",)): "amount_mismatch"}
    assert result.breaks.iloc[0].amount_fen == -100  # right - left


def test_a_reference_shared_by_two_bank_lines_matches_one_of_them_the_nearer():
    result = run(
        side({"id": "L1", "amount": 100, "on": 5, "reference": "R"}),
        side(
            {"id": "B1", "amount": 100, "on": 1, "reference": "R"},
            {"id": "B2", "amount": 100, "on": 6, "reference": "R"},
        ),
    )
    assert links(result) == {("L1", "B2")}
    assert reasons(result) == {((), ("B1",)): "unmatched_bank"}


# --- tier 2: unit, amount, date window ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "gap", "matched"),
    [(3, 3, True), (3, 4, False), (5, 5, True), (5, 6, False), (0, 0, True), (0, 1, False)],
)
def test_unit_tier_date_window_is_inclusive_at_its_edge(window, gap, matched):  # noqa: ANN001
    result = run(
        side({"id": "L1", "amount": 800_00, "on": 10, "unit": "U1"}),
        side({"id": "B1", "amount": 800_00, "on": 10 + gap, "unit": "U1"}),
        date_window_days=window,
    )
    assert (tiers(result) == {("L1", "B1"): 2}) is matched
    if not matched:  # same unit, same amount, outside the window: two unmatched items, not a mismatch
        assert sorted(reasons(result).values()) == ["unmatched_bank", "unmatched_ledger"]


@pytest.mark.parametrize(
    ("tolerance", "delta", "matched"),
    [(0, 0, True), (0, 1, False), (100, 100, True), (100, -100, True), (100, 101, False)],
)
def test_amount_tolerance_is_inclusive_at_its_edge(tolerance, delta, matched):  # noqa: ANN001
    result = run(
        side({"id": "L1", "amount": 800_00, "on": 10, "unit": "U1"}),
        side({"id": "B1", "amount": 800_00 + delta, "on": 10, "unit": "U1"}),
        amount_tolerance_fen=tolerance,
    )
    assert bool(len(result.matches)) is matched
    if matched:
        assert result.matches.iloc[0].amount_delta_fen == delta
    else:
        assert reasons(result) == {(("L1",), ("B1",)): "amount_mismatch"}


def test_unit_tier_prefers_the_nearer_date_then_the_smaller_id():
    result = run(
        side({"id": "L1", "amount": 100, "on": 10, "unit": "U"}),
        side(
            {"id": "B3", "amount": 100, "on": 12, "unit": "U"},
            {"id": "B2", "amount": 100, "on": 9, "unit": "U"},
            {"id": "B1", "amount": 100, "on": 11, "unit": "U"},
        ),
    )
    # B2 and B1 are both one day away: the tie goes to the smaller id
    assert links(result) == {("L1", "B1")}


def test_two_ledger_lines_for_one_bank_line_match_once():
    result = run(
        side({"id": "L2", "amount": 100, "on": 10, "unit": "U"}, {"id": "L1", "amount": 100, "on": 10, "unit": "U"}),
        side({"id": "B1", "amount": 100, "on": 10, "unit": "U"}),
    )
    assert links(result) == {("L1", "B1")}
    assert reasons(result) == {(("L2",), ()): "unmatched_ledger"}


def test_greedy_pairs_many_equal_lines_one_to_one():
    left = side(*({"id": f"L{i}", "amount": 100, "on": 10 + i % 3, "unit": "U"} for i in range(6)))
    right = side(*({"id": f"B{i}", "amount": 100, "on": 10 + i % 2, "unit": "U"} for i in range(5)))
    result = run(left, right)
    assert len(result.matches) == 5
    assert result.matches["left_id"].is_unique and result.matches["right_id"].is_unique
    assert len(result.breaks) == 1


def _launch_day(**tolerances):  # noqa: ANN003, ANN202
    """Two payers' equal deposits, each booked three days late: the nearest dates pair A's booking with B's line."""
    return run(
        side(
            {"id": "B1", "amount": 1_000_000, "on": 1, "unit": "U", "text": "张伟"},
            {"id": "B2", "amount": 1_000_000, "on": 4, "unit": "U", "text": "李娜"},
        ),
        side(
            {"id": "L1", "amount": 1_000_000, "on": 4, "unit": "U", "text": "张伟"},
            {"id": "L2", "amount": 1_000_000, "on": 7, "unit": "U", "text": "李娜"},
        ),
        **tolerances,
    )


def test_unit_tier_by_nearest_date_alone_crosses_payers_of_equal_amounts():
    result = _launch_day()
    assert links(result) == {("B2", "L1")}
    assert len(result.breaks) == 2


def test_unit_tier_with_text_first_pairs_each_payer_with_their_own_booking():
    result = _launch_day(unit_text_first=True)
    assert links(result) == {("B1", "L1"), ("B2", "L2")}
    assert set(tiers(result).values()) == {2}
    assert result.breaks.empty
    assert (result.matches["text_score"] == 100).all()


def test_unit_tier_with_text_first_keeps_its_window_and_unit():
    far = run(
        side({"id": "B1", "amount": 100, "on": 1, "unit": "U", "text": "张伟"}),
        side({"id": "L1", "amount": 100, "on": 5, "unit": "U", "text": "张伟"}),
        unit_text_first=True,
    )
    assert not any(t == 2 for t in tiers(far).values())  # four days: tier 3's window, not tier 2's
    other_unit = run(
        side({"id": "B1", "amount": 100, "on": 1, "unit": "U", "text": "张伟"}),
        side({"id": "L1", "amount": 100, "on": 1, "unit": "V", "text": "张伟"}),
        unit_text_first=True,
    )
    assert 2 not in tiers(other_unit).values()


FUND = "深圳市住房公积金管理中心"


def _fund_batch(**columns):  # noqa: ANN003, ANN202
    """Equal fund-centre disbursements on one account: each bank line names its borrower in the memo, each
    ledger entry is the borrower's. Guo's entry is booked three days after his line, on the day of Zhang's."""
    return run(
        side(
            {"id": "B1", "amount": 900_000_00, "on": 7, "unit": "A", "text": FUND, **columns.get("guo", {})},
            {"id": "B2", "amount": 900_000_00, "on": 10, "unit": "A", "text": FUND, **columns.get("zhang", {})},
        ),
        side(
            {"id": "L1", "amount": 900_000_00, "on": 10, "unit": "A", "text": "公积金中心", **columns.get("entry", {})}
        ),
        sides=("bank", "ledger"),
        unit_text_first=True,
    )


def test_unit_tier_pairs_a_borrower_named_in_the_lenders_memo_before_the_nearest_date():
    result = _fund_batch(
        guo={"party": FUND, "memo": "公积金贷款发放 郭伟志 GJJ40214580768035"},
        zhang={"party": FUND, "memo": "公积金贷款发放 张芳晓 GJJ56318625124886"},
        entry={"party": "郭伟志", "memo": "公积金中心公积金放款 F座13F02 郭伟志 ¥900,000.00"},
    )
    assert links(result) == {("B1", "L1")}
    assert tiers(result) == {("B1", "L1"): 2}
    assert result.matches["text_score"].tolist() == [100.0]  # the name written whole in the memo
    assert reasons(result) == {(("B2",), ()): "unmatched_bank"}
    # the same lines with only the payer's text: every line is the fund centre's, so the nearest date wins
    assert links(_fund_batch()) == {("B2", "L1")}


def test_a_name_of_one_character_is_not_looked_for_in_a_memo():
    result = _fund_batch(
        guo={"party": FUND, "memo": "公积金贷款发放 郭 GJJ40214580768035"},
        zhang={"party": FUND, "memo": "公积金贷款发放 张芳晓 GJJ56318625124886"},
        entry={"party": "郭", "memo": "公积金中心公积金放款"},
    )
    assert links(result) == {("B2", "L1")}


def test_lines_without_a_party_pair_by_date_not_by_their_summaries():
    """Bank fees: the statement's summary and the ledger's memo say 手续费 in many ways; what they say does
    not tell one fee from another, so the day does (before: a fee booked the next day, whose memo read
    like the line's, took a line of the day before from a fee booked that day)."""
    fee = {"party": None, "memo": "手续费 汇划手续费"}
    result = run(
        side(
            {"id": "B1", "amount": 550, "on": 28, "unit": "G", "text": "手续费 汇划手续费", **fee},
            {"id": "B2", "amount": 550, "on": 28, "unit": "G", "text": "手续费 汇划手续费", **fee},
        ),
        side(
            {
                "id": "L1",
                "amount": 550,
                "on": 28,
                "unit": "G",
                "text": "转账手续费 退2-2-2401面积补差款",
                "party": None,
            },
            {"id": "L2", "amount": 550, "on": 28, "unit": "G", "text": "网银汇款手续费", "party": None},
            {"id": "L3", "amount": 550, "on": 29, "unit": "G", "text": "手续费", "party": None},
        ),
        sides=("bank", "ledger"),
        unit_text_first=True,
    )
    assert links(result) == {("B1", "L1"), ("B2", "L2")}
    assert reasons(result) == {((), ("L3",)): "unmatched_ledger"}


# --- tier 3: payer name / memo with the amount ---------------------------------------------------------------


def test_payer_name_inside_a_memo_matches_with_the_amount():
    result = run(
        side({"id": "L1", "amount": 3000_00, "on": 3, "text": "张三"}),
        side({"id": "B1", "amount": 3000_00, "on": 5, "text": "张三 购房款"}),
    )
    row = result.matches.iloc[0]
    assert (row.tier, row.tier_name, row.text_score) == (3, "text_amount", 90.0)
    # 0.90 × 0.90 − 0.10 × 2/8
    assert row.confidence == pytest.approx(0.785)


def test_another_payer_with_the_same_amount_does_not_match():
    result = run(
        side({"id": "L1", "amount": 3000_00, "on": 3, "text": "张三"}),
        side({"id": "B1", "amount": 3000_00, "on": 3, "text": "李四"}),
    )
    assert result.matches.empty


@pytest.mark.parametrize(("minimum", "matched"), [(90.0, True), (90.01, False)])
def test_text_score_minimum_is_inclusive(minimum, matched):  # noqa: ANN001
    result = run(
        side({"id": "L1", "amount": 100, "on": 3, "text": "张三"}),
        side({"id": "B1", "amount": 100, "on": 3, "text": "张三 购房款"}),
        text_min_score=minimum,
    )
    assert bool(len(result.matches)) is matched


@pytest.mark.parametrize(("gap", "matched"), [(7, True), (-7, True), (8, False), (-8, False)])
def test_text_tier_date_window_is_inclusive_at_its_edge(gap, matched):  # noqa: ANN001
    result = run(
        side({"id": "L1", "amount": 100, "on": 10, "text": "Zhang San"}),
        side({"id": "B1", "amount": 100, "on": 10 + gap, "text": "ZHANG SAN"}),
        text_date_window_days=7,
    )
    assert bool(len(result.matches)) is matched


@pytest.mark.parametrize(("left", "right"), [(1050, 1149), (1149, 1050), (1000, 999), (999, 1098)])
def test_text_tier_with_a_tolerance_finds_amounts_across_bucket_edges(left: int, right: int):
    # with a tolerance of 99 fen the join buckets amounts by 100: these pairs sit in neighbouring buckets
    result = run(
        side({"id": "L1", "amount": left, "on": 1, "text": "王芳"}),
        side({"id": "B1", "amount": right, "on": 1, "text": "王芳"}),
        amount_tolerance_fen=99,
    )
    assert tiers(result) == {("L1", "B1"): 3}


def test_text_tier_prefers_the_better_score():
    result = run(
        side({"id": "L1", "amount": 100, "on": 1, "text": "Zhang San"}),
        side(
            {"id": "B1", "amount": 100, "on": 1, "text": "Zhang San Trading Ltd"},
            {"id": "B2", "amount": 100, "on": 1, "text": "zhang san"},
        ),
    )
    assert links(result) == {("L1", "B2")}


def test_a_later_tier_never_takes_what_an_earlier_one_matched():
    # B1 matches L1 by reference; L2 would match B1 by unit: it must stay unmatched
    result = run(
        side(
            {"id": "L1", "amount": 100, "on": 1, "reference": "S1"}, {"id": "L2", "amount": 100, "on": 1, "unit": "U"}
        ),
        side({"id": "B1", "amount": 100, "on": 1, "reference": "S1", "unit": "U"}),
    )
    assert tiers(result) == {("L1", "B1"): 1}
    assert reasons(result) == {(("L2",), ()): "unmatched_ledger"}


# --- tier 4: splits ------------------------------------------------------------------------------------


def test_one_ledger_line_paid_by_two_bank_lines_is_one_group():
    result = run(
        side({"id": "L1", "amount": 900_00, "on": 1, "unit": "U"}),
        side(
            {"id": "B1", "amount": 400_00, "on": 1, "unit": "U"}, {"id": "B2", "amount": 500_00, "on": 3, "unit": "U"}
        ),
    )
    assert links(result) == {("L1", "B1"), ("L1", "B2")}
    assert result.matches["match_id"].nunique() == 1
    assert set(result.matches["tier_name"]) == {"split"}
    assert set(result.matches["group_size"]) == {3}
    assert list(result.matches["date_delta_days"]) == [0, 2]
    assert result.breaks.empty


def test_two_ledger_lines_paid_by_one_bank_line_is_one_group():
    result = run(
        side(
            {"id": "L1", "amount": 300_00, "on": 1, "unit": "U"}, {"id": "L2", "amount": 200_00, "on": 2, "unit": "U"}
        ),
        side({"id": "B1", "amount": 500_00, "on": 2, "unit": "U"}),
    )
    assert links(result) == {("L1", "B1"), ("L2", "B1")}
    assert result.matches["match_id"].nunique() == 1


@pytest.mark.parametrize(("max_group", "matched"), [(4, False), (5, True)])
def test_split_group_size_is_bounded(max_group, matched):  # noqa: ANN001
    parts = [{"id": f"B{i}", "amount": 100, "on": 1, "unit": "U"} for i in range(5)]
    result = run(side({"id": "L1", "amount": 500, "on": 1, "unit": "U"}), side(*parts), split_max_group=max_group)
    assert bool(len(result.matches)) is matched


def test_split_draws_only_from_the_nearest_candidates():
    # the only sum needs B3, the farthest of three candidates: with a cap of two it is not looked at
    right = side(
        {"id": "B1", "amount": 100, "on": 1, "unit": "U"},
        {"id": "B2", "amount": 100, "on": 2, "unit": "U"},
        {"id": "B3", "amount": 300, "on": 3, "unit": "U"},
    )
    left = side({"id": "L1", "amount": 400, "on": 1, "unit": "U"})
    assert links(run(left, right, split_max_group=2, split_max_candidates=3)) == {("L1", "B1"), ("L1", "B3")}
    assert run(left, right, split_max_group=2, split_max_candidates=2).matches.empty


BANK = "中国工商银行股份有限公司深圳分行个人贷款专户"


def test_split_draws_first_from_the_parts_a_batch_entry_names():
    """Seen at 100,000 contracts: on a launch day the account has dozens of lines, and the clerk booked three
    borrowers' disbursements as one bank entry whose voucher names each of them. The nearest twelve lines hold
    none of its parts; the three lines whose memos name its borrowers do."""
    crowd = [
        {"id": f"B{i:02d}", "amount": 1_000 + i, "on": 1, "unit": "U", "memo": "收首付款", "party": f"P{i}"}
        for i in range(12)
    ]
    loans = [
        {"id": f"B{90 + i}", "amount": amount, "on": 1, "unit": "U", "memo": f"个人住房贷款放款 {who}", "party": BANK}
        for i, (who, amount) in enumerate((("刘飞", 297_000), ("张伟伟", 332_000), ("田晨强", 436_000)))
    ]
    batch = {
        "id": "L1",
        "amount": 1_065_000,
        "on": 1,
        "unit": "U",
        "memo": "按揭款 工行 2#1单元702,2#1单元2301",
        "party": "刘飞",
    }
    result = run(side(batch | {"names": "刘飞 张伟伟 田晨强"}), side(*crowd, *loans))
    assert links(result) == {("L1", "B90"), ("L1", "B91"), ("L1", "B92")}
    assert run(side(batch), side(*crowd, *loans)).matches.empty  # by date alone, the parts are not among the ten


def test_split_prefers_fewer_parts_then_nearer_dates():
    right = side(
        {"id": "B1", "amount": 100, "on": 1, "unit": "U"},
        {"id": "B2", "amount": 200, "on": 1, "unit": "U"},
        {"id": "B3", "amount": 300, "on": 6, "unit": "U"},
        {"id": "B4", "amount": 300, "on": 2, "unit": "U"},
    )
    result = run(side({"id": "L1", "amount": 600, "on": 1, "unit": "U"}), right)
    # 100+200+300 needs three; 300+300 needs two: B3+B4
    assert links(result) == {("L1", "B3"), ("L1", "B4")}
    result = run(side({"id": "L1", "amount": 400, "on": 1, "unit": "U"}), right)
    # 100+300 twice: B4 (1 day) before B3 (5 days)
    assert links(result) == {("L1", "B1"), ("L1", "B4")}


def test_split_respects_its_date_window():
    left = side({"id": "L1", "amount": 900, "on": 1, "unit": "U"})
    right = side({"id": "B1", "amount": 400, "on": 1, "unit": "U"}, {"id": "B2", "amount": 500, "on": 9, "unit": "U"})
    assert run(left, right, split_date_window_days=8).matches["right_id"].tolist() == ["B1", "B2"]
    assert run(left, right, split_date_window_days=7).matches.empty


def test_a_bank_line_in_one_split_group_is_not_used_by_another():
    left = side({"id": "L1", "amount": 500, "on": 1, "unit": "U"}, {"id": "L2", "amount": 500, "on": 1, "unit": "U"})
    right = side(
        {"id": "B1", "amount": 200, "on": 1, "unit": "U"},
        {"id": "B2", "amount": 300, "on": 1, "unit": "U"},
        {"id": "B3", "amount": 200, "on": 2, "unit": "U"},
    )
    result = run(left, right)
    assert result.matches["right_id"].is_unique
    assert links(result) == {("L1", "B1"), ("L1", "B2")}
    assert sorted(reasons(result).values()) == ["amount_mismatch"]  # L2 500 against B3 200, same unit


@pytest.mark.parametrize("lines_left", [True, False])
def test_a_split_that_books_two_lines_of_its_day_wins_over_one_line_split_into_entries_of_the_next(lines_left):  # noqa: ANN001
    """A ledger entry booking two guarantee releases of one day (213,000 + 304,000), and two entries of the
    next day (10,000 + 294,000) that also sum to the second line: the tighter group is taken, whichever side
    its target is on (before, the left side's targets chose first: with the bank lines on the left, as the
    cash reconciliation has them, the 304,000 took the next day's two entries)."""
    lines = side(
        {"id": "B1", "amount": 213_000_00, "on": 28, "unit": "A"},
        {"id": "B2", "amount": 304_000_00, "on": 28, "unit": "A"},
    )
    entries = side(
        {"id": "L1", "amount": 517_000_00, "on": 28, "unit": "A"},
        {"id": "L2", "amount": 10_000_00, "on": 29, "unit": "A"},
        {"id": "L3", "amount": 294_000_00, "on": 29, "unit": "A"},
    )
    if lines_left:
        result = run(lines, entries, sides=("bank", "ledger"))
        assert links(result) == {("B1", "L1"), ("B2", "L1")}
    else:
        result = run(entries, lines)
        assert links(result) == {("L1", "B1"), ("L1", "B2")}
    assert set(tiers(result).values()) == {4}
    assert reasons(result) == {((), ("L2",)) if lines_left else (("L2",), ()): "unmatched_ledger",
                               ((), ("L3",)) if lines_left else (("L3",), ()): "unmatched_ledger"}  # fmt: skip


def test_tolerances_refuse_bad_values():
    from estatehub.reconcile import MatchInputError

    with pytest.raises(MatchInputError, match="date_window_days"):
        Tolerances(date_window_days=-1)
    with pytest.raises(MatchInputError, match="split_max_group"):
        Tolerances(split_max_group=9)


def test_keys_and_texts_are_read_without_surrounding_blanks():
    result = run(
        side(
            {"id": "L1", "amount": 100, "on": 1, "reference": " S-1 "},
            {"id": "L2", "amount": 100, "on": 1, "unit": "  "},
        ),
        side(
            {"id": "B1", "amount": 100, "on": 1, "reference": "S-1"}, {"id": "B2", "amount": 100, "on": 1, "unit": ""}
        ),
    )
    assert tiers(result) == {("L1", "B1"): 1}  # a blank unit is no unit: L2 and B2 do not match by it


def test_numbers_given_as_keys_or_texts_are_read_as_text():
    left = side({"id": 1, "amount": 100, "on": 1, "reference": 20260301, "text": 12345})
    right = side(
        {"id": 2, "amount": 100, "on": 1, "reference": "20260301"}, {"id": 3, "amount": 100, "on": 1, "text": "12345"}
    )
    assert tiers(run(left, right)) == {("1", "2"): 1}
    left = left.assign(reference=[None])
    assert tiers(run(left, right)) == {("1", "3"): 3}


def test_a_busy_unit_pairs_each_line_with_its_own_day():
    # fifty payments of one amount to one unit, a week apart: each bank line is the one of its week
    left = side(*({"id": f"L{i:02d}", "amount": 100, "on": 7 * i, "unit": "U"} for i in range(50)))
    right = side(*({"id": f"B{i:02d}", "amount": 100, "on": 7 * i + 2, "unit": "U"} for i in range(50)))
    result = run(left, right)
    assert links(result) == {(f"L{i:02d}", f"B{i:02d}") for i in range(50)}
    assert set(result.matches["date_delta_days"]) == {2}


@pytest.mark.parametrize("seed", range(40))
def test_exact_amounts_choose_as_the_greedy_over_every_candidate_would(seed):  # noqa: ANN001
    """Tier 2 with exact amounts takes a shortcut (`exact_window_choice`, no candidate pairs formed): on
    random books of few units, amounts and days (many ties) it chooses what `assign_one_to_one` chooses
    among all of `_key_candidates`."""
    import random

    from estatehub.reconcile.assign import assign_one_to_one
    from estatehub.reconcile.matching import _key_candidates, _prepare, exact_window_choice

    rng = random.Random(seed)

    def book(prefix: str, n: int):  # noqa: ANN202
        rows = [
            {"id": f"{prefix}{rng.randrange(10**6):06d}", "amount": rng.choice((100, 200)), "on": rng.randrange(8)}
            for _ in range(n)
        ]
        for row in rows:
            row["unit"] = rng.choice(("U1", "U2", None))
        return side(*rows)

    left, right = book("L", rng.randrange(1, 40)), book("B", rng.randrange(1, 40))
    for window in (0, 1, 3):
        a, b = _prepare(left, "ledger"), _prepare(right, "bank")
        a.free[:] = [rng.random() < 0.9 for _ in range(len(a.free))]  # what tier 1 took is not free
        columns = ["l", "r", "dd"]
        greedy = assign_one_to_one(_key_candidates(a, b, "unit", 0, window), ["neg_score", "abs_da", "abs_dd"])
        fast = exact_window_choice(a, b, "unit", window)
        assert sorted(map(tuple, fast[columns].to_numpy())) == sorted(map(tuple, greedy[columns].to_numpy()))


def test_a_busy_account_of_equal_amounts_is_matched_without_forming_every_pair():
    """3,000 equal deposits on each side over ten days of one account: 9 million candidate pairs for the
    plain greedy, one row per item here."""
    left = side(*({"id": f"L{i:05d}", "amount": 5_000_000, "on": i % 10, "unit": "ACC"} for i in range(3000)))
    right = side(*({"id": f"B{i:05d}", "amount": 5_000_000, "on": (i + 1) % 10, "unit": "ACC"} for i in range(3000)))
    result = run(left, right)
    assert len(result.matches) == 3000 and result.breaks.empty
    assert set(result.matches["date_delta_days"].abs()) <= {0}
