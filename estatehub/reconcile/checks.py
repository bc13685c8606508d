"""The reconciliations, each a function from the warehouse to its breaks (and matches).

Every break is a dict with the columns of `rec_break` (`store.BREAK_DATA` and `break_key`). Its key
comes from the reconciliation and the items it concerns (`breaks.stable_key`), never from the reason
or the amount: a refund that turns overdue, or an amount that changes, keeps the break and its status.

- `contracts`: money received after the contract was cancelled (dated after the next workday: a receipt is
  dated the day it is booked); cancelled contracts with money still held, due back by the contract's own
  refund term; signed contracts not filed in time (city rule); subscriptions (认购) neither signed nor
  cancelled past their planned signing date and its grace.
- `receivables`: plan lines overdue, deals overpaid, receipts tied to no contract (suspense), fees collected
  for others booked as proceeds or not paid over within the city's term (`fees`); the `rec_receivable` mart
  is written beside.
- `loans`: the banks' disbursements against the ledger's loan receipts (matching engine); a
  disbursement on a cancelled contract is an alarm.
- `invoices`: receipts without an invoice (the list of invoices to issue), invoices without a receipt,
  602 invoices not red-reversed after the full invoice, full invoices whose amount is not the final price.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from connectors.identity import mask_name
from estatehub import settings
from estatehub.money import yuan
from estatehub.reconcile.breaks import stable_key
from estatehub.reconcile.city import CityRules
from estatehub.reconcile.fees import overdue_fees
from estatehub.reconcile.matching import Tolerances, match
from estatehub.reconcile.receivables import CANCELLED_STATE, compute, final_contracts
from estatehub.reconcile.rules import RuleSet
from estatehub.warehouse import queries, sqlfiles

# receipts that are sale proceeds and so need an invoice (诚意金 is refundable until it becomes 定金)
MAIN_CONTRACT_TYPES = ("预售", "现售")  # the contracts the city's filing rule applies to (mart/filings_overdue)
PROCEEDS_KINDS = ("定金", "首付", "分期", "按揭", "公积金", "一次性", "补差")
PROCEEDS_PURPOSE = "预收房款"  # the ledger's purpose of sale proceeds: one whose memo names no kind is still one
LOAN_SIDES = ("bank", "ledger")
GUARANTEE_SUFFIX = ":guarantee"  # the id of a guarantee deposit's release (reconcile/loans_bank.sql)


@dataclass
class Outcome:
    reconciliation: str
    breaks: list[dict[str, Any]] = field(default_factory=list)
    matches: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    receivables: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class Period:
    date_from: date
    date_to: date
    as_of: date

    def params(self) -> dict[str, date]:
        return {"from_on": self.date_from, "to_on": self.date_to}  # `*_on`: bound as dates


def new_break(
    reconciliation: str,
    reason: str,
    *,
    items: Iterable[str],
    other: Iterable[str] = (),
    subject: str | None,
    amount_fen: int,
    first_on: date | None,
    detail: str,
    as_of: date,
    due_on: date | None = None,
    left_amount_fen: int | None = None,
    right_amount_fen: int = 0,
    rule: str | None = None,
    party_masked: str | None = None,
    kind: str | None = None,
    question: str | None = None,
) -> dict[str, Any]:
    """A break (a dict of `rec_break`'s columns). Its key is the reconciliation's and the items': a check
    that can ask a second question of the same items names it (`question`), so that both answers keep
    keys of their own (an invoice both without its receipt and not red-reversed is two breaks)."""
    left, right = tuple(items), tuple(other)
    since = due_on or first_on
    scope = reconciliation if question is None else f"{reconciliation}/{question}"
    return {
        "break_key": stable_key("b", scope, left, right),
        "reconciliation": reconciliation,
        "reason": reason,
        "rule": rule,
        "subject": subject,
        "party_masked": party_masked,
        "kind": kind,
        "left_ids": left,
        "right_ids": right,
        "amount_fen": int(amount_fen),
        "left_amount_fen": int(amount_fen if left_amount_fen is None else left_amount_fen),
        "right_amount_fen": int(right_amount_fen),
        "first_on": first_on,
        "due_on": due_on,
        "age_days": None if since is None else (as_of - since).days,
        "detail": detail,
    }


# -- contracts -------------------------------------------------------------------------------------


def reconcile_contracts(conn: Connection, period: Period, city: CityRules) -> Outcome:
    out = Outcome("contracts")
    contracts = sqlfiles.execute(
        conn,
        "reconcile/contracts",
        {},
        columns=(
            "contract_no",
            "contract_type",
            "state",
            "house_id",
            "subscription_no",
            "previous_contract_no",
            "signed_at",
            "filed_at",
            "cancelled_at",
            "total_price_fen",
            "refund_days",
        ),
    ).all()
    by_no = {c.contract_no: c for c in contracts}
    final = final_contracts(contracts)
    money = sqlfiles.execute(
        conn,
        "reconcile/receivable_money",
        {"as_of_on": period.as_of},
        columns=("source", "bill_no", "contract_no", "payment_kind", "money_on", "amount_fen"),
    ).all()
    held: dict[str, int] = {}
    refunds: dict[str, list[Any]] = {}
    for m in money:
        if m.contract_no is None or m.source == "guarantee":  # a deposit the bank holds is not held by us
            continue
        deal = final.get(m.contract_no, m.contract_no)
        held[deal] = held.get(deal, 0) + m.amount_fen
        if m.source == "refund":
            refunds.setdefault(deal, []).append(m)
        contract = by_no.get(deal)
        cancelled_on = _cancelled_on(contract)
        # a receipt is dated the day the clerk books it: money paid before a cancellation and booked on the next
        # workday is no money after it (what the deal still holds is a refund due all the same, below)
        after = m.source == "receipt" and cancelled_on is not None and m.money_on > next_workday(cancelled_on)
        if after and period.date_from <= m.money_on <= period.date_to:
            out.breaks.append(
                new_break(
                    "contracts",
                    "money_after_cancellation",
                    items=[f"receipt:{m.bill_no}"],
                    subject=deal,
                    amount_fen=m.amount_fen,
                    first_on=m.money_on,
                    as_of=period.as_of,
                    detail=f"{yuan(m.amount_fen)} yuan received on {m.money_on} for {deal}, "
                    f"cancelled on {cancelled_on}",
                )
            )
    for deal, amount in sorted(held.items()):
        contract = by_no.get(deal)
        cancelled_on = _cancelled_on(contract)
        if cancelled_on is None or not period.date_from <= cancelled_on <= period.date_to:
            continue
        days, stated = _refund_days(contract, city)
        due_on = cancelled_on + timedelta(days=days)
        term = f"({days} days, the contract's term)" if stated else f"({days} days: the contract states no term)"
        if amount <= 0:
            late = [r for r in refunds.get(deal, ()) if r.money_on > due_on]
            if late:
                out.breaks.append(
                    new_break(
                        "contracts",
                        "refund_paid_late",
                        items=[f"contract:{deal}"],
                        other=[f"refund:{r.bill_no}" for r in late],
                        subject=deal,
                        amount_fen=-sum(r.amount_fen for r in late),
                        first_on=due_on,
                        due_on=due_on,
                        as_of=period.as_of,
                        detail=f"cancelled on {cancelled_on}, refund due by {due_on} {term}; "
                        + ", ".join(f"{yuan(-r.amount_fen)} yuan refunded on {r.money_on}" for r in late),
                    )
                )
            continue
        overdue = period.as_of > due_on
        out.breaks.append(
            new_break(
                "contracts",
                "refund_overdue" if overdue else "refund_due",
                items=[f"contract:{deal}"],
                subject=deal,
                amount_fen=amount,
                first_on=cancelled_on,
                due_on=due_on,
                as_of=period.as_of,
                detail=f"cancelled on {cancelled_on}, {yuan(amount)} yuan still held; refund due by {due_on} {term}",
            )
        )
    rule = "filing at signing" if city.filing_mode == "at_signing" else f"{city.filing_days} days"
    for late in queries.filings_overdue(conn, as_of=period.as_of, within_days=city.filing_within_days):
        if not period.date_from <= late.signed_on <= period.date_to:
            continue
        out.breaks.append(
            new_break(
                "contracts",
                "filing_overdue",
                items=[f"contract:{late.contract_no}"],
                other=["filing"],
                subject=late.contract_no,
                amount_fen=0,
                first_on=late.signed_on,
                due_on=late.filing_due_on,
                as_of=period.as_of,
                detail=f"{late.contract_type} signed on {late.signed_on}, not filed; due by {late.filing_due_on} "
                f"({city.city}: {rule})",
            )
        )
    out.breaks += _filed_late(contracts, period, city, rule)
    for sub in sqlfiles.execute(
        conn, "reconcile/subscriptions_open", {}, columns=("contract_no", "house_id", "signed_at", "planned_signing_on")
    ).all():
        expired_on = sub.planned_signing_on + timedelta(days=settings.SUBSCRIPTION_GRACE_DAYS)
        if expired_on > period.as_of or not period.date_from <= expired_on <= period.date_to:
            continue
        out.breaks.append(
            new_break(
                "contracts",
                "subscription_expired",
                items=[f"contract:{sub.contract_no}"],
                other=["signing"],
                subject=sub.contract_no,
                amount_fen=0,
                first_on=sub.planned_signing_on,
                due_on=expired_on,
                as_of=period.as_of,
                detail=f"认购 {sub.contract_no} ({sub.house_id}) was to be signed by {sub.planned_signing_on}; neither "
                f"signed nor cancelled {settings.SUBSCRIPTION_GRACE_DAYS} days later",
            )
        )
    out.counts = {"contracts": len(contracts), "money_items": len(money)}
    return out


def _filed_late(contracts: Iterable[Any], period: Period, city: CityRules, rule: str) -> list[dict[str, Any]]:
    """Main contracts signed in the period and filed after the city's deadline, or cancelled after it
    without having been filed: the filing was not made in time even though nothing is open any more.
    Same key as `filing_overdue`, so an open overdue filing that is then made keeps its break."""
    out = []
    for c in contracts:
        if c.contract_type not in MAIN_CONTRACT_TYPES or c.signed_at is None:
            continue
        signed_on = queries.business_date(c.signed_at)
        if not period.date_from <= signed_on <= period.date_to:
            continue
        due_on = signed_on + timedelta(days=city.filing_within_days)
        if c.filed_at is not None:
            late_on, what = queries.business_date(c.filed_at), "filed"
        elif c.cancelled_at is not None:
            late_on, what = queries.business_date(c.cancelled_at), "cancelled without being filed"
        else:
            continue  # still open: `filing_overdue` once it is due
        if late_on <= due_on or late_on > period.as_of:
            continue
        out.append(
            new_break(
                "contracts",
                "filed_late" if c.filed_at is not None else "filing_overdue",
                items=[f"contract:{c.contract_no}"],
                other=["filing"],
                subject=c.contract_no,
                amount_fen=0,
                first_on=signed_on,
                due_on=due_on,
                as_of=period.as_of,
                detail=f"{c.contract_type} signed on {signed_on}, {what} on {late_on}; due by {due_on} "
                f"({city.city}: {rule})",
            )
        )
    return out


def next_workday(day: date) -> date:
    """The first Monday-to-Friday after `day` (the ledger's booking days; holidays are not known here)."""
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _cancelled_on(contract: Any) -> date | None:
    if contract is None or contract.state != CANCELLED_STATE or contract.cancelled_at is None:
        return None
    return queries.business_date(contract.cancelled_at)


def _refund_days(contract: Any, city: CityRules) -> tuple[int, bool]:
    """The contract's own refund term (core_contract.refund_days); the city's default only where it states none."""
    stated = contract.refund_days
    return (int(stated), True) if stated is not None else (city.refund_default_days, False)


# -- receivables -----------------------------------------------------------------------------------


OTHER_CUSTOMER_COLUMNS = ("bill_no", "receipt_on", "amount_fen", "payment_kind", "contract_no", "house_id",
                          "customer_code", "customer_contract_no", "customer_house_id")  # fmt: skip


def _receipt_break(reason: str, r: Any, period: Period, *, other: str, detail: str) -> dict[str, Any]:
    """A receivables break about one ledger receipt (`r`: bill_no, receipt_on, amount_fen, payment_kind,
    contract_no)."""
    return new_break(
        "receivables",
        reason,
        items=[f"receipt:{r.bill_no}"],
        other=[other],
        subject=r.contract_no,
        kind=r.payment_kind or None,
        amount_fen=r.amount_fen,
        first_on=r.receipt_on,
        as_of=period.as_of,
        detail=detail,
    )


# a fee paid at the handover desk is booked by the next workday (a Friday's on Monday): judged after this many days
FEE_BOOKING_DAYS = 3


def _fee_line_breaks(row: dict[str, Any], alternatives: dict[tuple[str, int], tuple[int, ...]], period: Period) -> list:
    """A fee line of a contract handed over (decision 0036): `fee_unpaid` when nothing of it came in within
    `FEE_BOOKING_DAYS` of the handover, `fee_amount_wrong` when the buyer paid another amount than the city's
    schedule gives (a fund on the sold area instead of the as-built one, a deed tax at another rate)."""
    due, received, owed = row["due_on"], row["received_fen"], row["outstanding_fen"]
    if not row["is_contract_live"] or owed == 0 or not period.date_from <= due <= period.date_to:
        return []
    if received == 0 and (period.as_of - due).days <= FEE_BOOKING_DAYS:
        return []
    other = alternatives.get((row["contract_no"], row["seq"]), ())
    schedule = " or ".join(yuan(x) for x in (row["amount_fen"], *other))
    if received == 0:
        reason, detail = "fee_unpaid", f"nothing received of it by {period.as_of}"
    else:
        reason, detail = (
            "fee_amount_wrong",
            f"received {yuan(received)} yuan, {yuan(abs(owed))} " + ("short" if owed > 0 else "over"),
        )
    detail = f"{row['kind']} collected at the handover of {due}: {schedule} yuan by the city's schedule; {detail}"
    return [_line_break(row, reason, period, detail)]


def _line_break(row: dict[str, Any], reason: str, period: Period, detail: str) -> dict[str, Any]:
    """A break on one line of the receivables mart (a line of the plan or a fee line), for what is still open."""
    return new_break(
        "receivables",
        reason,
        items=[f"plan:{row['contract_no']}:{row['seq']}"],
        subject=row["contract_no"],
        party_masked=row["buyer_masked"],
        kind=row["kind"],
        amount_fen=abs(row["outstanding_fen"]),
        left_amount_fen=row["amount_fen"],
        right_amount_fen=row["received_fen"],
        first_on=row["due_on"],
        due_on=row["due_on"],
        as_of=period.as_of,
        detail=detail,
    )


def reconcile_receivables(conn: Connection, period: Period, city: CityRules | None = None) -> Outcome:
    out = Outcome("receivables")
    city = city or CityRules()
    result = compute(conn, as_of=period.as_of, fees=city.fee_schedule)
    out.receivables = result.rows
    for row in result.rows:
        if row["is_fee"]:
            out.breaks += _fee_line_breaks(row, result.fee_alternatives, period)
            continue
        if row["state"] not in ("overdue", "payable_overdue") or row["due_on"] is None:
            continue
        if not period.date_from <= row["due_on"] <= period.date_to:
            continue
        owed = row["outstanding_fen"]
        who = "the buyer owes" if owed > 0 else "owed to the buyer"
        detail = (
            f"{row['kind']} due {row['due_on']}: {yuan(row['amount_fen'])} yuan, received "
            f"{yuan(row['received_fen'])}; {who} {yuan(abs(owed))} ({row['ageing']} days)"
        )
        out.breaks.append(_line_break(row, row["state"], period, detail))
    live = {row["contract_no"] for row in result.rows if row["is_contract_live"]}
    for deal, extra in sorted(result.overpaid.items()):
        if deal not in live:  # money on a cancelled deal is a refund matter (contracts)
            continue
        out.breaks.append(
            new_break(
                "receivables",
                "overpaid",
                items=[f"deal:{deal}"],
                subject=deal,
                amount_fen=extra,
                first_on=None,
                as_of=period.as_of,
                detail=f"{yuan(extra)} yuan received over the payment plan of {deal}",
            )
        )
    for receipt in result.suspense:
        if not period.date_from <= receipt.money_on <= period.date_to:
            continue
        out.breaks.append(
            new_break(
                "receivables",
                "suspense_receipt",
                items=[f"receipt:{receipt.bill_no}"],
                subject=receipt.bill_no,
                kind=receipt.payment_kind or None,
                amount_fen=receipt.amount_fen,
                first_on=receipt.money_on,
                as_of=period.as_of,
                detail=f"{receipt.payment_kind or 'a receipt'} of {yuan(receipt.amount_fen)} yuan on "
                f"{receipt.money_on} tied to no contract (suspense)",
            )
        )
    other_unit = sqlfiles.execute(
        conn,
        "reconcile/receipt_memo_other_unit",
        period.params(),
        columns=("bill_no", "receipt_on", "amount_fen", "payment_kind", "contract_no", "house_id", "memo_units"),
    ).all()
    out.breaks += [
        _receipt_break(
            "memo_names_other_unit",
            r,
            period,
            other="memo",
            detail=f"receipt {r.bill_no} of {yuan(r.amount_fen)} yuan on {r.receipt_on}: its memo names "
            f"{r.memo_units or 'another unit'}, its customer's contract is {r.contract_no} ({r.house_id}); "
            "correct the memo in the ledger",
        )
        for r in other_unit
    ]
    other_customer = sqlfiles.execute(
        conn,
        "reconcile/receipt_other_customer",
        period.params(),
        columns=OTHER_CUSTOMER_COLUMNS,
    ).all()
    out.breaks += [
        _receipt_break(
            "booked_to_other_customer",
            r,
            period,
            other=f"customer:{r.customer_code}",
            detail=f"receipt {r.bill_no} of {yuan(r.amount_fen)} yuan on {r.receipt_on} pays {r.contract_no} "
            f"({r.house_id}), its memo says so, but is booked to customer {r.customer_code}, whose contract is "
            f"{r.customer_contract_no} ({r.customer_house_id}); correct the customer in the ledger",
        )
        for r in other_customer
    ]
    unconverted = sqlfiles.execute(
        conn,
        "reconcile/deposits_not_converted",
        period.params(),
        columns=("bill_no", "received_on", "amount_fen", "contract_no", "deposit_contract_no"),
    ).all()
    for d in unconverted:
        out.breaks.append(
            new_break(
                "receivables",
                "deposit_not_converted",
                items=[f"receipt:{d.bill_no}"],
                other=[f"contract:{d.deposit_contract_no}"],
                subject=d.contract_no,
                kind="诚意金",
                amount_fen=d.amount_fen,
                first_on=d.received_on,
                as_of=period.as_of,
                detail=f"诚意金 {d.bill_no} of {yuan(d.amount_fen)} yuan received on {d.received_on} for "
                f"{d.contract_no}; its buyer has paid the 定金 of {d.deposit_contract_no} since: not carried into "
                "the price (诚意金转定金)",
            )
        )
    fees_as_proceeds = sqlfiles.execute(
        conn,
        "reconcile/receipt_fee_as_proceeds",
        {**period.params(), "proceeds_purpose": PROCEEDS_PURPOSE},
        columns=("bill_no", "receipt_on", "amount_fen", "payment_kind", "contract_no", "house_id", "purpose"),
    ).all()
    out.breaks += [
        _receipt_break(
            "fee_booked_as_proceeds",
            r,
            period,
            other="other_payables",
            detail=f"receipt {r.bill_no} of {yuan(r.amount_fen)} yuan on {r.receipt_on}: its memo says "
            f"{r.payment_kind}, a fee collected for others, but it is booked as {r.purpose}; book it to "
            "其他应付款 (other payables), to be paid over, not to the advance receipts of the price",
        )
        for r in fees_as_proceeds
    ]
    late_fees = _fee_payover_breaks(conn, period, city)
    out.breaks += late_fees
    out.counts = {
        "plan_lines": sum(1 for row in result.rows if not row["is_fee"]),
        "fee_lines": sum(1 for row in result.rows if row["is_fee"]),
        "suspense": len(result.suspense),
        "memo_other_unit": len(other_unit),
        "deposits_not_converted": len(unconverted),
        "fees_booked_as_proceeds": len(fees_as_proceeds),
        "fees_paid_over_late": len(late_fees),
    }
    return out


def _fee_payover_breaks(conn: Connection, period: Period, city: CityRules) -> list[dict[str, Any]]:
    """Fees collected for others not paid over within the city's term (`estatehub.reconcile.fees`)."""
    rule = f"{city.city}: within {city.fee_payover_days} days of collection"
    out = []
    for fee, due_on in overdue_fees(conn, period, city):
        held = fee.cleared_on is None
        what = (
            f"{yuan(fee.open_fen)} yuan of it still held on {period.as_of}: pay it over"
            if held
            else f"paid over on {fee.cleared_on}"
        )
        out.append(
            new_break(
                "receivables",
                "fee_not_paid_over" if held else "fee_paid_over_late",
                items=[f"receipt:{fee.bill_no}"],
                other=["fee_payover"],
                subject=fee.contract_no,
                kind=fee.kind,
                amount_fen=fee.open_fen if held else fee.amount_fen,
                left_amount_fen=fee.amount_fen,
                right_amount_fen=fee.amount_fen - fee.open_fen,
                first_on=fee.received_on,
                due_on=due_on,
                as_of=period.as_of,
                detail=f"{fee.kind} {fee.bill_no} of {yuan(fee.amount_fen)} yuan collected on {fee.received_on} "
                f"for {fee.contract_no or 'no contract'}, to be paid over by {due_on} ({rule}); {what}",
            )
        )
    return out


# -- loans -----------------------------------------------------------------------------------------


def reconcile_loans(conn: Connection, period: Period, rules: RuleSet | None = None) -> Outcome:
    out = Outcome("loans")
    bank = _frame(
        conn,
        "reconcile/loans_bank",
        period,
        ("id", "amount_fen", "on", "reference", "unit", "loan_type", "contract_no", "stage", "held"),
    )
    ledger = _frame(
        conn,
        "reconcile/loans_ledger",
        period,
        ("id", "amount_fen", "on", "reference", "unit", "payment_kind", "contract_no"),
    )
    result = match(
        bank[["id", "amount_fen", "on", "reference", "unit"]],
        ledger[["id", "amount_fen", "on", "reference", "unit"]],
        as_of=period.as_of,
        sides=LOAN_SIDES,
        scope="loans",
        tolerances=Tolerances(date_window_days=5),
        rules=rules,
    )
    out.matches = _match_rows(result.matches)
    subject = dict(zip(bank["id"], bank["contract_no"], strict=True)) | dict(
        zip(ledger["id"], ledger["contract_no"], strict=True)
    )
    held = set(bank.loc[bank["held"].astype(bool), "id"])  # guarantees the bank has not said it paid out
    for row in result.breaks.itertuples(index=False):
        items = tuple(row.left_ids) + tuple(row.right_ids)
        reason = row.reason
        if reason == "unmatched_bank" and all(i in held for i in row.left_ids):
            reason = "guarantee_held"
        detail = {
            "unmatched_bank": "disbursed by the bank, no loan receipt in the ledger",
            "unmatched_ledger": "a loan receipt in the ledger, no disbursement from the bank",
            "amount_mismatch": "the bank disbursed another amount than the ledger booked",
            "guarantee_held": "the guarantee deposit the bank held back: no release booked in the ledger yet",
        }.get(reason, row.detail)
        out.breaks.append(
            {
                "break_key": row.break_key,
                "reconciliation": "loans",
                "reason": reason,
                "rule": row.rule,
                "subject": next((subject.get(i) for i in items if subject.get(i)), None),
                "party_masked": None,
                "kind": None,
                "left_ids": tuple(row.left_ids),
                "right_ids": tuple(row.right_ids),
                "amount_fen": int(row.amount_fen),
                "left_amount_fen": int(row.left_amount_fen),
                "right_amount_fen": int(row.right_amount_fen),
                "first_on": row.first_on,
                "due_on": None,
                "age_days": None if pd.isna(row.age_days) else int(row.age_days),
                "detail": f"{detail} ({yuan(int(row.left_amount_fen))} / {yuan(int(row.right_amount_fen))} yuan)",
            }
        )
    states = {c.contract_no: c.state for c in sqlfiles.execute(conn, "reconcile/receivable_contracts", {}).all()}
    for loan in bank.itertuples(index=False):
        if str(loan.id).endswith(GUARANTEE_SUFFIX):
            continue  # the alarm is raised once, on the disbursement
        if loan.contract_no and states.get(loan.contract_no) == CANCELLED_STATE:
            out.breaks.append(
                new_break(
                    "loans",
                    "disbursed_on_cancelled",
                    items=[loan.id],
                    other=["cancelled"],
                    subject=loan.contract_no,
                    amount_fen=int(loan.amount_fen),
                    first_on=loan.on,
                    as_of=period.as_of,
                    detail=f"ALARM: {loan.loan_type} of {yuan(int(loan.amount_fen))} yuan disbursed on {loan.on} "
                    f"for {loan.contract_no}, which the network shows cancelled",
                )
            )
    out.breaks += _booked_next_month(out.matches, bank, ledger, subject, period, held)
    out.breaks += _loan_stage_breaks(conn, period)
    out.counts = {"disbursements": len(bank), "loan_receipts": len(ledger), "matched": len(out.matches)}
    return out


def _booked_next_month(
    matches: list[dict[str, Any]],
    bank: pd.DataFrame,
    ledger: pd.DataFrame,
    subject: dict,
    period: Period,
    held: set[str],
) -> list[dict[str, Any]]:
    """A disbursement or a guarantee's release matched to a loan receipt the ledger booked in a later month
    (`booked_next_month`): a cut-off difference, the month's books show the money as not received."""
    on = dict(zip(bank["id"], bank["on"], strict=True)) | dict(zip(ledger["id"], ledger["on"], strict=True))
    out = []
    for m in matches:
        if m["left_id"] in held:
            continue  # dated at the disbursement: when the bank paid the deposit out is not known
        paid_on, booked_on = on.get(m["left_id"]), on.get(m["right_id"])
        if paid_on is None or booked_on is None or (booked_on.year, booked_on.month) <= (paid_on.year, paid_on.month):
            continue
        out.append(
            new_break(
                "loans",
                "booked_next_month",
                items=[m["left_id"]],
                other=[m["right_id"]],
                subject=subject.get(m["left_id"]) or subject.get(m["right_id"]),
                amount_fen=m["left_amount_fen"],
                right_amount_fen=m["right_amount_fen"],
                first_on=paid_on,
                as_of=period.as_of,
                detail=f"disbursed on {paid_on}, booked in the ledger on {booked_on}: the books of {paid_on:%Y-%m} "
                "miss it (cut-off)",
            )
        )
    return out


def _loan_stage_breaks(conn: Connection, period: Period) -> list[dict[str, Any]]:
    """The banks' stages against time and the network: a loan that waited at a stage longer than its limit
    (`settings.LOAN_STAGE_LIMIT_DAYS`, or `LOAN_OPEN_STAGE_LIMIT_DAYS` for a loan still at that stage;
    `loan_stuck`, dated the day the limit passed, unless its contract was cancelled before), and a loan still open
    on a contract the network shows cancelled, which the bank has not withdrawn (`loan_on_cancelled`)."""
    rows = sqlfiles.execute(
        conn,
        "reconcile/loan_stages",
        {},
        columns=(
            "bank",
            "loan_no",
            "seq",
            "stage",
            "entered_at",
            "current_stage",
            "contract_no",
            "contract_state",
            "cancelled_at",
        ),
    ).all()
    by_loan: dict[tuple[str, str], list[Any]] = {}
    for r in rows:
        by_loan.setdefault((r.bank, r.loan_no), []).append(r)
    out = []
    for (bank, loan_no), stages in by_loan.items():
        loan = stages[-1]
        cancelled = loan.contract_state == CANCELLED_STATE and loan.cancelled_at is not None
        cancelled_on = queries.business_date(loan.cancelled_at) if cancelled else None
        for stage, after in zip(stages, [*stages[1:], None], strict=True):
            limit = settings.LOAN_STAGE_LIMIT_DAYS.get(stage.stage)
            if after is None and limit is None:
                limit = settings.LOAN_OPEN_STAGE_LIMIT_DAYS.get(stage.stage)
            if limit is None or stage.stage == loan.current_stage and loan.current_stage in settings.LOAN_FINAL_STAGES:
                continue
            entered_on = queries.business_date(stage.entered_at)
            late_on = entered_on + timedelta(days=limit)
            left_on = queries.business_date(after.entered_at) if after is not None else None
            if late_on > period.as_of or not period.date_from <= late_on <= period.date_to:
                continue
            if left_on is not None and left_on <= late_on:
                continue
            if cancelled_on is not None and cancelled_on <= late_on:
                continue  # the contract ended first: the loan waits for its withdrawal since (`loan_on_cancelled`)
            waited = ((left_on or period.as_of) - entered_on).days
            out.append(
                new_break(
                    "loans",
                    "loan_stuck",
                    items=[f"{bank}:{loan_no}"],
                    other=[f"stage:{stage.stage}"],
                    subject=loan.contract_no,
                    amount_fen=0,
                    first_on=late_on,
                    due_on=late_on,
                    as_of=period.as_of,
                    detail=f"loan {loan_no} ({bank}) at {stage.stage} since {entered_on}"
                    + (f", {waited} days until {left_on}" if left_on else f", {waited} days and still there")
                    + f" (limit {limit} days)",
                )
            )
        if loan.contract_state == CANCELLED_STATE and loan.current_stage not in settings.LOAN_FINAL_STAGES:
            if cancelled_on is not None and not period.date_from <= cancelled_on <= period.date_to:
                continue
            if cancelled_on is not None and (period.as_of - cancelled_on).days <= settings.LOAN_WITHDRAW_DAYS:
                continue  # the bank has a working week to withdraw it
            out.append(
                new_break(
                    "loans",
                    "loan_on_cancelled",
                    items=[f"{bank}:{loan_no}"],
                    other=["cancelled"],
                    subject=loan.contract_no,
                    amount_fen=0,
                    first_on=cancelled_on,
                    as_of=period.as_of,
                    detail=f"loan {loan_no} ({bank}) still at {loan.current_stage} for {loan.contract_no}, which the "
                    f"network shows cancelled on {cancelled_on or '?'}: ask the bank to withdraw it",
                )
            )
    return out


def _frame(conn: Connection, model: str, period: Period, columns: tuple[str, ...]) -> pd.DataFrame:
    rows = sqlfiles.execute(conn, model, period.params(), columns=columns).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=list(columns))
    for name in ("reference", "unit"):
        if name in frame:
            frame[name] = frame[name].astype(object)
    frame["amount_fen"] = frame["amount_fen"].astype("int64")
    # `on` is no `*_on` name, so the SQL layer hands it over as text on SQLite: make it a date everywhere
    frame["on"] = pd.Series([date.fromisoformat(str(v)[:10]) for v in frame["on"]], dtype=object)
    return frame


def _match_rows(matches: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for m in matches.itertuples(index=False):
        rows.append(
            {
                "match_id": m.match_id,
                "tier": int(m.tier),
                "tier_name": m.tier_name,
                "rule": None if m.rule is None or pd.isna(m.rule) else m.rule,
                "left_id": str(m.left_id),
                "right_id": str(m.right_id),
                "left_amount_fen": int(m.left_amount_fen),
                "right_amount_fen": int(m.right_amount_fen),
                "amount_delta_fen": int(m.amount_delta_fen),
                "date_delta_days": int(m.date_delta_days),
                "text_score": None if pd.isna(m.text_score) else float(m.text_score),
                "confidence": float(m.confidence),
            }
        )
    return rows


# -- invoices --------------------------------------------------------------------------------------


def _covered_by_full_invoice(receipt: Any, full_on: date | None) -> bool:
    """A receipt without a 602 invoice of its own is covered by its contract's full invoice (`full_on`) when
    that came within the days finance takes to invoice a receipt (`settings.INVOICE_WITHIN_DAYS`); one
    received earlier went uninvoiced while the price was still a prepayment."""
    return full_on is not None and full_on <= receipt.receipt_on + timedelta(days=settings.INVOICE_WITHIN_DAYS)


def reconcile_invoices(conn: Connection, period: Period) -> Outcome:
    out = Outcome("invoices")
    full_on = dict(
        sqlfiles.execute(conn, "reconcile/full_invoices", {}, columns=("contract_no", "full_invoice_on")).all()
    )
    receipts = sqlfiles.execute(
        conn,
        "reconcile/invoice_receipts",
        period.params(),
        columns=(
            "bill_no",
            "receipt_on",
            "amount_fen",
            "payment_kind",
            "purpose",
            "contract_no",
            "customer_name",
            "invoice_no",
            "invoice_type",
        ),
    ).all()
    to_issue = 0
    for r in receipts:
        proceeds = r.payment_kind in PROCEEDS_KINDS or (r.payment_kind is None and r.purpose == PROCEEDS_PURPOSE)
        if r.invoice_no is not None or not proceeds or _covered_by_full_invoice(r, full_on.get(r.contract_no)):
            continue
        to_issue += 1
        buyer = mask_name(r.customer_name) if r.customer_name else "?"
        out.breaks.append(
            new_break(
                "invoices",
                "invoice_to_issue",
                items=[f"receipt:{r.bill_no}"],
                subject=r.contract_no or r.bill_no,
                party_masked=buyer,
                kind=r.payment_kind,
                amount_fen=r.amount_fen,
                first_on=r.receipt_on,
                as_of=period.as_of,
                detail=f"issue an invoice of {yuan(r.amount_fen)} yuan to {buyer} for the "
                f"{r.payment_kind or r.purpose} received on {r.receipt_on} ({r.contract_no or 'no contract'})",
            )
        )
    unpaid = sqlfiles.execute(
        conn,
        "reconcile/invoices_unpaid",
        period.params(),
        columns=(
            "invoice_no",
            "invoice_type",
            "invoice_on",
            "amount_fen",
            "source_bill_no",
            "contract_no",
            "customer_name",
        ),
    ).all()
    for i in unpaid:
        out.breaks.append(
            new_break(
                "invoices",
                "invoice_without_receipt",
                items=[],
                other=[f"invoice:{i.invoice_no}"],
                subject=i.contract_no or i.invoice_no,
                amount_fen=i.amount_fen,
                left_amount_fen=0,
                right_amount_fen=i.amount_fen,
                first_on=i.invoice_on,
                as_of=period.as_of,
                detail=f"{i.invoice_type} {i.invoice_no} of {yuan(i.amount_fen)} yuan on {i.invoice_on}: "
                f"the ledger holds no receipt {i.source_bill_no or '(none named)'}",
            )
        )
    # a 602 invoice of a contract replaced by another (a room change, a rename) is of money its successor
    # holds: that one's full invoice covers it (compare `receivables.final_contracts`)
    deal = final_contracts(sqlfiles.execute(conn, "reconcile/receivable_contracts", {}).all())
    rows = sqlfiles.execute(
        conn,
        "reconcile/invoices_presale_standing",
        {},
        columns=("invoice_no", "invoice_on", "amount_fen", "contract_no", "customer_name"),
    ).all()
    covered = ((i, full_on.get(i.contract_no) or full_on.get(deal.get(i.contract_no, i.contract_no))) for i in rows)
    standing = [(i, on) for i, on in covered if on is not None and period.date_from <= on <= period.date_to]
    for i, full_invoice_on in standing:
        out.breaks.append(
            new_break(
                "invoices",
                "presale_invoice_not_reversed",
                question="not_reversed",  # the same invoice may also lack its receipt (invoice_without_receipt)
                items=[],
                other=[f"invoice:{i.invoice_no}"],
                subject=i.contract_no,
                party_masked=mask_name(i.customer_name) if i.customer_name else None,
                amount_fen=i.amount_fen,
                left_amount_fen=0,
                right_amount_fen=i.amount_fen,
                first_on=full_invoice_on,
                as_of=period.as_of,
                detail=f"602 invoice {i.invoice_no} of {yuan(i.amount_fen)} yuan ({i.invoice_on}) still stands after "
                f"the full invoice of {deal.get(i.contract_no, i.contract_no)} on {full_invoice_on}: red-reverse it",
            )
        )
    wrong = sqlfiles.execute(
        conn,
        "reconcile/invoices_final_amount",
        period.params(),
        columns=("invoice_no", "invoice_on", "amount_fen", "contract_no", "customer_name", "final_price_fen"),
    ).all()
    for i in wrong:
        out.breaks.append(
            new_break(
                "invoices",
                "final_invoice_wrong_amount",
                items=[f"contract:{i.contract_no}"],
                other=[f"invoice:{i.invoice_no}"],
                subject=i.contract_no,
                party_masked=mask_name(i.customer_name) if i.customer_name else None,
                amount_fen=abs(i.final_price_fen - i.amount_fen),
                left_amount_fen=i.final_price_fen,
                right_amount_fen=i.amount_fen,
                first_on=i.invoice_on,
                as_of=period.as_of,
                detail=f"full invoice {i.invoice_no} of {yuan(i.amount_fen)} yuan ({i.invoice_on}) for "
                f"{i.contract_no}, whose final price is {yuan(i.final_price_fen)} yuan",
            )
        )
    out.counts = {
        "receipts": len(receipts),
        "to_issue": to_issue,
        "invoices_without_receipt": len(unpaid),
        "presale_not_reversed": len(standing),
        "final_wrong_amount": len(wrong),
    }
    return out
