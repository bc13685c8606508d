"""Receivables: each payment-plan line against the receipts that pay it, as of a day.

The one source of receivables for every report (`rec_receivable`). For each deal — a contract with
the subscription (认购) it grew from and the contracts it replaced (换房, 更名), whose money moves with
it — the receipts not voided, less refunds, are allocated to the deal's live plan lines:

1. by kind, oldest due first (a 首付 receipt pays the 首付 line); 诚意金 and 定金 received under the
   subscription pay the contract's 定金 line (carried into the price);
2. what a kind leaves over (and receipts of no kind) pays the remaining lines, oldest due first;
3. what is still left is overpaid, shown on the deal's last line.

A line is `paid`, `overpaid`, `part_paid` (received something, not due), `not_due`, `due` (due today),
or `overdue`; ageing buckets: `not_due`, `1-30`, `31-60`, `61-90`, `over_90` days overdue, `settled`.
Lines of a cancelled deal are `cancelled`: what was received there is a refund matter
(`contracts` reconciliation), not a receivable.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection

from connectors.identity import mask_name
from estatehub.warehouse import sqlfiles

CANCELLED_STATE = "撤销"
DEPOSIT_KINDS = {"诚意金": "定金", "定金": "定金"}
PLAN_COLUMNS = ("contract_no", "seq", "kind", "due_on", "amount_fen")
MONEY_COLUMNS = ("source", "bill_no", "contract_no", "payment_kind", "money_on", "amount_fen")
AGEING_BUCKETS = ((30, "1-30"), (60, "31-60"), (90, "61-90"))


@dataclass
class Line:
    contract_no: str
    seq: int
    kind: str
    due_on: date | None
    amount_fen: int
    received_fen: int = 0


@dataclass(frozen=True)
class Receivables:
    rows: list[dict[str, Any]]  # rec_receivable rows
    suspense: list[Any]  # receipts tied to no contract: (bill_no, receipt_on, amount_fen, payment_kind)
    overpaid: dict[str, int]  # deal → fen received over the plan


def final_contracts(contracts: list[Any]) -> dict[str, str]:
    """contract → the contract its money ends up on (following subscription and replacement links)."""
    successor: dict[str, str] = {}
    for c in contracts:
        for before in (c.subscription_no, c.previous_contract_no):
            if before and before != c.contract_no:
                successor[before] = c.contract_no
    final: dict[str, str] = {}
    for c in contracts:
        seen, at = {c.contract_no}, c.contract_no
        while at in successor and successor[at] not in seen:
            at = successor[at]
            seen.add(at)
        final[c.contract_no] = at
    return final


def compute(conn: Connection, *, as_of: date) -> Receivables:
    contracts = sqlfiles.execute(conn, "reconcile/receivable_contracts", {}).all()
    final = final_contracts(contracts)
    by_no = {c.contract_no: c for c in contracts}
    lines: dict[str, list[Line]] = defaultdict(list)
    for p in sqlfiles.execute(conn, "reconcile/receivable_plan_lines", {}, columns=PLAN_COLUMNS).all():
        if final.get(p.contract_no, p.contract_no) == p.contract_no:  # a superseded contract's plan is replaced
            lines[p.contract_no].append(Line(p.contract_no, p.seq, p.kind, p.due_on, p.amount_fen))
    money: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    suspense = []
    params = {"as_of_on": as_of}
    for r in sqlfiles.execute(conn, "reconcile/receivable_money", params, columns=MONEY_COLUMNS).all():
        if r.source == "forfeit":
            continue  # a forfeited deposit ends a cancelled deal: a refund matter (contracts), not a receivable
        if r.contract_no is None:
            if r.amount_fen > 0:
                suspense.append(r)
            continue
        deal = final.get(r.contract_no, r.contract_no)
        kind = DEPOSIT_KINDS.get(r.payment_kind or "", r.payment_kind or "")
        money[deal][kind] += r.amount_fen
    overpaid: dict[str, int] = {}
    for deal, received in money.items():
        left = _allocate(sorted(lines.get(deal, []), key=_due_order), received, as_of=as_of)
        if left > 0:
            overpaid[deal] = left
            if lines.get(deal):
                max(lines[deal], key=_due_order).received_fen += left
    rows = []
    for deal, deal_lines in sorted(lines.items()):
        contract = by_no.get(deal)
        live = contract is not None and contract.state != CANCELLED_STATE
        for line in sorted(deal_lines, key=lambda x: x.seq):
            rows.append(_row(line, contract, live=live, as_of=as_of))
    return Receivables(rows, suspense, overpaid)


def _due_order(line: Line) -> tuple[date, int]:
    return (line.due_on or date.max, line.seq)


def _allocate(lines: list[Line], received: dict[str, int], *, as_of: date | None = None) -> int:
    """Fill the lines from the money per kind, then from what is left; return what no line takes.

    Money and lines carry a sign: a refund (negative) pays a line the developer owes (a negative 补差
    line, the area true-up paid back); a refund no such line takes is money given back, taken off the
    latest lines."""
    pool = 0
    for kind, amount in sorted(received.items()):
        for line in (x for x in lines if x.kind == kind):
            amount -= _fill(line, amount)
        pool += amount
    for line in lines:
        pool -= _fill(line, pool)
    if pool < 0:
        for line in reversed(lines):
            back = min(-pool, max(line.received_fen, 0))
            line.received_fen -= back
            pool += back
    _offset(lines, as_of)
    return pool


def _offset(lines: list[Line], as_of: date | None = None) -> None:
    """What the developer owes the buyer on a line (a negative true-up not yet paid back) is set off
    against what the buyer owes on others due by `as_of`, as the ledger settles it at handover. A line
    not yet due is no debt to set off: the buyer pays it whole when due, the developer pays the true-up
    back (late, if not by its own due date: `payable_overdue`)."""
    due = [x for x in lines if as_of is None or (x.due_on is not None and x.due_on <= as_of)]
    owed_by_buyer = sum(max(x.amount_fen - x.received_fen, 0) for x in due)
    owed_to_buyer = sum(max(x.received_fen - x.amount_fen, 0) for x in lines if x.amount_fen < 0)
    amount = min(owed_by_buyer, owed_to_buyer)
    if amount <= 0:
        return
    left = amount
    for line in due:  # the buyer's open lines due by the day, oldest due first
        left -= _fill(line, left)
    left = -amount
    for line in lines:  # the developer's open lines
        left -= _fill(line, left)


def _fill(line: Line, amount: int) -> int:
    """Put `amount` on `line` as far as it is open in the same direction; return what it took."""
    room = line.amount_fen - line.received_fen
    if amount > 0 and room > 0:
        take = min(amount, room)
    elif amount < 0 and room < 0:
        take = max(amount, room)
    else:
        return 0
    line.received_fen += take
    return take


def _row(line: Line, contract: Any, *, live: bool, as_of: date) -> dict[str, Any]:
    outstanding = line.amount_fen - line.received_fen
    days_overdue = None
    if not live:
        state, ageing = "cancelled", "settled"
    elif outstanding < 0 < line.amount_fen or (line.amount_fen < 0 and outstanding > 0):
        state, ageing = "overpaid", "settled"
    elif line.amount_fen < 0 and outstanding < 0 and line.due_on is not None and line.due_on < as_of:
        days_overdue = (as_of - line.due_on).days  # the developer owes the buyer (a negative true-up), late
        state, ageing = "payable_overdue", _bucket(days_overdue)
    elif line.amount_fen < 0 and outstanding < 0:
        state, ageing = "payable", "not_due"
    elif outstanding == 0:
        state, ageing = "paid", "settled"
    elif line.due_on is None or line.due_on > as_of:
        state, ageing = ("part_paid" if line.received_fen else "not_due"), "not_due"
    elif line.due_on == as_of:
        state, ageing = "due", "not_due"
    else:
        days_overdue = (as_of - line.due_on).days
        state, ageing = "overdue", _bucket(days_overdue)
    return {
        "contract_no": line.contract_no,
        "seq": line.seq,
        "kind": line.kind,
        "due_on": line.due_on,
        "amount_fen": line.amount_fen,
        "received_fen": line.received_fen,
        "outstanding_fen": outstanding,
        "state": state,
        "days_overdue": days_overdue,
        "ageing": ageing,
        "house_id": getattr(contract, "house_id", None),
        "project_code": getattr(contract, "project_code", None),
        "buyer_masked": mask_name(contract.buyer_name) if getattr(contract, "buyer_name", None) else None,
        "is_contract_live": live,
        "as_of_on": as_of,
    }


def _bucket(days: int) -> str:
    for limit, name in AGEING_BUCKETS:
        if days <= limit:
            return name
    return "over_90"
