"""The reconciliations on hand-made warehouses (SQLite and PostgreSQL): each finds what was planted and
nothing else; statuses survive re-runs and acknowledgements; a break the data no longer makes closes
by itself; a quality gate's error blocks the run; the receivables allocation at its edges."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, select, update

from estatehub.cli import main
from estatehub.ledger.tables import core_receipt, core_refund, core_voucher, core_voucher_line
from estatehub.quality.gates import GatesFailed
from estatehub.reconcile.city import CityRules
from estatehub.reconcile.errors import ReconcileError
from estatehub.reconcile.receivables import Line, _allocate, _bucket, _offset, _row
from estatehub.reconcile.run import run_reconciliation
from estatehub.reconcile.store import acknowledge_break
from estatehub.reconcile.tables import rec_break, rec_receivable, rec_run
from estatehub.trading_network.tables import core_contract
from tests.conftest import TEST_PII_KEY
from tests.reconcile.conftest import END, NOW, START, _receipt, _refund

CITY = CityRules(filing_days=30, refund_default_days=30)


def _breaks(warehouse, **where) -> dict[tuple[str, str], dict]:
    with warehouse.engine.connect() as conn:
        rows = conn.execute(select(rec_break)).mappings().all()
    return {
        (r["reconciliation"], r["reason"] + ":" + (r["subject"] or "")): dict(r)
        for r in rows
        if all(r[k] == v for k, v in where.items())
    }


def test_each_reconciliation_finds_what_was_planted_and_nothing_else(world):
    report = run_reconciliation(world, date_from=START, date_to=END, city=CITY)
    by_reason = {}
    for outcome in report.outcomes.values():
        for b in outcome.breaks:
            by_reason.setdefault((b["reconciliation"], b["reason"]), []).append(b)
    assert {k: len(v) for k, v in by_reason.items()} == {
        ("contracts", "money_after_cancellation"): 1,
        ("contracts", "refund_overdue"): 1,
        ("contracts", "filing_overdue"): 1,
        ("receivables", "overdue"): 2,
        ("receivables", "suspense_receipt"): 1,
        ("invoices", "invoice_to_issue"): 2,  # YS2's 首付 and the suspense receipt: proceeds with no invoice
        ("invoices", "invoice_without_receipt"): 1,
    }
    refund = by_reason[("contracts", "refund_overdue")][0]
    assert refund["amount_fen"] == 510_000_00 and refund["due_on"] == date(2026, 5, 31) and refund["age_days"] == 30
    assert "the contract states no term" in refund["detail"]
    assert report.outcomes["loans"].breaks == [], "the disbursement matches the loan receipt a day later"
    assert [m["tier_name"] for m in report.outcomes["loans"].matches] == ["reference"]
    filing = by_reason[("contracts", "filing_overdue")][0]
    assert filing["due_on"] == date(2026, 5, 31) and filing["subject"] == "XS4"


def test_a_receipt_booked_the_workday_after_a_cancellation_is_no_money_after_it(world):
    """YS3 was cancelled on Friday 2026-05-01. A receipt dated Monday 05-04 may be money paid before the
    cancellation that the clerk booked on the next workday (the ledger dates a receipt the day it is booked):
    no money after cancellation, but still money the deal holds (its refund). One dated Tuesday 05-05 is."""
    with world.engine.begin() as conn:
        conn.execute(
            insert(core_receipt),
            [
                _receipt(21, "YS3", "分期", 3_000_00, date(2026, 5, 4)),
                _receipt(22, "YS3", "分期", 4_000_00, date(2026, 5, 5)),
            ],
        )
    run_reconciliation(world, date_from=START, date_to=END, city=CITY, only=("contracts",))
    with world.engine.connect() as conn:
        after = [
            (r.amount_fen, r.first_on)
            for r in conn.execute(select(rec_break).where(rec_break.c.reason == "money_after_cancellation"))
        ]
    assert (3_000_00, date(2026, 5, 4)) not in after
    assert (4_000_00, date(2026, 5, 5)) in after
    refund = _breaks(world)[("contracts", "refund_overdue:YS3")]
    assert refund["amount_fen"] == 510_000_00 + 3_000_00 + 4_000_00


def test_the_receivables_mart_ages_each_line_with_the_subscription_carried(world):
    run_reconciliation(world, date_from=START, date_to=END, city=CITY, only=("receivables",))
    with world.engine.connect() as conn:
        rows = {(r.contract_no, r.seq): r for r in conn.execute(select(rec_receivable))}
    assert ("RG1", 1) not in rows, "a subscription that became a contract is no receivable of its own"
    assert rows[("YS1", 1)].state == "paid", "the 定金 paid under the subscription pays the contract's line"
    assert (rows[("YS2", 2)].state, rows[("YS2", 2)].days_overdue, rows[("YS2", 2)].ageing) == ("overdue", 30, "1-30")
    assert (rows[("YS2", 3)].days_overdue, rows[("YS2", 3)].ageing) == (31, "31-60")
    assert rows[("YS3", 1)].state == "cancelled" and not rows[("YS3", 1)].is_contract_live


def test_what_a_replaced_contract_received_pays_the_new_plan_in_due_order_whatever_kind_it_was(world):
    """Seen on a clean world of 100,000 contracts (徐玲, 张宏勇): a contract re-signed on the same unit with another
    plan. The old one's 首付 and 分期 move to the new one as one transfer (转款), which the developer applies to the
    new plan's lines oldest first, as the sandbox's ledger does; read by kind, the old 首付 fell short of the
    new 首付 line (overdue) while the old 分期 sat on a 分期 line not yet due. Decision 0038."""
    from estatehub.trading_network.tables import core_payment_plan, core_unit
    from tests.reconcile.conftest import _at, _contract, _unit

    with world.engine.begin() as conn:
        conn.execute(insert(core_unit), [_unit("H5")])
        conn.execute(
            insert(core_contract),
            [
                _contract(
                    "YS5",
                    "H5",
                    state="撤销",
                    cancelled_at=_at(date(2026, 3, 1)),
                    signed=date(2026, 1, 5),
                    previous_contract_no=None,
                ),
                _contract("YS6", "H5", signed=date(2026, 3, 2), previous_contract_no="YS5"),
            ],
        )
        plan = [
            ("YS5", 1, "首付", date(2026, 1, 20), 1_600_000_00),
            ("YS5", 2, "分期", date(2026, 2, 20), 1_300_000_00),
            ("YS6", 1, "首付", date(2026, 3, 10), 1_900_000_00),
            ("YS6", 2, "分期", date(2026, 4, 10), 1_200_000_00),
            ("YS6", 3, "分期", date(2026, 7, 10), 1_200_000_00),  # not due on 06-30
        ]
        conn.execute(
            insert(core_payment_plan),
            [{"contract_no": c, "seq": q, "kind": k, "due_on": d, "amount_fen": a} for c, q, k, d, a in plan],
        )
        conn.execute(
            insert(core_receipt),
            [
                _receipt(51, "YS5", "首付", 1_600_000_00, date(2026, 1, 19)),
                _receipt(52, "YS5", "分期", 1_300_000_00, date(2026, 2, 19)),
                _receipt(53, "YS6", "分期", 200_000_00, date(2026, 4, 9)),  # the rest the transfer left open
            ],
        )
    report = run_reconciliation(world, date_from=START, date_to=END, city=CITY, only=("receivables",))
    with world.engine.connect() as conn:
        rows = {r.seq: r for r in conn.execute(select(rec_receivable).where(rec_receivable.c.contract_no == "YS6"))}
    assert [(rows[q].state, rows[q].received_fen) for q in (1, 2, 3)] == [
        ("paid", 1_900_000_00),
        ("paid", 1_200_000_00),
        ("not_due", 0),
    ]
    assert not [b for b in report.outcomes["receivables"].breaks if b["subject"] in ("YS5", "YS6")]


def test_an_acknowledged_break_stays_acknowledged_and_a_break_the_data_no_longer_makes_closes(world):
    run_reconciliation(world, date_from=START, date_to=END, city=CITY)
    suspense = _breaks(world)[("receivables", "suspense_receipt:SKD00000006")]
    acknowledge_break(world.engine, suspense["break_key"], who="li.finance", note="payer asked, linking", on=END)
    run_reconciliation(world, date_from=START, date_to=END, city=CITY)
    again = _breaks(world)[("receivables", "suspense_receipt:SKD00000006")]
    assert (again["status"], again["who"], again["note"]) == ("acknowledged", "li.finance", "payer asked, linking")

    with world.engine.begin() as conn:  # the ledger links the receipt: the break has no reason any more
        conn.execute(update(core_receipt).where(core_receipt.c.bill_id == 6).values(contract_no="YS2"))
    report = run_reconciliation(world, date_from=START, date_to=END, city=CITY)
    closed = _breaks(world)[("receivables", "suspense_receipt:SKD00000006")]
    assert (closed["status"], closed["how"], closed["who"]) == ("resolved", "data_changed", "estatehub")
    assert report.carried["receivables"].closed == 1


def test_a_refund_due_keeps_its_break_and_status_when_it_turns_overdue(world):
    run_reconciliation(world, date_from=START, date_to=END, as_of=date(2026, 5, 20), city=CITY, only=("contracts",))
    due = _breaks(world)[("contracts", "refund_due:YS3")]
    acknowledge_break(world.engine, due["break_key"], who="wang", note="refund in approval", on=date(2026, 5, 20))
    run_reconciliation(world, date_from=START, date_to=END, city=CITY, only=("contracts",))
    overdue = _breaks(world)[("contracts", "refund_overdue:YS3")]
    assert overdue["break_key"] == due["break_key"] and overdue["status"] == "acknowledged"


def test_the_contract_s_own_refund_term_wins_over_the_city_default(world):
    from estatehub.reconcile.checks import Period, reconcile_contracts
    from estatehub.reconcile.receivables import CANCELLED_STATE

    with world.engine.connect() as conn:
        out = reconcile_contracts(conn, Period(START, END, date(2026, 5, 20)), CityRules(refund_default_days=15))
    refund = next(b for b in out.breaks if b["reason"].startswith("refund"))
    assert refund["reason"] == "refund_overdue" and refund["due_on"] == date(2026, 5, 16)
    assert CANCELLED_STATE == "撤销"


def test_filing_at_signing_makes_every_unfiled_signed_contract_late(world):
    from estatehub.reconcile.checks import Period, reconcile_contracts

    with world.engine.connect() as conn:
        thirty = reconcile_contracts(conn, Period(START, END, date(2026, 5, 30)), CITY)
        at_signing = reconcile_contracts(
            conn, Period(START, END, date(2026, 5, 2)), CityRules(filing_mode="at_signing")
        )
    assert not [b for b in thirty.breaks if b["reason"] == "filing_overdue"], "30 days after 05-01 is 05-31"
    late = [b for b in at_signing.breaks if b["reason"] == "filing_overdue"]
    assert [b["subject"] for b in late] == ["XS4"] and late[0]["due_on"] == date(2026, 5, 1)


def test_a_filing_made_late_or_never_made_before_a_cancellation_is_a_break_once_past(world):
    from estatehub.reconcile.checks import Period, reconcile_contracts

    with world.engine.begin() as conn:
        # YS2 (signed 01-10) filed on 02-10, a day after its 30 days; YS3 cancelled on 05-01, never filed
        conn.execute(update(core_contract).where(core_contract.c.contract_no == "YS2").values(filed_at=_at(2, 10)))
        conn.execute(update(core_contract).where(core_contract.c.contract_no == "YS3").values(filed_at=None))
        conn.execute(update(core_contract).where(core_contract.c.contract_no == "YS1").values(filed_at=_at(2, 9)))
    with world.engine.connect() as conn:
        out = reconcile_contracts(conn, Period(START, END, END), CITY)
        before = reconcile_contracts(conn, Period(START, END, date(2026, 2, 9)), CITY)
    filing = {b["subject"]: b for b in out.breaks if b["reason"] in ("filed_late", "filing_overdue")}
    assert {s: b["reason"] for s, b in filing.items()} == {
        "YS2": "filed_late",
        "YS3": "filing_overdue",  # cancelled 05-01 without being filed: not in time
        "XS4": "filing_overdue",  # still open
    }, "YS1, filed on its 30th day, is in time"
    assert filing["YS2"]["due_on"] == date(2026, 2, 9) and filing["YS2"]["right_ids"] == ("filing",)
    assert not [b for b in before.breaks if b["subject"] == "YS2"], "not yet late as of its last day"


def _at(month: int, day: int) -> datetime:
    from tests.reconcile.conftest import _at as at

    return at(date(2026, month, day))


def test_a_disbursement_of_another_amount_or_on_a_cancelled_contract_is_a_break(world):
    with world.engine.begin() as conn:
        conn.execute(update(core_receipt).where(core_receipt.c.bill_id == 3).values(amount_fen=205_000_00))
        conn.execute(update(core_contract).where(core_contract.c.contract_no == "YS1").values(state="撤销"))
    report = run_reconciliation(world, date_from=START, date_to=END, city=CITY, only=("loans",))
    reasons = sorted(b["reason"] for b in report.outcomes["loans"].breaks)
    assert reasons == ["amount_mismatch", "disbursed_on_cancelled"]


@pytest.mark.parametrize(("as_of", "reasons"), [(date(2026, 5, 8), []), (date(2026, 5, 9), ["loan_on_cancelled"])])
def test_a_loan_open_on_a_cancelled_contract_is_a_break_once_the_bank_has_had_its_week_to_withdraw_it(
    world, as_of, reasons
):
    """YS3 was cancelled on 2026-05-01; its loan is still 已审批. A bank withdraws within
    `LOAN_WITHDRAW_DAYS` (7) of being told: seen on a clean world of 100,000 contracts, three loans of
    contracts cancelled in the world's last days were flagged before the bank could."""
    from estatehub import settings
    from estatehub.banks.tables import core_bank_loan, core_bank_loan_stage

    assert settings.LOAN_WITHDRAW_DAYS == 7
    with world.engine.begin() as conn:
        conn.execute(
            update(core_bank_loan).values(contract_no="YS3", stage="已审批", disbursed_fen=None, disbursed_on=None)
        )
        conn.execute(
            insert(core_bank_loan_stage),
            [{"bank": "icbc", "loan_no": "L1", "seq": 1, "stage": "已审批", "entered_at": NOW.replace(month=2, day=1)}],
        )
    report = run_reconciliation(world, date_from=START, date_to=END, as_of=as_of, city=CITY, only=("loans",))
    assert [b["reason"] for b in report.outcomes["loans"].breaks if "cancelled" in b["reason"]] == reasons


