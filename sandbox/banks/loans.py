"""The loans of one contract, stage by stage, as the banks and the fund centre lived them.

Every 按揭 line of a main contract's payment plan is a commercial loan at its bank, every 公积金 line a
loan at the provident-fund centre (组合: both). A loan goes 资料收齐 → 已递交 → 已审批 (or 拒贷) →
已签借款合同 → 抵押(预告)登记 → 已放款; a cancelled purchase contract withdraws it (已撤销).

The disbursement is the one the ledger's face of the world books (`sandbox.ledger.cash`): the stages
before it are fitted between the application and that moment, by the bank's rule — ICBC and CMB pay
out once the purchase contract is filed (the mortgage registration may follow), CCB and the fund
centre only after the mortgage (pre-)registration. A loan whose contract was cancelled for a refused
loan (the world's `cause: loan_refused`) is 拒贷 at its bank.

Planted irregularities (`Truth` rows, also in the bank world's ground truth):
- `loan_stuck`: a loan held at 已递交 for three to five weeks before its approval, or waiting at
  已签借款合同 for a contract that is never filed (three weeks or more by the world's end);
- `loan_on_cancelled_contract`: a loan approved for a contract that was later cancelled, which the
  bank never withdrew;
- `disbursement_not_received`: the bank shows 已放款, the developer's account never got the money;
- `disbursed_on_cancelled_contract`: the loan was paid out, then the contract was cancelled.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from connectors.banks.records import (
    STAGE_APPROVED,
    STAGE_COLLECTED,
    STAGE_DISBURSED,
    STAGE_LOAN_SIGNED,
    STAGE_MORTGAGE_REGISTERED,
    STAGE_REJECTED,
    STAGE_SUBMITTED,
    STAGE_WITHDRAWN,
    bank_code_for_name,
)
from sandbox.banks.accounts import (
    BRANCHES,
    CONTRACT_NO_SHOWN,
    DISBURSE_AFTER_REGISTRATION,
    DISBURSEMENT_RULES,
    LOAN_TYPE,
)
from sandbox.ledger.cash import LOAN_KINDS, CashFlow, bj, fen

STUCK_RATE = 0.04
NOT_WITHDRAWN_RATE = 0.25
NOT_RECEIVED_RATE = 0.03
STUCK_DAYS = 21
LOAN_NO_PREFIX = {"icbc": "4000", "ccb": "4420", "cmb": "7559", "hpf": "GJJ"}
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(slots=True)
class LoanLife:
    bank: str
    loan_no: str
    contract_no: str
    plan_seq: int
    loan_type: str
    branch: str
    borrower: dict
    house: dict
    project_name: str
    applied_fen: int
    approved_fen: int | None
    disbursed_fen: int | None
    shows_contract_no: bool
    events: list[tuple[str, datetime]] = field(default_factory=list)  # (stage, naive Beijing time)
    received: bool = True  # False: the disbursement never reached the developer's account
    guarantee_fen: int = 0  # 按揭保证金 held back from the disbursement
    guarantee_released_at: datetime | None = None
    linked_loan_no: str | None = None  # 组合贷: the other part (commercial ↔ provident fund) of one mortgage

    def add(self, stage: str, at: datetime) -> None:
        self.events.append((stage, at))

    @property
    def disbursed_at(self) -> datetime | None:
        return next((at for stage, at in self.events if stage == STAGE_DISBURSED), None)

    @property
    def property_address(self) -> str:
        house = self.house
        return f"{self.project_name}{house['building']}{house['unit']}{house['room']}室"


@dataclass(frozen=True, slots=True)
class Truth:
    kind: str
    bank: str
    loan_no: str
    contract_no: str
    on_date: date
    detail: dict


def loan_number(bank: str, contract_no: str, seq: int) -> str:
    digest = int.from_bytes(hashlib.sha256(f"{bank}:{contract_no}:{seq}".encode()).digest()[:8], "big")
    return f"{LOAN_NO_PREFIX[bank]}{digest % 10**14:014d}"


def _office(rng: random.Random, day: date) -> datetime:
    minute = rng.randrange(8 * 60)
    return datetime.combine(day, time(9 + minute // 60, minute % 60))


def _after(rng: random.Random, moment: datetime, low: int, high: int) -> datetime:
    """A moment in office hours `low`..`high` days after `moment` (strictly later)."""
    candidate = _office(rng, moment.date() + timedelta(days=rng.randint(low, high)))
    return candidate if candidate > moment else moment + timedelta(minutes=rng.randint(20, 180))


def _between(rng: random.Random, start: datetime, end: datetime, count: int) -> list[datetime]:
    """`count` increasing moments strictly between `start` and `end`."""
    span = (end - start).total_seconds()
    fractions = sorted(rng.uniform(0.1, 0.9) for _ in range(count))
    moments = [start + timedelta(seconds=int(span * f)) for f in fractions]
    for index in range(1, count):
        if moments[index] <= moments[index - 1]:
            moments[index] = moments[index - 1] + timedelta(minutes=1)
    return moments


def contract_loans(
    doc: dict,
    flows: list[CashFlow],
    *,
    seed: int,
    loan_refused: bool,
    world_end: datetime,
    clean: bool = False,
    covered: dict[int, int] | None = None,
) -> tuple[list[LoanLife], list[Truth]]:
    """The loans of one contract document (whole life) and the irregularities planted in them (none
    when `clean`).

    `covered`: plan line seq → what a replaced contract's money paid of that loan line (a room change,
    `ContractCash.loan_covered_fen`). The buyer applies for the rest, the bank approves and pays out what was
    applied for, and a line paid in full so applies for no loan: a bank pays out the loan it approved, in one
    disbursement (decision 0044)."""
    signed = bj(doc.get("signed_at"))
    if doc["contract_type"] == "认购" or signed is None:
        return [], []
    lines = [line for line in doc["payment_plan"] if line["kind"] in LOAN_KINDS]
    if not lines:
        return [], []
    rng = random.Random(f"{seed}/banks/loans/{doc['contract_no']}")
    filed = bj(doc.get("filed_at"))
    cancelled = bj((doc.get("cancellation") or {}).get("cancelled_at"))
    borrower = next((b for b in doc["buyers"] if b.get("is_primary")), doc["buyers"][0])
    loans: list[LoanLife] = []
    truths: list[Truth] = []
    refused_done = False
    for line in lines:
        bank = "hpf" if line["kind"] == "公积金" else bank_code_for_name(line.get("bank"))
        if bank is None:
            continue  # a bank outside the sandbox
        flow = next((f for f in flows if f.plan_seq == line["seq"] and f.kind in LOAN_KINDS and not f.guarantee), None)
        loan = LoanLife(
            bank=bank,
            loan_no=loan_number(bank, doc["contract_no"], line["seq"]),
            contract_no=doc["contract_no"],
            plan_seq=line["seq"],
            loan_type=LOAN_TYPE[bank],
            branch=rng.choice(BRANCHES[bank]),
            borrower=borrower,
            house=doc["house"],
            project_name=doc["project"]["name"],
            applied_fen=fen(line["amount"]) - (covered or {}).get(line["seq"], 0),
            approved_fen=None,
            disbursed_fen=None,
            shows_contract_no=rng.random() < CONTRACT_NO_SHOWN[bank],
        )
        refuse = loan_refused and not refused_done
        refused_done = refused_done or refuse
        found = _live(loan, rng, signed, filed, cancelled, flow, refuse, world_end, 0.0 if clean else 1.0)
        release = next((f for f in flows if f.plan_seq == line["seq"] and f.guarantee), None)
        if release is not None and loan.disbursed_at is not None and release.at <= world_end:
            loan.guarantee_released_at = release.at
        if loan.events and loan.applied_fen > 0:  # no loan of a contract cancelled before the buyer handed in
            # the papers, nor of a line the replaced contract's money paid in full (its draws made all the same,
            # so that the contract's other loan keeps its own)
            truths += found
            loans.append(loan)
    if doc.get("payment_method") == "组合" and len(loans) == 2:
        loans[0].linked_loan_no, loans[1].linked_loan_no = loans[1].loan_no, loans[0].loan_no
    return loans, truths


def _live(
    loan: LoanLife,
    rng: random.Random,
    signed: datetime,
    filed: datetime | None,
    cancelled: datetime | None,
    flow: CashFlow | None,
    refuse: bool,
    world_end: datetime,
    plant: float = 1.0,
) -> list[Truth]:
    """Fill in the loan's stages; return its planted irregularities (rates times `plant`)."""
    truths: list[Truth] = []
    bank = loan.bank
    collected = _after(rng, signed, 1, 5)
    submitted = _after(rng, collected, 1, 3)
    if cancelled is not None and cancelled <= submitted:
        if cancelled > collected:
            loan.add(STAGE_COLLECTED, collected)
            loan.add(STAGE_WITHDRAWN, _after(rng, cancelled, 1, 5))
        return []
    loan.add(STAGE_COLLECTED, collected)
    loan.add(STAGE_SUBMITTED, submitted)
    slow = bank == "hpf"
    if refuse:
        limit = cancelled - HOUR if cancelled else world_end
        rejected = min(_after(rng, submitted, 5, 15), limit)
        loan.add(STAGE_REJECTED, max(rejected, submitted + HOUR))
        _withdraw_after(loan, cancelled, rng, truths, approved=False, plant=plant)
        return truths
    after_registration = DISBURSEMENT_RULES[bank] == DISBURSE_AFTER_REGISTRATION
    if flow is not None:
        disbursed = flow.at
        stuck = rng.random() < STUCK_RATE * plant and (disbursed - submitted).days >= STUCK_DAYS + 15
        if stuck:
            approved = _after(rng, submitted, STUCK_DAYS + 1, min(35, (disbursed - submitted).days - 10))
            truths.append(_stuck(loan, STAGE_SUBMITTED, submitted, approved))
        else:
            approved = _between(rng, submitted, disbursed, 1)[0]
            approved = min(approved, _after(rng, submitted, 10 if slow else 4, 20 if slow else 12))
        if after_registration:
            low = max(approved, filed or approved)
            contract_signed, registered = _between(rng, low, disbursed, 2)
            contract_signed = min(contract_signed, _after(rng, approved, 2, 6))
            if contract_signed >= registered:
                contract_signed = approved + (registered - approved) / 2
        else:
            (contract_signed,) = _between(rng, approved, disbursed, 1)
            contract_signed = min(contract_signed, _after(rng, approved, 2, 6))
            registered = _after(rng, max(contract_signed, filed or contract_signed), 3, 20)
        loan.approved_fen = loan.applied_fen
        loan.add(STAGE_APPROVED, approved)
        loan.add(STAGE_LOAN_SIGNED, contract_signed)
        loan.add(STAGE_MORTGAGE_REGISTERED, registered)
        loan.add(STAGE_DISBURSED, disbursed)
        loan.disbursed_fen = flow.amount_fen + flow.held_fen  # the whole loan; the deposit is held back
        loan.guarantee_fen = flow.held_fen
        loan.events.sort(key=lambda event: event[1])
        if disbursed <= world_end and rng.random() < NOT_RECEIVED_RATE * plant:
            loan.received = False
            truths.append(
                Truth(
                    "disbursement_not_received",
                    bank,
                    loan.loan_no,
                    loan.contract_no,
                    disbursed.date(),
                    {"disbursed_at": disbursed.isoformat(), "amount": _yuan(flow.amount_fen)},
                )
            )
        if cancelled is not None and cancelled > disbursed:
            truths.append(
                Truth(
                    "disbursed_on_cancelled_contract",
                    bank,
                    loan.loan_no,
                    loan.contract_no,
                    cancelled.date(),
                    {"disbursed_at": disbursed.isoformat(), "cancelled_at": cancelled.isoformat()},
                )
            )
        return truths
    # no disbursement: the contract was never filed, was cancelled first, or pays out after the end
    approved = _after(rng, submitted, 10 if slow else 4, 20 if slow else 12)
    contract_signed = _after(rng, approved, 2, 6)
    loan.approved_fen = loan.applied_fen
    stages = [(STAGE_APPROVED, approved), (STAGE_LOAN_SIGNED, contract_signed)]
    if filed is not None:
        registered = _after(rng, max(contract_signed, filed), 1 if after_registration else 3, 8)
        disbursed = max(
            _after(rng, registered if after_registration else max(contract_signed, filed), 2, 7), world_end + DAY
        )
        stages += [(STAGE_MORTGAGE_REGISTERED, registered), (STAGE_DISBURSED, disbursed)]
        loan.disbursed_fen = loan.applied_fen
    for stage, at in stages:
        if cancelled is not None and at >= cancelled:
            break
        loan.add(stage, at)
    loan.events.sort(key=lambda event: event[1])
    if cancelled is not None:
        approved = any(s == STAGE_APPROVED for s, _ in loan.events)
        _withdraw_after(loan, cancelled, rng, truths, approved=approved, plant=plant)
        if loan.disbursed_at is None:
            loan.disbursed_fen = None
    elif filed is None:
        waiting_since = contract_signed
        if world_end - waiting_since >= timedelta(days=STUCK_DAYS):
            truths.append(_stuck(loan, STAGE_LOAN_SIGNED, waiting_since, None, cause="contract_not_filed"))
    if loan.disbursed_at is None:
        loan.disbursed_fen = None
    return truths


