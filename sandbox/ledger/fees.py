"""Fees collected for others (代收代付): what each buyer pays the developer at handover on behalf of the
tax bureau, the housing fund centre and the registration centre, and when the developer pays it over.

None of it is sale proceeds (docs/decisions/0028-fees-collected-for-others.md): the money goes into the
developer's general account (一般户) at the bank of the unit's supervised account, is held as other
payables (其他应付款 2241.04–06 in the ledger) and leaves the same account when the developer pays it
over. Both money faces of the world call `fee_flows`, a pure function of a contract's document and the
seed, and batch the pay-overs by the same key and moment (the ledger by `payover_of`, the banks'
statements by `PayoverTotals`), so they agree to the fen.

- 契税 (deed tax): on the final price without VAT (成交价格不含增值税: price × 100 / 109). Rates for a
  home bought by a person (财政部 税务总局 住房城乡建设部公告2024年第16号, from 2024-12-01): 1% up to
  140 m², above it 1.5% for the family's only home and 2% for a second one; before it (财税〔2016〕23号)
  90 m² was the line, and Shenzhen, like Beijing, Shanghai and Guangzhou, had no relief for a second
  home (3%). A company or a shop pays the city's standard 3%.
- 维修基金 (首期住宅专项维修资金): per m² of building area, 5%–8% of the local construction cost per m²
  (《住宅专项维修资金管理办法》, 建设部 财政部令第165号, art. 7), paid before moving in (art. 12).
  The sandbox's city: 3,000 yuan/m² construction cost, 5% → 150 yuan/m².
- 登记费 (不动产登记费): 80 yuan a residential unit, 550 a non-residential one (发改价格规〔2016〕2559号).

Timing: the buyer pays the three at the handover desk (交房, 入伙), a few pay a day or days before with
the handover notice; each is its own transfer. The developer pays over weekly: everything of one kind
collected into one account in a week (Monday–Sunday) leaves in one transfer on the Tuesday after it.
Only a contract handed over and never cancelled pays fees.

Planted (not in a `--clean` world): a week's batch the clerk forgets (`PAYOVER_LATE_RATE` of the batches)
leaves 5 to 8 weeks late, on a Tuesday, with whatever else of its kind leaves that day; each of its fees is
then held past the city's pay-over term (`PAYOVER_WITHIN_DAYS`, decision 0034), which the ledger's truth
records per fee receipt (`fee_paid_over_late`). The cashier charges the maintenance fund on the area the
contract sold instead of the as-built area (`FUND_ON_SOLD_AREA_RATE` of the handovers whose areas differ):
the buyer pays, and the developer holds, another amount than the city's schedule gives (`fee_amount_wrong`,
decision 0036).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from connectors.identity import ID_TYPE_USCC
from sandbox.ledger.cash import bj, fen, primary_name
from sandbox.world.clock import at_office_hours
from sandbox.world.collection import general_account, house_permit, supervised_account

DEED_TAX, MAINTENANCE_FUND, REGISTRATION_FEE = "契税", "维修基金", "登记费"
FEE_KINDS = (DEED_TAX, MAINTENANCE_FUND, REGISTRATION_FEE)
VAT_BP = 900  # the price is VAT-inclusive; deed tax is levied on the price without it
POLICY_2024_FROM = date(2024, 12, 1)  # 公告2024年第16号
FIRST_HOME_SHARE = 0.7  # buyers for whom the unit is the family's only home (the sandbox's draw)
CONSTRUCTION_COST_FEN_PER_M2 = 300_000  # the city's published 建安造价 per m² (sandbox)
FUND_SHARE_BP = 500  # 5% of it per m² of building area (165号令 art. 7: 5%–8%)
REGISTRATION_FEN = {"住宅": 8_000}  # 80 yuan a residential unit (2559号)
REGISTRATION_OTHER_FEN = 55_000  # 550 yuan a non-residential one
PAYOVER_WITHIN_DAYS = 30  # the city's term to pay a collected fee over (config/city_rules.yaml, decision 0034)
PAYOVER_LATE_RATE = 0.04  # weekly batches the clerk forgets (planted)
PAYOVER_LATE_WEEKS = (5, 8)  # … and pays this many weeks late: every fee of the batch is then past the term
FUND_ON_SOLD_AREA_RATE = 0.05  # planted: the fund charged on the sold area where the as-built one differs
PAYEES = {  # who the developer pays each kind over to: (name, account, bank)
    DEED_TAX: ("国家税务总局深圳市税务局", "4000023009200088881", "工商银行"),
    MAINTENANCE_FUND: ("深圳市住房专项维修资金管理中心", "44250100000900002468", "建设银行"),
    REGISTRATION_FEE: ("深圳市不动产登记中心", "755900012310666", "招商银行"),
}


@dataclass(frozen=True, slots=True)
class FeeFlow:
    """One fee a buyer paid (naive Beijing time, integer fen) and the weekly pay-over it goes out with."""

    contract_no: str
    kind: str  # 契税, 维修基金, 登记费
    at: datetime
    amount_fen: int
    payer: str
    account_no: str  # the general account it went into
    bank: str  # icbc, ccb, cmb
    paid_over_on: date  # the Tuesday after the week it was collected (weeks later for a forgotten batch)
    rate_bp: int | None = None  # 契税: the rate applied
    late: bool = False  # planted: its batch was forgotten and leaves weeks late
    handover_on: date | None = None  # the day the keys were handed over (the fee's due day)
    schedule_fen: int | None = None  # planted: what the city's schedule gives, where the cashier charged another

    @property
    def due_on(self) -> date:
        """The last day the city's term allows for paying it over."""
        return self.at.date() + timedelta(days=PAYOVER_WITHIN_DAYS)


