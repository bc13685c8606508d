"""Tiny world stores for the server tests, written by hand in the world store's schema.

`write_world(path, docs)` writes the tables `sandbox.world` writes (meta, units, contracts, events,
ground_truth) from whole-life contract documents; `small_world(path)` writes 20 hand-made contracts
whose timelines the tests know; `synthetic_world(path, n)` writes n look-alike contracts for smoke and
throughput runs.

The documents follow the world store's contract (API detail shape plus the timing keys `visible_from`,
`handover.at`, `registration.applied_at` / `registered_at`), so `sandbox.world.view` cuts them as it
cuts generated ones.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.identity import id_check_char, uscc_check_char
from estatehub.settings import BUSINESS_TZ

START_ON = date(2026, 1, 1)
END_ON = date(2026, 3, 31)
SCHEMA = """
create table meta (key text primary key, value text);
create table units (house_id text primary key, project_code text, building text, unit text, floor integer,
                    room text);
create table contracts (contract_no text primary key, house_id text, first_at text, doc text);
create table events (contract_no text, at text);
create index events_at on events (at, contract_no);
create table ground_truth (kind text, contract_no text, house_id text, on_date text, detail text);
"""


def bj(text: str) -> datetime:
    """`"2026-01-05 10:00"` → that moment in Beijing time (aware)."""
    return datetime.fromisoformat(text).replace(tzinfo=BUSINESS_TZ)


def bj_iso(moment: datetime) -> str:
    return moment.astimezone(BUSINESS_TZ).isoformat()


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def resident_id(serial: int) -> str:
    first17 = f"440305{1980 + serial % 20}{1 + serial % 12:02d}{1 + serial % 28:02d}{serial % 1000:03d}"
    return first17 + id_check_char(first17)


def credit_code(serial: int) -> str:
    first17 = f"91440300MA5{serial:06d}"
    return first17 + uscc_check_char(first17)


def contract_doc(
    serial: int,
    *,
    steps: list[tuple[str, datetime]],
    contract_type: str = "预售",
    company: bool = False,
    cancel_reason: str | None = None,
    handover_at: datetime | None = None,
    registration: tuple[datetime, datetime | None] | None = None,
    subscription_no: str | None = None,
    previous_contract_no: str | None = None,
) -> dict[str, Any]:
    """A whole-life document: `steps` are (state, at) of the history in time order."""
    prefix = {"认购": "RG", "预售": "YS", "现售": "XS"}[contract_type]
    building, floor, room = 1 + serial % 3, 2 + serial % 20, f"{2 + serial % 20}0{1 + serial % 4}"
    house_id = f"P01-{building:02d}-1-{room}"
    area_hundredths = 8912 + serial * 7
    unit_price_fen = 4_500_000 + serial * 1000
    total_fen = area_hundredths * unit_price_fen // 100 // 100 * 100
    first_at = steps[0][1]
    signed_at = next((at for state, at in steps if state == "已签"), None)
    filed_at = next((at for state, at in steps if state == "已备案"), None)
    if company:
        buyers = [
            {
                "name": f"深圳市安居{serial}号实业有限公司",
                "id_type": "统一社会信用代码",
                "id_number": credit_code(serial),
                "phone": None,
                "share": "100.00",
                "is_primary": True,
            }
        ]
    else:
        buyers = [
            {
                "name": "张三" if serial % 2 else "李四",
                "id_type": "身份证",
                "id_number": resident_id(serial),
                "phone": f"1380013{serial:04d}",
                "share": "50.00",
                "is_primary": True,
            },
            {
                "name": "王五",
                "id_type": "身份证",
                "id_number": resident_id(serial + 500),
                "phone": None,
                "share": "50.00",
                "is_primary": False,
            },
        ]
    deposit = 5_000_000
    plan = [
        {
            "seq": 1,
            "kind": "定金",
            "due_on": first_at.date().isoformat(),
            "amount": _yuan(deposit),
            "bank": None,
            "visible_from": utc_iso(first_at),
        },
        {
            "seq": 2,
            "kind": "首付",
            "due_on": (first_at + timedelta(days=10)).date().isoformat(),
            "amount": _yuan(total_fen * 3 // 10 - deposit),
            "bank": None,
            "visible_from": utc_iso(signed_at or first_at),
        },
        {
            "seq": 3,
            "kind": "按揭",
            "due_on": (first_at + timedelta(days=40)).date().isoformat(),
            "amount": _yuan(total_fen - total_fen * 3 // 10),
            "bank": "建设银行",
            "visible_from": utc_iso(signed_at or first_at),
        },
    ]
    history = [{"state": state, "at": bj_iso(at), "reason_code": None, "reason": None} for state, at in steps]
    cancellation = None
    if cancel_reason:
        history[-1].update(reason_code=cancel_reason, reason=f"{cancel_reason}（客户申请）")
        cancellation = {
            "cancelled_at": history[-1]["at"],
            "reason_code": cancel_reason,
            "reason": history[-1]["reason"],
        }
    doc: dict[str, Any] = {
        "contract_no": f"{prefix}2026P01{serial:06d}",
        "contract_type": contract_type,
        "state": steps[-1][0],
        "updated_at": bj_iso(steps[-1][1]),
        "project": {"code": "P01", "name": "滨江悦府"},
        "house": {
            "house_id": house_id,
            "building": f"{building}栋",
            "unit": "1单元",
            "floor": floor,
            "room": room,
            "permit_no": "深房许字（2025）南山012号",
            "usage": "住宅",
            "building_area": _yuan(area_hundredths),
            "inner_area": _yuan(area_hundredths * 4 // 5),
            "shared_area": _yuan(area_hundredths - area_hundredths * 4 // 5),
        },
        "price": {
            "unit_price": _yuan(unit_price_fen),
            "total_price": _yuan(total_fen),
            "deposit": _yuan(deposit),
        },
        "payment_method": None if contract_type == "认购" else "商贷",
        "subscription_no": subscription_no,
        "previous_contract_no": previous_contract_no,
        "planned_signing_on": (first_at + timedelta(days=14)).date().isoformat() if contract_type == "认购" else None,
        "signed_at": bj_iso(signed_at) if signed_at else None,
        "filed_at": bj_iso(filed_at) if filed_at else None,
        "cancellation": cancellation,
        "buyers": buyers,
        "payment_plan": plan,
        "history": history,
        "handover": None,
        "registration": None,
    }
    if handover_at:
        doc["handover"] = {
            "handed_over_on": handover_at.astimezone(BUSINESS_TZ).date().isoformat(),
            "as_built_area": _yuan(area_hundredths + 28),
            "area_diff_amount": _yuan(28 * 450),
            "at": utc_iso(handover_at),
        }
        plan.append(
            {
                "seq": 4,
                "kind": "补差",
                "due_on": (handover_at + timedelta(days=30)).date().isoformat(),
                "amount": _yuan(28 * 450),
                "bank": None,
                "visible_from": utc_iso(handover_at),
            }
        )
    if registration:
        applied, registered = registration
        doc["registration"] = {
            "status": "已领证" if registered else "办理中",
            "applied_on": applied.astimezone(BUSINESS_TZ).date().isoformat(),
            "registered_on": registered.astimezone(BUSINESS_TZ).date().isoformat() if registered else None,
            "certificate_no": f"粤（2026）深圳市不动产权第{serial:07d}号" if registered else None,
            "applied_at": utc_iso(applied),
            "registered_at": utc_iso(registered) if registered else None,
        }
    return doc


def _yuan(hundredths: int) -> str:
    sign = "-" if hundredths < 0 else ""
    whole, part = divmod(abs(hundredths), 100)
    return f"{sign}{whole}.{part:02d}"


def event_times(doc: dict[str, Any]) -> list[str]:
    """Every moment the document's visible view changes, as UTC iso text."""
    moments = [h["at"] for h in doc["history"]]
    moments += [line["visible_from"] for line in doc["payment_plan"]]
    if doc.get("handover"):
        moments.append(doc["handover"]["at"])
    registration = doc.get("registration") or {}
    moments += [registration.get("applied_at"), registration.get("registered_at")]
    return sorted({utc_iso(datetime.fromisoformat(m)) for m in moments if m})


