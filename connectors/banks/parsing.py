"""From a bank's loan record (whatever its dialect) to a `Loan`, or a `QuarantineItem` with every reason.

An adapter reads its dialect's fields through a `LoanReader`, which collects what is wrong instead of
raising, and calls `finish`. Reasons name the field, what was expected and what came; never an ID
number, only what is wrong with it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.banks.records import (
    LOAN_TYPES,
    STAGE_APPROVED,
    STAGE_DISBURSED,
    STAGE_ORDER,
    STAGE_SUBMITTED,
    STAGES,
    Loan,
    QuarantineItem,
    StageEvent,
)
from connectors.identity import InvalidIdentifier, validate_identifier

BEIJING = timezone(timedelta(hours=8), "CST")
ENTITY = "loan"
_CENT = Decimal("0.01")
_YUAN_RE = re.compile(r"^-?\d+(\.\d{1,2})?$")
_FORMATS = ("%Y%m%d%H%M%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y%m%d")


def describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "…") if value.strip() else "an empty string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    return f"a {type(value).__name__}"


def beijing_date(moment: datetime) -> date:
    return moment.astimezone(BEIJING).date()


class LoanReader:
    """Reads one record's fields, collecting problems; `finish` builds the `Loan` or the quarantine item."""

    def __init__(self, bank: str, payload: dict[str, Any]) -> None:
        self.bank = bank
        self.payload = payload
        self.problems: list[str] = []

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def text(self, name: str, value: Any, *, required: bool = True) -> str | None:
        if isinstance(value, str) and value.strip():
            return value.strip()
        if value in (None, "") and not required:
            return None
        self.problem(f"{name}: expected text, got {describe(value)}")
        return None

    def fen(self, name: str, value: Any) -> Decimal | None:
        """An amount in integer fen (ICBC) → Decimal yuan."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.problem(f"{name}: expected a whole number of fen >= 0, got {describe(value)}")
            return None
        return Decimal(value).scaleb(-2).quantize(_CENT)

    def yuan(self, name: str, value: Any) -> Decimal | None:
        """An amount as a yuan string with at most two decimals → Decimal."""
        if value is None:
            return None
        if not isinstance(value, str) or not _YUAN_RE.match(value.strip()) or value.strip().startswith("-"):
            self.problem(f"{name}: expected an amount like '2807280.00', got {describe(value)}")
            return None
        try:
            return Decimal(value.strip()).quantize(_CENT)
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            self.problem(f"{name}: expected an amount, got {describe(value)}")
            return None

    def moment(self, name: str, value: Any, *, required: bool = True) -> datetime | None:
        """A time in Beijing time (compact, spaced or ISO with offset) → aware UTC."""
        if value in (None, "") and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(f"{name}: expected a time, got {describe(value)}")
            return None
        text = value.strip()
        parsed: datetime | None = None
        if "T" in text:
            try:
                parsed = datetime.fromisoformat(text)
            except ValueError:
                parsed = None
        else:
            for pattern in _FORMATS:
                try:
                    parsed = datetime.strptime(text, pattern)
                    break
                except ValueError:
                    continue
        if parsed is None:
            self.problem(f"{name}: expected a time like 20250102101500 or 2025-01-02 10:15:00, got {describe(value)}")
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=BEIJING)
        return parsed.astimezone(UTC)

    def stage(self, name: str, value: Any, mapping: dict[str, str] | None = None) -> str | None:
        stage = mapping.get(value) if mapping is not None and isinstance(value, str) else value
        if stage not in STAGES:
            self.problem(f"{name}: expected a loan stage, got {describe(value)}")
            return None
        return stage

    def identifier(self, id_type: str | None, number: Any) -> str | None:
        if not isinstance(number, str) or not number.strip():
            self.problem(f"borrower ID number: expected text, got {describe(number)}")
            return None
        try:
            return validate_identifier(id_type or "身份证", number)
        except InvalidIdentifier as exc:
            self.problem(f"borrower ID number: {exc}")
            return None

    def finish(
        self,
        *,
        loan_no: str | None,
        loan_type: str,
        stage: str | None,
        events: list[tuple[str | None, datetime | None]],
        contract_no: str | None,
        borrower_name: str | None,
        borrower_id_type: str | None,
        borrower_id_number: str | None,
        property_address: str | None,
        branch: str | None,
        applied: Decimal | None,
        approved: Decimal | None,
        disbursed: Decimal | None,
        updated_at: datetime | None,
        house_id: str | None = None,
        guarantee: Decimal | None = None,
        guarantee_released_at: datetime | None = None,
        linked_loan_no: str | None = None,
    ) -> Loan | QuarantineItem:
        if loan_type not in LOAN_TYPES:
            self.problem(f"loan type: expected one of {', '.join(LOAN_TYPES)}, got {describe(loan_type)}")
        stages = tuple(
            sorted(
                (StageEvent(s, at) for s, at in events if s is not None and at is not None),
                key=lambda e: (e.at, STAGE_ORDER[e.stage]),
            )
        )
        if not stages and not self.problems:
            self.problem("stage history: expected at least one stage, got none")
        if self.problems or loan_no is None or stage is None or updated_at is None:
            return QuarantineItem(
                source=f"bank_{self.bank}",
                entity=ENTITY,
                key=loan_no,
                reason="; ".join(self.problems) or "incomplete record",
                payload=self.payload,
            )

        def first(target: str) -> date | None:
            return next((beijing_date(e.at) for e in stages if e.stage == target), None)

        return Loan(
            bank=self.bank,
            loan_no=loan_no,
            loan_type=loan_type,
            stage=stage,
            stages=stages,
            contract_no=contract_no,
            borrower_name=borrower_name or "",
            borrower_id_type=borrower_id_type or "身份证",
            borrower_id_number=borrower_id_number or "",
            house_id=house_id,
            property_address=property_address,
            branch=branch,
            applied_amount=applied,
            approved_amount=approved,
            disbursed_amount=disbursed,
            applied_on=first(STAGE_SUBMITTED),
            approved_on=first(STAGE_APPROVED),
            disbursed_on=first(STAGE_DISBURSED),
            updated_at=updated_at,
            payload=self.payload,
            guarantee_amount=guarantee,
            guarantee_released_at=guarantee_released_at,
            linked_loan_no=linked_loan_no,
        )
