"""The fees a buyer pays at handover for others as lines of the receivables mart (decision 0036), on a
hand-made warehouse (SQLite and PostgreSQL): the city's schedule gives a handed-over contract a line of 契税,
维修基金 and 登记费, due on the handover day; only fee receipts pay them and they pay no part of the price;
a fee paid at another amount than the schedule's is `fee_amount_wrong`, one not paid within the booking days
`fee_unpaid`; the KPIs' receivables and the instalment work list leave them out; the schedule is data."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from estatehub.ledger.tables import core_receipt
from estatehub.reconcile.checks import FEE_BOOKING_DAYS, Period, reconcile_receivables
from estatehub.reconcile.city import CityRules, CityRulesError, load_city_rules
from estatehub.reconcile.run import run_reconciliation
from estatehub.trading_network.tables import (
    core_buyer,
    core_contract,
    core_contract_buyer,
    core_handover,
    core_payment_plan,
    core_unit,
)
from estatehub.warehouse import sqlfiles
from tests.reconcile.conftest import _contract, _receipt, _unit

D = date
SHENZHEN = load_city_rules()  # the shipped file: Shenzhen's schedule, as the sandbox's city charges it
NO_FEES = CityRules()
HANDOVER = D(2026, 3, 2)
# 100.00 m² as built (98.50 sold), 3,000,000.00 yuan and a 45,000.00 true-up: the price without VAT is
# 3,045,000 / 1.09 = 2,793,577.98; a home up to 140 m² pays 1% of it
DEED, FUND, REGISTRATION = 2_793_578, 1_500_000, 8_000
FUND_ON_SOLD_AREA = 1_477_500  # 98.50 m² × 150 yuan


def _handed_over(warehouse, *, area="100.00", company=False, usage="住宅", state="已备案", receipts=()) -> None:
    """YS1 on H1, handed over on 2026-03-02, its price paid in full, and `receipts` (kind, fen, day)."""
    with warehouse.engine.begin() as conn:
        conn.execute(insert(core_unit), [_unit("H1") | {"usage": usage}])
        conn.execute(insert(core_contract), [_contract("YS1", "H1", state=state)])
        conn.execute(
            insert(core_buyer),
            [{"id_hash": "B1", "id_type": "身份证", "id_masked": "4403***1234", "name": "张三丰",
              "is_company": company}],
        )  # fmt: skip
        conn.execute(
            insert(core_contract_buyer), [{"contract_no": "YS1", "seq": 1, "id_hash": "B1", "is_primary": True}]
        )
        conn.execute(
            insert(core_handover),
            [{"contract_no": "YS1", "handed_over_on": HANDOVER, "as_built_area": area, "area_diff_fen": 4_500_000}],
        )
        conn.execute(
            insert(core_payment_plan),
            [
                {"contract_no": "YS1", "seq": 1, "kind": "一次性", "due_on": D(2026, 1, 10), "amount_fen": 300_000_000},
                {"contract_no": "YS1", "seq": 2, "kind": "补差", "due_on": HANDOVER, "amount_fen": 4_500_000},
            ],
        )
        price = [
            _receipt(1, "YS1", "一次性", 300_000_000, D(2026, 1, 10)),
            _receipt(2, "YS1", "补差", 4_500_000, HANDOVER),
        ]
        fees = [_receipt(10 + i, "YS1", kind, fen, on) for i, (kind, fen, on) in enumerate(receipts)]
        conn.execute(insert(core_receipt), price + fees)


def _mart(warehouse, as_of: date, city: CityRules = SHENZHEN):
    with warehouse.engine.connect() as conn:
        out = reconcile_receivables(conn, Period(D(2026, 1, 1), as_of, as_of), city)
    lines = {(r["seq"], r["kind"]): r for r in out.receivables}
    return lines, [b for b in out.breaks]


PAID = (("契税", DEED, HANDOVER), ("维修基金", FUND, HANDOVER), ("登记费", REGISTRATION, HANDOVER))


def test_a_contract_handed_over_owes_three_fee_lines_that_only_fee_receipts_pay(warehouse):
    _handed_over(warehouse, receipts=PAID)
    lines, breaks = _mart(warehouse, D(2026, 3, 31))
    fees = {
        kind: (r["amount_fen"], r["received_fen"], r["state"], r["due_on"], r["is_fee"])
        for (_, kind), r in lines.items()
    }
    assert fees == {
        "一次性": (300_000_000, 300_000_000, "paid", D(2026, 1, 10), False),
        "补差": (4_500_000, 4_500_000, "paid", HANDOVER, False),
        "契税": (DEED, DEED, "paid", HANDOVER, True),
        "维修基金": (FUND, FUND, "paid", HANDOVER, True),
        "登记费": (REGISTRATION, REGISTRATION, "paid", HANDOVER, True),
    }
    assert [(s, k) for s, k in lines if k in ("契税", "维修基金", "登记费")] == [
        (901, "契税"),
        (902, "维修基金"),
        (903, "登记费"),
    ]
    assert breaks == [], "the price and each fee paid to the fen: nothing to report, no overpaid deal"


def test_without_a_schedule_in_the_city_rules_there_are_no_fee_lines_and_fee_money_pays_nothing(warehouse):
    _handed_over(warehouse, receipts=PAID)
    lines, breaks = _mart(warehouse, D(2026, 3, 31), NO_FEES)
    assert sorted(k for _, k in lines) == ["一次性", "补差"] and breaks == []


def test_a_fund_charged_on_the_sold_area_is_a_wrong_amount_and_pays_no_other_fee(warehouse):
    short = (PAID[0], ("维修基金", FUND_ON_SOLD_AREA, HANDOVER), PAID[2])
    _handed_over(warehouse, receipts=short)
    lines, breaks = _mart(warehouse, D(2026, 3, 31))
    assert lines[(902, "维修基金")]["outstanding_fen"] == FUND - FUND_ON_SOLD_AREA
    assert [(b["reason"], b["kind"], b["amount_fen"], b["subject"], b["left_ids"]) for b in breaks] == [
        ("fee_amount_wrong", "维修基金", 22_500, "YS1", ("plan:YS1:902",))
    ]
    assert "15,000.00 yuan by the city's schedule; received 14,775.00 yuan, 225.00 short" in breaks[0]["detail"]


def test_a_fund_paid_over_the_schedule_is_a_wrong_amount_not_money_towards_the_price(warehouse):
    over = (PAID[0], ("维修基金", FUND + 30_000, HANDOVER), PAID[2])
    _handed_over(warehouse, receipts=over)
    lines, breaks = _mart(warehouse, D(2026, 3, 31))
    assert lines[(902, "维修基金")]["state"] == "overpaid"
    assert [(b["reason"], b["amount_fen"]) for b in breaks] == [("fee_amount_wrong", 30_000)], "no overpaid deal"


def test_a_large_home_s_deed_tax_is_either_rate_the_bureau_may_assess_and_no_other(warehouse):
    """141.00 m²: 1.5% for a family's only home, 2% for a second one (公告2024年第16号)."""
    first, second = 4_190_367, 5_587_156  # 2,793,577.98 × 1.5% and × 2%, half up
    _handed_over(warehouse, area="141.00", receipts=(("契税", second, HANDOVER),))
    lines, _ = _mart(warehouse, HANDOVER)
    assert (lines[(901, "契税")]["amount_fen"], lines[(901, "契税")]["state"]) == (second, "paid")
    with warehouse.engine.begin() as conn:  # the clerk took a third amount besides: neither rate gives the sum
        conn.execute(insert(core_receipt), [_receipt(30, "YS1", "契税", 100_00, HANDOVER)])
    lines, breaks = _mart(warehouse, D(2026, 3, 31))
    deed = lines[(901, "契税")]
    assert (deed["amount_fen"], deed["received_fen"]) == (first, second + 100_00)
    wrong = next(b for b in breaks if b["kind"] == "契税")
    assert (
        wrong["reason"] == "fee_amount_wrong"
        and "41,903.67 or 55,871.56 yuan by the city's schedule" in wrong["detail"]
    )


