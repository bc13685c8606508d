"""What money actually moved for one contract: the cash flows the ledger books.

The trading network knows the payment plan; finance knows what arrived. This module decides, from a
contract's document (its whole life, docs/trading_network_api.md) and an RNG seeded by
(seed, contract_no) alone, when each plan line was really paid, by whom, into which account, and in
how many transfers — so every face of the world that shows money (the ledger, and the banks' loan
disbursements) can agree by calling the same pure function.

Rules, in the order a sale lives them:
- a 认购 takes its 定金 when signed; a quarter of buyers paid an 诚意金 (sincerity deposit) some days
  before, which the 定金 absorbs (the buyer pays the difference);
- a main contract's 定金 line was paid under its 认购 (or carried from the contract it replaces);
- 首付, 分期, 一次性 and 补差 arrive near their due date (some late, some split over several transfers,
  some paid by a parent or the buyer's company); 按揭 and 公积金 are disbursed by the bank after the
  contract is filed; nothing is paid after a cancellation or after the world's end, and no loan of a
  contract cancelled because a bank turned its loan down (贷款未获批准) is ever disbursed — so the
  banks (which show the refusal) and the ledger agree;
- a replacement contract (换房, 更名, 输入错误) starts with what the cancelled one had received;
- a cancelled contract that no contract replaces is refunded within 15 days (a cancelled 认购: its
  定金 refunded, or forfeited when the buyer walked away); a negative 补差 is refunded.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from sandbox.world.clock import at_office_hours, next_workday
from sandbox.world.collection import general_account, house_permit, supervised_account
from sandbox.world.names import CANCEL_REASON_TEXTS

# the reason the network records when a contract is cancelled because a bank refused its loan
LOAN_REFUSED_REASON = ("资金问题", CANCEL_REASON_TEXTS["资金问题"][0])

DEPOSIT, DOWN, INSTALMENT, MORTGAGE, FUND, LUMP_SUM, TRUE_UP = (
    "定金",
    "首付",
    "分期",
    "按揭",
    "公积金",
    "一次性",
    "补差",
)
SINCERITY, REFUND, FORFEIT, TRANSFER = "诚意金", "退款", "没收定金", "转款"
ROOM_CHANGE_DIFFERENCE = "换房退差"  # a refund's reason: the old contract's money over the new, cheaper unit's price
LOAN_KINDS = (MORTGAGE, FUND)
SUBSCRIPTION = "认购"
REFUND_DAYS = 15
# planted where money lands or fails to come (none in a clean world)
# 按揭保证金: the share of a commercial loan a bank holds back from the disbursement until the mortgage
# is registered (basis points; banks not named hold none)
GUARANTEE_BP = {"建设银行": 500, "招商银行": 1000}
MISPLACED_RATE = 0.02  # buyer payments and loan disbursements paid into the general account
UNPAID_INSTALMENT_RATE = 0.03
LATE_REFUND_RATE = 0.10


@dataclass(frozen=True, slots=True)
class CashFlow:
    """One movement of money for a contract, as it happened (Beijing time, integer fen).

    `kind`: a plan kind (定金 首付 分期 按揭 公积金 一次性 补差), 诚意金, 退款 (`reason` says why),
    没收定金 (no money moves: the 定金 becomes income) or 转款 (carried to `other_contract_no`).
    `part` / `parts`: a payment split over several transfers. `payer` is who sent the money.
    """

    contract_no: str
    kind: str
    at: datetime
    amount_fen: int
    payer: str
    bank: str | None = None
    part: int = 1
    parts: int = 1
    reason: str | None = None
    other_contract_no: str | None = None
    plan_seq: int | None = None
    held_fen: int = 0  # a loan disbursement: the guarantee deposit (按揭保证金) the bank held back from it
    guarantee: bool = False  # a loan flow that is the release of a guarantee deposit, not the disbursement
    account_no: str | None = None  # the collection account the money went into (or, for 退款, out of)
    misplaced: bool = False  # planted: sale proceeds outside the supervised account of the unit's permit


@dataclass(slots=True)
class ContractCash:
    """Every cash flow of one contract and what it had received when it ended (or at the world's end).

    `planted`: (kind, on_date, detail) of each irregularity planted in the money itself.
    `loan_covered_fen`: plan line seq → the part of that loan line that a replaced contract's money paid (a room
    change to a unit whose own down payment is less than what the buyer had paid): the buyer applies to the bank
    for the rest only.
    """

    contract_no: str
    flows: list[CashFlow] = field(default_factory=list)
    received_fen: int = 0
    refund_due_on: date | None = None
    planted: list[tuple[str, date, dict]] = field(default_factory=list)
    loan_covered_fen: dict[int, int] = field(default_factory=dict)


def bj(text: str | None) -> datetime | None:
    """An ISO time with +08:00 (or any offset) → naive Beijing time."""
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    if moment.utcoffset() is not None:
        moment = (moment - moment.utcoffset() + timedelta(hours=8)).replace(tzinfo=None)  # type: ignore[operator]
    return moment


def fen(text: str) -> int:
    """`"4010400.00"` → 401040000 (exact; the world writes two decimals)."""
    sign = -1 if text.startswith("-") else 1
    whole, _, part = text.lstrip("-").partition(".")
    return sign * (int(whole) * 100 + int((part + "00")[:2]))


def contract_rng(seed: int, contract_no: str, purpose: str = "cash") -> random.Random:
    return random.Random(f"{seed}/ledger/{purpose}/{contract_no}")


def _moment(rng: random.Random, day: date) -> datetime:
    return at_office_hours(rng, next_workday(day), 9, 17)


def primary_name(doc: dict) -> str:
    """The name of the contract's primary buyer (the first buyer when none is marked)."""
    return next((b for b in doc["buyers"] if b.get("is_primary")), doc["buyers"][0])["name"]


