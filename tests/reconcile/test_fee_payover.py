"""Fees collected for others paid over within the city's term (decision 0034), on a hand-made ledger
(SQLite and PostgreSQL): a pay-over booked per household clears that household's fee, one booked for a
batch clears the oldest fees of its kind; paid after the term is `fee_paid_over_late`, still held past it
`fee_not_paid_over`, under one key, so the break and its status survive the payment."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import insert

from estatehub.ledger.tables import core_receipt, core_voucher_line
from estatehub.memo import fee_payable_kind
from estatehub.reconcile.checks import Period, reconcile_receivables
from estatehub.reconcile.city import CityRules
from estatehub.reconcile.fees import clear
from estatehub.reconcile.store import save_breaks
from tests.reconcile.conftest import _receipt

D = date
CITY = CityRules(fee_payover_days=30)
LATE = {"fee_paid_over_late", "fee_not_paid_over"}
START = D(2026, 1, 1)


def _fee(no: int, customer: str | None, kind: str, fen: int, on: date) -> dict:
    """A fee's receipt (its purpose names it) of `customer`."""
    return _receipt(no, f"YS-{customer}", kind, fen, on, customer_code=customer, purpose=f"代收{kind}")


def _payover(entry: int, customer: str | None, kind: str, fen: int, on: date, *, bank=None) -> dict:
    """A debit of a fee payable (其他应付款_代收…): the pay-over of one household's fee, or of a batch."""
    return {
        "entry_id": entry,
        "voucher_id": entry // 10,
        "seq": entry % 10,
        "voucher_on": on,
        "memo": f"代缴{kind}",
        "account_no": "2241.04",
        "account_name": f"其他应付款_代收{kind}",
        "bank_account_no": bank,
        "debit_fen": fen,
        "credit_fen": 0,
        "customer_code": customer,
        "is_voided": False,
        "payment_kind": kind,
    }


def _write(warehouse, receipts: list[dict], lines: list[dict]) -> None:
    with warehouse.engine.begin() as conn:
        if receipts:
            conn.execute(insert(core_receipt), receipts)
        if lines:
            conn.execute(insert(core_voucher_line), lines)


def _late(warehouse, as_of: date, start: date = START) -> dict[str, tuple[str, int, date]]:
    with warehouse.engine.connect() as conn:
        outcome = reconcile_receivables(conn, Period(start, as_of, as_of), CITY)
    return {
        b["left_ids"][0]: (b["reason"], b["amount_fen"], b["due_on"]) for b in outcome.breaks if b["reason"] in LATE
    }


def test_a_fee_paid_over_by_its_term_is_no_break_and_one_day_after_is(warehouse):
    _write(
        warehouse,
        [_fee(1, "C1", "契税", 3_679_266, D(2026, 3, 2)), _fee(2, "C2", "契税", 1_500_000, D(2026, 3, 2))],
        [
            _payover(11, "C1", "契税", 3_679_266, D(2026, 4, 1)),  # day 30: the last day of the term
            _payover(21, "C2", "契税", 1_500_000, D(2026, 4, 2)),  # day 31
            _payover(22, None, "契税", 5_179_266, D(2026, 4, 1), bank="4000023009200088881"),  # the bank line
        ],
    )
    assert _late(warehouse, D(2026, 4, 30)) == {"receipt:SKD00000002": ("fee_paid_over_late", 1_500_000, D(2026, 4, 1))}


def test_a_pay_over_per_household_clears_that_households_fee_not_an_older_one(warehouse):
    _write(
        warehouse,
        [_fee(1, "C1", "维修基金", 1_336_800, D(2026, 3, 2)), _fee(2, "C2", "维修基金", 1_336_800, D(2026, 3, 9))],
        [_payover(21, "C2", "维修基金", 1_336_800, D(2026, 3, 17))],  # C1's fee is forgotten, C2's paid
    )
    assert _late(warehouse, D(2026, 4, 30)) == {"receipt:SKD00000001": ("fee_not_paid_over", 1_336_800, D(2026, 4, 1))}


def test_a_batch_pay_over_without_customers_clears_the_oldest_fees_of_its_kind(warehouse):
    _write(
        warehouse,
        [
            _fee(1, "C1", "登记费", 8_000, D(2026, 3, 2)),
            _fee(2, "C2", "登记费", 8_000, D(2026, 3, 3)),
            _fee(3, "C3", "登记费", 8_000, D(2026, 3, 4)),
            _fee(4, "C4", "契税", 8_000, D(2026, 3, 2)),  # another kind: a 登记费 batch never clears it
        ],
        [_payover(11, None, "登记费", 16_000, D(2026, 3, 10))],  # two of the three
    )
    assert _late(warehouse, D(2026, 4, 30)) == {
        "receipt:SKD00000003": ("fee_not_paid_over", 8_000, D(2026, 4, 3)),
        "receipt:SKD00000004": ("fee_not_paid_over", 8_000, D(2026, 4, 1)),
    }


