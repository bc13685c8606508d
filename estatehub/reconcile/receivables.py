"""Receivables: each payment-plan line against the receipts that pay it, as of a day.

The one source of receivables for every report (`rec_receivable`). For each deal — a contract with
the subscription (认购) it grew from and the contracts it replaced (换房, 更名), whose money moves with
it — the receipts not voided, less refunds, are allocated to the deal's live plan lines:

1. by kind, oldest due first (a 首付 receipt pays the 首付 line); 诚意金 and 定金 received under the
   subscription pay the contract's 定金 line (carried into the price); what a contract replaced since (换房,
   更名, a re-signed contract) had received moves to its successor as one transfer (转款) and pays the new
   plan's lines oldest due first, whatever kind it was paid as (its deposits still pay the 定金 line): the
   old plan's 分期 is not the new plan's (decision 0038);
2. what a kind leaves over (and receipts of no kind) pays the remaining lines, oldest due first;
3. what is still left is overpaid, shown on the deal's last line.

A line is `paid`, `overpaid`, `part_paid` (received something, not due), `not_due`, `due` (due today),
or `overdue`; ageing buckets: `not_due`, `1-30`, `31-60`, `61-90`, `over_90` days overdue, `settled`.
Lines of a cancelled deal are `cancelled`: what was received there is a refund matter
(`contracts` reconciliation), not a receivable.

Beside the price, a contract handed over owes the fees the developer collects for others at the handover desk
(契税, 维修基金, 登记费: decisions 0028 and 0036). They are on no plan the network files, so the city's fee
schedule (`CityRules.fee_schedule`) gives their lines, due on the handover day (`is_fee`); only receipts of
their own kind pay them (a receipt that says only 代收款 pays whichever is open), and no fee money pays the
price nor price money a fee.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from connectors.identity import mask_name
from estatehub.reconcile.city import DEED_TAX, MAINTENANCE_FUND, REGISTRATION_FEE, FeeSchedule
from estatehub.warehouse import sqlfiles

CANCELLED_STATE = "撤销"
DEPOSIT_KINDS = {"诚意金": "定金", "定金": "定金"}
CARRIED = ""  # the kind of no plan line: money that pays whichever line is open first
PLAN_COLUMNS = ("contract_no", "seq", "kind", "due_on", "amount_fen")
MONEY_COLUMNS = ("source", "bill_no", "contract_no", "payment_kind", "money_on", "amount_fen")
AGEING_BUCKETS = ((30, "1-30"), (60, "31-60"), (90, "61-90"))
# the fee lines of a contract handed over, numbered after any line of the network's plan
FEE_LINES = {DEED_TAX: 901, MAINTENANCE_FUND: 902, REGISTRATION_FEE: 903}
FEE_PLAN_COLUMNS = ("contract_no", "handed_over_on", "as_built_area", "usage", "price_fen", "is_company")
FEE_MONEY_COLUMNS = ("contract_no", "payment_kind", "receipt_on", "amount_fen")


@dataclass
class Line:
    contract_no: str
    seq: int
    kind: str
    due_on: date | None
    amount_fen: int
    received_fen: int = 0
    other_amounts_fen: tuple[int, ...] = ()  # a deed tax the bureau may also assess (the family's other homes)


@dataclass(frozen=True)
class Receivables:
    rows: list[dict[str, Any]]  # rec_receivable rows
    suspense: list[Any]  # receipts tied to no contract: (bill_no, receipt_on, amount_fen, payment_kind)
    overpaid: dict[str, int]  # deal → fen received over the plan
    # (contract, seq) of a deed-tax line → the other amounts the bureau may assess (a large home: 1.5% or 2%)
    fee_alternatives: dict[tuple[str, int], tuple[int, ...]] = field(default_factory=dict)


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


def compute(conn: Connection, *, as_of: date, fees: FeeSchedule | None = None) -> Receivables:
    contracts = sqlfiles.execute(conn, "reconcile/receivable_contracts", {}).all()
    final = final_contracts(contracts)
    by_no = {c.contract_no: c for c in contracts}
    replaced = {c.previous_contract_no for c in contracts if c.previous_contract_no not in (None, c.contract_no)}
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
        if r.contract_no in replaced and kind not in DEPOSIT_KINDS.values() and r.amount_fen > 0:
            kind = CARRIED  # a transfer (转款) to the successor: its plan's lines in due order
        money[deal][kind] += r.amount_fen
    overpaid: dict[str, int] = {}
    for deal, received in money.items():
        left = _allocate(sorted(lines.get(deal, []), key=_due_order), received, as_of=as_of)
        if left > 0:
            overpaid[deal] = left
            if lines.get(deal):
                max(lines[deal], key=_due_order).received_fen += left
    if fees is not None:
        for deal, fee_lines in _fee_lines(conn, fees, final, as_of=as_of).items():
            lines[deal].extend(fee_lines)
    rows = []
    for deal, deal_lines in sorted(lines.items()):
        contract = by_no.get(deal)
        live = contract is not None and contract.state != CANCELLED_STATE
        for line in sorted(deal_lines, key=lambda x: x.seq):
            rows.append(_row(line, contract, live=live, as_of=as_of))
    alternatives = {
        (x.contract_no, x.seq): x.other_amounts_fen for mine in lines.values() for x in mine if x.other_amounts_fen
    }
    return Receivables(rows, suspense, overpaid, alternatives)


def _fee_lines(conn: Connection, fees: FeeSchedule, final: dict[str, str], *, as_of: date) -> dict[str, list[Line]]:
    """deal → its fee lines (契税, 维修基金, 登记费) by the city's schedule, each paid by the receipts of its
    kind. The deed tax of a large home is the rate the bureau assessed: the buyer's receipt tells which of the
    schedule's amounts it was; with none received (or another amount), the lower one is owed."""
    paid: dict[str, dict[str, list[tuple[date, int]]]] = defaultdict(lambda: defaultdict(list))
    params = {"as_of_on": as_of}
    for r in sqlfiles.execute(conn, "reconcile/fee_money", params, columns=FEE_MONEY_COLUMNS).all():
        paid[final.get(r.contract_no, r.contract_no)][r.payment_kind].append((r.receipt_on, int(r.amount_fen)))
    out: dict[str, list[Line]] = {}
    for c in sqlfiles.execute(conn, "reconcile/fee_plan_contracts", params, columns=FEE_PLAN_COLUMNS).all():
        if c.contract_no in out or final.get(c.contract_no, c.contract_no) != c.contract_no:
            continue  # one primary buyer; a contract replaced since owes nothing, its successor does
        area = int(Decimal(str(c.as_built_area)) * 100)
        money = {kind: sum(amount for _, amount in got) for kind, got in paid.get(c.contract_no, {}).items()}
        deed_days = {c.handed_over_on, *(on for on, _ in paid.get(c.contract_no, {}).get(DEED_TAX, []))}
        rates = {
            rate
            for on in deed_days
            for rate in fees.deed_tax_rates(area_hundredths=area, usage=c.usage, company=bool(c.is_company), on=on)
        }
        deed = sorted({fees.deed_tax(int(c.price_fen), rate) for rate in rates})
        owed = money.get(DEED_TAX) if money.get(DEED_TAX) in deed else deed[0]
        due, seqs = c.handed_over_on, FEE_LINES
        lines = [
            Line(
                c.contract_no,
                seqs[DEED_TAX],
                DEED_TAX,
                due,
                owed,
                other_amounts_fen=tuple(x for x in deed if x != owed),
            ),
            Line(c.contract_no, seqs[MAINTENANCE_FUND], MAINTENANCE_FUND, due, fees.maintenance_fund(area)),
            Line(c.contract_no, seqs[REGISTRATION_FEE], REGISTRATION_FEE, due, fees.registration_fee(c.usage)),
        ]
        for line in lines:
            line.received_fen = money.pop(line.kind, 0)
        pool = sum(money.values())  # 代收款: a receipt that names no fee pays whichever is open
        for line in lines:
            pool -= _fill(line, pool)
        lines[-1].received_fen += pool
        out[c.contract_no] = lines
    return out


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
        "is_fee": line.seq in FEE_LINES.values() and line.kind in FEE_LINES,
        "as_of_on": as_of,
    }


def _bucket(days: int) -> str:
    for limit, name in AGEING_BUCKETS:
        if days <= limit:
            return name
    return "over_90"
