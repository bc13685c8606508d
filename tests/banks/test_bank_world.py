"""The banks' face of a generated world: loans per payment plan, bank rules, statements, planted truth."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import Counter
from datetime import datetime

import pytest

from connectors.banks.records import STAGE_ORDER, bank_code_for_name
from sandbox.banks import accounts
from sandbox.banks.money import iter_contract_money
from sandbox.banks.world import build_bank_world
from sandbox.ledger.cash import LOAN_KINDS, fen
from tests.banks.conftest import SEED

PLANTED = (
    "loan_stuck",
    "loan_on_cancelled_contract",
    "disbursement_not_received",
    "other_payer_line",
    "corrected_statement",
)


def _digest(path) -> str:
    db = sqlite3.connect(path)
    digest = hashlib.sha256()
    for table, order in (
        ("loans", "bank, loan_no"),
        ("loan_events", "bank, loan_no, at, stage"),
        ("statement_lines", "account_no, seq"),
        ("corrections", "account_no, booked_on"),
        ("ground_truth", "kind, bank, on_date, loan_no, account_no, detail"),
    ):
        for row in db.execute(f"select * from {table} order by {order}"):
            digest.update(repr(row).encode())
    db.close()
    return digest.hexdigest()


@pytest.fixture(scope="module")
def money(world_path):
    return {m.doc["contract_no"]: m for m in iter_contract_money(world_path)}


@pytest.fixture(scope="module")
def loans(bank_world):
    rows = bank_world._query("select doc from loans")
    return [json.loads(doc) for (doc,) in rows]


def test_bank_world_is_a_pure_function_of_the_world(world_path, bank_world_path, tmp_path):
    again = tmp_path / "again.sqlite"
    build_bank_world(world_path, again)
    assert _digest(again) == _digest(bank_world_path)


def test_every_loan_line_of_a_signed_main_contract_is_a_loan_at_its_bank(money, loans):
    by_contract: dict[str, list[dict]] = {}
    for loan in loans:
        by_contract.setdefault(loan["contract_no"], []).append(loan)
    expected = 0
    for number, item in money.items():
        doc = item.doc
        if doc["contract_type"] == "认购" or not doc["signed_at"]:
            assert number not in by_contract
            continue
        covered = item.cash.loan_covered_fen  # a room change: what the replaced contract's money paid of a line
        wanted = sorted(
            ("hpf" if line["kind"] == "公积金" else bank_code_for_name(line["bank"]), line["seq"])
            for line in doc["payment_plan"]
            if line["kind"] in LOAN_KINDS and covered.get(line["seq"], 0) < fen(line["amount"])
        )
        got = sorted((loan["bank"], loan["plan_seq"]) for loan in by_contract.get(number, []))
        if not got and wanted:  # cancelled before the buyer handed in the loan papers
            cancelled = datetime.fromisoformat(doc["cancellation"]["cancelled_at"])
            assert (cancelled - datetime.fromisoformat(doc["signed_at"])).days <= 8, number
            continue
        assert got == wanted, number
        expected += len(wanted)
    assert expected == len(loans) > 50
    combined = [
        number for number, item in money.items() if item.doc["payment_method"] == "组合" and item.doc["signed_at"]
    ]
    assert combined and all(len(by_contract[n]) == 2 for n in combined)
    for number in combined:  # 组合贷: one mortgage, its commercial and fund parts linked to each other
        first, second = by_contract[number]
        assert (first["linked_loan_no"], second["linked_loan_no"]) == (second["loan_no"], first["loan_no"])


def test_disbursements_are_the_ones_the_ledger_books(money, loans):
    checked = 0
    for loan in loans:
        flows = [
            f for f in money[loan["contract_no"]].cash.flows if f.kind in LOAN_KINDS and f.plan_seq == loan["plan_seq"]
        ]
        disbursed = [e["at"] for e in loan["events"] if e["stage"] == "已放款"]
        if money[loan["contract_no"]].loan_refused:
            # cancelled because a bank refused a loan: neither the bank nor the ledger pays any loan out
            assert not disbursed and not flows, loan["loan_no"]
            continue
        if flows:
            assert disbursed == [flows[0].at.isoformat() + "+08:00"], loan["loan_no"]
            # the bank pays the whole loan out; a guarantee deposit it holds back reaches the developer later
            assert loan["disbursed_fen"] == flows[0].amount_fen + flows[0].held_fen
            assert loan["guarantee_fen"] == flows[0].held_fen
            released = [f for f in flows if f.guarantee]
            assert [f.amount_fen for f in released] == ([flows[0].held_fen] if released else [])
            assert loan["guarantee_released_at"] == (released[0].at.isoformat() + "+08:00" if released else None)
            checked += 1
        elif disbursed:  # paid out only after the world's end
            assert disbursed[0][:10] > money[loan["contract_no"]].doc["history"][-1]["at"][:10]
    assert checked > 50


def test_a_bank_pays_out_the_loan_it_approved_for_what_was_applied_for(money, loans):
    """A bank approves what the buyer applied for and pays it out whole, in one disbursement. After a room change
    the buyer applies for what the replaced contract's money left of the loan line (decision 0044)."""
    room_changes = 0
    for loan in loans:
        item = money[loan["contract_no"]]
        line = next(line for line in item.doc["payment_plan"] if line["seq"] == loan["plan_seq"])
        covered = item.cash.loan_covered_fen.get(loan["plan_seq"], 0)
        room_changes += covered > 0
        assert 0 < loan["applied_fen"] == fen(line["amount"]) - covered, loan["loan_no"]
        if loan["approved_fen"] is not None:
            assert loan["approved_fen"] == loan["applied_fen"], loan["loan_no"]
        if loan["disbursed_fen"] is not None:
            assert loan["disbursed_fen"] == loan["approved_fen"], loan["loan_no"]
    assert room_changes > 0  # the demo world has a room change whose money pays part of a loan line


