"""Small hand-made sides for the matching engine's tests, and readers of its results."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

AS_OF = date(2026, 3, 31)
D0 = date(2026, 3, 1)


def day(n: int) -> date:
    """The n-th day after 2026-03-01 (day(0) is 2026-03-01)."""
    return D0 + timedelta(days=n)


def side(*rows: dict) -> pd.DataFrame:
    """A side from rows {id, amount, on (days after D0), reference?, unit?, text?, party?, memo?, names?}; the
    columns party, memo and names only where a row has them (a side without them is a side that never had
    them)."""
    frame = pd.DataFrame(
        {
            "id": [r["id"] for r in rows],
            "amount_fen": pd.array([r["amount"] for r in rows], dtype="Int64"),
            "on": [day(r["on"]) if isinstance(r["on"], int) else r["on"] for r in rows],
            "reference": [r.get("reference") for r in rows],
            "unit": [r.get("unit") for r in rows],
            "text": [r.get("text") for r in rows],
        }
    )
    for optional in ("party", "memo", "names"):
        if any(optional in r for r in rows):
            frame[optional] = [r.get(optional) for r in rows]
    return frame


def links(result) -> set[tuple[str, str]]:  # noqa: ANN001
    return set(zip(result.matches["left_id"], result.matches["right_id"], strict=True))


def tiers(result) -> dict[tuple[str, str], int]:  # noqa: ANN001
    return {(r.left_id, r.right_id): r.tier for r in result.matches.itertuples()}


def reasons(result) -> dict[tuple[tuple[str, ...], tuple[str, ...]], str]:  # noqa: ANN001
    return {(tuple(r.left_ids), tuple(r.right_ids)): r.reason for r in result.breaks.itertuples()}
