"""The hand-made warehouse of the work-list tests (SQLite and PostgreSQL), as of 2026-06-30.

Built on the reconciliation tests' world (contracts YS1, YS2, YS3 cancelled with money held, XS4
signed and not filed, receipts without invoices), with what each list needs on both sides of its
deadline: project P01 (H1-H4, H7, H8) and project P02 (H5, H6, H9).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import insert, update

from estatehub.banks.tables import core_bank_loan, core_bank_loan_stage
from estatehub.ledger.tables import core_receipt
from estatehub.reconcile.city import CityRules
from estatehub.reconcile.run import run_reconciliation
from estatehub.trading_network.tables import (
    core_buyer,
    core_contract,
    core_contract_buyer,
    core_handover,
    core_payment_plan,
    core_registration,
    core_unit,
)
from estatehub.worklists.assignees import Assignees, Person
from tests.reconcile import conftest as reconcile_world
from tests.reconcile.conftest import END, NOW, START, _at, _contract, _receipt, _unit

world = reconcile_world.world  # the reconciliation tests' world, this folder's fixture too
AS_OF = END  # 2026-06-30
CITY = CityRules()  # 30 days to file, refunds 30 days where a contract names none, registration 90

ASSIGNEES = Assignees(
    "estatehub@dev.example",
    (
        Person("li", "李专员", "li@dev.example", "zh-CN", "specialist", frozenset({"P01"})),
        Person("wang", "Wang", "wang@dev.example", "en", "specialist", frozenset({"P02"})),
        Person("boss", "主管", "boss@dev.example", "zh-CN", "supervisor"),
    ),
)


def contract(no: str, house_id: str, **extra) -> dict:
    """A contract of the reconciliation world's shape with the terms the work lists read (none by default)."""
    terms = {"planned_signing_on": None, "delivery_on": None, "registration_days": None, "refund_days": None}
    return _contract(no, house_id, **(terms | extra))


def loan(bank: str, loan_no: str, contract_no: str | None, stage: str, **extra) -> dict:
    return {
        "bank": bank,
        "loan_no": loan_no,
        "contract_no": contract_no,
        "house_id": None,
        "link_basis": "contract_no" if contract_no else "unlinked",
        "loan_type": "商贷",
        "stage": stage,
        "borrower_name": "张三丰",
        "borrower_id_type": "身份证",
        "borrower_id_hash": f"h-{loan_no}",
        "borrower_id_masked": "4403**********1234",
        "applied_fen": 1_000_000_00,
        "disbursed_fen": None,
        "guarantee_fen": None,
        "disbursed_on": None,
        "updated_at": NOW,
        **extra,
    }


def stages(bank: str, loan_no: str, *steps: tuple[str, date]) -> list[dict]:
    return [
        {"bank": bank, "loan_no": loan_no, "seq": seq, "stage": stage, "entered_at": _at(on)}
        for seq, (stage, on) in enumerate(steps, start=1)
    ]


def reconcile(warehouse) -> None:
    run_reconciliation(warehouse, date_from=START, date_to=END, city=CITY)


