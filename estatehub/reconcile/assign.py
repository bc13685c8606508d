"""The one way the engine picks pairs one-to-one from candidates: deterministic greedy in a total order."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def assign_one_to_one(candidates: pd.DataFrame, order: Sequence[str]) -> pd.DataFrame:
    """Choose candidate pairs (columns `l`, `r`: integer ranks of the ids on each side) so that no `l`
    and no `r` is chosen twice.

    The result is the greedy choice in the total order (order..., l, r): take the best pair, drop
    every candidate that shares an item with it, repeat. It is computed in vectorised rounds: a pair
    that is the best candidate of both its items (mutual best) is exactly a pair greedy takes (nothing
    better touches either item), so each round takes all mutual bests at once. The ranks come from the
    sorted ids, so the answer does not depend on the rows' order.
    """
    if candidates.empty:
        return candidates
    remaining = candidates.sort_values([*order, "l", "r"], kind="mergesort", ignore_index=True)
    taken = []
    while len(remaining):
        best_of_l = ~remaining["l"].duplicated()
        best_of_r = ~remaining["r"].duplicated()
        chosen = remaining[best_of_l & best_of_r]
        taken.append(chosen)
        remaining = remaining[~remaining["l"].isin(chosen["l"]) & ~remaining["r"].isin(chosen["r"])]
    return pd.concat(taken, ignore_index=True)
