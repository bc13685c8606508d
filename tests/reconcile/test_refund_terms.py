"""The contracts check dates a refund by the contract's own refund term (core_contract.refund_days), and by
the city's default only where the contract states none (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import update

from estatehub.reconcile.checks import Period, reconcile_contracts
from estatehub.reconcile.city import CityRules
from estatehub.trading_network.tables import core_contract
from tests.reconcile.conftest import END, START

CITY = CityRules(refund_default_days=20)


def _refund(world, stated: int | None) -> dict:
    with world.engine.begin() as conn:
        conn.execute(update(core_contract).where(core_contract.c.contract_no == "YS3").values(refund_days=stated))
    with world.engine.connect() as conn:
        outcome = reconcile_contracts(conn, Period(START, END, date(2026, 5, 20)), CITY)
    (refund,) = [b for b in outcome.breaks if b["reason"] in ("refund_due", "refund_overdue")]
    return refund


@pytest.mark.parametrize(
    ("stated", "due_on", "reason", "says"),
    [
        (15, date(2026, 5, 16), "refund_overdue", "(15 days, the contract's term)"),
        (30, date(2026, 5, 31), "refund_due", "(30 days, the contract's term)"),
        (None, date(2026, 5, 21), "refund_due", "(20 days: the contract states no term)"),
    ],
)
def test_the_refund_is_due_by_the_contracts_own_term_else_the_citys(world, stated, due_on, reason, says):
    refund = _refund(world, stated)
    assert (refund["due_on"], refund["reason"]) == (due_on, reason)
    assert refund["detail"].endswith(says)


@pytest.mark.parametrize(("refunded_on", "late"), [(date(2026, 5, 16), False), (date(2026, 5, 18), True)])
def test_a_refund_paid_after_the_contracts_term_is_a_break_once_paid(world, refunded_on, late):
    from sqlalchemy import insert

    from estatehub.ledger.tables import core_refund
    from tests.reconcile.conftest import _refund as refund_row

    with world.engine.begin() as conn:
        conn.execute(update(core_contract).where(core_contract.c.contract_no == "YS3").values(refund_days=15))
        conn.execute(insert(core_refund), [refund_row(41, "YS3", 510_000_00, refunded_on)])  # all it held
    with world.engine.connect() as conn:
        outcome = reconcile_contracts(conn, Period(START, END, END), CITY)
    refunds = [b for b in outcome.breaks if b["subject"] == "YS3" and b["reason"].startswith("refund")]
    if not late:
        assert refunds == []
        return
    (paid_late,) = refunds
    assert paid_late["reason"] == "refund_paid_late" and paid_late["due_on"] == date(2026, 5, 16)
    assert paid_late["amount_fen"] == 510_000_00 and paid_late["right_ids"] == ("refund:SKTKD41",)
    assert "510,000.00 yuan refunded on 2026-05-18" in paid_late["detail"]