def test_a_company_or_a_shop_pays_the_standard_rate_and_a_shop_the_non_residential_registration(warehouse):
    _handed_over(warehouse, company=True, usage="商业")
    lines, _ = _mart(warehouse, HANDOVER)
    assert lines[(901, "契税")]["amount_fen"] == 8_380_734  # 3% of 2,793,577.98
    assert lines[(903, "登记费")]["amount_fen"] == 55_000


def test_an_unpaid_fee_waits_the_booking_days_then_is_fee_unpaid_and_a_receipt_naming_no_fee_pays_it(warehouse):
    _handed_over(warehouse, receipts=PAID[:2])
    _, breaks = _mart(warehouse, HANDOVER + timedelta(days=FEE_BOOKING_DAYS))
    assert breaks == [], "a fee paid at the desk is booked by the next workday"
    _, breaks = _mart(warehouse, HANDOVER + timedelta(days=FEE_BOOKING_DAYS + 1))
    assert [(b["reason"], b["kind"], b["amount_fen"]) for b in breaks] == [("fee_unpaid", "登记费", REGISTRATION)]
    with warehouse.engine.begin() as conn:  # the clerk's receipt says only 代收款
        conn.execute(insert(core_receipt), [_receipt(40, "YS1", "代收款", REGISTRATION, D(2026, 3, 6))])
    lines, breaks = _mart(warehouse, D(2026, 3, 31))
    assert lines[(903, "登记费")]["state"] == "paid" and breaks == []