@pytest.mark.parametrize(("contract", "reasons"), [("YS2", ["loan_stuck"]), ("YS3", [])])
def test_a_loan_withdrawn_after_its_contract_was_cancelled_did_not_wait_at_its_stage(world, contract, reasons):
    """Submitted on 04-10, withdrawn on 05-05 (25 days at 已递交, limit 21): stuck on a live contract (YS2); on
    YS3, cancelled on 05-01 before the limit passed, it waited for the withdrawal, not the bank's approval.
    Seen on a clean world of 100,000 contracts (a fund-centre loan, 22 days)."""
    from estatehub.banks.tables import core_bank_loan, core_bank_loan_stage

    at = lambda day: datetime(2026, *day, 2, tzinfo=UTC)  # noqa: E731
    with world.engine.begin() as conn:
        conn.execute(update(core_bank_loan).values(contract_no=contract, stage="已撤销"))
        conn.execute(
            insert(core_bank_loan_stage),
            [
                {"bank": "icbc", "loan_no": "L1", "seq": 1, "stage": "已递交", "entered_at": at((4, 10))},
                {"bank": "icbc", "loan_no": "L1", "seq": 2, "stage": "已撤销", "entered_at": at((5, 5))},
            ],
        )
    report = run_reconciliation(world, date_from=START, date_to=END, city=CITY, only=("loans",))
    assert [b["reason"] for b in report.outcomes["loans"].breaks if b["reason"].startswith("loan_")] == reasons


