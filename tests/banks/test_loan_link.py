"""A loan without a contract number links by its borrower and unit to the contract in force when it was
applied for (SQLite and PostgreSQL): a buyer who cancels and signs the same unit again leaves the bank's
earlier loan on the contract it was applied for, where a disbursement on a cancelled contract is an alarm."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import insert, select

from estatehub.banks.tables import core_bank_loan, stg_bank_loan
from estatehub.trading_network.tables import core_contract, core_unit
from estatehub.warehouse import sqlfiles
from tests.ledger.test_link_rooms import _buy
from tests.reconcile.conftest import _at, _contract, _unit

NOW = datetime(2026, 6, 30, 10, tzinfo=UTC)
ADDRESS = "云栖府3栋2单元1502"  # tests.reconcile.conftest._unit's address


def _loan(no: str, applied: date | None) -> dict:
    return {
        "bank": "ccb",
        "loan_no": no,
        "loan_type": "商贷",
        "stage": "已放款",
        "reported_contract_no": None,  # the bank's list shows no contract number: linked by borrower and unit
        "borrower_name": "张三丰",
        "borrower_id_type": "身份证",
        "borrower_id_hash": "h1",
        "borrower_id_masked": "4403**********1234",
        "property_address": ADDRESS,
        "applied_fen": 100_000_00,
        "applied_on": applied,
        "updated_at": NOW,
        "payload_hash": no,
        "batch_id": "b1",
        "run_id": "r1",
        "loaded_at": NOW,
    }


def test_a_loan_links_to_the_contract_in_force_when_it_was_applied_for(warehouse):
    with warehouse.engine.begin() as conn:
        conn.execute(insert(stg_bank_loan), [_loan("L1", date(2026, 2, 1)), _loan("L2", date(2026, 3, 10))])
        conn.execute(insert(stg_bank_loan), [_loan("L3", None)])
        conn.execute(insert(core_unit), [_unit("H1")])
        conn.execute(
            insert(core_contract),
            [
                _contract("YS1", "H1", state="撤销", signed=date(2026, 1, 10), cancelled_at=_at(date(2026, 3, 1))),
                _contract("YS2", "H1", signed=date(2026, 3, 2)),
            ],
        )
        _buy(conn, ("h1", "YS1", "张三丰"), ("h1", "YS2", "张三丰"))
        sqlfiles.execute(conn, "core/core_bank_loan", {"batch_id": "b1"})
        linked = dict(conn.execute(select(core_bank_loan.c.loan_no, core_bank_loan.c.contract_no)).all())
    # applied while YS1 was in force: its loan, though the network cancelled YS1 and the buyer signed again
    # (before: the contract in force now, YS2, and the disbursement on the cancelled YS1 went unseen)
    assert linked == {"L1": "YS1", "L2": "YS2", "L3": "YS2"}
