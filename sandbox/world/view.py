"""A contract as the trading network shows it at any moment, cut from its stored whole-life document.

The stored document (`contracts.doc`) is the contract at the world's end with its whole history and
four kinds of timing keys. `contract_as_of` cuts it at `now`: only what had happened by then, with the
timing keys removed — exactly the API detail of docs/trading_network_api.md. Its `updated_at` is the
latest `events.at` of the contract at or before `now`.
"""

from __future__ import annotations

from datetime import datetime

from sandbox.world.clock import BEIJING_OFFSET, now_strings


def utc_to_beijing_text(utc_text: str) -> str:
    """`2025-03-01T06:03:00+00:00` → `2025-03-01T14:03:00+08:00`."""
    return (datetime.fromisoformat(utc_text[:19]) + BEIJING_OFFSET).isoformat() + "+08:00"


def beijing_to_utc_text(bj_text: str) -> str:
    """`2025-03-01T14:03:00+08:00` → `2025-03-01T06:03:00+00:00`."""
    return (datetime.fromisoformat(bj_text[:19]) - BEIJING_OFFSET).isoformat() + "+00:00"


def _visible(moment: str | None, now_text: str) -> bool:
    return moment is not None and moment <= now_text


def contract_as_of(doc: dict, now: datetime) -> dict | None:
    """The API detail of the contract at `now` (timezone-aware), or None if it did not exist yet.

    Times are compared as text: the store writes history times as `YYYY-MM-DDTHH:MM:SS+08:00` and
    timing keys as `YYYY-MM-DDTHH:MM:SS+00:00`, which sort like the moments they name.
    """
    now_bj, now_utc = now_strings(now)
    history = [entry for entry in doc["history"] if entry["at"] <= now_bj]
    if not history:
        return None
    plan = [line for line in doc["payment_plan"] if line["visible_from"] <= now_utc]
    changes = [beijing_to_utc_text(history[-1]["at"])]  # UTC text, like the timing keys
    changes += [line["visible_from"] for line in plan]
    handover = None
    if doc["handover"] is not None and doc["handover"]["at"] <= now_utc:
        record = doc["handover"]
        changes.append(record["at"])
        handover = {key: record[key] for key in ("handed_over_on", "as_built_area", "area_diff_amount")}
    registration = None
    record = doc["registration"]
    if record is not None and record["applied_at"] <= now_utc:
        changes.append(record["applied_at"])
        registration = {
            "status": "办理中",
            "applied_on": record["applied_on"],
            "registered_on": None,
            "certificate_no": None,
        }
        if _visible(record["registered_at"], now_utc):
            changes.append(record["registered_at"])
            registration.update(
                status="已领证",
                registered_on=record["registered_on"],
                certificate_no=record["certificate_no"],
            )
    cancellation = doc["cancellation"]
    view = dict(doc)  # nested objects are copied below, so a caller may change the view freely
    view.update(
        project=dict(doc["project"]),
        house=dict(doc["house"]),
        price=dict(doc["price"]),
        buyers=[dict(buyer) for buyer in doc["buyers"]],
        state=history[-1]["state"],
        updated_at=utc_to_beijing_text(max(changes)),
        signed_at=doc["signed_at"] if _visible(doc["signed_at"], now_bj) else None,
        filed_at=doc["filed_at"] if _visible(doc["filed_at"], now_bj) else None,
        cancellation=dict(cancellation) if cancellation and cancellation["cancelled_at"] <= now_bj else None,
        payment_plan=[{key: value for key, value in line.items() if key != "visible_from"} for line in plan],
        history=[dict(entry) for entry in history],
        handover=handover,
        registration=registration,
    )
    return view


def contract_summary(view: dict) -> dict:
    """The list item without `expand=detail`: number, type, state, updated_at, house and total price."""
    return {
        "contract_no": view["contract_no"],
        "contract_type": view["contract_type"],
        "state": view["state"],
        "updated_at": view["updated_at"],
        "house_id": view["house"]["house_id"],
        "total_price": view["price"]["total_price"],
    }
