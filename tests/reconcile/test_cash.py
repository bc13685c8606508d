"""The cash reconciliation on a hand-made warehouse (SQLite and PostgreSQL): statement lines against the
ledger's bank entries account by account, each line break refined by what it is, the supervised-account
rules at their edges; nothing matched twice; the same run again gives the same result."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import insert, select

from estatehub.banks.tables import (
    core_bank_account,
    core_bank_statement_line,
    core_bank_supervision,
    etl_bank_statement_file,
)
from estatehub.ledger.tables import core_receipt, core_refund, core_voucher, core_voucher_line
from estatehub.reconcile.cash import reconcile_cash
from estatehub.reconcile.checks import PROCEEDS_KINDS, Period
from estatehub.reconcile.rules import load_rules
from estatehub.reconcile.run import run_reconciliation
from estatehub.reconcile.tables import rec_break
from estatehub.settings import BUSINESS_TZ, CONFIG_DIR
from estatehub.trading_network.tables import core_unit
from tests.reconcile.conftest import NOW

PERIOD = Period(date(2026, 3, 1), date(2026, 3, 31), date(2026, 3, 31))
RULES = load_rules(CONFIG_DIR / "reconcile_rules.yaml")
SUP, GEN = "44250100000000000001", "44250100000000000009"  # supervised account of permit P1; general account
SUP2 = "44250100000000000002"  # supervised account of permit P2
LOADED = {"payload_hash": "h", "batch_id": "b", "run_id": "r", "loaded_at": NOW}


def _line(no: int, account: str, day: date, fen: int, payer: str | None = None, summary="转账", memo="") -> dict:
    return {
        "line_key": f"icbc:{no:04d}",
        "bank": "icbc",
        "account_no": account,
        "booked_on": day,
        "booked_time": "10:00:00",
        "direction": "in" if fen > 0 else "out",
        "amount_fen": abs(fen),
        "balance_fen": None,
        "currency": "CNY",
        "counterparty_name": payer,
        "summary": summary,
        "memo": memo,
        "layout": "icbc",
        "file_id": 2 if account == GEN else 1,
        "line_no": no,
        "first_file_id": 2 if account == GEN else 1,
        "is_current": True,
        "loaded_at": NOW,
    }


class Books:
    """Vouchers of one bank-deposit entry each (balanced by an advance-receipts entry), with their bills."""

    def __init__(self) -> None:
        self.vouchers: list[dict] = []
        self.lines: list[dict] = []
        self.receipts: list[dict] = []
        self.refunds: list[dict] = []

    def entry(self, no: int, account: str, day: date, fen: int, *, memo: str, bill: dict | None = None, **voucher):
        source = None
        if bill is not None:
            source = bill["bill_no"]
            (self.refunds if fen < 0 else self.receipts).append(bill)
        self.vouchers.append(
            {
                "voucher_id": no,
                "voucher_group": "记",
                "voucher_number": no,
                "year": day.year,
                "period": day.month,
                "voucher_on": day,
                "source_bill_no": source,
                "is_audited": True,
                "is_voided": False,
                "is_reversal": False,
                "reversed_voucher_id": None,
                "reversed_by_voucher_id": None,
                "created_at": NOW,
                "modified_at": NOW,
            }
            | voucher
        )
        common = {"voucher_id": no, "voucher_on": day, "memo": memo, "is_voided": False}
        self.lines += [
            common
            | {
                "entry_id": no * 10 + 1,
                "seq": 1,
                "account_no": "100201",
                "bank_account_no": account,
                "debit_fen": max(fen, 0),
                "credit_fen": max(-fen, 0),
            },
            common
            | {
                "entry_id": no * 10 + 2,
                "seq": 2,
                "account_no": "220301",
                "bank_account_no": None,
                "debit_fen": max(-fen, 0),
                "credit_fen": max(fen, 0),
            },
        ]

    def write(self, conn) -> None:
        for table, rows in (
            (core_voucher, self.vouchers),
            (core_voucher_line, self.lines),
            (core_receipt, self.receipts),
            (core_refund, self.refunds),
        ):
            if rows:
                conn.execute(insert(table), rows)


def _receipt(no: int, account: str, day: date, fen: int, kind="首付", house="H1", payer="张三丰") -> dict:
    return {
        "bill_id": no,
        "bill_no": f"SKD{no:08d}",
        "receipt_on": day,
        "customer_name": payer,
        "payer": payer,
        "bank_account_no": account,
        "amount_fen": fen,
        "remark": "",
        "is_audited": True,
        "is_voided": False,
        "created_at": NOW,
        "modified_at": NOW,
        "payment_kind": kind,
        "purpose": "预收房款" if kind in PROCEEDS_KINDS else None,
        "contract_no": f"YS-{house}",
        "house_id": house,
    }


def _refund(no: int, account: str, day: date, fen: int, house="H1") -> dict:
    return {
        "bill_id": no,
        "bill_no": f"TKD{no:08d}",
        "refund_on": day,
        "customer_name": "李四",
        "payee": "李四",
        "bank_account_no": account,
        "amount_fen": fen,
        "remark": "",
        "is_audited": True,
        "is_voided": False,
        "created_at": NOW,
        "modified_at": NOW,
        "contract_no": f"YS-{house}",
        "house_id": house,
    }


def _record(no: str, kind: str, day: date, fen: int, allowed: int | None = None) -> dict:
    at = datetime.combine(day, time(10), tzinfo=BUSINESS_TZ).astimezone(UTC)
    return {
        "bank": "icbc",
        "record_no": no,
        "record_type": kind,
        "account_no": SUP,
        "counter_account_no": GEN if kind == "release" else None,
        "permit_no": "P1",
        "contract_no": None,
        "milestone": "主体结构封顶" if kind == "release" else None,
        "amount_fen": fen,
        "allowed_fen": allowed if allowed is not None else fen,
        "retained_fen": 100_000_00 if kind == "release" else None,
        "approved_at": at,
        "approved_on": day,
        **LOADED,
    }


def _file(lines: list[dict]) -> dict:
    """The general account's statement file: its lines reach 2026-03-29 (the supervised accounts' have none)."""
    mine = [line for line in lines if line["account_no"] == GEN]
    ins, outs = [x for x in mine if x["direction"] == "in"], [x for x in mine if x["direction"] == "out"]
    return {
        "file_id": 2,
        "bank": "icbc",
        "account_no": GEN,
        "file_name": "icbc_gen_202603.xls",
        "sha256": "0" * 64,
        "layout": "icbc",
        "period_start_on": date(2026, 3, 1),
        "period_end_on": date(2026, 3, 29),
        "line_count": len(mine),
        "quarantined_count": 0,
        "credit_count": len(ins),
        "debit_count": len(outs),
        "credit_fen": sum(x["amount_fen"] for x in ins),
        "debit_fen": sum(x["amount_fen"] for x in outs),
        "status": "loaded",
        "origin": "download",
        "run_id": "r",
        "loaded_at": NOW,
    }


D = date  # short for the day of each case


@pytest.fixture
def cash_world(warehouse):
    """Each case of the cash reconciliation once; the comments say what each should give."""
    bank = [
        _line(1, SUP, D(2026, 3, 2), 100_000_00, "张三丰"),  # = entry 1, same day (tier 2)
        _line(2, SUP, D(2026, 3, 5), 2_000_00, "王五"),  # = entry 2, three days later (tier 2, the window's edge)
        _line(3, SUP, D(2026, 3, 10), 3_000_00, "赵六"),  # entry 3 four days later, another payer: two breaks
        _line(4, SUP, D(2026, 3, 16), 4_000_00, "孙七"),  # = entry 4, ten days later, same payer (tier 3)
        _line(5, SUP, D(2026, 3, 16), 4_100_00, "周八"),  # entry 5 eleven days later, same payer: two breaks
        _line(6, SUP, D(2026, 3, 3), 200_000_00, "中国工商银行"),  # two disbursements in one ledger entry (tier 4)
        _line(7, SUP, D(2026, 3, 3), 300_000_00, "中国工商银行"),
        _line(8, SUP, D(2026, 3, 4), 50_000_00, "吴九"),  # = entry 8; entry 9 books it again: duplicate_receipt
        _line(10, SUP, D(2026, 3, 6), -8_000_00, "李四", "转账支出", "云栖府3栋1502 退房款"),  # refund_not_booked
        _line(12, GEN, D(2026, 3, 9), 5_000_00, "深圳市安居物业管理有限公司", "汇入", "往来款"),  # not booked
        _line(13, GEN, D(2026, 3, 9), -20_00, None, "手续费", "汇划手续费"),  # the bank-fees rule ignores it
        _line(14, GEN, D(2026, 3, 11), -200_01, None, "手续费", "汇划手续费"),  # over the rule's 200.00: a break
        _line(15, SUP, D(2026, 3, 20), -7_000_00, "李四", "转账支出", "退房款"),  # = entry 15; approval a day late
        _line(16, SUP, D(2026, 3, 22), -6_000_00, "李四", "转账支出", "退房款"),  # = entry 16; approved that day
        _line(17, SUP, D(2026, 3, 23), -6_500_00, "李四", "转账支出", "退房款"),  # = entry 17; approved 6,400 only
        _line(18, SUP, D(2026, 3, 25), -5_000_00, "李四", "转账支出", "退房款"),  # = entry 18; one approval for
        _line(19, SUP, D(2026, 3, 26), -5_000_00, "钱二", "转账支出", "退房款"),  # = entry 19; the two of them
        _line(20, SUP, D(2026, 3, 27), -10_000_00, "深圳云栖置业", "监管资金拨付"),  # = entry 20, release as allowed
        _line(21, SUP, D(2026, 3, 30), -10_000_01, "深圳云栖置业", "监管资金拨付"),  # = entry 21, 0.01 over
        _line(22, GEN, D(2026, 3, 12), 9_000_00, "郑一"),  # = entry 22: a receipt into the general account
        _line(23, GEN, D(2026, 3, 13), 1_500_00, "郑一"),  # = entry 23: 维修基金 into it (not sale money)
        _line(24, SUP, D(2026, 3, 28), -15_00, None, "手续费", "汇划手续费"),  # a fee: ignored, needs no approval
        _line(25, SUP, D(2026, 3, 31), -3_000_00, "李四", "转账支出", "退房款"),  # = entry 25; approved 30 days before
        _line(26, SUP, D(2026, 3, 31), -3_100_00, "李四", "转账支出", "退房款"),  # = entry 26; approved 31 days before
        _line(27, SUP, D(2026, 3, 31), 1_234_00, "冯十"),  # = entry 27, booked after the period (within the window)
        _line(29, SUP, D(2026, 3, 3), 7_777_00, "蒋十一"),  # = entry 31: booked, red-reversed, booked again
        _line(34, GEN, D(2026, 3, 19), 20_000_00, "韩十二"),  # = entry 34
        _line(35, SUP2, D(2026, 3, 19), 6_600_00, "张三丰"),  # = entry 35: H1's money in permit P2's account
        _line(36, SUP, D(2026, 3, 31), 800_00, "卫十三"),  # the as-of day's evening, not yet booked: in transit
    ]
    books = Books()
    books.entry(1, SUP, D(2026, 3, 2), 100_000_00, memo="收1502首付", bill=_receipt(1, SUP, D(2026, 3, 2), 100_000_00))
    books.entry(
        2, SUP, D(2026, 3, 8), 2_000_00, memo="收分期", bill=_receipt(2, SUP, D(2026, 3, 8), 2_000_00, payer="王五")
    )
    books.entry(3, SUP, D(2026, 3, 14), 3_000_00, memo="收分期", bill=_receipt(3, SUP, D(2026, 3, 14), 3_000_00))
    books.entry(
        4, SUP, D(2026, 3, 26), 4_000_00, memo="收分期", bill=_receipt(4, SUP, D(2026, 3, 26), 4_000_00, payer="孙七")
    )
    books.entry(
        5, SUP, D(2026, 3, 27), 4_100_00, memo="收分期", bill=_receipt(5, SUP, D(2026, 3, 27), 4_100_00, payer="周八")
    )
    books.entry(
        6, SUP, D(2026, 3, 3), 500_000_00, memo="收按揭款2笔", bill=_receipt(6, SUP, D(2026, 3, 3), 500_000_00, "按揭")
    )
    books.entry(8, SUP, D(2026, 3, 4), 50_000_00, memo="收吴九首付", bill=_receipt(8, SUP, D(2026, 3, 4), 50_000_00))
    books.entry(9, SUP, D(2026, 3, 4), 50_000_00, memo="收吴九首付", bill=_receipt(9, SUP, D(2026, 3, 4), 50_000_00))
    books.entry(11, SUP, D(2026, 3, 18), -9_000_00, memo="退李四房款", bill=_refund(11, SUP, D(2026, 3, 18), 9_000_00))
    books.entry(15, SUP, D(2026, 3, 20), -7_000_00, memo="退房款", bill=_refund(15, SUP, D(2026, 3, 20), 7_000_00))
    books.entry(16, SUP, D(2026, 3, 22), -6_000_00, memo="退房款", bill=_refund(16, SUP, D(2026, 3, 22), 6_000_00))
    books.entry(17, SUP, D(2026, 3, 23), -6_500_00, memo="退房款", bill=_refund(17, SUP, D(2026, 3, 23), 6_500_00))
    books.entry(18, SUP, D(2026, 3, 25), -5_000_00, memo="退房款", bill=_refund(18, SUP, D(2026, 3, 25), 5_000_00))
    books.entry(19, SUP, D(2026, 3, 26), -5_000_00, memo="退房款", bill=_refund(19, SUP, D(2026, 3, 26), 5_000_00))
    books.entry(20, SUP, D(2026, 3, 27), -10_000_00, memo="监管资金拨付")
    books.entry(21, SUP, D(2026, 3, 30), -10_000_01, memo="监管资金拨付")
    books.entry(
        22,
        GEN,
        D(2026, 3, 12),
        9_000_00,
        memo="收郑一房款",  # no kind in the memo: the ledger's purpose says sale proceeds
        bill=_receipt(22, GEN, D(2026, 3, 12), 9_000_00, None, house="H2") | {"purpose": "预收房款"},
    )
    books.entry(
        23,
        GEN,
        D(2026, 3, 13),
        1_500_00,
        memo="代收维修基金",
        bill=_receipt(23, GEN, D(2026, 3, 13), 1_500_00, "维修基金", "H2") | {"purpose": "代收款项"},
    )
    books.entry(25, SUP, D(2026, 3, 31), -3_000_00, memo="退房款", bill=_refund(25, SUP, D(2026, 3, 31), 3_000_00))
    books.entry(26, SUP, D(2026, 3, 31), -3_100_00, memo="退房款", bill=_refund(26, SUP, D(2026, 3, 31), 3_100_00))
    books.entry(27, SUP, D(2026, 4, 2), 1_234_00, memo="收分期", bill=_receipt(27, SUP, D(2026, 4, 2), 1_234_00))
    books.entry(32, GEN, D(2026, 3, 30), 2_222_00, memo="收款")  # after GEN's statements: in transit, no break
    books.entry(33, GEN, D(2026, 3, 29), 3_333_00, memo="收款")  # on their last day: booked, not on the statement
    no_unit = _receipt(34, GEN, D(2026, 3, 19), 20_000_00, "诚意金") | {"contract_no": None, "house_id": None}
    books.entry(34, GEN, D(2026, 3, 19), 20_000_00, memo="收诚意金", bill=no_unit)  # = line 34: sale money, no unit
    books.entry(35, SUP2, D(2026, 3, 19), 6_600_00, memo="收首付", bill=_receipt(35, SUP2, D(2026, 3, 19), 6_600_00))
    voided = _receipt(28, SUP, D(2026, 3, 5), 4_444_00) | {"is_voided": True}
    books.entry(28, SUP, D(2026, 3, 5), 4_444_00, memo="收首付", bill=voided, is_voided=True)  # voided: not compared
    books.entry(
        29,
        SUP,
        D(2026, 3, 3),
        7_777_00,
        memo="收首付",
        bill=_receipt(29, SUP, D(2026, 3, 3), 7_777_00),
        reversed_by_voucher_id=30,
    )
    books.entry(
        30, SUP, D(2026, 3, 29), -7_777_00, memo="冲销3期记-0029号凭证", is_reversal=True, reversed_voucher_id=29
    )
    books.entry(31, SUP, D(2026, 3, 29), 7_777_00, memo="收首付", source_bill_no="SKD00000029")  # dated as 29 moved
    records = [
        _record("TK15", "refund_approval", D(2026, 3, 21), 7_000_00),  # the day after the refund: covers nothing
        _record("TK16", "refund_approval", D(2026, 3, 22), 6_000_00),
        _record("TK17", "refund_approval", D(2026, 3, 21), 6_400_00),
        _record("TK18", "refund_approval", D(2026, 3, 24), 5_000_00),
        _record("TK10", "refund_approval", D(2026, 3, 5), 8_000_00),  # covers line 10 (booked or not)
        _record("TK25", "refund_approval", D(2026, 3, 1), 3_000_00),
        _record("TK26", "refund_approval", D(2026, 2, 28), 3_100_00),
        _record("BF01", "release", D(2026, 3, 27), 10_000_00, allowed=10_000_00),
        _record("BF02", "release", D(2026, 3, 30), 10_000_01, allowed=10_000_00),
        _record("BF03", "release", D(2026, 3, 31), 1_00) | {"allowed_fen": None},  # the bank states no limit
    ]
    unit = {"project_code": "P01", "project_name": "云栖府", "building": "3栋", "unit": "2单元", "floor": 15}
    with warehouse.engine.begin() as conn:
        conn.execute(
            insert(core_unit),
            [
                unit | {"house_id": h, "room": r, "permit_no": "P1", "building_area": 98.5}
                for h, r in (("H1", "1502"), ("H2", "1503"))
            ],
        )
        conn.execute(
            insert(core_bank_account),
            [
                {
                    "bank": "icbc",
                    "account_no": SUP,
                    "account_type": "supervised",
                    "permit_no": "P1",
                    "listed_at": NOW,
                    **LOADED,
                },
                {
                    "bank": "icbc",
                    "account_no": GEN,
                    "account_type": "general",
                    "permit_no": None,
                    "listed_at": NOW,
                    **LOADED,
                },
                {
                    "bank": "icbc",
                    "account_no": SUP2,
                    "account_type": "supervised",
                    "permit_no": "P2",
                    "listed_at": NOW,
                    **LOADED,
                },
            ],
        )
        conn.execute(insert(etl_bank_statement_file), [_file(bank)])
        conn.execute(insert(core_bank_statement_line), bank)
        books.write(conn)
        conn.execute(insert(core_bank_supervision), records)
    return warehouse


def _run(warehouse, rules=RULES, period=PERIOD):
    with warehouse.engine.connect() as conn:
        return reconcile_cash(conn, period, rules)


def _found(outcome) -> Counter:
    return Counter((b["reason"], b["left_ids"], b["right_ids"]) for b in outcome.breaks)


L = lambda no: f"line:icbc:{no:04d}"  # noqa: E731
E = lambda no: f"entry:{no * 10 + 1:012d}"  # noqa: E731


def test_the_cash_reconciliation_finds_each_case_and_nothing_else(cash_world):
    outcome = _run(cash_world)
    assert _found(outcome) == Counter(
        {
            ("statement_not_booked", (L(3),), ()): 1,
            ("booked_not_on_statement", (), (E(3),)): 1,
            ("statement_not_booked", (L(5),), ()): 1,
            ("booked_not_on_statement", (), (E(5),)): 1,
            ("duplicate_receipt", (), (E(9),)): 1,
            ("refund_not_booked", (L(10),), ()): 1,
            ("refund_not_paid", (), (E(11),)): 1,
            ("statement_not_booked", (L(12),), ()): 1,
            ("statement_not_booked", (L(14),), ()): 1,
            ("refund_without_approval", (L(15),), ("supervision_record",)): 1,
            ("refund_without_approval", (L(17),), ("supervision_record",)): 1,
            ("refund_without_approval", (L(19),), ("supervision_record",)): 1,
            ("refund_without_approval", (L(26),), ("supervision_record",)): 1,
            ("release_over_allowed", ("release:icbc:BF02",), ("supervision_rule",)): 1,
            ("money_outside_supervised", ("receipt:SKD00000022",), ("supervised_account",)): 1,
            ("money_outside_supervised", ("receipt:SKD00000034",), ("supervised_account",)): 1,
            ("booked_not_on_statement", (), (E(33),)): 1,
        }
    )
    tiers = Counter(m["tier_name"] for m in outcome.matches)
    assert tiers == Counter({"unit_amount_date": 18, "text_amount": 1, "split": 2}), tiers
    assert {m["left_id"] for m in outcome.matches if m["tier_name"] == "split"} == {L(6), L(7)}
    assert [m["right_id"] for m in outcome.matches if m["tier_name"] == "text_amount"] == [E(4)]
    release = next(b for b in outcome.breaks if b["reason"] == "release_over_allowed")
    assert (release["amount_fen"], release["left_amount_fen"], release["right_amount_fen"]) == (1, 10_000_01, 10_000_00)
    outside = next(b for b in outcome.breaks if b["reason"] == "money_outside_supervised")
    assert (outside["subject"], outside["party_masked"], outside["amount_fen"]) == ("YS-H2", "张*丰", 9_000_00)
    assert SUP in outside["detail"] and GEN in outside["detail"]
    unlinked = next(b for b in outcome.breaks if b["left_ids"] == ("receipt:SKD00000034",))
    assert unlinked["detail"].endswith("the receipt is tied to no unit with a supervised account")
    assert outcome.counts["booked_in_transit"] == 1
    assert outcome.counts["statement_in_transit"] == 1  # line 36: the ledger books it from this morning's statement


def test_a_statement_line_not_booked_is_a_break_once_its_day_is_past(cash_world):
    """Line 36, of the day the run is as of, is in transit; the run as of the next day judges it."""
    outcome = _run(cash_world, period=replace(PERIOD, as_of=date(2026, 4, 1)))
    assert ("statement_not_booked", (L(36),), ()) in _found(outcome)
    assert outcome.counts["statement_in_transit"] == 0


def test_nothing_is_matched_twice_and_nothing_matched_is_a_break(cash_world):
    outcome = _run(cash_world)
    owner: dict[str, str] = {}
    for m in outcome.matches:
        for item in (m["left_id"], m["right_id"]):
            assert owner.setdefault(item, m["match_id"]) == m["match_id"], f"{item} in two matches"
    line_breaks = [b for b in outcome.breaks if b["reason"] not in ("money_outside_supervised", "release_over_allowed")]
    in_breaks = {
        i for b in line_breaks if b["reason"] != "refund_without_approval" for i in b["left_ids"] + b["right_ids"]
    }
    assert not in_breaks & set(owner)
    assert len({b["break_key"] for b in outcome.breaks}) == len(outcome.breaks)


def test_a_line_break_carries_the_day_totals_of_its_account(cash_world):
    outcome = _run(cash_world)
    other = next(b for b in outcome.breaks if b["left_ids"] == (L(12),))
    assert other["detail"].endswith(f"account {GEN} on 2026-03-09: statement 4,980.00, ledger 0.00 yuan")
    assert outcome.counts["account_days_disagreeing"] > 0


def test_without_the_fee_rule_a_fee_is_a_break_and_an_outflow_needing_approval(cash_world):
    from estatehub.reconcile.rules import RuleSet

    found = _found(_run(cash_world, rules=RuleSet()))
    assert found[("statement_not_booked", (L(13),), ())] == 1


def test_the_same_run_again_gives_the_same_result(cash_world):
    first, second = _run(cash_world), _run(cash_world)
    assert first.breaks == second.breaks and first.matches == second.matches
    assert first.counts == second.counts


def test_cash_is_registered_with_the_other_reconciliations_and_its_breaks_survive_a_rerun(cash_world):
    report = run_reconciliation(
        cash_world, date_from=PERIOD.date_from, date_to=PERIOD.date_to, rules=RULES, only=("cash",)
    )
    assert report.carried["cash"].new == len(report.outcomes["cash"].breaks) == 17
    again = run_reconciliation(
        cash_world, date_from=PERIOD.date_from, date_to=PERIOD.date_to, rules=RULES, only=("cash",)
    )
    assert (again.carried["cash"].new, again.carried["cash"].kept, again.carried["cash"].closed) == (0, 17, 0)
    with cash_world.engine.connect() as conn:
        stored = Counter(r.reason for r in conn.execute(select(rec_break).where(rec_break.c.reconciliation == "cash")))
    assert stored["refund_without_approval"] == 4 and stored["money_outside_supervised"] == 2


def test_the_finance_report_lists_the_supervised_account_exceptions_in_both_languages(cash_world):
    from estatehub.reports.finance import build
    from estatehub.reports.finance_data import read

    run_reconciliation(cash_world, date_from=PERIOD.date_from, date_to=PERIOD.date_to, rules=RULES, only=("cash",))
    with cash_world.engine.connect() as conn:
        data = read(conn, PERIOD.as_of)
    assert Counter(b.reason for b in data.supervised) == Counter(
        {"refund_without_approval": 4, "money_outside_supervised": 2, "release_over_allowed": 1}
    ), "the supervised-account rules' breaks, and no line break"
    zh, en = build(data, lang="zh-CN").html, build(data, lang="en").html
    section = zh.split("监管账户异常")[1].split("</ul>")[0]
    assert section.count("<li>") == 7
    assert "款项未进监管账户 · YS-H2 · 9,000.00" in section and "监管资金超额拨付 · P1 · 0.01" in section
    assert "监管账户退款未经银行审批" in section
    assert "money outside the supervised account" in en and "release over the allowed amount" in en


def test_no_break_stores_a_payer_or_payee_by_name(cash_world):
    names = ("张三丰", "王五", "赵六", "孙七", "周八", "吴九", "李四", "钱二", "郑一", "冯十", "蒋十一", "韩十二")
    for b in _run(cash_world).breaks:
        stored = " ".join(str(b[k]) for k in ("detail", "subject", "party_masked"))
        assert not [n for n in names if n in stored], b


def test_every_cash_reason_has_a_label_in_both_languages():
    from estatehub.reconcile.cash import LINE_REASONS, SUPERVISED_REASONS
    from estatehub.reports.i18n import REASONS

    for code in (*LINE_REASONS, *SUPERVISED_REASONS, "amount_mismatch", "needs_payer_lookup"):
        for lang in ("zh-CN", "en"):
            assert REASONS[lang].get(code, code) != code, f"{code} has no {lang} label"


def test_a_batch_entry_finds_its_parts_on_a_crowded_day_by_the_borrowers_its_voucher_names(warehouse):
    """Seen at 100,000 contracts: the clerk booked three borrowers' disbursements as one bank entry, each
    borrower on a line of its own; the statement shows them apart among a launch day's crowd of deposits."""
    day = date(2026, 3, 2)
    lender = "中国工商银行股份有限公司深圳分行个人贷款专户"
    borrowers = (("刘飞", 2_970_000_00), ("张伟伟", 3_320_000_00), ("田晨强", 4_360_000_00))
    bank = [_line(i, SUP, day, 100_000_00 + i, f"买家{i}", "转账", "收首付款") for i in range(1, 13)] + [
        _line(20 + i, SUP, day, fen, lender, "贷款发放", f"个人住房贷款放款 {who}")
        for i, (who, fen) in enumerate(borrowers, start=1)
    ]
    books = Books()
    books.entry(50, SUP, day, sum(fen for _, fen in borrowers), memo="按揭款 工行 2#1单元702,2#1单元2301,3#1单元1001")
    counter = books.lines.pop()  # one line per borrower, with the customer (辅助核算), instead of one
    books.lines += [
        counter | {"entry_id": 510 + i, "seq": 2 + i, "credit_fen": fen, "customer_name": who}
        for i, (who, fen) in enumerate(borrowers)
    ]
    books.lines[0]["customer_name"] = None  # the rows of one insert share their columns
    with warehouse.engine.begin() as conn:
        conn.execute(
            insert(core_bank_account),
            [
                {"bank": "icbc", "account_no": SUP, "account_type": "supervised", "permit_no": "P1", "listed_at": NOW}
                | LOADED
            ],
        )
        conn.execute(insert(etl_bank_statement_file), [_file(bank)])
        conn.execute(insert(core_bank_statement_line), bank)
        books.write(conn)
        outcome = reconcile_cash(conn, PERIOD, RULES)
    batch = {m["left_id"] for m in outcome.matches if m["right_id"] == "entry:000000000501"}
    assert batch == {"line:icbc:0021", "line:icbc:0022", "line:icbc:0023"}
