"""Fees collected for others, paid over in time (decision 0034).

What a buyer pays the developer at handover for the tax bureau, the housing fund centre and the registration
centre (契税, 维修基金, 登记费: decision 0028) is theirs, to be paid over within the city's term
(`CityRules.fee_payover_days`). `overdue_fees` clears each collection (a receipt of a fee kind) with the
pay-overs (debits of the fee payables), oldest first: a pay-over booked per household (with its customer)
clears that customer's oldest fee of its kind; one booked for a batch (no customer) clears the oldest fees of
its kind of anyone. A collection cleared after its term is `fee_paid_over_late`; one still held past it on the
day the run is as of is `fee_not_paid_over`. Both keep one key (the receipt), so a fee that is overdue and then
paid keeps its break and its status.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection

from estatehub.reconcile.city import CityRules
from estatehub.warehouse import sqlfiles

ITEM_COLUMNS = ("item", "ref", "customer_code", "payment_kind", "money_on", "amount_fen", "contract_no")


@dataclass
class Collection:
    bill_no: str
    customer_code: str | None
    kind: str
    received_on: date
    amount_fen: int
    contract_no: str | None
    open_fen: int = 0
    cleared_on: date | None = None


def clear(items: list[Any]) -> list[Collection]:
    """The collections among `items` (rows of `reconcile/fee_payover_items`, in date order), each with the
    day the pay-overs cleared it (None: still held, `open_fen` of it)."""
    collections: list[Collection] = []
    by_customer: dict[tuple[str, str | None], deque[Collection]] = defaultdict(deque)
    by_kind: dict[str, deque[Collection]] = defaultdict(deque)
    for row in items:
        if row.item == "collection":
            c = Collection(row.ref, row.customer_code, row.payment_kind, row.money_on, int(row.amount_fen),
                           row.contract_no, int(row.amount_fen))  # fmt: skip
            collections.append(c)
            by_customer[(c.kind, c.customer_code)].append(c)
            by_kind[c.kind].append(c)
            continue
        queue = by_customer[(row.payment_kind, row.customer_code)] if row.customer_code else by_kind[row.payment_kind]
        left = int(row.amount_fen)
        while left > 0 and queue:
            c = queue[0]
            if c.cleared_on is not None:  # cleared through the other queue
                queue.popleft()
                continue
            taken = min(left, c.open_fen)
            c.open_fen -= taken
            left -= taken
            if c.open_fen == 0:
                c.cleared_on = row.money_on
                queue.popleft()
    return collections


def overdue_fees(conn: Connection, period: Any, city: CityRules) -> list[tuple[Collection, date]]:
    """(collection, due_on) of the fees due to be paid over in the period (collected + the city's term) that
    were paid over after it, or are still held on the day the run is as of."""
    items = sqlfiles.execute(conn, "reconcile/fee_payover_items", {"as_of_on": period.as_of}, columns=ITEM_COLUMNS)
    term = timedelta(days=city.fee_payover_days)
    out = []
    for c in clear(items.all()):
        due_on = c.received_on + term
        if not period.date_from <= due_on <= period.date_to or due_on >= period.as_of:
            continue
        if c.cleared_on is None or c.cleared_on > due_on:
            out.append((c, due_on))
    return out