def write_world(path: Path, docs: list[dict[str, Any]], *, seed: int = 1) -> Path:
    """Write a world store holding `docs` (whole-life contract documents)."""
    path = Path(path)
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    with conn:
        conn.executescript(SCHEMA)
        meta = {
            "seed": seed,
            "units": len(docs),
            "start_on": START_ON.isoformat(),
            "end_on": END_ON.isoformat(),
            "contracts": len(docs),
        }
        conn.executemany("insert into meta values (?, ?)", [(k, str(v)) for k, v in meta.items()])
        for doc in docs:
            house = doc["house"]
            conn.execute(
                "insert or ignore into units values (?, ?, ?, ?, ?, ?)",
                (house["house_id"], "P01", house["building"], house["unit"], house["floor"], house["room"]),
            )
            times = event_times(doc)
            conn.execute(
                "insert into contracts values (?, ?, ?, ?)",
                (doc["contract_no"], house["house_id"], times[0], json.dumps(doc, ensure_ascii=False)),
            )
            conn.executemany("insert into events values (?, ?)", [(doc["contract_no"], at) for at in times])
    conn.close()
    return path


# Timelines the tests rely on (Beijing time).
LATE_CONTRACT = "YS2026P01000020"  # first appears on 2026-03-10 10:00
# 待签 01-10, 已签 01-12, 已备案 02-01, handover 03-05, registration applied 03-10, registered 03-20
ADVANCING_CONTRACT = "YS2026P01000002"