def test_a_fee_within_its_term_or_due_outside_the_period_is_no_break(warehouse):
    _write(warehouse, [_fee(1, "C1", "契税", 100_00, D(2026, 3, 2)), _fee(2, "C2", "契税", 100_00, D(2026, 1, 1))], [])
    march = D(2026, 3, 1)
    assert _late(warehouse, D(2026, 4, 1), march) == {}  # due 04-01: within its term on the day the run is as of
    assert set(_late(warehouse, D(2026, 4, 2), march)) == {"receipt:SKD00000001"}  # the other was due in January
    assert set(_late(warehouse, D(2026, 4, 2))) == {"receipt:SKD00000001", "receipt:SKD00000002"}


def test_a_fee_held_and_then_paid_late_keeps_its_break_and_status(warehouse):
    _write(warehouse, [_fee(1, "C1", "契税", 100_00, D(2026, 3, 2))], [])
    period = Period(D(2026, 1, 1), D(2026, 4, 10), D(2026, 4, 10))
    with warehouse.engine.begin() as conn:
        held = [b for b in reconcile_receivables(conn, period, CITY).breaks if b["reason"] in LATE]
        save_breaks(conn, "receivables", held, run_id="r1", as_of=period.as_of, date_from=period.date_from,
                    date_to=period.date_to)  # fmt: skip
    _write(warehouse, [], [_payover(11, "C1", "契税", 100_00, D(2026, 4, 20))])
    with warehouse.engine.connect() as conn:
        paid = [
            b for b in reconcile_receivables(conn, Period(D(2026, 1, 1), D(2026, 4, 30), D(2026, 4, 30)), CITY).breaks
            if b["reason"] in LATE
        ]  # fmt: skip
    assert [b["reason"] for b in held] == ["fee_not_paid_over"]
    assert [b["reason"] for b in paid] == ["fee_paid_over_late"]
    assert held[0]["break_key"] == paid[0]["break_key"]
    assert "paid over on 2026-04-20" in paid[0]["detail"] and "深圳" in paid[0]["detail"]


def test_clearing_is_oldest_first_within_a_household_and_partial_payments_leave_the_rest_open():
    rows = [
        _row("collection", "A", "C1", 100, D(2026, 3, 1)),
        _row("collection", "B", "C1", 100, D(2026, 3, 5)),
        _row("payover", "1", "C1", 150, D(2026, 3, 10)),
    ]
    a, b = clear(rows)
    assert (a.cleared_on, a.open_fen) == (D(2026, 3, 10), 0)
    assert (b.cleared_on, b.open_fen) == (None, 50)


def _row(item: str, ref: str, customer: str, fen: int, on: date):  # noqa: ANN202
    from types import SimpleNamespace

    return SimpleNamespace(item=item, ref=ref, customer_code=customer, payment_kind="契税", money_on=on,
                           amount_fen=fen, contract_no=None)  # fmt: skip


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("其他应付款_代收契税", "契税"),
        ("其他应付款-代收代缴-专项维修资金", "维修基金"),
        ("代收登记费", "登记费"),
        ("应交税费_契税", None),  # the developer's own deed tax, no buyer's fee
        ("应交税费-代扣代缴个人所得税", None),  # paid for others, but no fee of a buyer's
        ("其他应付款_诚意金", None),
        (None, None),
    ],
)
def test_the_account_says_which_fee_a_payable_holds(name, kind):
    assert fee_payable_kind(name) == kind


def test_the_term_is_the_citys(warehouse):
    _write(
        warehouse, [_fee(1, "C1", "契税", 100_00, D(2026, 3, 2))], [_payover(11, "C1", "契税", 100_00, D(2026, 3, 20))]
    )
    with warehouse.engine.connect() as conn:
        strict = reconcile_receivables(conn, Period(D(2026, 1, 1), D(2026, 4, 30), D(2026, 4, 30)),
                                       CityRules(fee_payover_days=15)).breaks  # fmt: skip
    assert [(b["reason"], b["due_on"]) for b in strict if b["reason"] in LATE] == [
        ("fee_paid_over_late", D(2026, 3, 2) + timedelta(days=15))
    ]