def test_a_contract_not_handed_over_or_cancelled_owes_no_fee_line(warehouse):
    _handed_over(warehouse, state="撤销")
    lines, breaks = _mart(warehouse, D(2026, 3, 31))
    assert not [k for _, k in lines if k in ("契税", "维修基金", "登记费")]
    lines, _ = _mart(warehouse, HANDOVER - timedelta(days=1))
    assert not [r for r in lines.values() if r["is_fee"]]


def test_the_kpis_receivables_and_the_instalment_work_list_leave_the_fee_lines_out(warehouse):
    from estatehub.settings import WorkListSettings
    from estatehub.worklists.lists import Context, instalments_overdue

    _handed_over(warehouse, receipts=())  # three fees unpaid, overdue
    run_reconciliation(warehouse, date_from=D(2026, 1, 1), date_to=D(2026, 3, 31), city=SHENZHEN, only=("receivables",))
    with warehouse.engine.connect() as conn:
        kpi = sqlfiles.execute(conn, "kpi/kpi_receivables", {}).all()
        ctx = Context(conn, D(2026, 3, 31), SHENZHEN, WorkListSettings())
        assert [x.kind for x in instalments_overdue(ctx)] == []
    assert kpi == [], "the price is paid; the fees are no receivable of the price"


def test_the_fee_schedule_is_read_from_the_city_rules_and_a_mistake_names_its_place(tmp_path: Path):
    text = (Path(__file__).parents[2] / "estatehub" / "config" / "city_rules.yaml").read_text(encoding="utf-8")
    schedule = SHENZHEN.fee_schedule
    assert schedule is not None and schedule.maintenance_fund_fen_per_m2 == 15_000
    assert schedule.registration_fen == {"住宅": 8_000, "other": 55_000} and schedule.vat_bp == 900
    assert [r.from_on for r in schedule.deed_tax_rules] == [D(2024, 12, 1), D(2016, 2, 22)]
    assert schedule.deed_tax_rates(area_hundredths=13_000, usage="住宅", company=False, on=D(2024, 11, 30)) == (
        150,
        300,
    )
    bad = tmp_path / "rules.yaml"
    bad.write_text(text.replace("first_home_percent: 1.5", "first_home_percent: 1.555", 1), encoding="utf-8")
    with pytest.raises(CityRulesError, match=r"deed_tax\.homes\[0\]\.first_home_percent must be a number"):
        load_city_rules(bad)
