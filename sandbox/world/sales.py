"""The life of every sale of a pair of units, from one RNG seeded by (seed, pair index) alone.

Units are simulated two at a time — inventory positions 2k and 2k+1, usually neighbours on one floor —
so that a room change (换房) stays local: the buyer of one unit of the pair moves to the other. A unit
goes on sale when its building opens; buyers arrive at random, subscribe (认购), then most sign the main
contract, some cancel, a few let the subscription expire. A cancelled sale puts the unit back on the
market. Every decision draws from the pair's RNG in a fixed order, so the world is a pure function of
the seed and the inventory.

The simulation does not stop at the world's end: lives run on, and `contracts.life_document` cuts them.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sandbox.world import plans
from sandbox.world.amounts import round_div
from sandbox.world.clock import at_office_hours, next_workday
from sandbox.world.contracts import (
    AMENDING,
    CERTIFIED,
    COMPLETED_SALE,
    DRAFTED,
    FILED,
    PREFIXES,
    PRESALE,
    SIGNED,
    SUBSCRIPTION,
    ContractLife,
    HandoverRecord,
    PlanLine,
    RegistrationRecord,
    Step,
)
from sandbox.world.dice import below, between, pick
from sandbox.world.layout import COMMERCIAL, Unit
from sandbox.world.names import CANCEL_REASON_TEXTS, SUBSCRIPTION_CANCEL_TEXTS
from sandbox.world.people import buyers_for_sale, renamed_buyers

# rates of the planted events (per subscription, per main contract, per pair)
SUBSCRIPTION_CANCEL_RATE = 0.09
SUBSCRIPTION_EXPIRY_RATE = 0.025
RETURN_RATE = 0.02
RENAME_RATE = 0.015
INPUT_ERROR_RATE = 0.008
ROOM_CHANGE_PAIR_RATE = 0.03
UNFILED_RATE = 0.025
LATE_FILING_RATE = 0.07
AMENDMENT_RATE = 0.02
LATE_HANDOVER_RATE = 0.03
LATE_REGISTRATION_RATE = 0.10

LOAN_REFUSED = "loan_refused"
_RETURN_REASONS = ("资金问题", "换房退房", "其他", "楼盘表调整")
_RETURN_WEIGHTS = (45, 25, 20, 10)
_AMENDMENT_REASONS = ("变更付款方式", "更正买受人联系地址", "变更贷款银行")
_MAX_CONTRACTS_PER_UNIT = 10  # the last digit of a contract number's serial
_PHONES_PER_PAIR = 32


_DAYS = tuple(timedelta(days=count) for count in range(512))


def _days(count: int) -> timedelta:
    return _DAYS[count] if 0 <= count < 512 else timedelta(days=count)


class PairSimulation:
    """Simulates the pair (2k, 2k+1) and collects every contract life it creates."""

    def __init__(self, seed: int, pair_index: int, world_end: date, clean: bool = False) -> None:
        self.rng = random.Random(f"{seed}/pair/{pair_index}")
        self.world_end = world_end
        self.clean = clean  # plant no irregularity: no expired 认购, late filing, handover or registration
        self.lives: list[ContractLife] = []
        self._phone_base = pair_index * _PHONES_PER_PAIR
        self._phones = 0
        self._serials: dict[int, int] = {}

    # -- numbering --------------------------------------------------------------------------------

    def _phone_serial(self) -> int:
        serial = self._phone_base + self._phones % _PHONES_PER_PAIR
        self._phones += 1
        return serial

    def _contract_no(self, contract_type: str, unit: Unit, day: date) -> str:
        serial = self._serials.get(unit.index, 0)
        self._serials[unit.index] = serial + 1
        number = unit.local_index * _MAX_CONTRACTS_PER_UNIT + serial
        return f"{PREFIXES[contract_type]}{day.year}{unit.project.code}{number:06d}"

    def _room_for_another_sale(self, unit: Unit) -> bool:
        # a sale may use up to three numbers on its unit (认购, main contract, one replacement)
        return self._serials.get(unit.index, 0) + 3 <= _MAX_CONTRACTS_PER_UNIT

    # -- the pair ---------------------------------------------------------------------------------

    def run(self, first: Unit, second: Unit | None) -> list[ContractLife]:
        rng = self.rng
        if second is not None and rng.random() < ROOM_CHANGE_PAIR_RATE:
            mover, target = (first, second) if rng.random() < 0.5 else (second, first)
            moved = self._unit_life(mover, target)
            if not moved:
                self._unit_life(target, None)
        else:
            self._unit_life(first, None)
            if second is not None:
                self._unit_life(second, None)
        return self.lives

    def _unit_life(self, unit: Unit, room_change_to: Unit | None) -> bool:
        """Sell `unit` again and again until it stays sold or the world ends; True if a room change ran."""
        rng = self.rng
        free_from = unit.building.launch_on
        moved = False
        rush = 0.35
        while self._room_for_another_sale(unit):
            if rng.random() < rush:
                wait = below(rng, 14)
            else:
                wait = int(rng.expovariate(1 / (300 if unit.usage == COMMERCIAL else 150)))
            rush = 0.05
            day = free_from + _days(wait)
            if day > self.world_end:
                return moved
            freed_on, used_target = self._sale(unit, day, None if moved else room_change_to)
            moved = moved or used_target
            if freed_on is None:
                return moved
            free_from = freed_on + _days(between(rng, 3, 30))
        return moved

    # -- one sale ---------------------------------------------------------------------------------

    def _sale(self, unit: Unit, day: date, room_change_to: Unit | None) -> tuple[date | None, bool]:
        """One buyer's subscription and what follows; (the day the unit is free again or None, moved)."""
        rng = self.rng
        buyers = buyers_for_sale(rng, self._phone_serial, usage=unit.usage)
        subscribed_at = at_office_hours(rng, day, 9, 20)
        deposit = plans.deposit_for(rng, unit.list_total * 100)
        planned = day + _days(between(rng, 7, 20))
        subscription = ContractLife(
            contract_no=self._contract_no(SUBSCRIPTION, unit, day),
            contract_type=SUBSCRIPTION,
            unit=unit,
            unit_price_fen=unit.unit_price * 100,
            total_price_fen=unit.list_total * 100,
            deposit_fen=deposit,
            payment_method=None,
            subscription_no=None,
            previous_contract_no=None,
            planned_signing_on=planned,
            buyers=buyers,
        )
        subscription.steps = [
            Step(DRAFTED, subscribed_at),
            Step(SIGNED, subscribed_at + timedelta(minutes=between(rng, 5, 60))),
        ]
        subscription.plan = [PlanLine("定金", day, deposit, None, subscribed_at)]
        self.lives.append(subscription)
        draw = rng.random()
        if draw < SUBSCRIPTION_CANCEL_RATE:
            code = "资金问题" if rng.random() < 0.65 else "其他"
            cancelled_on = day + _days(between(rng, 1, (planned - day).days + 3))
            cancelled_at = at_office_hours(rng, cancelled_on)
            subscription.cancel(cancelled_at, code, pick(rng, SUBSCRIPTION_CANCEL_TEXTS[code]))
            return cancelled_on, False
        if draw < SUBSCRIPTION_CANCEL_RATE + SUBSCRIPTION_EXPIRY_RATE and not self.clean:
            return None, False  # expires: never signed, never cancelled, the unit stays held
        if rng.random() < 0.12:
            signed_on = planned + _days(between(rng, 1, 5))
        else:
            signed_on = max(day + _days(1), planned - _days(between(rng, 0, 6)))
        drafted_on = max(day, signed_on - _days(between(rng, 0, 2)))
        drafted_at = at_office_hours(rng, drafted_on)
        if drafted_at <= subscription.steps[-1].at:
            drafted_at = subscription.steps[-1].at + timedelta(minutes=between(rng, 10, 60))
        signed_at = at_office_hours(rng, signed_on)
        if signed_at <= drafted_at:
            signed_at = drafted_at + timedelta(minutes=between(rng, 10, 120))
        return self._main_contract(
            unit,
            buyers,
            deposit,
            day,
            subscription.contract_no,
            None,
            drafted_at,
            signed_at,
            discount_percent=pick(rng, (0, 0, 0, 1, 1, 2)),
            with_events=True,
            room_change_to=room_change_to,
        )

    def _main_contract(
        self,
        unit: Unit,
        buyers: list[dict],
        deposit: int,
        deposit_on: date,
        subscription_no: str | None,
        previous_no: str | None,
        drafted_at: datetime,
        signed_at: datetime,
        *,
        discount_percent: int,
        with_events: bool,
        room_change_to: Unit | None = None,
        method: str | None = None,
    ) -> tuple[date | None, bool]:
        """A 预售/现售 contract and its life; replacements are created here too. Returns like `_sale`."""
        rng = self.rng
        signed_on = signed_at.date()
        contract_type = COMPLETED_SALE if unit.building.delivery_on <= signed_on else PRESALE
        unit_price = round_div(unit.unit_price * (100 - discount_percent), 100) * 100  # fen, whole yuan
        total = round_div(unit_price * unit.building_area, 10_000) * 100
        method = method or plans.choose_method(rng, buyers, unit.usage)
        life = ContractLife(
            contract_no=self._contract_no(contract_type, unit, drafted_at.date()),
            contract_type=contract_type,
            unit=unit,
            unit_price_fen=unit_price,
            total_price_fen=total,
            deposit_fen=deposit,
            payment_method=method,
            subscription_no=subscription_no,
            previous_contract_no=previous_no,
            planned_signing_on=None,
            buyers=buyers,
        )
        life.plan = plans.payment_plan(
            rng,
            method,
            total_fen=total,
            deposit_fen=deposit,
            deposit_on=deposit_on,
            signed_on=signed_on,
            usage=unit.usage,
            visible_from=drafted_at,
        )
        life.steps = [Step(DRAFTED, drafted_at), Step(SIGNED, signed_at)]
        self.lives.append(life)
        handover_at = self._natural_life(life, signed_at)
        if not with_events:
            return None, False
        if room_change_to is not None:
            moved_at = at_office_hours(rng, signed_on + _days(between(rng, 10, 75)))
            if moved_at < handover_at and room_change_to.building.launch_on <= moved_at.date():
                self._room_change(life, room_change_to, moved_at, discount_percent)
                return moved_at.date(), True
            return None, False
        draw = rng.random()
        if draw < RETURN_RATE:
            return self._return(life, signed_on, handover_at), False
        if draw < RETURN_RATE + RENAME_RATE:
            self._rename(life, signed_on, handover_at, discount_percent)
        elif draw < RETURN_RATE + RENAME_RATE + INPUT_ERROR_RATE:
            self._input_error(life, signed_at, discount_percent)
        return None, False

    # -- the natural course of a signed contract --------------------------------------------------

    def _natural_life(self, life: ContractLife, signed_at: datetime) -> datetime:
        """Filing, amendment, handover with area true-up, registration. Returns the handover moment."""
        rng = self.rng
        signed_on = signed_at.date()
        draw = rng.random()
        if self.clean and draw < UNFILED_RATE + LATE_FILING_RATE:
            draw = 1.0
        filed_at = None
        if draw >= UNFILED_RATE:
            delay = between(rng, 31, 60) if draw < UNFILED_RATE + LATE_FILING_RATE else between(rng, 3, 25)
            filed_at = at_office_hours(rng, next_workday(signed_on + _days(delay)), 9, 17)
            life.steps.append(Step(FILED, filed_at))
        handover_at = self._handover(life, signed_on)
        if filed_at is not None and rng.random() < AMENDMENT_RATE:
            amended_at = at_office_hours(rng, next_workday(filed_at.date() + _days(between(rng, 10, 90))), 9, 17)
            back_at = at_office_hours(rng, next_workday(amended_at.date() + _days(between(rng, 2, 10))), 9, 17)
            if back_at < handover_at:
                reason = pick(rng, _AMENDMENT_REASONS)
                life.steps += [Step(AMENDING, amended_at, None, reason), Step(FILED, back_at)]
                filed_at = back_at
        if filed_at is not None:
            self._registration(life, handover_at, filed_at)
        return handover_at

    def _handover(self, life: ContractLife, signed_on: date) -> datetime:
        rng = self.rng
        unit = life.unit
        delivery_on = unit.building.delivery_on
        if rng.random() < LATE_HANDOVER_RATE and not self.clean:
            delay = between(rng, 61, 150)
        elif delivery_on > signed_on:
            delay = min(between(rng, 0, 60), between(rng, 0, 60))  # most buyers come in the first weeks
        else:
            delay = between(rng, 7, 60)
        handed_on = max(delivery_on, signed_on) + _days(delay)
        handover_at = at_office_hours(rng, handed_on)
        as_built = unit.building_area + (unit.building_area * between(rng, -100, 100) + 5_000) // 10_000
        area_diff_fen = (as_built - unit.building_area) * (life.unit_price_fen // 100)
        life.handover = HandoverRecord(handover_at, as_built, area_diff_fen)
        if area_diff_fen:
            life.plan.append(PlanLine("补差", handed_on + _days(30), area_diff_fen, None, handover_at))
        return handover_at

    def _registration(self, life: ContractLife, handover_at: datetime, filed_at: datetime) -> None:
        rng = self.rng
        handed_on = handover_at.date()
        applied_on = next_workday(max(handed_on, filed_at.date()) + _days(between(rng, 7, 45)))
        deadline = handed_on + _days(90)
        if rng.random() < LATE_REGISTRATION_RATE and not self.clean:
            registered_on = max(applied_on, deadline) + _days(between(rng, 5, 110))
        else:
            registered_on = applied_on + _days(between(rng, 15, 40))
            if registered_on > deadline > applied_on:
                registered_on = applied_on + _days(between(rng, 1, (deadline - applied_on).days))
        registered_at = at_office_hours(rng, next_workday(registered_on), 9, 17)
        certificate = f"粤（{registered_at.year}）深圳市不动产权第{below(rng, 10_000_000):07d}号"
        life.registration = RegistrationRecord(at_office_hours(rng, applied_on, 9, 17), registered_at, certificate)
        life.steps.append(Step(CERTIFIED, registered_at))

    # -- cancellations and the contracts that replace them ----------------------------------------

    def _return(self, life: ContractLife, signed_on: date, handover_at: datetime) -> date | None:
        rng = self.rng
        cancelled_at = at_office_hours(rng, signed_on + _days(between(rng, 5, 90)))
        if cancelled_at >= handover_at:
            return None
        code = rng.choices(_RETURN_REASONS, weights=_RETURN_WEIGHTS)[0]
        if code == "资金问题" and life.payment_method in plans.LOAN_METHODS and rng.random() < 0.7:
            life.notes["cause"] = LOAN_REFUSED
            reason = CANCEL_REASON_TEXTS[code][0]
        elif code == "资金问题":
            reason = CANCEL_REASON_TEXTS[code][1]
        else:
            reason = CANCEL_REASON_TEXTS[code][0]
        life.cancel(cancelled_at, code, reason)
        return cancelled_at.date()

    def _replacement_times(self, cancelled_at: datetime, max_days: int) -> tuple[datetime, datetime]:
        rng = self.rng
        drafted_at = at_office_hours(rng, cancelled_at.date() + _days(between(rng, 0, max_days)))
        if drafted_at <= cancelled_at:
            drafted_at = cancelled_at + timedelta(minutes=between(rng, 10, 90))
        return drafted_at, drafted_at + timedelta(minutes=between(rng, 20, 600))

    def _room_change(self, life: ContractLife, target: Unit, moved_at: datetime, discount: int) -> None:
        life.cancel(moved_at, "换房退房", CANCEL_REASON_TEXTS["换房退房"][1].format(target=target.house_id))
        drafted_at, signed_at = self._replacement_times(moved_at, 3)
        self._main_contract(
            target,
            life.buyers,
            life.deposit_fen,
            life.plan[0].due_on,
            None,
            life.contract_no,
            drafted_at,
            signed_at,
            discount_percent=discount,
            with_events=False,
            method=life.payment_method,
        )

    def _rename(self, life: ContractLife, signed_on: date, handover_at: datetime, discount: int) -> None:
        rng = self.rng
        cancelled_at = at_office_hours(rng, signed_on + _days(between(rng, 10, 120)))
        buyers = renamed_buyers(rng, life.buyers, self._phone_serial)
        if buyers is None or cancelled_at >= handover_at:
            return
        change = len(buyers) - len(life.buyers)
        reason = CANCEL_REASON_TEXTS["增减权益人"][0 if change > 0 else 1 if change < 0 else 2]
        life.cancel(cancelled_at, "增减权益人", reason)
        drafted_at, signed_at = self._replacement_times(cancelled_at, 3)
        self._main_contract(
            life.unit,
            buyers,
            life.deposit_fen,
            life.plan[0].due_on,
            life.subscription_no,
            life.contract_no,
            drafted_at,
            signed_at,
            discount_percent=discount,
            with_events=False,
            method=life.payment_method,
        )

    def _input_error(self, life: ContractLife, signed_at: datetime, discount: int) -> None:
        rng = self.rng
        cancelled_at = at_office_hours(rng, signed_at.date() + _days(between(rng, 0, 2)))
        if cancelled_at <= signed_at:
            cancelled_at = signed_at + timedelta(minutes=between(rng, 30, 180))
        if any(step.state == FILED and step.at <= cancelled_at for step in life.steps):
            return  # already filed: an amendment, not a re-signing, fixes a typo now
        life.cancel(cancelled_at, "输入错误", pick(rng, CANCEL_REASON_TEXTS["输入错误"]))
        drafted_at, signed_at = self._replacement_times(cancelled_at, 0)
        self._main_contract(
            life.unit,
            life.buyers,
            life.deposit_fen,
            life.plan[0].due_on,
            life.subscription_no,
            life.contract_no,
            drafted_at,
            signed_at,
            discount_percent=discount,
            with_events=False,
            method=life.payment_method,
        )


def simulate_pair(
    seed: int, pair_index: int, first: Unit, second: Unit | None, world_end: date, clean: bool = False
) -> list[ContractLife]:
    """Every contract life of the pair, in the order they were created (`clean`: plant nothing)."""
    return PairSimulation(seed, pair_index, world_end, clean).run(first, second)