def small_world_docs() -> list[dict[str, Any]]:
    """20 hand-made contracts: every state, type, a company buyer, a cancellation and its replacement."""
    docs = [
        contract_doc(1, contract_type="认购", steps=[("已签", bj("2026-01-03 10:00"))]),
        contract_doc(
            2,
            steps=[
                ("待签", bj("2026-01-10 09:00")),
                ("已签", bj("2026-01-12 14:03")),
                ("已备案", bj("2026-02-01 09:30")),
            ],
            subscription_no="RG2026P01000001",
            handover_at=bj("2026-03-05 10:00"),
            registration=(bj("2026-03-10 10:00"), bj("2026-03-20 15:00")),
        ),
        contract_doc(
            3,
            steps=[
                ("待签", bj("2026-01-15 10:00")),
                ("已签", bj("2026-01-16 10:00")),
                ("已备案", bj("2026-01-20 10:00")),
                ("撤销", bj("2026-02-10 11:00")),
            ],
            cancel_reason="换房退房",
        ),
        contract_doc(
            4,
            steps=[("待签", bj("2026-02-11 10:00")), ("已签", bj("2026-02-11 15:00"))],
            previous_contract_no="YS2026P01000003",
        ),
        contract_doc(
            5,
            contract_type="现售",
            company=True,
            steps=[("已签", bj("2026-01-20 11:00")), ("已备案", bj("2026-01-25 11:00"))],
        ),
    ]
    # same-second contracts: the list order must break the tie by contract_no
    same = bj("2026-02-14 10:00")
    docs += [contract_doc(n, steps=[("待签", same - timedelta(days=1)), ("已签", same)]) for n in (6, 7, 8)]
    for n in range(9, 20):
        day = bj("2026-01-05 09:00") + timedelta(days=3 * n, hours=n % 5)
        docs.append(
            contract_doc(
                n,
                steps=[("待签", day), ("已签", day + timedelta(days=1)), ("已备案", day + timedelta(days=9))],
            )
        )
    docs.append(contract_doc(20, steps=[("待签", bj("2026-03-10 10:00"))]))
    return docs


def small_world(path: Path) -> Path:
    return write_world(path, small_world_docs())


def synthetic_world(path: Path, contracts: int) -> Path:
    """`contracts` look-alike contracts spread over the period, for smoke and throughput runs."""
    docs = []
    span = datetime.combine(END_ON, datetime.min.time()) - datetime.combine(START_ON, datetime.min.time())
    for n in range(1, contracts + 1):
        start = bj("2026-01-01 09:00") + span * ((n * 7919) % contracts) / contracts * 0.8
        start = start.replace(microsecond=0)
        steps = [("待签", start), ("已签", start + timedelta(days=2)), ("已备案", start + timedelta(days=12))]
        docs.append(contract_doc(n, steps=steps, company=n % 17 == 0))
    return write_world(path, docs)
