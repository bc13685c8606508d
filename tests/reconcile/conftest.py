"""The hand-made world of the reconciliation and finance-report tests (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import insert

from estatehub.banks.tables import core_bank_loan
from estatehub.ledger.tables import core_invoice, core_receipt
from estatehub.settings import BUSINESS_TZ
from estatehub.trading_network.tables import core_contract, core_payment_plan, core_unit

START, END = date(2026, 1, 1), date(2026, 6, 30)
NOW = datetime(2026, 6, 30, 10, tzinfo=UTC)


def _at(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=BUSINESS_TZ).astimezone(UTC)


def _unit(house_id: str) -> dict:
    return {
        "house_id": house_id,
        "project_code": "P01",
        "project_name": "云栖府",
        "building": "3栋",
        "unit": "2单元",
        "floor": 15,
        "room": "1502",
        "building_area": 98.5,
    }


def _contract(no: str, house_id: str, *, kind="预售", state="已备案", signed=date(2026, 1, 10), **extra) -> dict:
    return {
        "contract_no": no,
        "contract_type": kind,
        "state": state,
        "house_id": house_id,
        "unit_price_fen": 3_000_000,
        "total_price_fen": 300_000_000,
        "signed_at": _at(signed),
        "filed_at": _at(signed + timedelta(days=5)) if state in ("已备案",) else None,
        "updated_at": NOW,
        "subscription_no": None,
        "cancelled_at": None,
        **extra,
    }


def _receipt(no: int, contract: str | None, kind: str, amount: int, on: date, **extra) -> dict:
    return {
        "bill_id": no,
        "bill_no": f"SKD{no:08d}",
        "receipt_on": on,
        "customer_name": "张三丰",
        "amount_fen": amount,
        "remark": "",
        "is_audited": True,
        "is_voided": False,
        "created_at": NOW,
        "modified_at": NOW,
        "payment_kind": kind,
        "contract_no": contract,
        "house_id": None,
        **extra,
    }


def _refund(no: int, contract: str | None, amount: int, on: date, **extra) -> dict:
    """A refund (退款单) the ledger paid back to a buyer."""
    return {
        "bill_id": no,
        "bill_no": f"SKTKD{no}",
        "refund_on": on,
        "amount_fen": amount,
        "remark": "",
        "is_audited": True,
        "is_voided": False,
        "created_at": NOW,
        "modified_at": NOW,
        "contract_no": contract,
        **extra,
    }


@pytest.fixture
def world(warehouse):
    """Two live contracts, one cancelled with money held, one signed and not filed; plans and receipts."""
    with warehouse.engine.begin() as conn:
        conn.execute(insert(core_unit), [_unit(h) for h in ("H1", "H2", "H3", "H4")])
        conn.execute(
            insert(core_contract),
            [
                _contract("RG1", "H1", kind="认购", state="已签", signed=date(2026, 1, 2)),
                _contract("YS1", "H1", subscription_no="RG1"),
                _contract("YS2", "H2"),
                _contract(
                    "YS3", "H3", state="撤销", cancelled_at=_at(date(2026, 5, 1)), filed_at=_at(date(2026, 1, 15))
                ),
                _contract("XS4", "H4", kind="现售", state="已签", signed=date(2026, 5, 1)),
            ],
        )
        plan = [
            ("RG1", 1, "定金", date(2026, 1, 2), 50_000_00),
            ("YS1", 1, "定金", date(2026, 1, 2), 50_000_00),
            ("YS1", 2, "首付", date(2026, 1, 20), 900_000_00),
            ("YS1", 3, "按揭", date(2026, 3, 1), 2_050_000_00),
            ("YS2", 1, "首付", date(2026, 2, 1), 600_000_00),
            ("YS2", 2, "分期", date(2026, 5, 31), 100_000_00),  # 30 days overdue on 06-30
            ("YS2", 3, "分期", date(2026, 5, 30), 100_000_00),  # 31 days overdue
            ("YS3", 1, "首付", date(2026, 3, 1), 500_000_00),
        ]
        conn.execute(
            insert(core_payment_plan),
            [{"contract_no": c, "seq": s, "kind": k, "due_on": d, "amount_fen": a} for c, s, k, d, a in plan],
        )
        conn.execute(
            insert(core_receipt),
            [
                _receipt(1, "RG1", "定金", 50_000_00, date(2026, 1, 2)),  # carried to YS1
                _receipt(2, "YS1", "首付", 900_000_00, date(2026, 1, 18)),
                _receipt(3, "YS1", "按揭", 2_050_000_00, date(2026, 3, 2)),
                _receipt(4, "YS2", "首付", 600_000_00, date(2026, 2, 1)),
                _receipt(5, "YS3", "首付", 500_000_00, date(2026, 3, 1)),
                _receipt(6, None, "首付", 12_345_00, date(2026, 6, 1)),  # suspense
                _receipt(7, "YS3", "分期", 10_000_00, date(2026, 5, 10)),  # after cancellation
            ],
        )
        conn.execute(
            insert(core_bank_loan),
            [
                {
                    "bank": "icbc",
                    "loan_no": "L1",
                    "contract_no": "YS1",
                    "house_id": "H1",
                    "link_basis": "contract_no",
                    "loan_type": "商贷",
                    "stage": "已放款",
                    "borrower_name": "张三丰",
                    "borrower_id_type": "身份证",
                    "borrower_id_hash": "h",
                    "borrower_id_masked": "4403**********1234",
                    "disbursed_fen": 2_050_000_00,
                    "disbursed_on": date(2026, 3, 1),
                    "updated_at": NOW,
                }
            ],
        )
        conn.execute(
            insert(core_invoice),
            [
                {
                    "invoice_id": i,
                    "bill_no": f"XSFP{i:08d}",
                    "invoice_type": "预收款发票",
                    "invoice_no": f"0{i:07d}",
                    "invoice_on": on,
                    "tax_code": "602",
                    "tax_rate": 0,
                    "amount_fen": amount,
                    "tax_fen": 0,
                    "is_red": False,
                    "source_bill_no": source,
                    "remark": "",
                    "is_audited": True,
                    "is_voided": False,
                    "created_at": NOW,
                    "modified_at": NOW,
                }
                for i, source, amount, on in (
                    (1, "SKD00000001", 50_000_00, date(2026, 1, 2)),
                    (2, "SKD00000002", 900_000_00, date(2026, 1, 18)),
                    (3, "SKD00000003", 2_050_000_00, date(2026, 3, 2)),
                    (4, "SKD00000005", 500_000_00, date(2026, 3, 1)),
                    (5, "SKD00000099", 70_000_00, date(2026, 4, 1)),  # names no receipt the ledger holds
                )
            ],
        )
    return warehouse