@pytest.mark.parametrize(
    ("released_on", "release_booked_on", "reasons"),
    [
        (None, None, ["guarantee_held"]),  # the bank holds it still: work to do, not a difference
        (date(2026, 5, 29), date(2026, 6, 2), ["booked_next_month"]),  # paid out in May, booked in June
        (date(2026, 5, 29), date(2026, 5, 30), []),
        (date(2026, 5, 29), None, ["unmatched_bank"]),  # paid out, never booked: not "held" any more
    ],
)
def test_a_guarantee_deposit_is_reconciled_on_the_day_the_bank_paid_it_out(
    world, released_on, release_booked_on, reasons
):
    from estatehub.banks.tables import core_bank_loan

    with world.engine.begin() as conn:
        conn.execute(
            update(core_bank_loan).values(guarantee_fen=50_000_00, guarantee_released_on=released_on)
        )  # the bank paid 2,000,000 on 03-01 and held 50,000 back until the mortgage was registered
        conn.execute(update(core_receipt).where(core_receipt.c.bill_id == 3).values(amount_fen=2_000_000_00))
        if release_booked_on is not None:
            conn.execute(insert(core_receipt), [_receipt(8, "YS1", "按揭", 50_000_00, release_booked_on)])
    report = run_reconciliation(world, date_from=START, date_to=END, city=CITY, only=("loans",))
    breaks = report.outcomes["loans"].breaks
    assert sorted(b["reason"] for b in breaks) == reasons
    assert all(b["left_ids"] == ("icbc:L1:guarantee",) for b in breaks)
    if reasons == ["booked_next_month"]:
        assert breaks[0]["first_on"] == released_on and breaks[0]["amount_fen"] == 50_000_00