def _payer(rng: random.Random, doc: dict, parent_name: Callable[[random.Random, str], str]) -> str:
    primary = next((b for b in doc["buyers"] if b.get("is_primary")), doc["buyers"][0])
    name = primary["name"]
    if primary.get("id_type") == "身份证" and rng.random() < 0.12:
        return parent_name(rng, name)
    return name


def _split(rng: random.Random, amount: int) -> list[int]:
    """One payment as 1 transfer (most), or 2–3 (a bank's daily transfer limit, money from two cards)."""
    draw = rng.random()
    parts = 1 if draw < 0.88 or amount < 2_000_000 else (2 if draw < 0.97 else 3)
    if parts == 1:
        return [amount]
    pieces = []
    left = amount
    for index in range(parts - 1):
        share = left * rng.randint(35, 65) // 100 // 100_000 * 100_000 or left // (parts - index)
        pieces.append(share)
        left -= share
    return [*pieces, left]


def disbursed_at(rng: random.Random, doc: dict, line: dict) -> datetime | None:
    """When the bank paid out a loan line: after the filing, near the plan's date; None if never filed."""
    filed = bj(doc.get("filed_at"))
    if filed is None:
        return None
    due = date.fromisoformat(line["due_on"])
    day = max(due + timedelta(days=rng.randint(-7, 12)), filed.date() + timedelta(days=rng.randint(5, 25)))
    return _moment(rng, day)


def paid_at(rng: random.Random, line: dict, clean: bool = False) -> datetime:
    """When a buyer paid a line: mostly within days of the due date, some weeks late (never, when clean)."""
    due = date.fromisoformat(line["due_on"])
    draw = rng.random()
    if draw < 0.75 or clean:
        offset = rng.randint(-5, 2)
    elif draw < 0.95:
        offset = rng.randint(3, 20)
    else:
        offset = rng.randint(21, 75)
    return _moment(rng, due + timedelta(days=offset))


def loan_refused(doc: dict) -> bool:
    """Whether the contract was cancelled because a bank turned its loan down: the reason the network
    shows for it (the world's ground truth says the same, as `cause: loan_refused`)."""
    cancellation = doc.get("cancellation") or {}
    return (cancellation.get("reason_code"), cancellation.get("reason")) == LOAN_REFUSED_REASON


