"""Supervised pre-sale funds: the key-supervision amount of each permit and its releases (拨付).

The supervision agreement fixes, per permit, a key-supervision amount (重点监管额度: what the building
still costs to finish; here 30% of the permit's list prices, rounded down to 10,000 yuan). The
supervised account must keep at least the part of it that the construction stage still requires;
at each milestone the bank releases (拨付) what is above it to the developer's general account at the
same bank:

    主体结构封顶 (topping out)      180 days before delivery   keep 60% of the key amount
    竣工验收备案 (completion)        30 days before delivery   keep 20%
    首次登记 (first registration)    45 days after delivery    keep nothing

Both faces (the banks' statements and the ledger's transfer vouchers) call `releases` with the same
flows of the supervised account, so they show the same releases. A few releases are planted over the
allowed amount (`over_fen` > 0, in the ground truth); none in a clean world.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sandbox.world.collection import supervised_account

KEY_SHARE_BP = 3000
MILESTONES = (("主体结构封顶", -180, 6000), ("竣工验收备案", -30, 2000), ("首次登记", 45, 0))
RELEASE_STEP_FEN = 10_000 * 100
OVER_RELEASE_RATE = 0.08
RELEASE_AT = time(10, 30)


@dataclass(frozen=True, slots=True)
class Permit:
    permit_no: str
    project_code: str
    project_name: str
    building: str
    delivery_on: date
    list_total_fen: int

    @property
    def key_fen(self) -> int:
        """重点监管额度 of the permit."""
        return self.list_total_fen * KEY_SHARE_BP // 10_000 // RELEASE_STEP_FEN * RELEASE_STEP_FEN

    @property
    def account_no(self) -> str:
        return supervised_account(self.permit_no).account_no


@dataclass(frozen=True, slots=True)
class Release:
    permit_no: str
    release_no: str
    milestone: str
    at: datetime  # naive Beijing time
    amount_fen: int
    allowed_fen: int  # what the rule allowed: balance above the amount still to keep
    required_fen: int  # what had to stay in the account after the release
    balance_before_fen: int

    @property
    def over_fen(self) -> int:
        return max(0, self.amount_fen - self.allowed_fen)


def _fen(text: str) -> int:
    whole, _, part = text.partition(".")
    return int(whole) * 100 + int((part + "00")[:2])


def read_permits(world_db: sqlite3.Connection) -> dict[str, Permit]:
    """Every permit of a world store with its delivery date and the list prices of its units (none for a
    hand-made store whose units table lacks them: it then has no releases)."""
    columns = {row[1] for row in world_db.execute("pragma table_info(units)")}
    if not {"permit_no", "project_name", "delivery_on", "list_total"} <= columns:
        return {}
    rows = world_db.execute(
        "select permit_no, project_code, project_name, building, delivery_on, list_total from units"
        " order by permit_no, house_id"
    )
    permits: dict[str, tuple[str, str, str, str, int]] = {}
    for permit_no, code, name, building, delivery, total in rows:
        before = permits.get(permit_no)
        amount = _fen(str(total))
        if before is None:
            permits[permit_no] = (code, name, building, delivery, amount)
        else:
            permits[permit_no] = (*before[:3], min(before[3], delivery), before[4] + amount)
    return {
        number: Permit(number, code, name, building, date.fromisoformat(delivery), total)
        for number, (code, name, building, delivery, total) in permits.items()
    }


def releases(
    permit: Permit, flows: list[tuple[datetime, int]], *, seed: int, end: datetime, clean: bool = False
) -> list[Release]:
    """The releases of one permit's supervised account, given every other movement of it (time, ±fen)."""
    out: list[Release] = []
    ordered = sorted(flows)
    for index, (milestone, days, keep_bp) in enumerate(MILESTONES, start=1):
        day = permit.delivery_on + timedelta(days=days)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        at = datetime.combine(day, RELEASE_AT)
        if at > end:
            break
        balance = sum(amount for moment, amount in ordered if moment < at) - sum(r.amount_fen for r in out)
        required = permit.key_fen * keep_bp // 10_000
        allowed = max(0, balance - required) // RELEASE_STEP_FEN * RELEASE_STEP_FEN
        amount = allowed
        rng = random.Random(f"{seed}/supervision/{permit.permit_no}/{index}")
        if not clean and rng.random() < OVER_RELEASE_RATE and balance - allowed >= RELEASE_STEP_FEN:
            extra = max(
                RELEASE_STEP_FEN, permit.key_fen * rng.randint(5, 15) // 100 // RELEASE_STEP_FEN * RELEASE_STEP_FEN
            )
            amount = min(balance // RELEASE_STEP_FEN * RELEASE_STEP_FEN, allowed + extra)
        if amount <= 0:
            continue
        number = f"BF{permit.account_no[-7:]}{index:02d}"
        out.append(Release(permit.permit_no, number, milestone, at, amount, allowed, required, balance))
    return out
