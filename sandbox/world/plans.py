"""Payment methods and payment plans of a main contract; every plan sums exactly to the total price.

定金 (paid at subscription) opens every plan; 首付 of 30% or more falls 7–15 days after signing; loans
(按揭 at a commercial bank, 公积金 at the provident-fund centre, both for 组合) are whole multiples of
10,000 yuan; 分期 pays the rest in three instalments. Amounts are integer fen.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sandbox.world.contracts import PlanLine
from sandbox.world.dice import between, pick
from sandbox.world.layout import COMMERCIAL
from sandbox.world.names import MORTGAGE_BANKS, PROVIDENT_FUND_BANK
from sandbox.world.people import ID_TYPE_RESIDENT

LUMP_SUM, INSTALMENTS, MORTGAGE, PROVIDENT_FUND, COMBINED = "一次性", "分期", "商贷", "公积金", "组合"
LOAN_METHODS = (MORTGAGE, PROVIDENT_FUND, COMBINED)
_METHODS = (LUMP_SUM, INSTALMENTS, MORTGAGE, PROVIDENT_FUND, COMBINED)
_METHOD_WEIGHTS = (20, 10, 45, 10, 15)
_LOAN_STEP_FEN = 10_000 * 100
_PROVIDENT_CAP_FEN = 1_260_000 * 100


def choose_method(rng: random.Random, buyers: list[dict], usage: str) -> str:
    """Residents choose among all five; companies and shops pay in cash or a commercial loan."""
    method = rng.choices(_METHODS, weights=_METHOD_WEIGHTS)[0]
    resident = buyers[0]["id_type"] == ID_TYPE_RESIDENT
    if (not resident or usage == COMMERCIAL) and method in (PROVIDENT_FUND, COMBINED):
        return MORTGAGE if usage == COMMERCIAL and resident else LUMP_SUM
    if not resident and method == MORTGAGE:
        return INSTALMENTS
    return method


def deposit_for(rng: random.Random, total_fen: int) -> int:
    """定金: 20,000–100,000 yuan in steps of 10,000, never more than a tenth of the price."""
    deposit = between(rng, 2, 10) * _LOAN_STEP_FEN
    return min(deposit, total_fen // 10 // 100_000 * 100_000)


def _loan(total_fen: int, down_percent: int) -> int:
    return total_fen * (100 - down_percent) // 100 // _LOAN_STEP_FEN * _LOAN_STEP_FEN


def payment_plan(
    rng: random.Random,
    method: str,
    *,
    total_fen: int,
    deposit_fen: int,
    deposit_on: date,
    signed_on: date,
    usage: str,
    visible_from: datetime,
) -> list[PlanLine]:
    """The plan lines of a main contract (without the 补差 line, which appears at handover)."""

    def line(kind: str, days: int, amount: int, bank: str | None = None) -> PlanLine:
        return PlanLine(kind, signed_on + timedelta(days=days), amount, bank, visible_from)

    lines = [PlanLine("定金", deposit_on, deposit_fen, None, visible_from)]
    rest = total_fen - deposit_fen
    if method == LUMP_SUM:
        return [*lines, line(LUMP_SUM, between(rng, 7, 30), rest)]
    down_percent = 50 if usage == COMMERCIAL else pick(rng, (30, 30, 30, 35, 40, 50))
    down_days = between(rng, 7, 15)
    if method == INSTALMENTS:
        down = max(0, -(-total_fen * down_percent // 10_000) * 100 - deposit_fen)  # rounded up to the yuan
        remaining = rest - down
        each = remaining // 3 // 100 * 100
        return [
            *lines,
            line("首付", down_days, down),
            line("分期", 90, each),
            line("分期", 180, each),
            line("分期", 270, remaining - 2 * each),
        ]
    loan = _loan(total_fen, down_percent)
    if method == PROVIDENT_FUND:
        loan = min(loan, _PROVIDENT_CAP_FEN)
    down = line("首付", down_days, rest - loan)
    loan_days = between(rng, 30, 60)
    if method == MORTGAGE:
        return [*lines, down, line("按揭", loan_days, loan, pick(rng, MORTGAGE_BANKS))]
    if method == PROVIDENT_FUND:
        return [*lines, down, line("公积金", between(rng, 45, 90), loan, PROVIDENT_FUND_BANK)]
    fund = min(pick(rng, (600_000, 900_000, 1_260_000)) * 100, loan // 2 // _LOAN_STEP_FEN * _LOAN_STEP_FEN)
    return [
        *lines,
        down,
        line("按揭", loan_days, loan - fund, pick(rng, MORTGAGE_BANKS)),
        line("公积金", loan_days + between(rng, 0, 30), fund, PROVIDENT_FUND_BANK),
    ]