def cash_flows(
    doc: dict,
    *,
    seed: int,
    end: datetime,
    carried_fen: int = 0,
    successor: tuple[str, str] | None = None,
    parent_name: Callable[[random.Random, str], str] | None = None,
    clean: bool = False,
) -> ContractCash:
    """The cash flows of one contract up to `end` (naive Beijing time).

    `carried_fen`: what a replaced contract had received (it arrives as a 转款, not as cash).
    `successor`: (contract_no, reason_code) of the contract that replaces this one, if any.
    `clean`: plant nothing (no unpaid instalment, no late refund, no money outside its account).
    """
    rng = contract_rng(seed, doc["contract_no"])
    parent_name = parent_name or _default_parent
    cash = ContractCash(doc["contract_no"])
    cancelled = bj((doc.get("cancellation") or {}).get("cancelled_at"))
    stop = min(end, cancelled) if cancelled else end
    no = doc["contract_no"]

    def add(flow: CashFlow) -> None:
        if flow.at <= end:
            cash.flows.append(flow)

    held = 0
    if doc["contract_type"] == SUBSCRIPTION:
        _subscription(rng, doc, cash, add, stop, parent_name)
    else:
        held = _main_contract(rng, doc, cash, add, stop, carried_fen, parent_name, clean, open_at_end=stop == end)
    refunded = sum(f.amount_fen for f in cash.flows if f.kind == REFUND)
    cash.received_fen = held + sum(f.amount_fen for f in cash.flows if f.kind != REFUND) - refunded
    if cancelled is not None and cancelled <= end:
        buyer = primary_name(doc)
        if successor is not None:
            if successor[1] != "输入错误":
                add(
                    CashFlow(
                        no,
                        TRANSFER,
                        _moment(rng, cancelled.date() + timedelta(days=rng.randint(0, 5))),
                        cash.received_fen,
                        buyer,
                        other_contract_no=successor[0],
                        reason=successor[1],
                    )
                )
        elif cash.received_fen > 0:
            term = doc.get("refund_days") or REFUND_DAYS  # the contract's own refund term
            cash.refund_due_on = cancelled.date() + timedelta(days=term)
            forfeit = doc["contract_type"] == SUBSCRIPTION and doc["cancellation"]["reason_code"] == "其他"
            forfeit = forfeit and rng.random() < 0.5
            late = rng.random() >= 1 - LATE_REFUND_RATE and not clean
            day = cancelled.date() + timedelta(days=rng.randint(term + 1, term + 25) if late else rng.randint(2, 13))
            kind = FORFEIT if forfeit else REFUND
            moment = _moment(rng, day)
            after_end = moment > end
            if late and ((kind == REFUND and not after_end) or (after_end and cash.refund_due_on < end.date())):
                # refunded late; or due by the world's end and neither refunded nor forfeited by then: the money
                # is still held on its last day, past the refund's due date
                detail = {"refund_due_on": cash.refund_due_on.isoformat(), "amount_fen": cash.received_fen}
                cash.planted.append(("refund_late", cash.refund_due_on + timedelta(days=1), detail))
            add(CashFlow(no, kind, moment, cash.received_fen, buyer, reason=doc["cancellation"]["reason_code"]))
    cash.flows.sort(key=lambda f: (f.at, f.kind))
    _place(cash, doc, seed, clean)
    return cash


def _place(cash: ContractCash, doc: dict, seed: int, clean: bool) -> None:
    """Name the collection account of every flow that moves money: the supervised account of the unit's
    permit, except the planted few paid into the general account of the same bank."""
    supervised = supervised_account(house_permit(doc["house"]))
    rng = contract_rng(seed, doc["contract_no"], "account")
    placed = []
    for flow in cash.flows:
        if flow.kind in (FORFEIT, TRANSFER):
            placed.append(flow)
            continue
        misplaced = flow.kind != REFUND and not clean and rng.random() < MISPLACED_RATE
        account = general_account(supervised.bank) if misplaced else supervised
        if misplaced:
            detail = {
                "kind": flow.kind,
                "amount_fen": flow.amount_fen,
                "account_no": account.account_no,
                "supervised_account_no": supervised.account_no,
                "booked_at": flow.at.isoformat(),
            }
            cash.planted.append(("money_outside_supervised", flow.at.date(), detail))
        placed.append(replace(flow, account_no=account.account_no, misplaced=misplaced))
    cash.flows[:] = placed


def _default_parent(rng: random.Random, buyer: str) -> str:
    return buyer[0] + rng.choice(("建国", "国强", "秀英", "桂兰", "志明", "淑珍", "玉兰", "德华"))


