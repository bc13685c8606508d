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
