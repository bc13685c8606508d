"""Fees collected for others in the sandbox (decision 0028): the rates of the rules cited, booked as other
payables on the ledger's face, the same money on the banks' statements, paid over weekly."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from sandbox.banks.world import ensure_bank_world
from sandbox.ledger.book import DocList, build_ledger
from sandbox.ledger.fees import (
    FUND_ON_SOLD_AREA_RATE,
    PAYOVER_LATE_RATE,
    PAYOVER_WITHIN_DAYS,
    deed_tax_fen,
    deed_tax_rate_bp,
    fee_flows,
    forgotten_weeks,
    maintenance_fund_fen,
    payover_on,
    registration_fee_fen,
)
from tests.ledger.test_ledger_sandbox import _doc

FEE_ACCOUNTS = {"2241.04": "契税", "2241.05": "维修基金", "2241.06": "登记费"}


@pytest.mark.parametrize(
    ("area", "usage", "person", "first_home", "on", "rate"),
    [
        (14_000, "住宅", True, True, date(2025, 3, 1), 100),  # 140 m² exactly: 1% (公告2024年第16号)
        (14_001, "住宅", True, True, date(2025, 3, 1), 150),  # above 140 m², the family's only home: 1.5%
        (14_001, "住宅", True, False, date(2025, 3, 1), 200),  # above 140 m², a second home: 2%
        (13_000, "住宅", True, False, date(2025, 3, 1), 100),  # a second home up to 140 m²: 1%
        (9_000, "住宅", True, False, date(2024, 11, 30), 100),  # before 2024-12-01 the line was 90 m²
        (9_001, "住宅", True, True, date(2024, 11, 30), 150),
        (9_001, "住宅", True, False, date(2024, 11, 30), 300),  # no second-home relief in Shenzhen then
        (8_000, "住宅", False, True, date(2025, 3, 1), 300),  # a company pays the standard 3%
        (8_000, "商业", True, True, date(2025, 3, 1), 300),  # so does a shop
    ],
)
def test_deed_tax_rate_follows_the_rule_in_force(area, usage, person, first_home, on, rate) -> None:
    assert deed_tax_rate_bp(area_hundredths=area, usage=usage, person=person, first_home=first_home, on=on) == rate


def test_fee_amounts_follow_the_cited_rules() -> None:
    # 4,010,400.00 with 9% VAT inside: 3,679,266.06 without it; 1% of that is 36,792.66
    assert deed_tax_fen(401_040_000, 100) == 3_679_266
    assert deed_tax_fen(109_000_000, 150) == 1_500_000  # 1,090,000.00 → 1,000,000.00 × 1.5%
    assert maintenance_fund_fen(8_912) == 1_336_800  # 89.12 m² × 150 yuan (5% of 3,000 yuan/m²)
    assert registration_fee_fen("住宅") == 8_000  # 80 yuan a residential unit
    assert registration_fee_fen("商业") == 55_000  # 550 yuan a non-residential one


def test_fees_are_paid_over_on_the_tuesday_after_their_week() -> None:
    assert payover_on(date(2025, 6, 18)) == date(2025, 6, 24)  # a Wednesday → the next Tuesday
    assert payover_on(date(2025, 6, 22)) == date(2025, 6, 24)  # the Sunday of that week → the same Tuesday
    assert payover_on(date(2025, 6, 23)) == date(2025, 7, 1)  # a Monday opens a new week


HANDOVER = {"handed_over_on": "2025-06-18", "as_built_area": "89.12", "area_diff_amount": "0.00",
            "at": "2025-06-18T02:00:00+00:00"}  # fmt: skip


def _handed_over_sale(**extra) -> dict:  # noqa: ANN003
    extra = {"handover": HANDOVER, **extra}
    return _doc(
        "YS2025P01000012",
        "预售",
        payment_method="一次性",
        filed_at="2025-01-20T09:30:00+08:00",
        plan=[
            {"seq": 1, "kind": "定金", "due_on": "2025-01-12", "amount": "50000.00", "bank": None},
            {"seq": 2, "kind": "一次性", "due_on": "2025-01-30", "amount": "3960400.00", "bank": None},
        ],
        history=[
            {"state": "待签", "at": "2025-01-10T10:00:00+08:00"},
            {"state": "已签", "at": "2025-01-12T14:03:00+08:00"},
            {"state": "已备案", "at": "2025-01-20T09:30:00+08:00"},
        ],
        **extra,
    )


END = datetime(2025, 12, 31, 23, 59, 59)


def test_only_a_contract_handed_over_and_never_cancelled_pays_fees() -> None:
    assert {f.kind: f.amount_fen for f in fee_flows(_handed_over_sale(), seed=3, end=END)} == {
        "契税": 3_679_266,
        "维修基金": 1_336_800,
        "登记费": 8_000,
    }
    assert fee_flows(_handed_over_sale(handover=None), seed=3, end=END) == []
    cancelled = {"cancelled_at": "2025-07-01T10:00:00+08:00", "reason_code": "其他", "reason": "其他"}
    assert fee_flows(_handed_over_sale(cancellation=cancelled), seed=3, end=END) == []
    assert fee_flows(_handed_over_sale(), seed=3, end=datetime(2025, 6, 1)) == []  # not handed over by then


def test_fees_are_booked_to_other_payables_in_the_general_account_and_paid_over(tmp_path: Path) -> None:
    out = tmp_path / "ledger.db"
    build_ledger(DocList([_handed_over_sale()], end=END, clean=True), out, seed=3)
    db = sqlite3.connect(out)
    general = {n for (n,) in db.execute("select number from accounts where number like '1002.0%'")}
    receipts = db.execute(
        "select r.bill_no, r.purpose, r.amount_fen, r.account_no, r.date, l.kind from receipts r"
        " join links l on l.form = 'AR_RECEIVEBILL' and l.ref = r.bill_no where r.purpose like '代收%'"
    ).fetchall()
    assert {(purpose, amount, kind) for _, purpose, amount, _, _, kind in receipts} == {
        ("代收契税", 3_679_266, "契税"),
        ("代收维修基金", 1_336_800, "维修基金"),
        ("代收登记费", 8_000, "登记费"),
    }
    assert {account for *_, account, _, _ in receipts} <= general  # never the supervised account
    bills = [bill for bill, *_ in receipts]
    marks = ",".join("?" * len(bills))
    assert db.execute(f"select count(*) from invoices where source_bill_no in ({marks})", bills).fetchone() == (0,)
    lines = db.execute(
        "select v.source_bill_no, e.account_no, e.debit_fen, e.credit_fen from entries e"
        f" join vouchers v using (voucher_id) where v.source_bill_no in ({marks}) order by e.entry_id",
        bills,
    ).fetchall()
    credited = {FEE_ACCOUNTS[account]: credit for _, account, _, credit in lines if credit}
    assert credited == {"契税": 3_679_266, "维修基金": 1_336_800, "登记费": 8_000}
    assert sum(debit for _, account, debit, _ in lines if account in general) == 5_024_066
    # the pay-overs: 借 其他应付款-代收… / 贷 银行存款 (the same general account), in the week after
    paid = db.execute(
        "select v.date, e.account_no, e.debit_fen, e.credit_fen from entries e join vouchers v using (voucher_id)"
        " where v.source_bill_no is null and v.voucher_id in"
        " (select voucher_id from entries where account_no in ('2241.04', '2241.05', '2241.06') and debit_fen > 0)"
    ).fetchall()
    assert {FEE_ACCOUNTS[a]: debit for _, a, debit, _ in paid if debit} == credited
    # each fee leaves on a line of its own with its customer (the fund centre's 分户账, the taxpayer's 完税)
    customers = db.execute(
        "select distinct e.customer_code from entries e join vouchers v using (voucher_id)"
        " where v.source_bill_no is null and e.account_no like '2241.0%' and e.debit_fen > 0"
    ).fetchall()
    assert customers == db.execute("select distinct customer_code from receipts where purpose like '代收%'").fetchall()
    assert customers != [(None,)]
    assert {a for _, a, _, credit in paid if credit} <= general
    received_on = date.fromisoformat(receipts[0][4])
    for day, *_ in paid:
        paid_on = date.fromisoformat(day)
        assert paid_on.weekday() == 1 and paid_on.isocalendar()[1] == (received_on + timedelta(days=7)).isocalendar()[1]


def test_both_faces_show_the_same_fees_on_the_same_accounts(world_path: Path, ledger_path: Path) -> None:
    bank = sqlite3.connect(ensure_bank_world(world_path))
    ledger = sqlite3.connect(ledger_path)
    lines = {
        kind: Counter(
            bank.execute(f"select account_no, booked_on, amount_fen from statement_lines where kind = '{kind}'")
        )
        for kind in ("collected_fee", "fee_payover")
    }
    fee_vouchers = (  # the receipts of fees (even one booked as sale proceeds) and the pay-overs
        "select v.voucher_id from vouchers v join links l on l.form = 'AR_RECEIVEBILL'"
        " and l.ref = v.source_bill_no and l.kind in ('契税', '维修基金', '登记费')"
        " union select voucher_id from entries where account_no in ('2241.04', '2241.05', '2241.06') and debit_fen > 0"
    )
    rows = ledger.execute(
        "select a.bank_account_no, v.date, e.debit_fen - e.credit_fen from entries e"
        " join vouchers v using (voucher_id) join accounts a on a.number = e.account_no"
        f" where a.bank_account_no is not null and e.voucher_id in ({fee_vouchers})"
    )
    collected, paid = Counter(), Counter()
    for account, day, amount in rows:
        (collected if amount > 0 else paid)[(account, day, abs(amount))] += 1
    assert sum(lines["collected_fee"].values()) > 100  # every handed-over unit of the demo world pays three
    assert collected == lines["collected_fee"]
    assert paid == lines["fee_payover"]
    assert {amount for (_, _, amount) in lines["collected_fee"]} >= {8_000}  # 登记费 of a home


def test_a_forgotten_batch_leaves_weeks_late_and_a_clean_world_forgets_none() -> None:
    tuesdays = [date(2025, 1, 7) + timedelta(weeks=n) for n in range(200)]
    drawn = [forgotten_weeks(7, kind, account, on, clean=False) for kind in ("契税", "维修基金") for account in
             ("A", "B", "C") for on in tuesdays]  # fmt: skip
    late = [weeks for weeks in drawn if weeks]
    assert set(late) <= {5, 6, 7, 8}  # every fee of the batch is then past the term (at most 8 days + 5 weeks)
    assert 8 + 7 * 5 > PAYOVER_WITHIN_DAYS >= 8  # … and an on-time batch leaves within it
    assert abs(len(late) / len(drawn) - PAYOVER_LATE_RATE) < 0.02
    assert forgotten_weeks(7, "契税", "A", tuesdays[0], clean=False) == drawn[0]  # the same draw in every face
    assert not any(forgotten_weeks(7, "契税", "A", on, clean=True) for on in tuesdays)


def test_each_fee_planted_as_paid_over_late_leaves_after_its_term(ledger_path: Path) -> None:
    db = sqlite3.connect(ledger_path)
    planted = [
        json.loads(detail) for (detail,) in db.execute("select detail from truth where kind = 'fee_paid_over_late'")
    ]
    assert len(planted) >= 5
    for fee in planted:
        customer, kind = (
            db.execute(
                "select r.customer_code, substr(r.purpose, 3) from receipts r where bill_no = ?", (fee["bill_no"],)
            ).fetchone()
            if fee["bill_no"]
            else (None, None)
        )
        paid = db.execute(
            "select min(v.date) from entries e join vouchers v using (voucher_id) join accounts a on a.number ="
            " e.account_no where v.source_bill_no is null and e.debit_fen > 0 and e.customer_code = ?"
            " and a.name = '代收' || ? and v.date >= ?",
            (customer, fee["fee"], fee["due_on"]),
        ).fetchone()[0]
        assert paid is None or paid == fee["paid_over_on"]  # None: after the world's end
        assert date.fromisoformat(fee["paid_over_on"]) > date.fromisoformat(fee["due_on"])
        assert kind in (fee["fee"], "房款")  # 预收房款 when also booked as proceeds (fee_booked_as_proceeds)


def test_a_fund_charged_on_the_sold_area_is_planted_on_both_faces_and_never_in_a_clean_world() -> None:
    """Decision 0036: the cashier charges 维修基金 on the area the contract sold (92.00 m²), not the as-built one
    (89.12 m²), for `FUND_ON_SOLD_AREA_RATE` of the handovers whose areas differ; the flow keeps what the city's
    schedule gives, and every other fee is unchanged."""
    sold = _handed_over_sale()
    sold["house"] = {**sold["house"], "building_area": "92.00"}
    same = {**sold, "house": {**sold["house"], "building_area": "89.12"}}
    wrong = []
    for seed in range(400):
        flows = {f.kind: f for f in fee_flows(sold, seed=seed, end=END)}
        fund = flows["维修基金"]
        assert flows["契税"].schedule_fen is None and flows["登记费"].schedule_fen is None
        if fund.schedule_fen is not None:
            assert (fund.amount_fen, fund.schedule_fen) == (maintenance_fund_fen(9_200), maintenance_fund_fen(8_912))
            assert fund.handover_on == date(2025, 6, 18)
            wrong.append(seed)
        else:
            assert fund.amount_fen == maintenance_fund_fen(8_912)
        assert all(f.schedule_fen is None for f in fee_flows(sold, seed=seed, end=END, clean=True))
        assert all(f.schedule_fen is None for f in fee_flows(same, seed=seed, end=END))  # nothing to mistake
    assert abs(len(wrong) / 400 - FUND_ON_SOLD_AREA_RATE) < 0.03 and wrong


def test_each_fund_planted_as_charged_on_the_sold_area_is_the_receipt_the_ledger_holds(ledger_path: Path) -> None:
    db = sqlite3.connect(ledger_path)
    planted = [
        json.loads(detail) for (detail,) in db.execute("select detail from truth where kind = 'fee_amount_wrong'")
    ]
    assert planted, "the test world plants at least one"
    for fee in planted:
        amount = db.execute("select amount_fen from receipts where bill_no = ?", (fee["bill_no"],)).fetchone()[0]
        assert fee["fee"] == "维修基金" and amount == fee["amount_fen"] != fee["schedule_fen"]