def _withdraw_after(
    loan: LoanLife,
    cancelled: datetime | None,
    rng: random.Random,
    truths: list[Truth],
    *,
    approved: bool,
    plant: float = 1.0,
) -> None:
    if cancelled is None:
        return
    if approved and rng.random() < NOT_WITHDRAWN_RATE * plant:
        stage = max(loan.events, key=lambda event: event[1])[0]
        truths.append(
            Truth(
                "loan_on_cancelled_contract",
                loan.bank,
                loan.loan_no,
                loan.contract_no,
                cancelled.date(),
                {"stage": stage, "cancelled_at": cancelled.isoformat()},
            )
        )
        return
    loan.add(STAGE_WITHDRAWN, _after(rng, cancelled, 1, 5))


def _stuck(loan: LoanLife, stage: str, since: datetime, until: datetime | None, cause: str = "bank") -> Truth:
    detail = {
        "stage": stage,
        "since": since.isoformat(),
        "until": until.isoformat() if until else None,
        "days": (until - since).days if until else None,
        "cause": cause,
    }
    return Truth(
        "loan_stuck", loan.bank, loan.loan_no, loan.contract_no, (since + timedelta(days=STUCK_DAYS)).date(), detail
    )


def _yuan(amount_fen: int) -> str:
    sign = "-" if amount_fen < 0 else ""
    whole, part = divmod(abs(amount_fen), 100)
    return f"{sign}{whole}.{part:02d}"