def deed_tax_rate_bp(*, area_hundredths: int, usage: str, person: bool, first_home: bool, on: date) -> int:
    """The deed tax rate (basis points) of a purchase, by the rule in force on `on`."""
    if not person or usage != "住宅":
        return 300
    line = 14_000 if on >= POLICY_2024_FROM else 9_000  # 140 m² from 2024-12-01, 90 m² before
    if area_hundredths <= line:
        return 100
    if first_home:
        return 150
    return 200 if on >= POLICY_2024_FROM else 300  # before: no second-home relief in Shenzhen


def deed_tax_fen(price_fen: int, rate_bp: int) -> int:
    """契税 on a VAT-inclusive price: price / 1.09 × rate, half up to the fen."""
    return (price_fen * rate_bp * 2 + 10_000 + VAT_BP) // (2 * (10_000 + VAT_BP))


def maintenance_fund_fen(area_hundredths: int) -> int:
    per_m2 = CONSTRUCTION_COST_FEN_PER_M2 * FUND_SHARE_BP // 10_000
    return (area_hundredths * per_m2 + 50) // 100


def registration_fee_fen(usage: str) -> int:
    return REGISTRATION_FEN.get(usage, REGISTRATION_OTHER_FEN)


def payover_on(collected_on: date) -> date:
    """The Tuesday after the week (Monday–Sunday) of `collected_on`."""
    return collected_on + timedelta(days=7 - collected_on.weekday() + 1)


def forgotten_weeks(seed: int, kind: str, account_no: str, on: date, *, clean: bool) -> int:
    """How many weeks late the batch due to leave `account_no` on `on` leaves (0: on time); the same draw in
    every face of the world."""
    if clean:
        return 0
    rng = random.Random(f"{seed}/ledger/payover-late/{kind}/{account_no}/{on.isoformat()}")
    return rng.randint(*PAYOVER_LATE_WEEKS) if rng.random() < PAYOVER_LATE_RATE else 0


def _hundredths(text: str) -> int:
    whole, _, part = text.partition(".")
    return int(whole) * 100 + int((part + "00")[:2])


