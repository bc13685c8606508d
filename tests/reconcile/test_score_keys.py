"""The scorer's matching of breaks to planted differences (`bench.reconcile_score.score`), on hand-made ones."""

from __future__ import annotations

from datetime import date

from bench.reconcile_score import RECONCILIATIONS, score
from sandbox.truth import Planted


def _break(reason: str, items: tuple[str, ...], other: tuple[str, ...], subject: str | None) -> dict:
    return {
        "reconciliation": "cash",
        "reason": reason,
        "left_ids": items,
        "right_ids": other,
        "subject": subject,
        "first_on": None,
        "amount_fen": 0,
        "age_days": 0,
    }


def test_a_release_over_the_allowed_amount_is_found_by_its_number():
    """A release names a permit, no contract: the truth's release number answers the break's `release:BANK:NO`
    (keyed by contract, none of the 23 of the 100,000-contract world was found, and each break was a false
    alarm). Another release of the same permit stays unanswered."""
    permit = "深房许字（2025）坪山169号"
    planted = [
        Planted(
            "release_over_allowed", "banks", "cash", None, "2025-05-14", {"release_no": "BF01", "permit_no": permit}
        ),
        Planted(
            "release_over_allowed", "banks", "cash", None, "2025-06-14", {"release_no": "BF02", "permit_no": permit}
        ),
    ]
    breaks = [_break("release_over_allowed", ("release:icbc:BF01",), ("supervision_rule",), permit)]
    result = score(breaks, planted, RECONCILIATIONS, as_of=date(2026, 6, 30))
    tally = result.by_kind["release_over_allowed"]
    assert (tally.tp, tally.fn, result.by_reconciliation["cash"].fp) == (1, 1, 0)
