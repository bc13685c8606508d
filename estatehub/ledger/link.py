"""Which contract and house a receipt, refund or invoice belongs to — the basis, and how sure that is.

Finance books a receipt to a customer (auxiliary accounting: code and name) and a project phase; the
unit is only in the memo. A receipt is linked, in this order:

1. `memo`: the memo names a unit that resolves to exactly one house of the project
   (`estatehub.memo.RoomDirectory`); the contract is the one on that house that was in force on the
   receipt's date (`date`), preferring one whose buyers include the customer's name (`customer`); where
   that day's contract is another buyer's but one of the house's contracts is the customer's (诚意金 paid
   weeks before their subscription, while the previous buyer's was in force), theirs (`memo+customer`).
   When the memo's house has no buyer of that name but the memo also names one of its buyers, the memo
   wins (`memo+buyer`: the receipt was booked to another customer, a break of the receivables); so it
   does when the customer code stands for another house but the amount is a plan line of the memo's
   contract and of none on the customer's house (`memo+amount`) — unless the memo, read in the project of
   the customer's own house, names that house or the house a room change moved the customer's deal to
   (`customer_code+memo`: the receipt carries a batch's phase).
   A buyer named in the memo only inside the customer's own name (郑飞 in 郑飞志) is no buyer named. Else,
   when the customer code is already linked to another house whose buyer has the customer's name, the memo
   is taken to name the wrong room and the customer wins (`customer_code`, memo disagrees).
2. `memo+customer`: the memo fits several houses (the 单元 left out): the customer's own when the customer
   code already stands for one of them (`customer_code`), else the one the customer's name picks;
   when none has a buyer of that name and the customer code stands for another house, the amount
   (`memo+amount`) or else the customer wins, as in 1.
3. `customer_code`: the memo names no unit, but the customer code's other receipts, whose memo and
   customer name agree, point at one house; or at several (a room change: 换房, the same customer goes
   on in a contract on another house), of which one has a contract of the customer's name in force on
   the receipt's date.
4. `customer_name`: exactly one house of the project has a buyer of the customer's name, or, of several,
   exactly one has a contract of that name in force on the date (of one deal's two in force, the one begun
   by then); a house another customer code of that name stands for is a namesake's, left out.
Otherwise the receipt stays unresolved (no contract), visible as suspense.

A contract is in force from its start until it is cancelled or superseded: the contract that names it
as its subscription (认购 → 合同) or its previous contract (换房, 更名) takes over from its own start.
A refund is linked to a cancelled contract on its house, unless its memo says it pays back an area
true-up (退面积补差款) or what a room change to a cheaper unit left over (换房差价): that is a live contract's.

`+amount` is added to the basis (and the confidence raised) when the amount equals a payment-plan
line of the chosen contract. The confidence starts from the memo rule's measured reliability.
Invoices take the link of their receipt (`receipt`), else of the invoice they reverse, else their
remark. Links are written to `core_receipt`, `core_refund` and `core_invoice`, a customer at a time
(`link_customers`, then `link_invoices_of`), so they depend on the data, not on the order it came in.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, null, or_, select, union, update

from estatehub.ledger.tables import core_invoice, core_receipt, core_refund
from estatehub.memo import MemoReading, RoomDirectory, parse_memo
from estatehub.settings import BUSINESS_TZ
from estatehub.trading_network.tables import (
    core_buyer,
    core_contract,
    core_contract_buyer,
    core_contract_state_history,
    core_payment_plan,
    core_unit,
)
from estatehub.trading_network.tables import (
    core_unit_inventory as inv,
)

# what the linker reads: `link_codes` refreshes their statistics before it links (PostgreSQL)
TABLES_READ = (
    core_receipt,
    core_refund,
    core_invoice,
    core_buyer,
    core_contract,
    core_contract_buyer,
    core_contract_state_history,
    core_payment_plan,
    core_unit,
    inv,
)


def _columns(table: Any, *names: str, absent: tuple[str, ...] = ()) -> tuple[Any, ...]:
    return (*(table.c[name] for name in names), *(null().label(name) for name in absent))


# What the linker reads of each row it links, and no more: the other columns (times, status, memo columns) cost their
# typing on every row of every chunk (decision 0045). Each row has both `payer` and `payee` (null where its table has
# none), so `_names_of` finds them without a missing attribute's exception, which SQLAlchemy's rows make dear.
_LINKED = ("customer_code", "customer_name", "amount_fen", "remark", "phase_code")  # of every row linked
_RECEIPT_ROW = _columns(core_receipt, "bill_id", "receipt_on", *_LINKED, "is_voided", "payer", absent=("payee",))
_REFUND_ROW = _columns(core_refund, "bill_id", "refund_on", *_LINKED, "payee", absent=("payer",))
_INVOICE_ROW = _columns(
    core_invoice,
    "invoice_id",
    "invoice_no",
    "invoice_on",
    *_LINKED,
    "source_bill_no",
    "blue_invoice_no",
    absent=("payer", "payee"),
)
DEPOSIT_KINDS = ("定金", "诚意金")
SINCERITY = "诚意金"
# a refund a live contract makes: an area true-up (补差), what a room change to a cheaper unit left over (换房差价)
TRUE_UP = re.compile("补差|面积差|换房差")
LOAN_KINDS = ("按揭", "公积金")
GUARANTEE_SHARE = 0.10  # the most of a loan a bank holds back as 按揭保证金 (招商银行 10%, 建设银行 5%)
MAX_CANDIDATES = 6
AHEAD_DAYS = 30  # 诚意金 is paid up to a month before the subscription (认筹 at a launch)
# of several deals of one name in force, a deposit (定金, 诚意金) belongs to the one begun within this many days
# before it (a 定金 paid in parts over the first days of the subscription)
DEPOSIT_FRESH = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Link:
    contract_no: str | None
    house_id: str | None
    basis: str | None
    confidence: Decimal | None


UNRESOLVED = Link(None, None, None, None)


@dataclass(frozen=True, slots=True)
class _Contract:
    contract_no: str
    house_id: str
    contract_type: str
    started_on: date
    cancelled_on: date | None
    names: frozenset[str]
    superseded_on: date | None = None  # the start of the contract that took over from it
    grew_from: frozenset[str] = frozenset()  # its subscription and the contract it replaced (one deal with them)

    def in_force(self, on: date, *, superseded: bool = True) -> bool:
        """Started by `on` (3 days' grace: money paid ahead of the signing) and neither cancelled nor
        (`superseded`) taken over the day before."""
        ended = self.ended_on(superseded=superseded)
        return self.started_on <= on + timedelta(days=3) and (ended is None or ended >= on - timedelta(days=1))

    def ended_on(self, *, superseded: bool = True) -> date | None:
        ends = (self.cancelled_on, self.superseded_on) if superseded else (self.cancelled_on,)
        return min((d for d in ends if d is not None), default=None)


def _start(contract: _Contract) -> tuple[date, str]:
    return (contract.started_on, contract.contract_no)


def _one_deal(contracts: Iterable[_Contract]) -> bool:
    """Whether the contracts are one deal: each reached from the others through what they grew from."""
    listed = list(contracts)
    numbers = {c.contract_no for c in listed}
    linked: dict[str, set[str]] = defaultdict(set)
    for c in listed:
        for before in c.grew_from & numbers:
            linked[c.contract_no].add(before)
            linked[before].add(c.contract_no)
    seen: set[str] = set()
    todo = [listed[0].contract_no] if listed else []
    while todo:
        number = todo.pop()
        if number not in seen:
            seen.add(number)
            todo.extend(linked[number] - seen)
    return bool(listed) and seen == numbers


def _local_day(moment: datetime | None) -> date | None:
    return moment.astimezone(BUSINESS_TZ).date() if moment is not None else None


def _confidence(value: float) -> Decimal:
    return Decimal(str(round(min(max(value, 0.0), 0.999), 3)))


class Linker:
    """Links rows of one connection's transaction; caches the rooms of each project it meets (in
    `rooms`, when given: the units do not change while a sync links, so its chunks share them)."""

    def __init__(
        self,
        conn: Connection,
        rooms: dict[str, RoomDirectory] | None = None,
        readings: dict[str, MemoReading] | None = None,
    ) -> None:
        self.conn = conn
        self._rooms: dict[str, RoomDirectory] = {} if rooms is None else rooms
        self._readings: dict[str, MemoReading] = {} if readings is None else readings  # memo → its reading, read ahead
        self._contracts: dict[str, list[_Contract]] = {}
        self._plans: dict[str, set[int]] = {}
        self._houses_by_name: dict[tuple[str, str], set[str]] = {}
        self._projects_by_name: dict[str, set[str]] = defaultdict(set)  # name → projects with a buyer of it
        self._names_fetched: set[str] = set()
        self._projects: dict[str, str | None] = {}  # house → its project (`_customer_wins`)
        # (house, customer name) → the customer codes whose receipts, memo and name agreeing, name the house:
        # `claims` of the codes being linked (their first pass), `_stored_claims` of the others (their links)
        self.claims: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.codes_in_call: set[str] = set()
        self._stored_claims: dict[tuple[str, str], set[str]] = {}

    # -- lookups --------------------------------------------------------------------------------

    def reading(self, memo: str | None) -> MemoReading:
        """What the memo says: as read ahead (`memo_readings`, in another process), else read now."""
        found = self._readings.get(memo or "")
        return parse_memo(memo or "") if found is None else found

    def rooms(self, project: str | None) -> RoomDirectory:
        if project is None:
            return RoomDirectory()
        if project not in self._rooms:
            # the units of its contracts, and those of the network's building tables (楼盘表) that no contract
            # has reached yet: a memo may name a unit nobody bought
            rows = self.conn.execute(
                select(core_unit.c.house_id, core_unit.c.building, core_unit.c.unit, core_unit.c.room)
                .where(core_unit.c.project_code == project)
                .union(
                    select(inv.c.house_id, inv.c.building, inv.c.unit, inv.c.room).where(
                        inv.c.project_code == project, inv.c.house_id.is_not(None)
                    )
                )
            ).all()
            directory = RoomDirectory()
            seen: set[str] = set()
            for house_id, building, unit, room in sorted(rows, key=lambda row: tuple(str(v) for v in row)):
                if house_id in seen:
                    continue  # the same unit from a contract and from the building table
                seen.add(house_id)
                try:
                    directory.add(house_id, building, unit, room)
                except ValueError:
                    continue  # a building without a number cannot be named in a memo
            self._rooms[project] = directory
        return self._rooms[project]

    def contracts(self, houses: Iterable[str]) -> dict[str, list[_Contract]]:
        """The contracts on each house (cached for the linker's life: one transaction)."""
        wanted = set(houses)
        # `house not in` each: `wanted - self._contracts.keys()` would walk every key cached, on each call
        missing = sorted(house for house in wanted if house not in self._contracts)
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            fetched = self._fetch_contracts(chunk)
            for house in chunk:
                self._contracts[house] = fetched.get(house, [])
        return {house: self._contracts[house] for house in wanted if self._contracts[house]}

    def prefetch(self, rows: Sequence[Any]) -> None:
        """Fetch at once the contracts and plans of every house the rows' memos, or their customers' names,
        may name: a few queries per chunk of rows instead of some per row (`link` asks the same)."""
        houses: set[str] = set()
        by_name: list[Any] = []
        for row in rows:
            directory = self.rooms(row.phase_code)
            fits = [directory.candidates(ref) for ref in self.reading(row.remark).units]
            named = {house for candidates in fits for house in candidates[:MAX_CANDIDATES]}
            houses |= named
            wide = any(len(candidates) > MAX_CANDIDATES for candidates in fits)
            if (not named or wide) and row.customer_name:  # `link` looks the customer's name up
                by_name.append(row)
        # every name `link` may look up (its customer's, payer's, payee's): one query per 500 names for the
        # chunk, not one per row that asks for a name not fetched yet (decision 0040)
        self._fetch_names(name for row in rows for name in _names_of(row))
        namesakes: set[tuple[str, str]] = set()  # (house, name) of a name with several houses in the project
        for row in by_name:
            named_houses = self._houses_by_name.get((row.phase_code, row.customer_name), set())
            if len(named_houses) <= MAX_CANDIDATES:
                houses |= named_houses
            if len(named_houses) > 1:
                namesakes.update((house, row.customer_name) for house in named_houses)
        self._fetch_claims(namesakes)
        found = self.contracts(houses)
        contracts = sorted(
            {c.contract_no for listed in found.values() for c in listed if c.contract_no not in self._plans}
        )
        for start in range(0, len(contracts), 500):
            chunk = contracts[start : start + 500]
            for contract_no in chunk:
                self._plans[contract_no] = set()
            rows_ = self.conn.execute(
                select(core_payment_plan.c.contract_no, core_payment_plan.c.amount_fen).where(
                    core_payment_plan.c.contract_no.in_(chunk)
                )
            )
            for contract_no, amount in rows_:
                self._plans[contract_no].add(amount)

    def _fetch_contracts(self, houses: list[str]) -> dict[str, list[_Contract]]:
        found: dict[str, list[_Contract]] = defaultdict(list)
        started = (
            select(core_contract_state_history.c.contract_no, core_contract_state_history.c.valid_from)
            .where(core_contract_state_history.c.seq == 1)
            .subquery()
        )
        rows = self.conn.execute(
            select(
                core_contract.c.contract_no,
                core_contract.c.house_id,
                core_contract.c.contract_type,
                core_contract.c.signed_at,
                core_contract.c.cancelled_at,
                core_contract.c.subscription_no,
                core_contract.c.previous_contract_no,
                started.c.valid_from,
            )
            .select_from(core_contract.outerjoin(started, started.c.contract_no == core_contract.c.contract_no))
            .where(core_contract.c.house_id.in_(houses))
        ).all()
        names = self._names([row.contract_no for row in rows])
        superseded = self._successors_start([row.contract_no for row in rows])
        for row in rows:
            first = row.valid_from or row.signed_at
            found[row.house_id].append(
                _Contract(
                    row.contract_no,
                    row.house_id,
                    row.contract_type,
                    _local_day(first) or date.min,
                    _local_day(row.cancelled_at),
                    frozenset(names.get(row.contract_no, ())),
                    superseded.get(row.contract_no),
                    frozenset(n for n in (row.subscription_no, row.previous_contract_no) if n and n != row.contract_no),
                )
            )
        return found

    def _successors_start(self, contracts: list[str]) -> dict[str, date]:
        """contract → the first start of a contract that names it as its subscription or previous contract."""
        found: dict[str, date] = {}
        for start in range(0, len(contracts), 500):
            chunk = contracts[start : start + 500]
            rows = self.conn.execute(
                select(
                    core_contract.c.subscription_no,
                    core_contract.c.previous_contract_no,
                    core_contract.c.signed_at,
                    core_contract.c.updated_at,
                ).where(
                    or_(core_contract.c.subscription_no.in_(chunk), core_contract.c.previous_contract_no.in_(chunk))
                )
            )
            for subscription_no, previous_no, signed_at, updated_at in rows:
                day = _local_day(signed_at or updated_at)
                for before in {subscription_no, previous_no} & set(chunk):
                    if day is not None and (before not in found or day < found[before]):
                        found[before] = day
        return found

    def _names(self, contracts: list[str]) -> dict[str, set[str]]:
        names: dict[str, set[str]] = defaultdict(set)
        for start in range(0, len(contracts), 500):
            chunk = contracts[start : start + 500]
            rows = self.conn.execute(
                select(core_contract_buyer.c.contract_no, core_buyer.c.name)
                .select_from(
                    core_contract_buyer.join(core_buyer, core_buyer.c.id_hash == core_contract_buyer.c.id_hash)
                )
                .where(core_contract_buyer.c.contract_no.in_(chunk))
            )
            for contract_no, name in rows:
                names[contract_no].add(name)
        return names

    def plan_amounts(self, contract_no: str) -> set[int]:
        if contract_no not in self._plans:
            self._plans[contract_no] = set(
                self.conn.execute(
                    select(core_payment_plan.c.amount_fen).where(core_payment_plan.c.contract_no == contract_no)
                ).scalars()
            )
        return self._plans[contract_no]

    def _fetch_names(self, names: Iterable[str]) -> None:
        """The houses of every contract whose buyers include one of `names`, by (project, name)."""
        wanted = sorted(set(names) - self._names_fetched)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            self._names_fetched.update(chunk)
            rows = self.conn.execute(
                select(core_buyer.c.name, core_unit.c.project_code, core_contract.c.house_id)
                .select_from(
                    core_buyer.join(core_contract_buyer, core_contract_buyer.c.id_hash == core_buyer.c.id_hash)
                    .join(core_contract, core_contract.c.contract_no == core_contract_buyer.c.contract_no)
                    .join(core_unit, core_unit.c.house_id == core_contract.c.house_id)
                )
                .where(core_buyer.c.name.in_(chunk))
            )
            for name, project, house_id in rows:
                self._houses_by_name.setdefault((project, name), set()).add(house_id)
                self._projects_by_name[name].add(project)

    def _namesake_claims(self, house: str, name: str, code: str) -> bool:
        """Whether another customer code of `name` stands for `house` (its receipts' memos name the house and
        their customer name is `name`): of this linking's codes, by their first pass; of the others, by the
        links they hold."""
        key = (house, name)
        self._fetch_claims({key})
        codes = self.claims.get(key, set()) | (self._stored_claims[key] - self.codes_in_call)
        return bool(codes - {code})

    def _fetch_claims(self, keys: set[tuple[str, str]]) -> None:
        """The customer codes each (house, name) is stood for by in the links the warehouse holds."""
        wanted = sorted(key for key in keys if key not in self._stored_claims)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            for key in chunk:
                self._stored_claims[key] = set()
            rows = self.conn.execute(
                select(core_receipt.c.house_id, core_receipt.c.customer_name, core_receipt.c.customer_code)
                .where(
                    core_receipt.c.house_id.in_(sorted({house for house, _ in chunk})),
                    core_receipt.c.customer_name.in_(sorted({name for _, name in chunk})),
                    core_receipt.c.customer_code.is_not(None),
                    core_receipt.c.is_voided.is_(False),
                    core_receipt.c.link_basis.like("memo+customer%"),
                )
                .distinct()
            )
            for house, name, code in rows:
                if (house, name) in self._stored_claims:
                    self._stored_claims[(house, name)].add(code)

    def by_customer_name(
        self,
        project: str | None,
        name: str | None,
        on: date,
        *,
        refund: bool,
        amount_fen: int | None = None,
        loan: bool = False,
        deposit: bool = False,
        sincerity: bool = False,
        customer_code: str | None = None,
    ) -> list[_Contract]:
        """The contracts of the one house of the project whose buyers include `name`; of several houses, the
        one contract of that name in force on `on` (`current`; not for a refund), or, where several are (two
        buyers of one name: 张平 twice in a project of thousands), the one of them with a plan line of exactly
        `amount_fen` (`loan`: or up to a guarantee deposit more, `_fits`); else none (`deposit`: see `current`).
        With `customer_code`, a house another customer code of the same name stands for is left out."""
        if not project or not name:
            return []
        self._fetch_names([name])
        houses = sorted(self._houses_by_name.get((project, name), ()))
        if customer_code and len(houses) > 1:
            # a namesake's house: another customer code of that name stands for it (two 张琪 paying 诚意金 the
            # same month), not this customer's
            houses = [h for h in houses if not self._namesake_claims(h, name, customer_code)] or houses
        if len(houses) == 1:
            return self.contracts(houses).get(houses[0], [])
        if refund or not houses:
            return []
        chosen = self.current(houses, on, {name}, ahead=deposit, sincerity=sincerity)
        if chosen is None and amount_fen is not None:
            live = [c for listed in self.contracts(houses).values() for c in listed if name in c.names]
            fitting = [c for c in live if c.in_force(on) and self._fits(amount_fen, c.contract_no, loan=loan)]
            chosen = fitting[0] if len(fitting) == 1 else None
        return [chosen] if chosen else []

    def known_link(
        self,
        pairs: frozenset[tuple[str, str]],
        on: date,
        names: set[str],
        *,
        refund: bool,
        kind: str | None = None,
    ) -> tuple[str, str] | None:
        """The (contract, house) a customer code stands for on `on`, from the pairs its named receipts point
        at: of the one house, the contract of the customer's name that a payment of `kind` on `on` belongs to
        (`pick`: the 按揭 after the signing is the contract's, not the subscription's its 定金 was booked to),
        else the last one the receipts name; of several houses, the one `current` finds (not for a refund)."""
        houses = {house for _, house in pairs}
        if len(houses) == 1:
            (house,) = houses
            theirs = [c for c in self.contracts(houses).get(house, ()) if c.names & names]
            if theirs:
                chosen = self.pick(theirs, on, kind, names, refund=refund)
                return (chosen.contract_no, house)
            return max(pairs)
        deposit = kind in DEPOSIT_KINDS
        sincerity = kind == SINCERITY
        chosen = None if refund or not houses else self.current(houses, on, names, ahead=deposit, sincerity=sincerity)
        return (chosen.contract_no, chosen.house_id) if chosen else None

    def current(
        self, houses: Iterable[str], on: date, names: set[str], *, ahead: bool = False, sincerity: bool = False
    ) -> _Contract | None:
        """Of several houses a customer stands for (a room change, a second purchase), the contract of the
        customer's name in force on `on`, when exactly one house has one; of two, the one that had not ended
        before `on` (a room change's new contract, the day after the old one ended). With none in force and
        `ahead` (诚意金 or 定金), the house of the customer's next contract, begun within `AHEAD_DAYS` after
        `on`: sincerity money comes weeks before the subscription. 诚意金 (`sincerity`) goes to the one deal
        beginning within `AHEAD_DAYS` after `on`, whatever is in force; of several in force, a 定金 (`ahead`) to
        the one begun within `DEPOSIT_FRESH` before `on` (the namesakes' deals begun months ago take no deposit)."""
        mine = [c for listed in self.contracts(houses).values() for c in listed if c.names & names]
        live = {c.house_id: c for c in mine if c.in_force(on)}
        if len(live) > 1:
            standing = {house: c for house, c in live.items() if (c.ended_on() or date.max) >= on}
            live = standing if len(standing) == 1 else live
        if len(live) > 1 and _one_deal(live.values()):
            # a room change: the old contract, still in force, and the new one within its days of grace are one
            # deal; the money of the day is the one begun by then (叶强杰's 一次性付款(2), the day before the change)
            begun = [c for c in live.values() if c.started_on <= on]
            chosen = max(begun, key=_start) if begun else min(live.values(), key=_start)
            live = {chosen.house_id: chosen}
        upcoming = sorted((c for c in mine if on < c.started_on <= on + timedelta(days=AHEAD_DAYS)), key=_start)
        coming: dict[str, _Contract] = {}  # per house, the first deal to begin within AHEAD_DAYS after `on`
        for c in upcoming:
            coming.setdefault(c.house_id, c)
        if sincerity and len(coming) == 1:  # 诚意金 goes ahead of the next deal, not to one under way
            live = coming
        elif len(live) > 1 and ahead:  # a 定金 is paid as a subscription begins, not on a deal begun months ago
            fresh = {house: c for house, c in live.items() if on - DEPOSIT_FRESH <= c.started_on <= on}
            live = fresh if len(fresh) == 1 else live
        if not live and ahead:
            first = [c for c in upcoming if c.started_on == upcoming[0].started_on] if upcoming else []
            live = {c.house_id: c for c in first}
        return next(iter(live.values())) if len(live) == 1 else None

    # -- the decision ---------------------------------------------------------------------------

    @staticmethod
    def pick(
        contracts: list[_Contract], on: date, kind: str | None, names: set[str], *, refund: bool = False
    ) -> _Contract:
        """The contract on a house that a payment of `on` belongs to."""

        def score(contract: _Contract) -> tuple:
            # a subscription stays a candidate after its contract is signed: `subscription_fits` decides
            in_force = contract.in_force(on, superseded=False)
            if refund:
                in_force = contract.cancelled_on is not None and contract.cancelled_on <= on + timedelta(days=1)
            named = bool(contract.names & names)
            subscription_fits = (contract.contract_type == "认购") == (kind in DEPOSIT_KINDS)
            started = contract.started_on <= on + timedelta(days=3)
            return (in_force, named, started, subscription_fits, contract.started_on)

        return max(contracts, key=score)

    def link(self, row: Any, *, on: date, known: dict[str, frozenset[tuple[str, str]]], refund: bool = False) -> Link:
        reading = self.reading(row.remark)
        if refund and TRUE_UP.search(row.remark or ""):
            refund = False  # a true-up (退面积补差款) or a room change's difference paid back on a live contract
        directory = self.rooms(row.phase_code)
        names = _names_of(row)
        kind = reading.kind
        houses: list[str] = []
        fitting: set[str] = set()  # every house the memo may mean: a bare room (502房) fits one per building
        confidence = reading.confidence
        for ref in reading.units:
            candidates = directory.candidates(ref)
            fitting.update(candidates)
            for house in candidates[:MAX_CANDIDATES]:
                if house not in houses:
                    houses.append(house)
        by_house = self.contracts(houses) if houses else {}
        pairs = known.get(row.customer_code or "")
        deposit = kind in DEPOSIT_KINDS
        known_link = self.known_link(pairs, on, names, refund=refund, kind=kind) if pairs else None
        if len(houses) == 1 and by_house.get(houses[0]):
            chosen = self.pick(by_house[houses[0]], on, kind, names, refund=refund)
            if chosen.names & names:
                return self._with_amount(chosen, "memo+customer+date", confidence, row)
            named = [c for c in by_house[houses[0]] if c.names & names]
            if named:
                # the house's contract of that day is another buyer's, but one of its contracts is the customer's:
                # 诚意金 paid weeks ahead of their subscription, while the previous buyer's was still in force
                # (or money after their own contract ended): theirs, not the stranger's
                chosen = self.pick(named, on, kind, names, refund=refund)
                return self._with_amount(chosen, "memo+customer", confidence * 0.95, row)
            if any(len(name) > 1 and name in _without(row.remark or "", names) for name in chosen.names):
                # the memo names the unit and its buyer: the memo is right, the customer code may not be (a buyer
                # named only inside the customer's own name, 郑飞 in 郑飞志, is no buyer named)
                return self._with_amount(chosen, "memo+buyer+date", confidence, row)
            if known_link is None and (own := self._own_elsewhere(row, names, reading.units, on, kind, refund)):
                return own
            if known_link is not None and known_link[1] != chosen.house_id:
                if own := self._memo_means_own(known_link, reading.units):
                    return own
                if self._amount_picks(row, kind, chosen, known_link):
                    # the memo's unit has a plan line of exactly the amount, the customer's contract none
                    return Link(chosen.contract_no, chosen.house_id, "memo+amount+date", _confidence(confidence * 0.9))
                return _customer_wins(known_link)
            return self._with_amount(chosen, "memo+date", confidence * 0.9, row)
        if len(houses) > 1:
            if known_link is not None and known_link[1] in fitting:
                # the memo fits several houses (1704房, 1单元801), the customer's own among them: theirs, not a
                # namesake's house the memo fits as well
                return Link(known_link[0], known_link[1], "customer_code", _confidence(0.85))
            named = [c for house in houses for c in by_house.get(house, ()) if c.names & names]
            if len(fitting) > len(houses):
                # a bare room (502房) fits one house per building: the customer's own may be beyond the first few,
                # and so may a namesake's (two 李静 on 1704s): every house it fits is weighed, not the first few
                named = self._named_among(row.phase_code, names, fitting) or named
            if len({c.house_id for c in named}) > 1:  # of the customer's houses the memo fits, the one of the day
                live = [c for c in named if c.in_force(on)]
                named = live if len({c.house_id for c in live}) == 1 else named
            if len({c.house_id for c in named}) == 1:
                chosen = self.pick(named, on, kind, names, refund=refund)
                return self._with_amount(chosen, "memo+customer+date", min(confidence, 0.9), row)
            if not named and known_link is not None and known_link[1] not in fitting:
                if own := self._memo_means_own(known_link, reading.units):
                    return own
                picked = [
                    self.pick(by_house[house], on, kind, names, refund=refund)
                    for house in houses
                    if by_house.get(house)
                ]
                picked = [c for c in picked if self._amount_picks(row, kind, c, known_link)]
                if len(picked) == 1:
                    chosen = picked[0]
                    return Link(chosen.contract_no, chosen.house_id, "memo+amount+date", _confidence(confidence * 0.85))
                return self._customer_wins(known_link, reading.units)
        if known_link is not None:
            # the memo names a unit not theirs (or none at all): not when their house is one the memo may mean,
            # beyond the first MAX_CANDIDATES too (a bare room number in a project of many buildings)
            if reading.units and known_link[1] not in fitting:
                return self._customer_wins(known_link, reading.units)
            return Link(known_link[0], known_link[1], "customer_code", _confidence(0.85))
        if not houses:
            contracts = self.by_customer_name(
                row.phase_code,
                row.customer_name,
                on,
                refund=refund,
                amount_fen=row.amount_fen,
                loan=kind in LOAN_KINDS,
                deposit=deposit,
                sincerity=kind == SINCERITY,
                customer_code=row.customer_code,
            )
            if contracts:
                # of the house's contracts, the customer's: 诚意金 paid while another buyer's subscription stood
                theirs = [c for c in contracts if c.names & names] or contracts
                chosen = self.pick(theirs, on, kind, names, refund=refund)
                return self._with_amount(chosen, "customer_name+date", 0.7, row)
        return UNRESOLVED

    def _customer_wins(self, known_link: tuple[str, str], refs: Sequence[Any]) -> Link:
        """The receipt goes to the contract its customer code stands for. Its memo names another unit, unless
        the memo's unit, read in the project of the customer's own house, is that house: the receipt's phase
        is another project's (a bank's batch of disbursements booked as one receipt carries the phase of its
        first), and a memo names no project."""
        return self._memo_means_own(known_link, refs) or _customer_wins(known_link)

    def _own_elsewhere(
        self, row: Any, names: set[str], refs: Sequence[Any], on: date, kind: str | None, refund: bool
    ) -> Link | None:
        """With no customer history: the one house, in another project than the receipt's phase, that the memo's
        unit names there and whose buyers include the customer's name (a batch's phase on the customer's
        first receipt); None when there is no such house, or more than one."""
        self._fetch_names(names)
        found: dict[str, list[_Contract]] = {}
        for name in names:
            for project in self._projects_by_name.get(name, ()):
                if project == row.phase_code:
                    continue
                houses = self._houses_by_name.get((project, name), set())
                for ref in refs:
                    for house in houses.intersection(self.rooms(project).candidates(ref)):
                        theirs = [c for c in self.contracts([house]).get(house, ()) if c.names & names]
                        if theirs:
                            found[house] = theirs
        if len(found) != 1:
            return None
        ((house, theirs),) = found.items()
        chosen = self.pick(theirs, on, kind, names, refund=refund)
        return Link(chosen.contract_no, house, "customer_name+memo", _confidence(0.8))

    def _memo_means_own(self, known_link: tuple[str, str], refs: Sequence[Any]) -> Link | None:
        """The customer's own contract (`customer_code+memo`) when the memo's unit, read in the project of the
        customer's own house, is that house: then the memo agrees with the customer and only the receipt's
        phase is another project's (a bank's batch of disbursements booked as one receipt carries the phase of
        its first; a memo names no project), whatever a house of the same number in that other project may be
        owed; else None."""
        project = self._project_of(known_link[1])
        if project is None:
            return None
        directory = self.rooms(project)
        if any(known_link[1] in directory.candidates(ref) for ref in refs):
            return Link(known_link[0], known_link[1], "customer_code+memo", _confidence(0.85))
        deal = self._deal_of(known_link)
        for ref in refs:
            for house in directory.candidates(ref)[:MAX_CANDIDATES]:
                moved = [c for c in self.contracts([house]).get(house, ()) if c.grew_from & deal]
                if moved:  # the customer's deal moved to the memo's house (换房): the new contract's money
                    chosen = max(moved, key=_start)
                    return Link(chosen.contract_no, house, "customer_code+memo", _confidence(0.85))
        return None

    def _deal_of(self, known_link: tuple[str, str]) -> set[str]:
        """The contracts of one deal on the customer's house: the one the customer code stands for, those it
        grew from and those that grew from it there (认购 → 合同 → the contract a room change cancelled)."""
        deal = {known_link[0]}
        on_house = self.contracts([known_link[1]]).get(known_link[1], [])
        grew = True
        while grew:
            grew = False
            for c in on_house:
                if c.contract_no in deal or c.grew_from & deal:
                    new = ({c.contract_no} | c.grew_from) - deal
                    deal |= new
                    grew = grew or bool(new)
        return deal

    def _project_of(self, house_id: str) -> str | None:
        if house_id not in self._projects:
            self._projects[house_id] = self.conn.execute(
                select(core_unit.c.project_code).where(core_unit.c.house_id == house_id)
            ).scalar_one_or_none()
        return self._projects[house_id]

    def _named_among(self, project: str | None, names: set[str], houses: Iterable[str]) -> list[_Contract]:
        """The contracts of `names` on any of `houses` of the project (through the houses by buyer's name)."""
        self._fetch_names(names)
        theirs = set().union(*(self._houses_by_name.get((project or "", name), set()) for name in names))
        found = self.contracts(theirs & set(houses))
        return [c for listed in found.values() for c in listed if c.names & names]

    def _amount_picks(self, row: Any, kind: str | None, chosen: _Contract, customer: tuple[str, str]) -> bool:
        """Whether the amount fits a plan line of `chosen` and none of a contract on the customer's house
        (`kind`: the memo's payment kind)."""
        loan = kind in LOAN_KINDS
        if not self._fits(row.amount_fen, chosen.contract_no, loan=loan):
            return False
        theirs = self.contracts([customer[1]]).get(customer[1], [])
        return not any(self._fits(row.amount_fen, c.contract_no, loan=loan) for c in theirs)

    def _fits(self, amount: int, contract_no: str, *, loan: bool) -> bool:
        """The amount is a plan line; a loan's may be up to `GUARANTEE_SHARE` less (a guarantee deposit the
        bank held back from the disbursement)."""
        plan = self.plan_amounts(contract_no)
        return amount in plan or (loan and any(line * (1 - GUARANTEE_SHARE) <= amount <= line for line in plan))

    def _with_amount(self, chosen: _Contract, basis: str, confidence: float, row: Any) -> Link:
        if row.amount_fen in self.plan_amounts(chosen.contract_no):
            basis, confidence = basis + "+amount", confidence + 0.01
        return Link(chosen.contract_no, chosen.house_id, basis, _confidence(confidence))


def _names_of(row: Any) -> set[str]:
    """The names a row gives: its customer's, and its payer's (a receipt) or payee's (a refund)."""
    return {name for name in (row.customer_name, getattr(row, "payer", None), getattr(row, "payee", None)) if name}


def _customer_wins(known_link: tuple[str, str]) -> Link:
    """The receipt goes to the contract its customer code stands for; its memo names another unit."""
    return Link(known_link[0], known_link[1], "customer_code (memo names another unit)", _confidence(0.8))


def _update(conn: Connection, table: Any, key: str, updates: list[dict[str, Any]]) -> None:
    if updates:
        conn.execute(
            update(table)
            .where(table.c[key] == bindparam("row_key"))
            .values(
                contract_no=bindparam("contract_no"),
                house_id=bindparam("house_id"),
                link_basis=bindparam("link_basis"),
                link_confidence=bindparam("link_confidence"),
                linked_at=bindparam("linked_at"),
            ),
            updates,
        )


def _row_update(key: Any, found: Link, at: datetime) -> dict[str, Any]:
    return {
        "row_key": key,
        "contract_no": found.contract_no,
        "house_id": found.house_id,
        "link_basis": found.basis,
        "link_confidence": found.confidence,
        "linked_at": at,
    }


def _is_named(found: Link) -> bool:
    return bool(found.basis and found.basis.startswith("memo+customer"))


# the two passes of a linking, each over every chunk of customer codes: `link_customers`, then `link_invoices_of`
CUSTOMERS, INVOICES = "receipts and refunds", "invoices"


def memo_readings(conn: Connection, rows_of: str, codes: list[str | None]) -> dict[str, MemoReading]:
    """The reading of each memo of the rows a pass (`CUSTOMERS`, `INVOICES`) links for these customer codes:
    what the linker would read itself, read ahead in another process while it links the chunk before
    (`estatehub.ledger.load.link_codes`; decision 0045). A memo reads the same wherever it is read."""
    if rows_of == CUSTOMERS:
        rows = [*_receipts_of(conn, codes), *_refunds_of(conn, codes)]
    elif rows_of == INVOICES:
        rows = _invoices_of(conn, codes)
    else:
        raise ValueError(f"expected the pass {CUSTOMERS!r} or {INVOICES!r}, got {rows_of!r}")
    return {memo: parse_memo(memo) for memo in {row.remark or "" for row in rows}}


def _receipts_of(conn: Connection, codes: list[str | None]) -> Sequence[Any]:
    if not codes:
        return []
    query = select(*_RECEIPT_ROW).where(or_(*_of_codes(core_receipt, codes))).order_by(core_receipt.c.bill_id)
    return conn.execute(query).all()


def _refunds_of(conn: Connection, codes: list[str | None]) -> Sequence[Any]:
    if not codes:
        return []
    return conn.execute(select(*_REFUND_ROW).where(or_(*_of_codes(core_refund, codes)))).all()


def _invoices_of(conn: Connection, codes: list[str | None]) -> Sequence[Any]:
    """The invoices of these customer codes, and those issued on their receipts: a union of one query per
    condition, each answered by its index (a condition on a subquery inside an `or_`, PostgreSQL checks on
    every invoice in turn; decision 0046)."""
    if not codes:
        return []
    queries = [select(*_INVOICE_ROW).where(clause) for clause in _of_codes(core_invoice, codes)]
    if named_codes := [code for code in codes if code is not None]:
        receipts = select(core_receipt.c.bill_no).where(core_receipt.c.customer_code.in_(named_codes))
        queries.append(select(*_INVOICE_ROW).where(core_invoice.c.source_bill_no.in_(receipts)))
    query = union(*queries) if len(queries) > 1 else queries[0]
    return conn.execute(query.order_by(query.selected_columns.invoice_id)).all()


def _of_codes(table: Any, codes: list[str | None]) -> list[Any]:
    """The conditions of a row of `table` whose customer code is among `codes` (None: it has none)."""
    named_codes = [code for code in codes if code is not None]
    clauses = [table.c.customer_code.in_(named_codes)] if named_codes else []
    if None in codes:
        clauses.append(table.c.customer_code.is_(None))
    return clauses


def link_customers(
    conn: Connection,
    codes: list[str | None],
    *,
    at: datetime,
    rooms: dict[str, RoomDirectory] | None = None,
    readings: dict[str, MemoReading] | None = None,
) -> tuple[int, int]:
    """Link every receipt and refund of these customer codes (None: the rows without one).

    The result depends only on the rows and the contracts, never on the order they arrived in: first
    each receipt is linked by its own memo; receipts whose memo and customer name agree tell which
    house a customer code stands for; then the other receipts and the refunds are linked with that
    knowledge. Returns (receipts resolved, receipts unresolved). Invoices: `link_invoices_of`, after.
    `readings`: their memos' readings, read ahead (`memo_readings`).
    """
    if not codes:
        return 0, 0
    linker = Linker(conn, rooms, readings)
    named_codes = [code for code in codes if code is not None]
    receipts = _receipts_of(conn, codes)
    linker.prefetch(receipts)
    linker.codes_in_call = set(named_codes)
    first = {row.bill_id: linker.link(row, on=row.receipt_on, known={}) for row in receipts}
    houses: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for row in receipts:
        found = first[row.bill_id]
        if row.customer_code and not row.is_voided and _is_named(found):
            houses[row.customer_code].add((found.contract_no, found.house_id))  # type: ignore[arg-type]
            linker.claims[(found.house_id, row.customer_name)].add(row.customer_code)  # type: ignore[index]
    known = {code: frozenset(pairs) for code, pairs in houses.items()}
    updates, resolved = [], 0
    final: dict[int, Link] = {}
    for row in receipts:
        found = first[row.bill_id]
        if not _is_named(found):
            found = linker.link(row, on=row.receipt_on, known=known)
        final[row.bill_id] = found
        resolved += found.contract_no is not None
        updates.append(_row_update(row.bill_id, found, at))
    _update(conn, core_receipt, "bill_id", updates)

    refunds = _refunds_of(conn, codes)
    linker.prefetch(refunds)
    _update(
        conn,
        core_refund,
        "bill_id",
        [_row_update(row.bill_id, linker.link(row, on=row.refund_on, known=known, refund=True), at) for row in refunds],
    )

    return resolved, len(receipts) - resolved


def link_invoices_of(
    conn: Connection,
    codes: list[str | None],
    *,
    at: datetime,
    rooms: dict[str, RoomDirectory] | None = None,
    readings: dict[str, MemoReading] | None = None,
) -> int:
    """Link the invoices of these customer codes, and those issued on their receipts (after the receipts
    of every pending customer are linked): through the receipt, else the blue invoice a red one reverses,
    else the remark. Returns how many were linked to a contract. `readings`: their remarks' readings, read
    ahead (`memo_readings`)."""
    invoices = _invoices_of(conn, codes)
    if not invoices:
        return 0
    by_bill = _links_by(conn, core_receipt, core_receipt.c.bill_no, {row.source_bill_no for row in invoices})
    by_blue = _links_by(conn, core_invoice, core_invoice.c.invoice_no, {row.blue_invoice_no for row in invoices})
    linker = Linker(conn, rooms, readings)
    linker.prefetch([row for row in invoices if not (row.source_bill_no in by_bill or row.blue_invoice_no in by_blue)])
    updates, resolved = [], 0
    for row in invoices:  # blue invoices come before the red ones that reverse them (id order)
        if row.source_bill_no in by_bill:
            found = Link(*by_bill[row.source_bill_no], "receipt", _confidence(0.99))
        elif row.blue_invoice_no in by_blue:
            found = Link(*by_blue[row.blue_invoice_no], "blue_invoice", _confidence(0.99))
        else:
            found = linker.link(row, on=row.invoice_on, known={})
            if found.basis:
                found = Link(found.contract_no, found.house_id, "remark:" + found.basis, found.confidence)
        if found.contract_no:
            by_blue[row.invoice_no] = (found.contract_no, found.house_id)  # type: ignore[assignment]
        resolved += found.contract_no is not None
        updates.append(_row_update(row.invoice_id, found, at))
    _update(conn, core_invoice, "invoice_id", updates)
    return resolved


def _without(text: str, names: Iterable[str]) -> str:
    """`text` with each of `names` taken out (longest first)."""
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, " ")
    return text


