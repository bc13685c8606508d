"""The work lists, one function per list: what the warehouse says is late or due, as of a day.

Each function reads the warehouse and returns `Item`s; `collect` runs them all and adds whom to call
(the contract's project, unit, masked buyer and masked phone). An item is there only while the data
says it is not done: a contract filed, a refund paid, a loan that moved on leave their list by
themselves at the next build. Where a list reads the reconciliation's results (refunds, instalments,
invoices), it reads them as the latest reconciliation left them: the work lists are built after it.

| list                  | deadline                                                    | listed when          |
|-----------------------|-------------------------------------------------------------|----------------------|
| subscription_overdue  | the planned signing date of the 认购                         | past it              |
| filing_overdue        | signing + the city's filing term                            | past it              |
| loan_stuck            | entering the stage + that bank's usual time there (floor)   | past it              |
| guarantee_unreleased  | registration + `guarantee_release_days`                     | registered, not back |
| refund_due            | cancellation + the contract's refund term (the break's)     | not paid             |
| instalment_overdue    | the plan line's due date                                    | overdue, not paid    |
| handover_late         | the delivery date the contract names                        | past it              |
| registration_late     | handover (现售: signing) + the contract's days (city: 90)    | past it              |
| area_difference       | handover + `area_decision_days`                             | over 3%, not settled |
| invoice_to_issue      | the receipt + `invoice_days`                                | no invoice           |
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from connectors.banks.records import FINAL_STAGES
from connectors.identity import mask_name
from estatehub.money import yuan
from estatehub.reconcile.city import CityRules
from estatehub.reconcile.tables import rec_break, rec_receivable
from estatehub.settings import WorkListSettings
from estatehub.warehouse import queries, sqlfiles
from estatehub.warehouse.queries import business_date, end_of_day_cutoff

LISTS = (
    "subscription_overdue",
    "filing_overdue",
    "loan_stuck",
    "guarantee_unreleased",
    "refund_due",
    "instalment_overdue",
    "handover_late",
    "registration_late",
    "area_difference",
    "invoice_to_issue",
)


@dataclass(frozen=True)
class Item:
    list_name: str
    item_key: str
    contract_no: str | None
    deadline_on: date
    detail: str
    what: str | None = None
    amount_fen: int | None = None
    since_on: date | None = None
    house_id: str | None = None
    project_code: str | None = None
    buyer_masked: str | None = None
    phone_masked: str | None = None


@dataclass(frozen=True)
class Context:
    conn: Connection
    as_of: date
    city: CityRules
    settings: WorkListSettings
    # what a list could not judge, said in the build's summary (never a silent gap in a list)
    unjudged: list[str] = field(default_factory=list)

    def run(self, model: str, columns: tuple[str, ...], **params: Any) -> list[Any]:
        return sqlfiles.execute(self.conn, f"worklists/{model}", params, columns=columns).all()


def collect(
    conn: Connection, *, as_of: date, city: CityRules, settings: WorkListSettings, unjudged: list[str] | None = None
) -> list[Item]:
    """Every item of every list as of `as_of`, with whom to call, most urgent first; what a list could
    not judge is appended to `unjudged`."""
    ctx = Context(conn, as_of, city, settings, unjudged if unjudged is not None else [])
    contacts = {
        c.contract_no: c
        for c in ctx.run(
            "contract_contacts",
            ("contract_no", "contract_type", "state", "house_id", "project_code", "buyer_name", "phone_masked"),
        )
    }
    items = [_with_contact(item, contacts.get(item.contract_no or "")) for build in BUILDERS for item in build(ctx)]
    return sorted(items, key=lambda i: urgency(i, as_of))


def urgency(item: Item, as_of: date) -> tuple[int, int, str, str]:
    """Most days late first, then the largest amount; ties by list and key (a stable order)."""
    return ((item.deadline_on - as_of).days, -abs(item.amount_fen or 0), item.list_name, item.item_key)


def _with_contact(item: Item, contact: Any) -> Item:
    if contact is None:
        return item
    return replace(
        item,
        house_id=item.house_id or contact.house_id,
        project_code=item.project_code or contact.project_code,
        buyer_masked=item.buyer_masked or (mask_name(contact.buyer_name) if contact.buyer_name else None),
        phone_masked=contact.phone_masked,
    )


# -- 认购 and 网签 -------------------------------------------------------------------------------------


def subscriptions_overdue(ctx: Context) -> list[Item]:
    rows = ctx.run(
        "subscriptions_unsigned",
        ("contract_no", "house_id", "planned_signing_on", "deposit_fen"),
        as_of_on=ctx.as_of,
        cutoff_at=end_of_day_cutoff(ctx.as_of),
    )
    return [
        Item(
            "subscription_overdue",
            f"subscription:{r.contract_no}",
            r.contract_no,
            r.planned_signing_on,
            f"认购 {r.contract_no} planned to sign on {r.planned_signing_on}, no contract signed from it",
            what="认购",
            amount_fen=r.deposit_fen,
            house_id=r.house_id,
        )
        for r in rows
    ]


def filings_overdue(ctx: Context) -> list[Item]:
    rule = "filing at signing" if ctx.city.filing_mode == "at_signing" else f"{ctx.city.filing_days} days"
    return [
        Item(
            "filing_overdue",
            f"filing:{late.contract_no}",
            late.contract_no,
            late.filing_due_on,
            f"{late.contract_type} signed on {late.signed_on}, not filed; due by {late.filing_due_on} "
            f"({ctx.city.city}: {rule})",
            what=late.contract_type,
            since_on=late.signed_on,
            house_id=late.house_id,
        )
        for late in queries.filings_overdue(ctx.conn, as_of=ctx.as_of, within_days=ctx.city.filing_within_days)
    ]


# -- loans -----------------------------------------------------------------------------------------


def usual_days(stays: list[int], quantile: float) -> int:
    """The stay that `quantile` of the finished stays did not exceed (nearest rank, whole days)."""
    ranked = sorted(stays)
    return ranked[max(math.ceil(quantile * len(ranked)), 1) - 1]


def loans_stuck(ctx: Context) -> list[Item]:
    s = ctx.settings
    rows = ctx.run(
        "loan_stages",
        ("bank", "loan_no", "seq", "stage", "entered_at", "left_at", "contract_no", "loan_type", "applied_fen"),
        cutoff_at=end_of_day_cutoff(ctx.as_of),
    )
    stays: dict[tuple[str, str], list[int]] = defaultdict(list)
    current = {}
    for r in rows:
        if r.left_at is None:
            current[(r.bank, r.loan_no)] = r
        else:
            stays[(r.bank, r.stage)].append((business_date(r.left_at) - business_date(r.entered_at)).days)
    items = []
    for (bank, loan_no), r in sorted(current.items()):
        if r.stage in FINAL_STAGES:
            continue
        finished = stays.get((bank, r.stage), [])
        learned = usual_days(finished, s.loan_usual_quantile) if len(finished) >= s.loan_min_samples else None
        limit = max(learned or 0, s.loan_floor_days)
        entered = business_date(r.entered_at)
        deadline = entered + timedelta(days=limit)
        if ctx.as_of <= deadline:
            continue
        basis = (
            f"{bank}'s usual time there is {learned} days ({len(finished)} loans)"
            if learned is not None
            else f"too few loans left it at {bank} ({len(finished)}) to learn a usual time"
        )
        items.append(
            Item(
                "loan_stuck",
                f"loan:{bank}:{loan_no}",
                r.contract_no,
                deadline,
                f"{r.loan_type} loan {loan_no} at {bank}: at {r.stage} since {entered}; {basis}, "
                f"at least {s.loan_floor_days}",
                what=f"{bank} {r.stage}",
                amount_fen=r.applied_fen,
                since_on=entered,
            )
        )
    return items


def guarantees_unreleased(ctx: Context) -> list[Item]:
    days = ctx.settings.guarantee_release_days
    rows = ctx.run(
        "guarantee_deposits",
        (
            "bank",
            "loan_no",
            "contract_no",
            "payment_kind",
            "guarantee_fen",
            "disbursed_on",
            "registered_on",
            "contract_disbursed_fen",
            "received_fen",
        ),
        as_of_on=ctx.as_of,
    )
    return [
        Item(
            "guarantee_unreleased",
            f"guarantee:{r.bank}:{r.loan_no}",
            r.contract_no,
            r.registered_on + timedelta(days=days),
            f"{r.bank} held back {yuan(r.guarantee_fen)} yuan of loan {r.loan_no} (disbursed {r.disbursed_on}); "
            f"registered on {r.registered_on}, the ledger holds {yuan(r.received_fen)} of "
            f"{yuan(r.contract_disbursed_fen)} yuan {r.payment_kind}; release due within {days} days",
            what=f"{r.bank} {r.payment_kind}",
            amount_fen=r.guarantee_fen,
            since_on=r.registered_on,
        )
        for r in rows
    ]


# -- money: refunds, instalments, invoices (the reconciliation's results) --------------------------


def _open_breaks(ctx: Context, reconciliation: str, reasons: tuple[str, ...]) -> list[Any]:
    b = rec_break.c
    return ctx.conn.execute(
        select(rec_break)
        .where(b.reconciliation == reconciliation, b.reason.in_(reasons), b.status != "resolved")
        .order_by(b.break_key)
    ).all()


def refunds_due(ctx: Context) -> list[Item]:
    return [
        Item(
            "refund_due",
            f"refund:{b.subject}",
            b.subject,
            b.due_on,
            b.detail,
            what="退款",
            amount_fen=b.amount_fen,
            since_on=b.first_on,
        )
        for b in _open_breaks(ctx, "contracts", ("refund_due", "refund_overdue"))
        if b.due_on is not None
    ]


def instalments_overdue(ctx: Context) -> list[Item]:
    r = rec_receivable.c
    rows = ctx.conn.execute(
        select(rec_receivable)
        .where(r.state == "overdue", r.is_contract_live.is_(True), r.is_fee.is_(False), r.due_on < ctx.as_of)
        .order_by(r.contract_no, r.seq)
    ).all()
    return [
        Item(
            "instalment_overdue",
            f"plan:{x.contract_no}:{x.seq}",
            x.contract_no,
            x.due_on,
            f"{x.kind} due {x.due_on}: {yuan(x.amount_fen)} yuan, received {yuan(x.received_fen)}; "
            f"{yuan(x.outstanding_fen)} outstanding",
            what=x.kind,
            amount_fen=x.outstanding_fen,
            house_id=x.house_id,
            project_code=x.project_code,
            buyer_masked=x.buyer_masked,
        )
        for x in rows
    ]


def invoices_to_issue(ctx: Context) -> list[Item]:
    days = ctx.settings.invoice_days
    return [
        Item(
            "invoice_to_issue",
            f"invoice:{b.break_key}",
            b.subject,
            b.first_on + timedelta(days=days),
            b.detail,
            what=b.kind,
            amount_fen=b.amount_fen,
            since_on=b.first_on,
            buyer_masked=b.party_masked,
        )
        for b in _open_breaks(ctx, "invoices", ("invoice_to_issue",))
        if b.first_on is not None
    ]


# -- handover and registration ---------------------------------------------------------------------


def handovers_late(ctx: Context) -> list[Item]:
    (undated,) = ctx.run(
        "handovers_undated", ("undated_count",), as_of_on=ctx.as_of, cutoff_at=end_of_day_cutoff(ctx.as_of)
    )
    if undated.undated_count:
        ctx.unjudged.append(
            f"handover_late: {undated.undated_count} signed contracts not handed over name no delivery date"
        )
    rows = ctx.run("handovers_late", ("contract_no", "house_id", "delivery_on"), as_of_on=ctx.as_of)
    return [
        Item(
            "handover_late",
            f"handover:{r.contract_no}",
            r.contract_no,
            r.delivery_on,
            f"the contract names delivery by {r.delivery_on}; not handed over",
            what="交房",
            house_id=r.house_id,
        )
        for r in rows
    ]


def registrations_late(ctx: Context) -> list[Item]:
    rows = ctx.run(
        "registrations_open",
        ("contract_no", "contract_type", "house_id", "signed_at", "registration_days", "handed_over_on"),
        as_of_on=ctx.as_of,
        cutoff_at=end_of_day_cutoff(ctx.as_of),
    )
    items = []
    for r in rows:
        spot_sale = r.contract_type == "现售"
        since = business_date(r.signed_at) if spot_sale else r.handed_over_on
        days = r.registration_days or ctx.city.registration_default_days
        deadline = since + timedelta(days=days)
        if ctx.as_of <= deadline:
            continue
        term = "the contract's term" if r.registration_days else f"{ctx.city.city}'s default: the contract names none"
        items.append(
            Item(
                "registration_late",
                f"registration:{r.contract_no}",
                r.contract_no,
                deadline,
                f"{'signed' if spot_sale else 'handed over'} on {since}; property right not registered, "
                f"due within {days} days ({term})",
                what=f"{r.contract_type} 办证",
                since_on=since,
                house_id=r.house_id,
            )
        )
    return items


def area_differences(ctx: Context) -> list[Item]:
    share = Decimal(str(ctx.settings.area_difference_share))
    days = ctx.settings.area_decision_days
    rows = ctx.run(
        "area_differences",
        (
            "contract_no",
            "house_id",
            "contract_area",
            "as_built_area",
            "area_diff_fen",
            "handed_over_on",
            "is_true_up_settled",
        ),
        as_of_on=ctx.as_of,
    )
    items = []
    for r in rows:
        contract_area, built = Decimal(r.contract_area), Decimal(r.as_built_area)
        if not contract_area or r.is_true_up_settled:
            continue
        off = (built - contract_area) / contract_area
        if abs(off) <= share:
            continue
        percent = f"{off * 100:+.2f}%"
        items.append(
            Item(
                "area_difference",
                f"area:{r.contract_no}",
                r.contract_no,
                r.handed_over_on + timedelta(days=days),
                f"as built {built} m², the contract {contract_area} m² ({percent}, over {share * 100:.0f}%): the "
                f"buyer may return the unit; true-up {yuan(r.area_diff_fen)} yuan not settled",
                what=f"{contract_area} → {built} m² ({percent})",
                amount_fen=r.area_diff_fen,
                since_on=r.handed_over_on,
                house_id=r.house_id,
            )
        )
    return items


BUILDERS: tuple[Callable[[Context], list[Item]], ...] = (
    subscriptions_overdue,
    filings_overdue,
    loans_stuck,
    guarantees_unreleased,
    refunds_due,
    instalments_overdue,
    handovers_late,
    registrations_late,
    area_differences,
    invoices_to_issue,
)
