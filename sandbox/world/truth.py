"""The ground truth: every irregularity the world planted, read off the documents at the world's end.

Each row names its kind, the contract and house it concerns, `on_date` (the Beijing business date on
which it became an irregularity) and a JSON detail. The rows describe the world as of its end; a reader
asking about an earlier date keeps the rows with `on_date` on or before it and reads the detail for
what was resolved later (a late filing is an unfiled-and-overdue contract until its `filed_on`).

Kinds:
- `late_filing`: signed, filed more than 30 days after signing; on_date = signed_on + 31.
- `unfiled_overdue`: signed, never filed, and 30 days passed (before the end or the cancellation);
  on_date = signed_on + 31; detail `cancelled_on` when a cancellation ended it.
- `expired_subscription`: a 认购 neither converted nor cancelled 15 days past its planned signing date;
  on_date = planned_signing_on + 15.
- `cancelled_contract`: every 撤销; on_date = cancelled_on; returns (no replacement contract) carry
  `refund_due_on` = cancelled_on + the contract's `refund_days` (15 or 30); `cause` is `loan_refused`
  when a bank turned the loan down.
- `room_change`: a contract cancelled (换房退房) and replaced on another unit; keyed on the cancelled one.
- `rename`: a contract cancelled (增减权益人) and replaced on the same unit with changed buyers.
- `late_handover`: not handed over 60 days after delivery (or after signing, for a 现售 home);
  on_date = due + 1.
- `late_registration`: no certificate 90 days after handover; on_date = handed_over_on + 91.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

from sandbox.world.contracts import CANCELLED, HANDOVER_DAYS, SUBSCRIPTION, ContractLife

KINDS = (
    "late_filing",
    "unfiled_overdue",
    "expired_subscription",
    "cancelled_contract",
    "room_change",
    "rename",
    "late_handover",
    "late_registration",
)
FILING_DAYS = 30
REFUND_DAYS = 15
SUBSCRIPTION_GRACE_DAYS = 15
REGISTRATION_DAYS = 90

Row = tuple[str, str, str, str, str]


def _day(iso_text: str | None) -> date | None:
    return date.fromisoformat(iso_text[:10]) if iso_text else None


def _row(kind: str, doc: dict, on_date: date, detail: dict) -> Row:
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return kind, doc["contract_no"], doc["house"]["house_id"], on_date.isoformat(), text


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def pair_ground_truth(entries: list[tuple[ContractLife, dict]], end_on: date) -> list[Row]:
    """The ground-truth rows of one pair's contracts (lives with their documents as at `end_on`)."""
    replaced_by = {doc["previous_contract_no"]: doc for _, doc in entries if doc["previous_contract_no"]}
    converted = {doc["subscription_no"] for _, doc in entries if doc["subscription_no"]}
    rows: list[Row] = []
    for life, doc in entries:
        cancellation = doc["cancellation"]
        cancelled_on = _day(cancellation["cancelled_at"]) if cancellation else None
        successor = replaced_by.get(doc["contract_no"])
        if cancellation:
            rows += _cancellation_rows(life, doc, cancelled_on, successor)
        if doc["contract_type"] == SUBSCRIPTION:
            rows += _subscription_rows(doc, converted, end_on)
        else:
            rows += _main_contract_rows(life, doc, cancelled_on, end_on)
    return rows


def _cancellation_rows(life: ContractLife, doc: dict, cancelled_on: date, successor: dict | None) -> list[Row]:
    cancellation = doc["cancellation"]
    code = cancellation["reason_code"]
    detail = {
        "contract_type": doc["contract_type"],
        "reason_code": code,
        "reason": cancellation["reason"],
        "is_return": successor is None,
        "refund_due_on": _iso(cancelled_on + timedelta(days=doc.get("refund_days") or REFUND_DAYS))
        if successor is None
        else None,
        "refund_days": doc.get("refund_days") or REFUND_DAYS,
        "successor_contract_no": successor["contract_no"] if successor else None,
        "cause": life.notes.get("cause"),
        "payment_method": doc["payment_method"],
    }
    rows = [_row("cancelled_contract", doc, cancelled_on, detail)]
    if successor is None:
        return rows
    new_house = successor["house"]["house_id"]
    if code == "换房退房" and new_house != doc["house"]["house_id"]:
        change = {"new_contract_no": successor["contract_no"], "new_house_id": new_house}
        rows.append(_row("room_change", doc, cancelled_on, change))
    elif code == "增减权益人":
        change = {
            "new_contract_no": successor["contract_no"],
            "buyers_before": [buyer["name"] for buyer in doc["buyers"]],
            "buyers_after": [buyer["name"] for buyer in successor["buyers"]],
        }
        rows.append(_row("rename", doc, cancelled_on, change))
    return rows


def _subscription_rows(doc: dict, converted: set[str], end_on: date) -> list[Row]:
    if doc["state"] == CANCELLED or doc["contract_no"] in converted:
        return []
    planned = date.fromisoformat(doc["planned_signing_on"])
    on_date = planned + timedelta(days=SUBSCRIPTION_GRACE_DAYS)
    if on_date > end_on:
        return []
    detail = {"planned_signing_on": planned.isoformat(), "grace_days": SUBSCRIPTION_GRACE_DAYS}
    return [_row("expired_subscription", doc, on_date, detail)]


def _main_contract_rows(life: ContractLife, doc: dict, cancelled_on: date | None, end_on: date) -> list[Row]:
    signed_on = _day(doc["signed_at"])
    if signed_on is None:
        return []
    rows: list[Row] = []
    filed_on = _day(doc["filed_at"])
    overdue_on = signed_on + timedelta(days=FILING_DAYS + 1)
    if filed_on is not None and filed_on >= overdue_on:
        detail = {
            "signed_on": signed_on.isoformat(),
            "filed_on": filed_on.isoformat(),
            "days_to_file": (filed_on - signed_on).days,
        }
        rows.append(_row("late_filing", doc, overdue_on, detail))
    elif filed_on is None and overdue_on <= (cancelled_on or end_on):
        detail = {"signed_on": signed_on.isoformat(), "cancelled_on": _iso(cancelled_on)}
        rows.append(_row("unfiled_overdue", doc, overdue_on, detail))
    handover = doc["handover"]
    handed_on = _day(handover["handed_over_on"]) if handover else None
    delivery_on = life.unit.building.delivery_on
    handover_due = max(delivery_on, signed_on) + timedelta(days=HANDOVER_DAYS)
    late_on = handover_due + timedelta(days=1)
    open_until = cancelled_on or end_on
    if late_on <= open_until and (handed_on is None or handed_on > handover_due):
        detail = {
            "delivery_on": delivery_on.isoformat(),
            "due_on": handover_due.isoformat(),
            "handed_over_on": _iso(handed_on),
        }
        rows.append(_row("late_handover", doc, late_on, detail))
    if handed_on is not None:
        registration = doc["registration"]
        registered_on = _day(registration["registered_on"]) if registration else None
        due = handed_on + timedelta(days=REGISTRATION_DAYS)
        late_on = due + timedelta(days=1)
        if late_on <= end_on and (registered_on is None or registered_on > due):
            detail = {
                "handed_over_on": handed_on.isoformat(),
                "due_on": due.isoformat(),
                "applied_on": registration["applied_on"] if registration else None,
                "registered_on": _iso(registered_on),
            }
            rows.append(_row("late_registration", doc, late_on, detail))
    return rows
