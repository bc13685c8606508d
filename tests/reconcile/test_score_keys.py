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


def test_an_invoice_still_within_the_days_to_issue_it_is_not_expected_yet():
    """A receipt left without an invoice (planted `not_invoiced`) is listed as an invoice to issue; within
    `settings.INVOICE_WITHIN_DAYS` of the receipt that is pending work, not scored, so the planted difference
    is not expected of the run either (before, it counted as missed: 8 of the 14 misses on the world of 5,000
    units). An older one is found as before."""
    from estatehub import settings

    planted = [
        Planted("not_invoiced", "ledger", "invoices", "YS1", "2026-06-27", {"bill_no": "SKD1", "amount_fen": 1}),
        Planted("not_invoiced", "ledger", "invoices", "YS2", "2026-05-02", {"bill_no": "SKD2", "amount_fen": 1}),
    ]
    fresh, old = (
        _break("invoice_to_issue", (f"receipt:SKD{n}",), (), f"YS{n}") | {"reconciliation": "invoices", "age_days": age}
        for n, age in ((1, settings.INVOICE_WITHIN_DAYS), (2, settings.INVOICE_WITHIN_DAYS + 1))
    )
    result = score([fresh, old], planted, RECONCILIATIONS, as_of=date(2026, 6, 30))
    tally = result.by_kind["not_invoiced"]
    assert (tally.tp, tally.fn, result.by_reconciliation["invoices"].fp) == (1, 0, 0)
    assert result.moot[("not_invoiced", "pending")] == 1
    assert result.unscored[("invoices", "invoice_pending")] == 1