def test_a_run_over_another_period_leaves_the_breaks_of_this_one_alone(world):
    run_reconciliation(world, date_from=START, date_to=END, city=CITY)
    before = {k: v["status"] for k, v in _breaks(world).items()}
    run_reconciliation(world, date_from=date(2025, 1, 1), date_to=date(2025, 12, 31), city=CITY)
    assert {k: v["status"] for k, v in _breaks(world).items()} == before


def test_the_same_period_run_again_gives_the_same_breaks(world):
    first = run_reconciliation(world, date_from=START, date_to=END, city=CITY)
    second = run_reconciliation(world, date_from=START, date_to=END, city=CITY)
    for name in first.outcomes:
        assert first.outcomes[name].breaks == second.outcomes[name].breaks
        assert first.outcomes[name].matches == second.outcomes[name].matches
    assert second.carried["contracts"].new == 0


def test_a_quality_gate_error_blocks_the_run_and_says_why(world):
    with world.engine.begin() as conn:
        conn.execute(
            insert(core_voucher),
            [
                {
                    "voucher_id": 1,
                    "voucher_group": "记",
                    "voucher_number": 1,
                    "year": 2026,
                    "period": 3,
                    "voucher_on": date(2026, 3, 1),
                    "is_audited": True,
                    "is_voided": False,
                    "is_reversal": False,
                    "created_at": NOW,
                    "modified_at": NOW,
                }
            ],
        )
        conn.execute(
            insert(core_voucher_line),
            [
                {
                    "entry_id": 1,
                    "voucher_id": 1,
                    "seq": 1,
                    "voucher_on": date(2026, 3, 1),
                    "memo": "x",
                    "account_no": "1002",
                    "debit_fen": 100,
                    "credit_fen": 0,
                    "is_voided": False,
                }
            ],
        )
    with pytest.raises(GatesFailed, match="voucher_balanced"):
        run_reconciliation(world, date_from=START, date_to=END, city=CITY)
    with world.engine.connect() as conn:
        run = conn.execute(select(rec_run)).one()
        assert conn.execute(select(rec_break)).first() is None, "nothing reconciled on broken inputs"
    assert run.status == "blocked" and "voucher_balanced" in run.message


