"""One contract's whole life, and the API document it shows at the world's end.

A `ContractLife` holds what the simulation decided — state changes with their moments, the payment
plan with the moment each line appears, the handover and registration records — as naive Beijing
times and integer fen. `life_document` turns it into the trading network's detail JSON (docs/
trading_network_api.md) as it stands at a cut-off, plus the timing keys a server needs to cut it at
any earlier moment: `handover.at`, `registration.applied_at` / `registered_at` and each plan line's
`visible_from` (UTC text).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sandbox.world.amounts import hundredths_text
from sandbox.world.clock import bj_iso, utc_iso
from sandbox.world.layout import Unit

SUBSCRIPTION = "认购"
PRESALE = "预售"
COMPLETED_SALE = "现售"
PREFIXES = {SUBSCRIPTION: "RG", PRESALE: "YS", COMPLETED_SALE: "XS"}

DRAFTED, SIGNED, FILED, AMENDING, CERTIFIED, CANCELLED = "待签", "已签", "已备案", "变更", "已领证", "撤销"
ALLOWED_TRANSITIONS = {
    None: {DRAFTED},
    DRAFTED: {SIGNED, CANCELLED},
    SIGNED: {FILED, CANCELLED},
    FILED: {AMENDING, CERTIFIED, CANCELLED},
    AMENDING: {FILED, CANCELLED},
    CERTIFIED: set(),
    CANCELLED: set(),
}


@dataclass(slots=True)
class PlanLine:
    kind: str
    due_on: date
    amount_fen: int
    bank: str | None
    visible_from: datetime


@dataclass(slots=True)
class Step:
    state: str
    at: datetime
    reason_code: str | None = None
    reason: str | None = None


@dataclass(slots=True)
class HandoverRecord:
    at: datetime
    as_built_area: int  # hundredths of a m²
    area_diff_fen: int


@dataclass(slots=True)
class RegistrationRecord:
    applied_at: datetime
    registered_at: datetime
    certificate_no: str


@dataclass(slots=True)
class ContractLife:
    contract_no: str
    contract_type: str
    unit: Unit
    unit_price_fen: int
    total_price_fen: int
    deposit_fen: int
    payment_method: str | None
    subscription_no: str | None
    previous_contract_no: str | None
    planned_signing_on: date | None
    buyers: list[dict]
    plan: list[PlanLine] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    handover: HandoverRecord | None = None
    registration: RegistrationRecord | None = None
    notes: dict = field(default_factory=dict)  # for the ground truth, not shown: {"cause": "loan_refused"}

    @property
    def first_at(self) -> datetime:
        return self.steps[0].at

    def cancel(self, at: datetime, reason_code: str, reason: str) -> None:
        """Cancel at `at`: every later state change, handover and registration never happens."""
        self.steps = [step for step in self.steps if step.at < at]
        self.steps.append(Step(CANCELLED, at, reason_code, reason))
        if self.handover is not None and self.handover.at >= at:
            self.handover = None
            self.plan = [line for line in self.plan if line.visible_from < at]
        if self.registration is not None and self.registration.applied_at >= at:
            self.registration = None


# the contract names its delivery date (交付) this many days after the building's delivery (or after
# signing, for a 现售 home): the developer hands over within it; later is a late handover
HANDOVER_DAYS = 60


def delivery_on(life: ContractLife, signed_at: datetime | None) -> date | None:
    """The delivery date a main contract names; a 认购 agreement, or a contract not signed, names none."""
    if life.contract_type == SUBSCRIPTION or signed_at is None:
        return None
    signed_on = date.fromisoformat(bj_iso(signed_at)[:10])
    return max(life.unit.building.delivery_on, signed_on) + timedelta(days=HANDOVER_DAYS)


def refund_days(project_code: str) -> int:
    """The refund term of a project's model contract (days from a cancellation to the refund): 15 or
    30, as the developer filled the clause in, the same for every contract of the project."""
    digest = hashlib.sha256(f"refund-days:{project_code}".encode()).digest()
    return 30 if digest[0] % 3 == 0 else 15


def _iso_or_none(day: date | None) -> str | None:
    return day.isoformat() if day else None


def house_document(unit: Unit) -> dict:
    return {
        "house_id": unit.house_id,
        "building": unit.building.name,
        "unit": unit.unit,
        "floor": unit.floor,
        "room": unit.room,
        "permit_no": unit.building.permit_no,
        "usage": unit.usage,
        "building_area": hundredths_text(unit.building_area),
        "inner_area": hundredths_text(unit.inner_area),
        "shared_area": hundredths_text(unit.shared_area),
    }


def _first_at_state(history: list[Step], state: str) -> datetime | None:
    for step in history:
        if step.state == state:
            return step.at
    return None


def _cached_house(unit: Unit, houses: dict[int, dict] | None) -> dict:
    if houses is None:
        return house_document(unit)
    house = houses.get(unit.index)
    if house is None:
        house = houses[unit.index] = house_document(unit)
    return house


def life_document(
    life: ContractLife,
    cutoff: datetime,
    houses: dict[int, dict] | None = None,
) -> tuple[dict, list[str]] | None:
    """The stored document of `life` as it stands at `cutoff`, and the UTC moments its view changed.

    None when the contract does not exist yet at `cutoff`. `houses` caches `house_document` by unit.
    """
    history = [step for step in life.steps if step.at <= cutoff]
    if not history:
        return None
    plan = [line for line in life.plan if line.visible_from <= cutoff]
    moments = {step.at for step in history}
    moments.update(line.visible_from for line in plan)
    handover = None
    if life.handover is not None and life.handover.at <= cutoff:
        record = life.handover
        moments.add(record.at)
        handover = {
            "handed_over_on": record.at.date().isoformat(),
            "as_built_area": hundredths_text(record.as_built_area),
            "area_diff_amount": hundredths_text(record.area_diff_fen),
            "at": record.at,
        }
    registration = None
    if life.registration is not None and life.registration.applied_at <= cutoff:
        record = life.registration
        registered = record.registered_at <= cutoff
        moments.add(record.applied_at)
        if registered:
            moments.add(record.registered_at)
        registration = {
            "status": CERTIFIED if registered else "办理中",
            "applied_on": record.applied_at.date().isoformat(),
            "registered_on": record.registered_at.date().isoformat() if registered else None,
            "certificate_no": record.certificate_no if registered else None,
            "applied_at": record.applied_at,
            "registered_at": record.registered_at if registered else None,
        }
    # every moment is formatted once, in both forms, and looked up below
    ordered = sorted(moments)
    utc = {moment: utc_iso(moment) for moment in ordered}
    bj = {moment: bj_iso(moment) for moment in ordered}
    if handover is not None:
        handover["at"] = utc[handover["at"]]
    if registration is not None:
        registration["applied_at"] = utc[registration["applied_at"]]
        if registration["registered_at"] is not None:
            registration["registered_at"] = utc[registration["registered_at"]]
    last = history[-1]
    signed_at, filed_at = _first_at_state(history, SIGNED), _first_at_state(history, FILED)
    unit = life.unit
    doc = {
        "contract_no": life.contract_no,
        "contract_type": life.contract_type,
        "state": last.state,
        "updated_at": bj[ordered[-1]],
        "project": {"code": unit.project.code, "name": unit.project.name},
        "house": _cached_house(unit, houses),
        "price": {
            "unit_price": hundredths_text(life.unit_price_fen),
            "total_price": hundredths_text(life.total_price_fen),
            "deposit": hundredths_text(life.deposit_fen),
        },
        "payment_method": life.payment_method,
        "refund_days": refund_days(unit.project.code),
        "delivery_on": _iso_or_none(delivery_on(life, signed_at)),
        "subscription_no": life.subscription_no,
        "previous_contract_no": life.previous_contract_no,
        "planned_signing_on": life.planned_signing_on.isoformat() if life.planned_signing_on else None,
        "signed_at": bj[signed_at] if signed_at else None,
        "filed_at": bj[filed_at] if filed_at else None,
        "cancellation": None
        if last.state != CANCELLED
        else {"cancelled_at": bj[last.at], "reason_code": last.reason_code, "reason": last.reason},
        "buyers": life.buyers,
        "payment_plan": [
            {
                "seq": seq,
                "kind": line.kind,
                "due_on": line.due_on.isoformat(),
                "amount": hundredths_text(line.amount_fen),
                "bank": line.bank,
                "visible_from": utc[line.visible_from],
            }
            for seq, line in enumerate(plan, start=1)
        ],
        "history": [
            {"state": step.state, "at": bj[step.at], "reason_code": step.reason_code, "reason": step.reason}
            for step in history
        ],
        "handover": handover,
        "registration": registration,
    }
    return doc, [utc[moment] for moment in ordered]