def _subscription(rng, doc, cash, add, stop, parent_name) -> None:  # noqa: ANN001 - private helper
    signed = bj(doc.get("signed_at")) or bj(doc["history"][0]["at"])
    deposit = fen(doc["price"]["deposit"])
    if signed is None or deposit <= 0 or signed > stop:
        return
    payer = _payer(rng, doc, parent_name)
    no = doc["contract_no"]
    sincerity = 0
    if rng.random() < 0.25:
        sincerity = min(deposit // 2, rng.choice((1, 2, 3, 5)) * 1_000_000)
        at = at_office_hours(rng, signed.date() - timedelta(days=rng.randint(3, 30)), 9, 20)
        add(CashFlow(no, SINCERITY, at, sincerity, payer))
    for part, amount in enumerate(_split(rng, deposit - sincerity), start=1):
        at = signed + timedelta(minutes=rng.randint(0, 90) + part)
        add(CashFlow(no, DEPOSIT, at, amount, payer, part=part, parts=0, plan_seq=1))
    _number_parts(cash)


def _due_by_the_end(
    cash: ContractCash, line: dict, amount: int, at: datetime, stop: datetime, *, clean: bool, open_at_end: bool
) -> datetime:
    """When a line paid after `stop` is really paid, as the world's end sees it. A line due by then and paid
    after it is a receivable overdue at the world's end (payable, when the developer owes it): a fact every
    reconciliation as of that day must report, kept in the ground truth as `unpaid_at_end`. A clean world
    has none: its buyers, the developer and the banks pay what falls due by the end before it falls due (a
    bank: not before five days after the filing)."""
    due = date.fromisoformat(line["due_on"])
    if not open_at_end or at <= stop or due > stop.date():
        return at
    if clean:  # the workday before it fell due, in office hours: booked in the ledger well before the end
        day = due - timedelta(days=1)
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        return datetime.combine(day, time(10, 0))
    _unpaid_at_end(cash, line, amount, at.date())
    return at


def _unpaid_at_end(cash: ContractCash, line: dict, amount: int, paid_on: date) -> None:
    """Record `amount` of a line due by the world's end and paid on `paid_on`, after it (`unpaid_at_end`)."""
    detail = {"plan_seq": line["seq"], "kind": line["kind"], "due_on": line["due_on"], "amount_fen": amount,
              "paid_on": paid_on.isoformat()}  # fmt: skip
    cash.planted.append(("unpaid_at_end", date.fromisoformat(line["due_on"]) + timedelta(days=1), detail))


def _part_at(at: datetime, part: int) -> datetime:
    """When the transfer `part` (1, 2, 3) of a split payment whose first is made at `at` is made: a day apart."""
    return at + timedelta(days=part - 1, minutes=part)


def _parts_by_the_end(
    cash: ContractCash, line: dict, pieces: list[int], at: datetime, stop: datetime, *, clean: bool, open_at_end: bool
) -> list[int]:
    """The transfers of a split payment (a day apart, the first at `at`), as the world's end sees them. Where
    the line is due by the end and its last transfers come after it, a clean world's buyer pays it in one
    transfer at `at` (the time drawn stays: both faces book it as they book any payment), and a planted
    world records what the late transfers carry as unpaid at the end (`unpaid_at_end`, as `_due_by_the_end`
    says of a whole payment). Seen on a clean world of 100,000 contracts: five lines due in the last days,
    part paid. Decision 0038."""
    late = [piece for part, piece in enumerate(pieces, start=1) if _part_at(at, part) > stop]
    due = date.fromisoformat(line["due_on"])
    if not late or not open_at_end or due > stop.date():
        return pieces
    if clean:
        return [sum(pieces)]
    _unpaid_at_end(cash, line, sum(late), (at + timedelta(days=len(pieces) - len(late))).date())
    return pieces


def _main_contract(rng, doc, cash, add, stop, carried, parent_name, clean=False, *, open_at_end=True) -> int:  # noqa: ANN001
    """Book a main contract's payments; return what it held before its own payments (定金 or carried)."""
    no = doc["contract_no"]
    signed = bj(doc.get("signed_at"))
    payer = _payer(rng, doc, parent_name)
    replaced = bool(doc.get("previous_contract_no"))
    prepaid = bool(doc.get("subscription_no")) or replaced
    held = carried if replaced else 0
    covered = carried  # what the replaced contract had received pays this one's lines in order
    refused = loan_refused(doc)
    for line in doc["payment_plan"]:
        amount = fen(line["amount"])
        kind = line["kind"]
        if kind == DEPOSIT and prepaid:
            if not replaced:
                held += amount
            covered -= amount
            continue
        if covered > 0 and amount > 0:
            used = min(covered, amount)
            covered -= used
            amount -= used
            if kind in LOAN_KINDS:
                cash.loan_covered_fen[line["seq"]] = used
        if amount == 0:
            continue
        if amount < 0:  # 补差 in the buyer's favour: the developer refunds the difference
            at = _due_by_the_end(
                cash, line, amount, paid_at(rng, line, clean), stop, clean=clean, open_at_end=open_at_end
            )
            if at <= stop:
                add(CashFlow(no, REFUND, at, -amount, payer, reason=TRUE_UP, plan_seq=line["seq"]))
            continue
        if kind in LOAN_KINDS:
            at = disbursed_at(rng, doc, line)  # drawn even when refused: the RNG stays in step
            if refused or (clean and doc.get("cancellation")):
                continue  # a clean world disburses no loan of a contract that is cancelled later
            if at is not None:  # a bank paying out after the end what the plan had due before it: overdue then
                not_before = bj(doc["filed_at"]) + timedelta(days=5)  # a clean world's bank still pays after filing
                at = max(
                    _due_by_the_end(cash, line, amount, at, stop, clean=clean, open_at_end=open_at_end),
                    min(at, not_before),
                )
            bank = line.get("bank")
            if at is not None and at <= stop:
                held = amount * GUARANTEE_BP.get(bank or "", 0) // 10_000 // 100 * 100 if kind == MORTGAGE else 0
                add(CashFlow(no, kind, at, amount - held, bank or "", bank=bank, plan_seq=line["seq"], held_fen=held))
                released = _guarantee_released_at(doc, seed_rng(rng, no), at) if held else None
                if released is not None and released <= stop:
                    add(CashFlow(no, kind, released, held, bank or "", bank=bank, plan_seq=line["seq"], guarantee=True))
            continue
        at = (signed or bj(doc["history"][0]["at"])) if kind == DEPOSIT else paid_at(rng, line, clean)
        if at is None:
            continue
        at = _due_by_the_end(cash, line, amount, at, stop, clean=clean, open_at_end=open_at_end)
        if at > stop:
            continue
        if kind == INSTALMENT and rng.random() < UNPAID_INSTALMENT_RATE and not clean:
            detail = {"plan_seq": line["seq"], "due_on": line["due_on"], "amount_fen": amount}
            cash.planted.append(("instalment_unpaid", date.fromisoformat(line["due_on"]) + timedelta(days=1), detail))
            continue  # never paid: an overdue receivable
        line_payer = payer if rng.random() < 0.9 else _payer(rng, doc, parent_name)
        pieces = _parts_by_the_end(cash, line, _split(rng, amount), at, stop, clean=clean, open_at_end=open_at_end)
        for part, piece in enumerate(pieces, start=1):
            add(
                CashFlow(
                    no,
                    kind,
                    _part_at(at, part),
                    piece,
                    line_payer,
                    part=part,
                    parts=0,
                    plan_seq=line["seq"],
                )
            )
    if replaced and covered > 0:
        # 换房 to a cheaper unit: what the old contract had received beyond the new price goes back to the buyer
        # within weeks of the signing (drawn apart: the contract's own draws stay as they were)
        start = signed or bj(doc["history"][0]["at"])
        apart = seed_rng(rng, no)
        at = _moment(apart, start.date() + timedelta(days=apart.randint(5, 20)))
        if at <= stop:
            add(CashFlow(no, REFUND, at, covered, payer, reason=ROOM_CHANGE_DIFFERENCE))
    _number_parts(cash)
    return held


def seed_rng(rng: random.Random, contract_no: str) -> random.Random:
    """An RNG drawn from the contract's without moving it (the same seed): for what only some contracts draw
    (a guarantee's release, a room change's refund), so that the others' draws stay as they were."""
    state = rng.getstate()
    child = random.Random(f"{contract_no}/guarantee/{rng.random()}")
    rng.setstate(state)
    return child


def _guarantee_released_at(doc: dict, rng: random.Random, disbursed: datetime) -> datetime | None:
    """When the bank releases a guarantee deposit: 5–20 days after the mortgage is registered (with the
    property certificate), never before the disbursement; None while not registered."""
    registration = doc.get("registration") or {}
    registered = registration.get("registered_on")
    if not registered:
        return None
    day = max(date.fromisoformat(registered), disbursed.date()) + timedelta(days=rng.randint(5, 20))
    return _moment(rng, day)


def _number_parts(cash: ContractCash) -> None:
    """Fill in `parts` (how many transfers a split payment took) now that all are known."""
    counts: dict[tuple[str, int | None], int] = {}
    for flow in cash.flows:
        if flow.parts == 0:
            counts[(flow.kind, flow.plan_seq)] = counts.get((flow.kind, flow.plan_seq), 0) + 1
    cash.flows[:] = [replace(f, parts=counts[(f.kind, f.plan_seq)]) if f.parts == 0 else f for f in cash.flows]
