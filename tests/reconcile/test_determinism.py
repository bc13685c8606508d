"""The same input in any row order gives the same result, on data dense with ties of every tier."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from estatehub.reconcile import Tolerances, match, parse_yaml_rules
from tests.reconcile.frames import AS_OF

RULES = parse_yaml_rules(
    "rules:\n"
    " - {name: fees, side: bank, when: {text_contains: 手续费}, action: ignore, category: bank_fee}\n"
    " - {name: alias, side: bank, when: {text_contains: Acme}, action: alias, alias: 张三}\n"
)


def tied_sides(seed: int = 7, n: int = 400) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Few units, few amounts, few days, few names, repeated references: most candidates tie."""
    rng = np.random.default_rng(seed)

    def frame(prefix: str, m: int, amounts: list[int], texts: list[str | None]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "id": [f"{prefix}{i:04d}" for i in range(m)],
                "amount_fen": rng.choice(amounts, m).astype(np.int64),
                "on": pd.to_datetime("2026-03-01") + pd.to_timedelta(rng.integers(0, 6, m), unit="D"),
                "reference": rng.choice(["R1", "R2", None, None, None, None], m),
                "unit": rng.choice(["U1", "U2", "U3", None], m),
                "text": rng.choice(np.array(texts, dtype=object), m),
            }
        )

    # the ledger has larger amounts the bank pays in parts: splits tie too
    return (
        frame("L", n, [100, 200, 300, 500, 800], ["张三", "张三", "张三 房款", "李四", None]),
        frame("B", n + 37, [100, 200, 300, 500], ["张三 房款", "李四", "Acme", "Acme", "手续费", None]),
    )


def canonical(result) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:  # noqa: ANN001
    return result.matches, result.breaks, result.ignored


@pytest.mark.parametrize("tolerance", [0, 100])
def test_shuffled_rows_give_identical_matches_breaks_and_ignored(tolerance: int):
    left, right = tied_sides()
    tol = Tolerances(amount_tolerance_fen=tolerance)
    expected = canonical(match(left, right, as_of=AS_OF, tolerances=tol, rules=RULES))
    assert len(expected[0]) > 100 and len(expected[1]) > 20  # the case is dense enough to mean something
    assert set(expected[0]["tier"]) == {1, 2, 3, 4, 5}
    for seed in range(5):
        order = np.random.default_rng(seed)
        shuffled_left = left.iloc[order.permutation(len(left))].reset_index(drop=True)
        shuffled_right = right.iloc[order.permutation(len(right))]  # index kept: must not matter either
        got = canonical(match(shuffled_left, shuffled_right, as_of=AS_OF, tolerances=tol, rules=RULES))
        for want, have in zip(expected, got, strict=True):
            pd.testing.assert_frame_equal(have, want)


def test_nothing_is_matched_twice_on_dense_ties():
    left, right = tied_sides(seed=11)
    result = match(left, right, as_of=AS_OF, rules=RULES)
    m = result.matches
    one_to_one = m[m["group_size"] == 2]
    assert one_to_one["left_id"].is_unique and one_to_one["right_id"].is_unique
    # a split group shares its one side; across groups and tiers, no item is in two matches
    per_left = m.groupby("left_id")["match_id"].nunique()
    per_right = m.groupby("right_id")["match_id"].nunique()
    assert per_left.max() == 1 and per_right.max() == 1
    in_breaks = {i for ids in result.breaks["left_ids"] for i in ids} | {
        i for ids in result.breaks["right_ids"] for i in ids
    }
    assert in_breaks.isdisjoint(set(m["left_id"]) | set(m["right_id"]))
    assert set(result.ignored["id"]).isdisjoint(set(m["right_id"]) | in_breaks)