def fee_flows(doc: dict, *, seed: int, end: datetime, clean: bool = False) -> list[FeeFlow]:
    """The fees a contract's buyer paid by `end` (none for a contract not handed over, or cancelled), each
    with the day its batch leaves (`forgotten_weeks` late for a forgotten one, not in a clean world)."""
    handover = doc.get("handover")
    if doc["contract_type"] == "认购" or not handover or doc.get("cancellation"):
        return []
    rng = random.Random(f"{seed}/ledger/fees/{doc['contract_no']}")
    handed = bj(handover.get("at")) or datetime.fromisoformat(handover["handed_over_on"] + "T10:00:00")
    house = doc["house"]
    area = _hundredths(handover.get("as_built_area") or house["building_area"])
    usage = house.get("usage") or "住宅"
    price = fen(doc["price"]["total_price"]) + fen(handover.get("area_diff_amount") or "0")
    primary = next((b for b in doc["buyers"] if b.get("is_primary")), doc["buyers"][0])
    person = primary.get("id_type") != ID_TYPE_USCC
    first_home = rng.random() < FIRST_HOME_SHARE
    early = rng.random() < 0.3  # paid with the handover notice, before the keys
    day = handed.date() - timedelta(days=rng.randint(1, 7)) if early else handed.date()
    rate = deed_tax_rate_bp(area_hundredths=area, usage=usage, person=person, first_home=first_home, on=day)
    amounts = {
        DEED_TAX: deed_tax_fen(price, rate),
        MAINTENANCE_FUND: maintenance_fund_fen(area),
        REGISTRATION_FEE: registration_fee_fen(usage),
    }
    schedule = {}
    sold = _hundredths(house["building_area"]) if house.get("building_area") else area
    planted = random.Random(f"{seed}/ledger/fees/sold-area/{doc['contract_no']}")  # its own draw: no other moves
    if not clean and sold != area and planted.random() < FUND_ON_SOLD_AREA_RATE:
        schedule[MAINTENANCE_FUND] = amounts[MAINTENANCE_FUND]
        amounts[MAINTENANCE_FUND] = maintenance_fund_fen(sold)
    account = general_account(supervised_account(house_permit(house)).bank)
    payer = primary_name(doc)
    start = at_office_hours(rng, day, 9, 16) if early else max(handed, datetime.combine(day, time(9, 0)))
    flows = []
    for index, kind in enumerate(FEE_KINDS):
        at = start + timedelta(minutes=3 * index + rng.randint(1, 3))
        if at > end:
            continue
        regular = payover_on(at.date())
        weeks = forgotten_weeks(seed, kind, account.account_no, regular, clean=clean)
        flows.append(
            FeeFlow(
                doc["contract_no"],
                kind,
                at.replace(microsecond=0),
                amounts[kind],
                payer,
                account.account_no,
                account.bank,
                regular + timedelta(weeks=weeks),
                rate if kind == DEED_TAX else None,
                late=weeks > 0,
                handover_on=handed.date(),
                schedule_fen=schedule.get(kind),
            )
        )
    return flows


@dataclass(frozen=True, slots=True)
class Payover:
    """The developer's transfer of one week's fees of one kind out of one general account."""

    kind: str
    account_no: str
    bank: str
    on: date
    at: datetime
    amount_fen: int
    count: int

    @property
    def batch(self) -> str:
        return f"payover/{self.kind}/{self.account_no}/{self.on.isoformat()}"


def payover_at(seed: int, kind: str, account_no: str, on: date) -> datetime:
    """When a batch leaves the account: Tuesday morning, the same moment in every face."""
    rng = random.Random(f"{seed}/ledger/payover/{kind}/{account_no}/{on.isoformat()}")
    return datetime.combine(on, time(rng.randint(9, 11), rng.randrange(60)))


def payover_of(flow: FeeFlow, seed: int) -> Payover:
    """The pay-over batch `flow` leaves in (with the flow's own amount: its share of the batch)."""
    at = payover_at(seed, flow.kind, flow.account_no, flow.paid_over_on)
    return Payover(flow.kind, flow.account_no, flow.bank, flow.paid_over_on, at, flow.amount_fen, 1)


class PayoverTotals:
    """The week's totals of each kind and account, kept as fees come (a world's fees are not held)."""

    def __init__(self) -> None:
        self._totals: dict[tuple[str, str, str, date], list[int]] = {}

    def add(self, flow: FeeFlow) -> None:
        total = self._totals.setdefault((flow.kind, flow.account_no, flow.bank, flow.paid_over_on), [0, 0])
        total[0] += flow.amount_fen
        total[1] += 1

    def batches(self, *, seed: int, end: datetime) -> list[Payover]:
        """The pay-overs that fall by `end`, in time order."""
        out = []
        for (kind, account_no, bank, on), (amount, count) in self._totals.items():
            at = payover_at(seed, kind, account_no, on)
            if at <= end:
                out.append(Payover(kind, account_no, bank, on, at, amount, count))
        return sorted(out, key=lambda p: (p.at, p.account_no, p.kind))
