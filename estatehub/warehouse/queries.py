"""Questions to the warehouse, one Python function per `sql/mart/` model.

Business days are Asia/Shanghai dates; "at the end of day D" is the instant before 00:00 of D+1 in
Shanghai, which the functions turn into a UTC cutoff for the SQL.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from sqlalchemy import Connection, Engine

from estatehub.settings import BUSINESS_TZ
from estatehub.warehouse import sqlfiles
from estatehub.warehouse.engine import Warehouse

MAIN_CONTRACT_TYPES = ("预售", "现售")
FILING_DUE_DAYS = 30  # a signed contract must be filed (备案) within 30 days (DESIGN.md, process 2)
_FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)

Target = Engine | Connection | Warehouse


class ContractInState(NamedTuple):
    contract_no: str
    contract_type: str
    house_id: str
    state: str
    state_since_at: datetime
    signed_at: datetime | None


class OverdueFiling(NamedTuple):
    contract_no: str
    contract_type: str
    house_id: str
    state: str
    signed_at: datetime
    signed_on: date
    filing_due_on: date
    days_since_signing: int


class StateCount(NamedTuple):
    contract_type: str
    state: str
    contracts: int


def start_of_day(day: date) -> datetime:
    """00:00 of the business day `day` (Asia/Shanghai), as an aware UTC datetime."""
    return datetime.combine(day, time(0), tzinfo=BUSINESS_TZ).astimezone(UTC)


def end_of_day_cutoff(day: date) -> datetime:
    """The first instant after the business day `day`: everything before it happened by the end of `day`."""
    return start_of_day(day + timedelta(days=1))


def business_date(moment: datetime) -> date:
    """The Asia/Shanghai date of an instant."""
    return moment.astimezone(BUSINESS_TZ).date()


def contracts_in_state_on(
    target: Target,
    *,
    state: str,
    on: date,
    not_reached: str | None = None,
    contract_types: Collection[str] | None = MAIN_CONTRACT_TYPES,
) -> list[ContractInState]:
    """Contracts whose state at the end of business day `on` was `state` and that had not been in
    `not_reached` by then (e.g. 已签 and not yet 已备案), from the state history; by contract number.

    By default only main contracts (预售, 现售): a 认购 agreement stays 已签 after its main contract is
    signed and is never filed. `contract_types=None` answers for every type."""
    rows = _run(
        target,
        "mart/contracts_in_state_on",
        {"state": state, "not_reached": not_reached, "cutoff_at": end_of_day_cutoff(on)},
        ContractInState._fields,
    )
    found = [ContractInState(*row) for row in rows]
    if contract_types is None:
        return found
    return [row for row in found if row.contract_type in contract_types]


def filings_overdue(target: Target, *, as_of: date, within_days: int = FILING_DUE_DAYS) -> list[OverdueFiling]:
    """Main contracts signed more than `within_days` days before `as_of` and neither filed nor
    cancelled by the end of `as_of`; oldest signing first."""
    params = {
        "signed_before_at": start_of_day(as_of - timedelta(days=within_days)),
        "cutoff_at": end_of_day_cutoff(as_of),
    }
    rows = _run(
        target,
        "mart/filings_overdue",
        params,
        ("contract_no", "contract_type", "house_id", "state", "signed_at"),
    )
    result = []
    for contract_no, contract_type, house_id, state, signed_at in rows:
        signed_on = business_date(signed_at)
        result.append(
            OverdueFiling(
                contract_no,
                contract_type,
                house_id,
                state,
                signed_at,
                signed_on,
                signed_on + timedelta(days=within_days),
                (as_of - signed_on).days,
            )
        )
    return result


def contract_state_counts(target: Target, *, on: date | None = None) -> list[StateCount]:
    """How many contracts of each type were in each state at the end of business day `on` (None: now,
    as the network last said), from the state history; by type and state."""
    cutoff = _FAR_FUTURE if on is None else end_of_day_cutoff(on)
    rows = _run(
        target, "mart/contract_state_counts", {"cutoff_at": cutoff}, ("contract_type", "state", "contract_count")
    )
    return sorted(StateCount(*row) for row in rows)  # in Python: the same order whatever the collation


def _run(target: Target, model: str, params: dict, columns: tuple[str, ...]) -> list[tuple]:
    if isinstance(target, Warehouse):
        target = target.engine
    if isinstance(target, Connection):
        return [tuple(row) for row in sqlfiles.execute(target, model, params, columns=columns)]
    with target.connect() as conn:
        return [tuple(row) for row in sqlfiles.execute(conn, model, params, columns=columns)]