def _links_by(conn: Connection, table: Any, column: Any, values: set[str | None]) -> dict[str, tuple[str, str]]:
    """The contract and house of each row of `table` whose indexed `column` is among `values`, where it has one.

    Looked up by `column` alone, the rows without a contract dropped here: a `contract_no IS NOT NULL` in the
    query lets PostgreSQL plan it on `contract_no`'s index from statistics taken before the linking filled the
    column in, and walk every linked row for each lookup (at 979,309 voucher lines: seconds a query, one per
    500 invoices' receipts; decision 0042)."""
    wanted = sorted(value for value in values if value)
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(wanted), 500):
        rows = conn.execute(
            select(column, table.c.contract_no, table.c.house_id).where(column.in_(wanted[start : start + 500]))
        )
        for value, contract_no, house_id in rows:
            if contract_no is not None:
                found[value] = (contract_no, house_id)
    return found


def pending_customers(conn: Connection) -> list[str | None]:
    """Customer codes with a row not linked since it last came, or still without a contract."""
    return _customers(conn, pending=True)


def all_customers(conn: Connection) -> list[str | None]:
    """Every customer code with a receipt, refund or invoice (to link everything again with a changed linker)."""
    return _customers(conn, pending=False)


def _customers(conn: Connection, *, pending: bool) -> list[str | None]:
    codes: set[str | None] = set()
    for table in (core_receipt, core_refund, core_invoice):
        query = select(table.c.customer_code).distinct()
        if pending:
            query = query.where((table.c.linked_at.is_(None)) | (table.c.contract_no.is_(None)))
        codes.update(conn.execute(query).scalars())
    return sorted(codes, key=lambda code: (code is None, code or ""))