@pytest.fixture
def lists_world(world):
    """The reconciliation world plus one case per list on each side of its deadline, reconciled."""
    d = date
    with world.engine.begin() as conn:
        conn.execute(insert(core_unit), [_unit(h) for h in ("H7", "H8")])
        conn.execute(
            insert(core_unit),
            [_unit(h) | {"project_code": "P02", "project_name": "江南里"} for h in ("H5", "H6", "H9")],
        )
        conn.execute(
            insert(core_unit), [_unit("H10") | {"building_area": 100.00}, _unit("H11") | {"building_area": 100.00}]
        )
        conn.execute(
            insert(core_contract),
            [
                # subscriptions: RG5 one day past its planned signing, RG6 due today, RG7 signed as YS7
                contract(
                    "RG5", "H5", kind="认购", state="已签", signed=d(2026, 6, 1), planned_signing_on=d(2026, 6, 29)
                ),
                contract(
                    "RG6", "H6", kind="认购", state="已签", signed=d(2026, 6, 1), planned_signing_on=d(2026, 6, 30)
                ),
                contract(
                    "RG7", "H7", kind="认购", state="已签", signed=d(2026, 5, 1), planned_signing_on=d(2026, 5, 20)
                ),
                contract("YS7", "H7", subscription_no="RG7", signed=d(2026, 5, 19), delivery_on=d(2026, 6, 30)),
                # filing: XF1 signed 05-30 (due 06-29, one day late), XF2 signed 05-31 (due today)
                contract("XF1", "H8", kind="现售", state="已签", signed=d(2026, 5, 30)),
                contract("XF2", "H9", kind="现售", state="已签", signed=d(2026, 5, 31), registration_days=60),
                # area: H10 as built +3.00% (not over), H11 +3.01%
                contract("YS10", "H10", delivery_on=d(2026, 6, 1)),
                contract("YS11", "H11", delivery_on=d(2026, 6, 1)),
            ],
        )
        # handover: YS2 to deliver by 06-29 (late), YS7 by 06-30 (today); YS1 handed over 03-01 with no
        # registration term (90 days: due 05-30, late); YS10 and YS11 handed over 06-01
        conn.execute(
            update(core_contract).where(core_contract.c.contract_no == "YS2").values(delivery_on=d(2026, 6, 29))
        )
        conn.execute(
            update(core_contract).where(core_contract.c.contract_no == "YS1").values(delivery_on=d(2026, 3, 1))
        )
        conn.execute(
            insert(core_handover),
            [
                {"contract_no": "YS1", "handed_over_on": d(2026, 3, 1), "as_built_area": 98.50, "area_diff_fen": 0},
                {
                    "contract_no": "YS10",
                    "handed_over_on": d(2026, 6, 1),
                    "as_built_area": 103.00,
                    "area_diff_fen": 9_000_00,
                },
                {
                    "contract_no": "YS11",
                    "handed_over_on": d(2026, 6, 1),
                    "as_built_area": 103.01,
                    "area_diff_fen": 9_030_00,
                },
            ],
        )
        # registration of a 现售 counts from signing: XS4 (signed 05-01, not handed over) names 30 days
        conn.execute(update(core_contract).where(core_contract.c.contract_no == "XS4").values(registration_days=30))
        # refund: YS3 (cancelled 05-01) names its own term, 15 days: due 05-16
        conn.execute(update(core_contract).where(core_contract.c.contract_no == "YS3").values(refund_days=15))
        # buyers: every contract of H5 and YS2 has a buyer with a phone (masked, as the warehouse keeps it)
        conn.execute(
            insert(core_buyer),
            [
                {
                    "id_hash": "b1",
                    "id_type": "身份证",
                    "id_masked": "110***********123X",
                    "name": "王小明",
                    "phone_hash": "p1",
                    "phone_masked": "138****5678",
                    "is_company": False,
                },
                {
                    "id_hash": "b2",
                    "id_type": "身份证",
                    "id_masked": "440***********0011",
                    "name": "欧阳娜娜",
                    "phone_hash": "p2",
                    "phone_masked": "139****0001",
                    "is_company": False,
                },
            ],
        )
        conn.execute(
            insert(core_contract_buyer),
            [
                {"contract_no": "RG5", "seq": 1, "id_hash": "b1", "is_primary": True},
                {"contract_no": "YS2", "seq": 1, "id_hash": "b1", "is_primary": False},
                {"contract_no": "YS2", "seq": 2, "id_hash": "b2", "is_primary": True},
            ],
        )
        # loans: icbc's 已递交 stays were 8, 9, 10, 12 and 30 days (80%: 12); ccb has two (too few: floor 7)
        history = []
        for i, days in enumerate((8, 9, 10, 12, 30), start=1):
            history += stages(
                "icbc",
                f"H{i}",
                ("资料收齐", d(2026, 1, 1)),
                ("已递交", d(2026, 2, 1)),
                ("已审批", d(2026, 2, 1) + timedelta(days=days)),
                ("已放款", d(2026, 3, 15)),
            )
        history += stages("ccb", "C1", ("已递交", d(2026, 3, 1)), ("已审批", d(2026, 3, 3)), ("已放款", d(2026, 4, 1)))
        history += stages("ccb", "C2", ("已递交", d(2026, 3, 1)), ("拒贷", d(2026, 3, 4)))
        history += stages("icbc", "S1", ("资料收齐", d(2026, 6, 1)), ("已递交", d(2026, 6, 17)))  # due 06-29: late
        history += stages("icbc", "S2", ("资料收齐", d(2026, 6, 1)), ("已递交", d(2026, 6, 18)))  # due 06-30
        history += stages("ccb", "S3", ("已递交", d(2026, 6, 22)))  # floor 7: due 06-29, late
        history += stages("ccb", "S4", ("已递交", d(2026, 5, 1)), ("已放款", d(2026, 5, 20)))  # done
        conn.execute(insert(core_bank_loan_stage), history)
        loans = [loan("icbc", f"H{i}", None, "已放款") for i in range(1, 6)]
        loans += [loan("ccb", "C1", None, "已放款"), loan("ccb", "C2", None, "拒贷")]
        loans += [
            loan("icbc", "S1", "YS2", "已递交"),
            loan("icbc", "S2", "YS2", "已递交"),
            loan("ccb", "S3", "RG5", "已递交"),
            loan("ccb", "S4", "YS10", "已放款", disbursed_fen=1_000_000_00, disbursed_on=d(2026, 5, 20)),
            # guarantee: YS11's loan less 5% held back; registered 06-10, due back by 07-10
            loan(
                "ccb",
                "G1",
                "YS11",
                "已放款",
                disbursed_fen=1_000_000_00,
                guarantee_fen=50_000_00,
                disbursed_on=d(2026, 6, 5),
            ),
        ]
        conn.execute(insert(core_bank_loan), loans)
        conn.execute(insert(core_receipt), [_receipt(40, "YS11", "按揭", 950_000_00, d(2026, 6, 5))])
        conn.execute(
            insert(core_registration),
            [{"contract_no": "YS11", "status": "已登记", "applied_on": d(2026, 6, 2), "registered_on": d(2026, 6, 10)}],
        )
        # the true-up of YS11's 3.01%: a 补差 line (not paid)
        conn.execute(
            insert(core_payment_plan),
            [
                {"contract_no": "YS11", "seq": 1, "kind": "按揭", "due_on": d(2026, 6, 5), "amount_fen": 1_000_000_00},
                {"contract_no": "YS11", "seq": 2, "kind": "补差", "due_on": d(2026, 6, 15), "amount_fen": 9_030_00},
            ],
        )
    reconcile(world)
    return world