def test_breaks_are_acknowledged_and_resolved_from_the_command_line(world, warehouse_url, capsys, monkeypatch):
    key_only = {"conn_type": "sqlite", "host": "unused", "extra": {"pii_key": TEST_PII_KEY.decode()}}
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps(key_only))
    run_reconciliation(world, date_from=START, date_to=END, city=CITY)
    key = _breaks(world)[("invoices", "invoice_without_receipt:00000005")]["break_key"]
    assert main(["breaks", "ack", key, "--note", "asked the tax office", "--by", "zhao", "--url", warehouse_url]) == 0
    assert _breaks(world)[("invoices", "invoice_without_receipt:00000005")]["status"] == "acknowledged"
    assert main(["breaks", "resolve", key, "--how", "receipt booked", "--by", "zhao", "--url", warehouse_url]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main(["breaks", "ack", key, "--note", "again", "--url", warehouse_url])
    assert exit_.value.code == 2 and "is resolved" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["breaks", "ack", "bnosuchkey", "--note", "x", "--url", warehouse_url])
    assert "no break 'bnosuchkey'" in capsys.readouterr().err
    assert main(["breaks", "list", "--all", "--url", warehouse_url]) == 0
    assert "resolved" in capsys.readouterr().out


# -- the allocation, without a warehouse ------------------------------------------------------------


