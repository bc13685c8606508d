"""Each work list on a hand-made warehouse as of 2026-06-30: what is listed on each side of its
deadline, the days left (negative: late), whom to call (masked), and items leaving by themselves."""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert, select, update

from estatehub.banks.tables import core_bank_loan_stage
from estatehub.ledger.tables import core_receipt, core_refund
from estatehub.settings import WorkListSettings
from estatehub.trading_network.tables import core_contract, core_handover, core_registration
from estatehub.worklists import build_work_lists
from estatehub.worklists.lists import LISTS, usual_days
from estatehub.worklists.tables import mart_work_item, mart_work_list_build
from tests.reconcile.conftest import _at, _receipt, _refund
from tests.worklists.conftest import AS_OF, CITY, contract, reconcile

# every item the hand-made world holds as of 2026-06-30, with its days left, worked out by hand from
# the cases in conftest.py (not from the code under test)
EXPECTED = {
    "subscription_overdue": {"subscription:RG5": -1},
    "filing_overdue": {"filing:XS4": -30, "filing:XF1": -1},
    "loan_stuck": {"loan:icbc:S1": -1, "loan:ccb:S3": -1},
    "guarantee_unreleased": {"guarantee:ccb:G1": 10},
    "refund_due": {"refund:YS3": -45},
    # YS11's mortgage line is paid: the 50,000.00 the bank holds back is its guarantee deposit (listed
    # under guarantee_unreleased), not the buyer's debt (the receivables count it as paid)
    "instalment_overdue": {"plan:YS2:2": -30, "plan:YS2:3": -31, "plan:YS11:2": -15},
    "handover_late": {"handover:YS2": -1},
    "registration_late": {"registration:YS1": -31, "registration:XS4": -30},
    "area_difference": {"area:YS11": 1},
}


def _items(warehouse) -> dict[str, dict[str, int]]:
    with warehouse.engine.connect() as conn:
        rows = conn.execute(select(mart_work_item.c.list_name, mart_work_item.c.item_key, mart_work_item.c.days_left))
        found: dict[str, dict[str, int]] = {name: {} for name in LISTS}
        for name, key, days in rows:
            found[name][key] = days
    return found


def _row(warehouse, key: str):
    with warehouse.engine.connect() as conn:
        return conn.execute(select(mart_work_item).where(mart_work_item.c.item_key == key)).one()


def test_each_list_holds_what_is_past_its_deadline_and_nothing_due_later(lists_world):
    report = build_work_lists(lists_world, AS_OF, city=CITY)
    found = _items(lists_world)
    for name, expected in EXPECTED.items():
        assert found[name] == expected, name
    # invoices: the reconciliation's receipts without an invoice, due 7 days after the receipt
    assert found["invoice_to_issue"]
    assert report.counts == {name: len(found[name]) for name in LISTS}
    assert report.late["loan_stuck"] == 2 and report.late["guarantee_unreleased"] == 0
    # XS4, XF1 and XF2 name no delivery date: the handover list cannot judge them, and says so
    assert report.unjudged == ("handover_late: 3 signed contracts not handed over name no delivery date",)
    assert "not judged: handover_late: 3" in report.summary()


def test_a_row_carries_its_deadline_whom_to_call_masked_and_the_contract_s_own_terms(lists_world):
    build_work_lists(lists_world, AS_OF, city=CITY)
    refund = _row(lists_world, "refund:YS3")
    assert refund.deadline_on == date(2026, 5, 16) and refund.amount_fen == 510_000_00, "15 days: the contract's term"
    late = _row(lists_world, "handover:YS2")
    assert (late.project_code, late.house_id, late.deadline_on) == ("P01", "H2", date(2026, 6, 29))
    assert (late.buyer_masked, late.phone_masked) == ("欧**娜", "139****0001"), "the primary buyer, masked"
    sub = _row(lists_world, "subscription:RG5")
    assert (sub.project_code, sub.buyer_masked, sub.phone_masked) == ("P02", "王*明", "138****5678")
    spot = _row(lists_world, "registration:XS4")
    assert spot.since_on == date(2026, 5, 1) and spot.deadline_on == date(2026, 5, 31), "现售: from signing"
    default = _row(lists_world, "registration:YS1")
    assert default.deadline_on == date(2026, 5, 30) and "default" in default.detail, "90 days: names none"
    stuck = _row(lists_world, "loan:icbc:S1")
    assert stuck.deadline_on == date(2026, 6, 29) and "usual time there is 12 days (5 loans)" in stuck.detail
    floor = _row(lists_world, "loan:ccb:S3")
    assert floor.deadline_on == date(2026, 6, 29) and "too few" in floor.detail
    area = _row(lists_world, "area:YS11")
    assert area.what == "100.00 → 103.01 m² (+3.01%)"
    with lists_world.engine.connect() as conn:
        text = " ".join(str(v) for row in conn.execute(select(mart_work_item)) for v in row)
    assert "张三丰" not in text and "王小明" not in text and "欧阳娜娜" not in text, "names are masked where stored"