def test_a_loan_line_a_room_change_paid_in_full_is_no_loan_and_moves_no_other_loans_draws(world_path):
    """A room change whose money pays a whole loan line: the buyer applies for no loan there. The contract's other
    loan (a 组合's second part) is drawn as it was."""
    from sandbox.banks.loans import contract_loans

    end = datetime(2026, 6, 30)
    combined = next(
        m.doc
        for m in iter_contract_money(world_path)
        if m.doc["payment_method"] == "组合" and m.doc["signed_at"] and not m.doc["cancellation"]
    )
    first, second = (line for line in combined["payment_plan"] if line["kind"] in LOAN_KINDS)
    before, _ = contract_loans(combined, [], seed=SEED, loan_refused=False, world_end=end)
    after, _ = contract_loans(
        combined, [], seed=SEED, loan_refused=False, world_end=end, covered={first["seq"]: fen(first["amount"])}
    )
    assert [loan.plan_seq for loan in before] == [first["seq"], second["seq"]]
    assert [loan.plan_seq for loan in after] == [second["seq"]]
    assert after[0].linked_loan_no is None and before[1].linked_loan_no == before[0].loan_no
    assert (after[0].events, after[0].branch, after[0].applied_fen) == (
        before[1].events,
        before[1].branch,
        before[1].applied_fen,
    )


def test_stages_follow_the_banks_disbursement_rules(money, loans):
    for loan in loans:
        events = loan["events"]
        times = [e["at"] for e in events]
        assert times == sorted(times), loan["loan_no"]
        stages = {e["stage"]: e["at"] for e in events}
        assert list(stages)[:2] == ["资料收齐", "已递交"]
        doc = money[loan["contract_no"]].doc
        if "已放款" in stages:
            assert doc["filed_at"] and stages["已放款"] > doc["filed_at"]
            assert stages["已审批"] < stages["已签借款合同"] < stages["已放款"]
            if accounts.DISBURSEMENT_RULES[loan["bank"]] == accounts.DISBURSE_AFTER_REGISTRATION:
                assert stages["抵押(预告)登记"] < stages["已放款"], loan["loan_no"]
                assert stages["抵押(预告)登记"] > doc["filed_at"]
        if "拒贷" in stages:
            assert "已审批" not in stages and "已放款" not in stages


