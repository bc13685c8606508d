"""Fees collected for others (契税, 维修基金, 登记费) in the hub's reconciliations, on a hand-made warehouse
(SQLite and PostgreSQL): their statement lines match their ledger entries and are no supervision breach,
they pay no part of the price in the receivables mart, the KPIs leave them out of 回款, no invoice is asked
for them, and one booked as sale proceeds is a receivables break (decision 0028)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import insert

from estatehub.banks.tables import core_bank_account, core_bank_statement_line, etl_bank_statement_file
from estatehub.kpi.compute import read_facts
from estatehub.reconcile.cash import reconcile_cash
from estatehub.reconcile.checks import Period, reconcile_invoices, reconcile_receivables
from estatehub.reconcile.receivables import compute
from estatehub.trading_network.tables import core_contract, core_payment_plan, core_unit
from tests.reconcile.conftest import _contract
from tests.reconcile.test_cash import GEN, LOADED, RULES, SUP, Books, _file, _line, _receipt

PERIOD = Period(date(2026, 3, 1), date(2026, 3, 31), date(2026, 3, 31))
D = date
FEES = {2: ("契税", 3_679_266), 3: ("维修基金", 1_336_800), 4: ("登记费", 8_000)}
FEE_BILLS = {"SKD00000002", "SKD00000003", "SKD00000004", "SKD00000010", "SKD00000011"}


@pytest.fixture
def fee_world(warehouse):
    bank = [
        _line(1, SUP, D(2026, 3, 2), 1_000_000_00, "张三丰"),  # the 首付, in the supervised account
        *(
            _line(no, GEN, D(2026, 3, 2), fen, "张三丰", "POS", f"3-2-1502 代收{kind}")
            for no, (kind, fen) in FEES.items()
        ),
        _line(5, GEN, D(2026, 3, 10), -3_679_266, "国家税务总局深圳市税务局", "代缴税款", "代缴税款 契税 1笔 20260310"),
        _line(10, GEN, D(2026, 3, 5), 8_000, "张三丰", "汇入", "3-2-1502 登记费"),  # booked as 预收房款 (planted)
        _line(11, GEN, D(2026, 3, 6), 1_477_500, "李四", "POS", "维修基金"),  # a fee tied to no contract
    ]
    books = Books()
    books.entry(
        1, SUP, D(2026, 3, 2), 1_000_000_00, memo="3-2-1502 首付", bill=_receipt(1, SUP, D(2026, 3, 2), 1_000_000_00)
    )
    for no, (kind, fen) in FEES.items():
        bill = _receipt(no, GEN, D(2026, 3, 2), fen, kind) | {"purpose": f"代收{kind}"}
        books.entry(no, GEN, D(2026, 3, 2), fen, memo=f"3-2-1502 代收{kind}", bill=bill)
    books.entry(5, GEN, D(2026, 3, 10), -3_679_266, memo="代缴契税 3月2周 1户")  # the pay-over: no bill
    planted = _receipt(10, GEN, D(2026, 3, 5), 8_000, "登记费") | {"purpose": "预收房款"}
    books.entry(10, GEN, D(2026, 3, 5), 8_000, memo="3-2-1502 登记费", bill=planted)
    loose = _receipt(11, GEN, D(2026, 3, 6), 1_477_500, "维修基金") | {"purpose": "代收款项", "contract_no": None}
    books.entry(11, GEN, D(2026, 3, 6), 1_477_500, memo="代收维修基金", bill=loose | {"house_id": None})
    unit = {"project_code": "P01", "project_name": "云栖府", "building": "3栋", "unit": "2单元", "floor": 15}
    accounts = [(SUP, "supervised", "P1"), (GEN, "general", None)]
    with warehouse.engine.begin() as conn:
        conn.execute(
            insert(core_unit), [unit | {"house_id": "H1", "room": "1502", "permit_no": "P1", "building_area": 98.5}]
        )
        conn.execute(insert(core_contract), [_contract("YS-H1", "H1")])
        conn.execute(
            insert(core_payment_plan),
            [
                {"contract_no": "YS-H1", "seq": 1, "kind": "首付", "due_on": D(2026, 3, 2), "amount_fen": 1_000_000_00},
                {
                    "contract_no": "YS-H1",
                    "seq": 2,
                    "kind": "分期",
                    "due_on": D(2026, 3, 10),
                    "amount_fen": 2_000_000_00,
                },
            ],
        )
        conn.execute(
            insert(core_bank_account),
            [
                {
                    "bank": "icbc",
                    "account_no": no,
                    "account_type": kind,
                    "permit_no": permit,
                    "listed_at": LOADED["loaded_at"],
                }
                | LOADED
                for no, kind, permit in accounts
            ],
        )
        conn.execute(insert(etl_bank_statement_file), [_file(bank)])
        conn.execute(insert(core_bank_statement_line), bank)
        books.write(conn)
    return warehouse


def test_fee_lines_match_their_ledger_entries_and_breach_no_supervision_rule(fee_world):
    with fee_world.engine.connect() as conn:
        outcome = reconcile_cash(conn, PERIOD, RULES)
    assert outcome.breaks == []  # no line unmatched, no fee taken for sale money outside supervision
    matched = {(m["left_id"], m["right_id"]) for m in outcome.matches}
    assert {("line:icbc:0002", "entry:000000000021"), ("line:icbc:0005", "entry:000000000051")} <= matched
    assert len(matched) == 7


def test_fees_pay_no_part_of_the_price(fee_world):
    with fee_world.engine.connect() as conn:
        result = compute(conn, as_of=PERIOD.as_of)
    received = {(row["contract_no"], row["seq"]): row["received_fen"] for row in result.rows}
    assert received == {("YS-H1", 1): 1_000_000_00, ("YS-H1", 2): 0}  # the fees do not pay the 分期
    assert result.overpaid == {}
    assert result.suspense == []  # a fee tied to no contract is no suspense receipt of the price


def test_the_kpis_leave_fees_out_of_collections(fee_world):
    with fee_world.engine.connect() as conn:
        collections = read_facts(conn, PERIOD.as_of)["collections"]
    assert [(row.bill_no, row.amount_fen) for row in collections] == [("SKD00000001", 1_000_000_00)]


def test_no_invoice_is_asked_for_a_fee(fee_world):
    with fee_world.engine.connect() as conn:
        outcome = reconcile_invoices(conn, PERIOD)
    to_issue = {item for b in outcome.breaks if b["reason"] == "invoice_to_issue" for item in b["left_ids"]}
    assert to_issue == {"receipt:SKD00000001"}  # the 首付 has none yet; the five fee receipts need none


def test_a_fee_booked_as_sale_proceeds_is_a_receivables_break(fee_world):
    with fee_world.engine.connect() as conn:
        outcome = reconcile_receivables(conn, PERIOD)
    found = [(b["reason"], b["left_ids"]) for b in outcome.breaks if b["reason"] == "fee_booked_as_proceeds"]
    assert found == [("fee_booked_as_proceeds", ("receipt:SKD00000010",))]
    assert not {b["reason"] for b in outcome.breaks} & {"overpaid", "suspense_receipt"}