def test_the_lists_are_sorted_by_urgency_most_late_first(lists_world):
    from estatehub.worklists.lists import collect

    with lists_world.engine.connect() as conn:
        items = collect(conn, as_of=AS_OF, city=CITY, settings=WorkListSettings())
    days = [(i.deadline_on - AS_OF).days for i in items]
    assert days == sorted(days)
    plans = [i.item_key for i in items if i.list_name == "instalment_overdue"]
    assert plans == ["plan:YS2:3", "plan:YS2:2", "plan:YS11:2"]


def test_rebuilding_is_idempotent_and_keeps_the_day_an_item_was_first_listed(lists_world):
    build_work_lists(lists_world, date(2026, 6, 29), city=CITY)
    assert _row(lists_world, "filing:XS4").first_listed_on == date(2026, 6, 29)
    assert "filing:XF1" not in _items(lists_world)["filing_overdue"], "due 06-29: not late on 06-29"
    build_work_lists(lists_world, AS_OF, city=CITY)
    first = _items(lists_world)
    build_work_lists(lists_world, AS_OF, city=CITY)
    assert _items(lists_world) == first
    assert _row(lists_world, "filing:XS4").first_listed_on == date(2026, 6, 29)
    assert _row(lists_world, "filing:XF1").first_listed_on == AS_OF
    with lists_world.engine.connect() as conn:
        assert conn.execute(select(mart_work_list_build.c.as_of_on)).scalars().all().count(AS_OF) == 2


def test_items_leave_their_lists_by_themselves_when_the_data_says_they_are_done(lists_world):
    build_work_lists(lists_world, AS_OF, city=CITY)
    d = date
    with lists_world.engine.begin() as conn:
        c = core_contract.c
        conn.execute(
            update(core_contract).where(c.contract_no == "XF1").values(state="已备案", filed_at=_at(d(2026, 6, 30)))
        )
        conn.execute(insert(core_contract), [contract("YS5", "H5", subscription_no="RG5", signed=d(2026, 6, 30))])
        conn.execute(
            insert(core_bank_loan_stage),
            [{"bank": "icbc", "loan_no": "S1", "seq": 3, "stage": "已审批", "entered_at": _at(d(2026, 6, 30))}],
        )
        conn.execute(
            insert(core_handover),
            [{"contract_no": "YS2", "handed_over_on": d(2026, 6, 30), "as_built_area": 98.5, "area_diff_fen": 0}],
        )
        conn.execute(
            insert(core_registration),
            [{"contract_no": "YS1", "status": "已登记", "applied_on": d(2026, 6, 1), "registered_on": d(2026, 6, 30)}],
        )
        # the bank releases YS11's deposit; the buyer pays the true-up; YS3's money is paid back
        conn.execute(
            insert(core_receipt),
            [
                _receipt(41, "YS11", "按揭", 50_000_00, d(2026, 6, 30)),
                _receipt(42, "YS11", "补差", 9_030_00, d(2026, 6, 30)),
            ],
        )
        conn.execute(insert(core_refund), [_refund(1, "YS3", 510_000_00, d(2026, 6, 30), customer_name="张三丰")])
    reconcile(lists_world)
    build_work_lists(lists_world, AS_OF, city=CITY)
    found = _items(lists_world)
    assert found["filing_overdue"] == {"filing:XS4": -30}
    assert found["subscription_overdue"] == {}
    assert found["loan_stuck"] == {"loan:ccb:S3": -1}
    assert found["handover_late"] == {}
    assert found["registration_late"] == {"registration:XS4": -30}
    assert found["guarantee_unreleased"] == {}
    assert found["area_difference"] == {}, "the true-up is settled: the buyer kept the unit"
    assert found["refund_due"] == {}
    assert found["instalment_overdue"] == {"plan:YS2:2": -30, "plan:YS2:3": -31}


def test_a_bank_s_usual_time_is_the_nearest_rank_quantile_of_finished_stays():
    assert usual_days([30, 8, 12, 10, 9], 0.8) == 12
    assert usual_days([5], 0.8) == 5
    assert usual_days([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.8) == 8
    assert usual_days([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5) == 5