def test_the_refused_loan_read_from_the_contract_is_the_worlds_truth(money, world_path):
    db = sqlite3.connect(f"file:{world_path}?mode=ro", uri=True)
    rows = db.execute("select contract_no, detail from ground_truth where kind = 'cancelled_contract'").fetchall()
    db.close()
    truth = {number for number, detail in rows if json.loads(detail or "{}").get("cause") == "loan_refused"}
    assert truth
    assert {number for number, item in money.items() if item.loan_refused} == truth


def test_a_loan_refused_contract_shows_the_refusal_at_its_bank(money, loans):
    refused = [number for number, item in money.items() if item.loan_refused]
    assert refused
    for number in refused:
        stages = [e["stage"] for loan in loans if loan["contract_no"] == number for e in loan["events"]]
        assert "拒贷" in stages, number


def test_each_planted_irregularity_is_in_the_ground_truth(bank_world):
    kinds = Counter(row["kind"] for row in bank_world.ground_truth())
    for kind in PLANTED:
        assert kinds[kind] > 0, f"no {kind} planted in the demo world"


def test_a_disbursement_never_received_has_no_statement_line(bank_world, loans):
    missing = {row["loan_no"] for row in bank_world.ground_truth("disbursement_not_received")}
    received = Counter(
        loan_no
        for (loan_no,) in bank_world._query("select loan_no from statement_lines where kind = 'loan_disbursement'")
    )
    for loan in loans:
        paid_in_world = any(
            e["stage"] == "已放款" and e["at"][:10] <= bank_world.meta["end_on"] for e in loan["events"]
        )
        if loan["loan_no"] in missing:
            assert received[loan["loan_no"]] == 0
        elif paid_in_world:
            assert received[loan["loan_no"]] == 1, loan["loan_no"]


def test_an_approved_loan_of_a_cancelled_contract_is_left_standing(bank_world, money, loans):
    rows = bank_world.ground_truth("loan_on_cancelled_contract")
    by_no = {loan["loan_no"]: loan for loan in loans}
    for row in rows:
        loan = by_no[row["loan_no"]]
        assert money[loan["contract_no"]].doc["cancellation"] is not None
        stages = [e["stage"] for e in loan["events"]]
        assert "已审批" in stages and "已撤销" not in stages
        assert max(stages, key=STAGE_ORDER.__getitem__) == row["detail"]["stage"]


def test_stuck_loans_wait_three_weeks_or_more(bank_world, loans):
    by_no = {loan["loan_no"]: loan for loan in loans}
    for row in bank_world.ground_truth("loan_stuck"):
        detail = row["detail"]
        since = datetime.fromisoformat(detail["since"])
        if detail["until"]:
            assert (datetime.fromisoformat(detail["until"]) - since).days >= 21
        stages = [e["stage"] for e in by_no[row["loan_no"]]["events"]]
        assert detail["stage"] in stages


def test_buyer_payments_on_statements_are_the_ledgers_cash_flows(bank_world, money):
    end = bank_world.meta["end_on"]
    paid = sum(
        f.amount_fen
        for item in money.values()
        for f in item.cash.flows
        if f.kind in ("诚意金", "定金", "首付", "分期", "一次性", "补差") and f.at.date().isoformat() <= end
    )
    ((on_statements,),) = bank_world._query("select sum(amount_fen) from statement_lines where kind = 'buyer_payment'")
    assert on_statements == paid


def test_running_balances_add_up_line_by_line(bank_world):
    for bank, account in accounts.ACCOUNTS.items():
        rows = bank_world._query(
            "select direction, amount_fen, balance_fen from statement_lines where account_no = ? order by seq",
            (account,),
        )
        balance = accounts.OPENING_BALANCE_FEN[bank]
        for direction, amount, stated in rows:
            balance += amount if direction == "in" else -amount
            assert stated == balance


def test_other_payers_are_not_buyers(bank_world):
    rows = bank_world._query("select counterparty_name, contract_no from statement_lines where kind = 'other_payer'")
    truth = bank_world.ground_truth("other_payer_line")
    assert len(rows) == len(truth) > 0
    assert all(contract_no is None for _, contract_no in rows)


def test_seed_changes_the_banks_world(world_path, tmp_path, bank_world_path):
    other = tmp_path / "other-seed.sqlite"
    build_bank_world(world_path, other, seed=SEED + 1)
    assert _digest(other) != _digest(bank_world_path)