def _lines(*specs) -> list[Line]:
    return [Line("C", seq, kind, date(2026, 1, seq), amount) for seq, (kind, amount) in enumerate(specs, start=1)]


def test_money_pays_its_own_kind_first_then_the_oldest_open_line_and_the_rest_is_overpaid():
    lines = _lines(("首付", 100), ("分期", 50), ("分期", 50))
    assert _allocate(lines, {"分期": 60, "首付": 120}) == 0
    assert [x.received_fen for x in lines] == [100, 50, 30], "首付's extra 20 pays the next open line"
    lines = _lines(("首付", 100))
    assert _allocate(lines, {"首付": 130}) == 30


def test_a_refund_pays_a_negative_true_up_and_is_otherwise_money_given_back():
    lines = _lines(("首付", 100), ("补差", -10))
    assert _allocate(lines, {"首付": 100, "退款": -10}) == 0
    assert [x.received_fen for x in lines] == [100, -10]
    lines = _lines(("首付", 100))
    assert _allocate(lines, {"首付": 100, "退款": -40}) == 0
    assert lines[0].received_fen == 60


def test_what_the_developer_owes_is_set_off_against_what_the_buyer_owes():
    lines = _lines(("首付", 100), ("补差", -10))
    lines[0].received_fen = 90
    _offset(lines)
    assert [x.received_fen for x in lines] == [100, -10], "nothing left on either side"


def test_a_line_not_yet_due_is_no_debt_to_set_off_a_true_up_against():
    lines = _lines(("补差", -10), ("分期", 100))  # due on 01-01 and 01-02
    _offset(lines, as_of=date(2026, 1, 1))
    assert [x.received_fen for x in lines] == [0, 0], "the developer owes the 10, the buyer pays the 100 whole"
    _offset(lines, as_of=date(2026, 1, 2))
    assert [x.received_fen for x in lines] == [-10, 10]


def test_a_true_up_owed_to_the_buyer_past_its_due_date_is_aged_like_any_late_line():
    line = _lines(("补差", -10))[0]  # due on 01-01
    assert [_row(line, None, live=True, as_of=day)["ageing"] for day in (date(2026, 1, 1), date(2026, 2, 5))] == [
        "not_due",
        "31-60",
    ]
    late = _row(line, None, live=True, as_of=date(2026, 2, 5))
    assert (late["state"], late["days_overdue"]) == ("payable_overdue", 35)


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(1, "1-30"), (30, "1-30"), (31, "31-60"), (60, "31-60"), (61, "61-90"), (90, "61-90"), (91, "over_90")],
)
def test_ageing_buckets_at_their_edges(days, bucket):
    assert _bucket(days) == bucket


def test_refunds_reduce_what_a_cancelled_contract_holds(world):
    with world.engine.begin() as conn:
        conn.execute(insert(core_refund), [_refund(1, "YS3", 510_000_00, date(2026, 5, 20))])
    report = run_reconciliation(world, date_from=START, date_to=END, city=CITY, only=("contracts",))
    assert not [b for b in report.outcomes["contracts"].breaks if b["reason"].startswith("refund")]


@pytest.mark.parametrize(
    ("run_type", "run_after", "as_of"),
    [
        ("scheduled", datetime(2026, 6, 30, 23, 0, tzinfo=UTC), date(2026, 6, 30)),  # 07:00 on 07-01 in Shanghai
        ("asset_triggered", datetime(2026, 7, 1, 3, 20, tzinfo=UTC), date(2026, 7, 1)),
        ("manual", datetime(2026, 7, 1, 3, 20, tzinfo=UTC), date(2026, 7, 1)),
    ],
)
def test_the_07_00_run_reconciles_the_day_just_closed_and_other_runs_today(run_type, run_after, as_of):
    from estatehub import settings
    from estatehub.reconcile.run import period_for_run

    assert period_for_run(run_type, run_after) == (as_of, settings.RECONCILE_SINCE)
    assert period_for_run(run_type, run_after, as_of="2026-03-31", date_from="2026-01-01") == (
        date(2026, 3, 31),
        date(2026, 1, 1),
    )
    with pytest.raises(ReconcileError, match="starts after it ends"):
        period_for_run(run_type, run_after, as_of="2026-01-01", date_from="2026-03-01")


def _full_invoice(conn, contract: str, fen: int, *, kind: str = "增值税普通发票") -> None:  # noqa: ANN001
    """Invoice 6: the contract's full invoice (销售不动产, 9%) on 2026-05-01."""
    from estatehub.ledger.tables import core_invoice

    conn.execute(
        insert(core_invoice),
        {"invoice_id": 6, "bill_no": "XSFP00000006", "invoice_type": kind, "invoice_no": "00000006"}
        | {"invoice_on": date(2026, 5, 1), "tax_code": "5010101", "tax_rate": 0.09, "amount_fen": fen}
        | {"tax_fen": (fen * 9 * 2 + 109) // (2 * 109), "is_red": False, "remark": "", "contract_no": contract}
        | {"is_audited": True, "is_voided": False, "created_at": NOW, "modified_at": NOW},
    )


def test_an_invoice_both_without_its_receipt_and_not_reversed_is_two_breaks(world):
    """Two planted differences on one 602 invoice (seen at 2,000 units): it names a receipt the ledger does
    not hold, and it still stands after the contract's full invoice. Each is its own break with its own key
    (the key is the reconciliation's and the items', never the reason: one key for both stopped the run)."""
    from estatehub.ledger.tables import core_invoice

    with world.engine.begin() as conn:
        conn.execute(update(core_invoice).where(core_invoice.c.invoice_id == 5).values(contract_no="YS1"))
        _full_invoice(conn, "YS1", 300_000_000, kind="增值税专用发票")
    report = run_reconciliation(world, date_from=START, date_to=END, city=CITY, only=("invoices",))
    on_five = [b for b in report.outcomes["invoices"].breaks if "invoice:00000005" in b["right_ids"]]
    assert sorted(b["reason"] for b in on_five) == ["invoice_without_receipt", "presale_invoice_not_reversed"]
    assert len({b["break_key"] for b in on_five}) == 2
    stored = _breaks(world)
    assert stored[("invoices", "presale_invoice_not_reversed:YS1")]["status"] == "open"


def test_a_602_invoice_of_a_contract_a_room_change_replaced_stands_once_the_successor_is_invoiced_in_full(world):
    """Seen at 5,000 units: a buyer moved from one unit to another (换房), and the money of the first contract,
    with its 602 invoice, was carried to the second. At the second's handover that 602 is to be red-reversed
    like the second's own: the full invoice covers the money."""
    from estatehub.ledger.tables import core_invoice
    from estatehub.trading_network.tables import core_contract

    with world.engine.begin() as conn:
        conn.execute(
            update(core_contract).where(core_contract.c.contract_no == "YS2").values(previous_contract_no="YS3")
        )
        conn.execute(update(core_invoice).where(core_invoice.c.invoice_id == 5).values(contract_no="YS3"))
        _full_invoice(conn, "YS2", 700_000_000)
    report = run_reconciliation(world, date_from=START, date_to=END, city=CITY, only=("invoices",))
    standing = [b for b in report.outcomes["invoices"].breaks if b["reason"] == "presale_invoice_not_reversed"]
    assert [(b["right_ids"], b["subject"], b["first_on"]) for b in standing] == [
        (("invoice:00000005",), "YS3", date(2026, 5, 1))
    ]
    assert "the full invoice of YS2 on 2026-05-01" in standing[0]["detail"]
