"""Fakes of the trading network for tests and benchmarks: synthetic contracts and in-memory clients.

`synthetic_versions(n)` gives every version of contract n over its life (待签 → 已签 → 已备案 → 已领证,
or 撤销), each with the JSON payload the network would send and the `Contract` the connector would
yield; ID numbers and phones are valid fakes (GB 11643 check digit, 139 mobiles). The world is a pure
function of n, so a test can ask for "the network as it stood at time T".

    FakeTradingNetworkClient(records)          serves a fixed list like the API: updated_since (>=),
                                               ordered by (updated_at, key); records each call's since
    world_at(count, now)                       the current version of contracts 0..count-1 at `now`
    StreamingFakeClient(count)                 count contracts generated on the fly (constant memory)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from connectors.identity import id_check_char, uscc_check_char
from connectors.trading_network.errors import BadRecord, ContractNotFound
from connectors.trading_network.records import (
    SOURCE,
    Buyer,
    Cancellation,
    Contract,
    Handover,
    House,
    PlanItem,
    QuarantineItem,
    Registration,
    StateChange,
)

BASE_AT = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
BEIJING = timezone(timedelta(hours=8))
PROJECTS = (("P01", "滨江悦府"), ("P02", "山海云庭"), ("P03", "南山里"))


def person_id_number(index: int) -> str:
    """A valid resident ID number, distinct for each index below 15 000 000."""
    birth = date(1960, 1, 1) + timedelta(days=index % 15_000)
    first17 = f"110105{birth:%Y%m%d}{(index // 15_000) % 1000:03d}"
    return first17 + id_check_char(first17)


def person_phone(index: int) -> str:
    return f"139{index % 100_000_000:08d}"


def company_credit_code(index: int) -> str:
    first17 = f"91440300MA5{index % 10_000_000:07d}"[:17]
    return first17 + uscc_check_char(first17)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(BEIJING).isoformat(timespec="seconds")


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


@dataclass(frozen=True)
class _Life:
    """When contract n reaches each stage."""

    created_at: datetime
    signed_at: datetime
    filed_at: datetime | None
    cancelled_at: datetime | None
    handed_over_at: datetime | None
    registered_at: datetime | None


def _life(n: int) -> _Life:
    created = BASE_AT + timedelta(minutes=7 * n)
    signed = created + timedelta(days=1, hours=n % 5)
    filed = None if n % 7 == 0 else signed + timedelta(days=5 + n % 20, minutes=13)
    cancelled = signed + timedelta(days=40) if n % 13 == 0 else None
    handed = filed + timedelta(days=60) if filed and not cancelled and n % 5 == 0 else None
    registered = handed + timedelta(days=30) if handed else None
    return _Life(created, signed, filed, cancelled, handed, registered)


def synthetic_versions(n: int) -> list[Contract]:
    """Every version of contract n, oldest first (one per state change)."""
    life = _life(n)
    moments = [
        life.created_at,
        life.signed_at,
        life.filed_at,
        life.cancelled_at,
        life.handed_over_at,
        life.registered_at,
    ]
    return [synthetic_contract(n, at) for at in sorted(m for m in moments if m is not None)]


def synthetic_contract(n: int, now: datetime | None = None) -> Contract | None:
    """Contract n as the network shows it at `now` (None: its last version); None before it exists."""
    life = _life(n)
    if now is None:
        now = datetime.max.replace(tzinfo=UTC)
    if now < life.created_at:
        return None
    history: list[dict[str, Any]] = [{"state": "待签", "at": life.created_at, "reason_code": None, "reason": None}]
    if life.signed_at <= now:
        history.append({"state": "已签", "at": life.signed_at, "reason_code": None, "reason": None})
    if life.filed_at and life.filed_at <= now:
        history.append({"state": "已备案", "at": life.filed_at, "reason_code": None, "reason": None})
    cancelled = life.cancelled_at is not None and life.cancelled_at <= now
    if cancelled:
        history.append({"state": "撤销", "at": life.cancelled_at, "reason_code": "换房退房", "reason": "客户换房"})
    handed = life.handed_over_at is not None and life.handed_over_at <= now
    registered = life.registered_at is not None and life.registered_at <= now
    if registered:
        history.append({"state": "已领证", "at": life.registered_at, "reason_code": None, "reason": None})
    updated_at = max([h["at"] for h in history] + ([life.handed_over_at] if handed else []))
    payload = _payload(n, life, history, updated_at, handed=handed, registered=registered, cancelled=cancelled)
    return _contract(payload, history, updated_at)


def _payload(
    n: int,
    life: _Life,
    history: list[dict[str, Any]],
    updated_at: datetime,
    *,
    handed: bool,
    registered: bool,
    cancelled: bool,
) -> dict[str, Any]:
    # the contract after a cancelled one (n % 13 == 0) replaces it on the same house
    h = n - 1 if n % 13 == 1 else n
    project_code, project_name = PROJECTS[h % len(PROJECTS)]
    building, unit, floor, room = 1 + h // 400, 1 + (h // 100) % 4, 1 + (h // 4) % 25, h % 4 + 1
    area = Decimal(80 + h % 60) + Decimal(h % 100) / 100
    inner = (area * Decimal("0.78")).quantize(Decimal("0.01"))
    unit_price = Decimal(30000 + (h % 50) * 100)
    total = (area * unit_price).quantize(Decimal("0.01"))
    deposit = Decimal(50000)
    down = (total * Decimal("0.3")).quantize(Decimal("0.01"))
    plan = [
        {"seq": 1, "kind": "定金", "due_on": str(life.created_at.date()), "amount": _money(deposit), "bank": None},
        {
            "seq": 2,
            "kind": "首付",
            "due_on": str((life.signed_at + timedelta(days=7)).date()),
            "amount": _money(down - deposit),
            "bank": None,
        },
        {
            "seq": 3,
            "kind": "按揭",
            "due_on": str((life.signed_at + timedelta(days=60)).date()),
            "amount": _money(total - down),
            "bank": "建设银行",
        },
    ]
    buyers = []
    if n % 50 == 49:
        buyers.append(
            {
                "name": "深圳市鹏程置业有限公司",
                "id_type": "统一社会信用代码",
                "id_number": company_credit_code(n),
                "phone": None,
                "share": "100.00",
                "is_primary": True,
            }
        )
    else:
        second = n % 4 == 0
        buyers.append(
            {
                "name": f"张{n % 97}三",
                "id_type": "身份证",
                "id_number": person_id_number(n),
                "phone": person_phone(n),
                "share": "50.00" if second else "100.00",
                "is_primary": True,
            }
        )
        if second:  # a co-buyer who also co-owns the next such contract: one person, two contracts
            other = 10_000_000 + n // 8
            buyers.append(
                {
                    "name": f"李{n % 89}四",
                    "id_type": "身份证",
                    "id_number": person_id_number(other),
                    "phone": person_phone(other),
                    "share": "50.00",
                    "is_primary": False,
                }
            )
    handover = None
    if handed:
        as_built = area + Decimal("0.28")
        diff = (Decimal("0.28") * unit_price).quantize(Decimal("0.01"))
        handover = {
            "handed_over_on": str(life.handed_over_at.astimezone(BEIJING).date()),
            "as_built_area": _money(as_built),
            "area_diff_amount": _money(diff),
        }
        plan.append(
            {"seq": 4, "kind": "补差", "due_on": handover["handed_over_on"], "amount": _money(diff), "bank": None}
        )
    registration = None
    if handed:
        registration = {
            "status": "已领证" if registered else "办理中",
            "applied_on": handover["handed_over_on"],
            "registered_on": str(life.registered_at.astimezone(BEIJING).date()) if registered else None,
            "certificate_no": f"粤（2026）深圳市不动产权第{n:07d}号" if registered else None,
        }
    return {
        "contract_no": f"YS2026{project_code}{n:07d}",
        "contract_type": "预售",
        "state": history[-1]["state"],
        "updated_at": _iso(updated_at),
        "project": {"code": project_code, "name": project_name},
        "house": {
            "house_id": f"{project_code}-{building:02d}-{unit}-{floor:02d}{room:02d}",
            "building": f"{building}栋",
            "unit": f"{unit}单元",
            "floor": floor,
            "room": f"{floor:02d}{room:02d}",
            "permit_no": f"深房许字（2025）南山{building:03d}号",
            "usage": "住宅",
            "building_area": _money(area),
            "inner_area": _money(inner),
            "shared_area": _money(area - inner),
        },
        "price": {"unit_price": _money(unit_price), "total_price": _money(total), "deposit": _money(deposit)},
        "payment_method": "商贷",
        "subscription_no": f"RG2026{project_code}{n:07d}",
        "previous_contract_no": f"YS2026{project_code}{h:07d}" if h != n else None,
        "planned_signing_on": None,
        "signed_at": _iso(life.signed_at) if len(history) > 1 else None,
        "filed_at": _iso(life.filed_at) if any(h["state"] == "已备案" for h in history) else None,
        "cancellation": {"cancelled_at": _iso(life.cancelled_at), "reason_code": "换房退房", "reason": "客户换房"}
        if cancelled
        else None,
        "buyers": buyers,
        "payment_plan": plan,
        "history": [{**h, "at": _iso(h["at"])} for h in history],
        "handover": handover,
        "registration": registration,
    }


def _date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _utc(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _contract(payload: dict[str, Any], history: list[dict[str, Any]], updated_at: datetime) -> Contract:
    """The `Contract` the connector would make of `payload`."""
    house, price = payload["house"], payload["price"]
    cancellation = payload["cancellation"]
    handover = payload["handover"]
    registration = payload["registration"]
    return Contract(
        contract_no=payload["contract_no"],
        contract_type=payload["contract_type"],
        state=payload["state"],
        updated_at=_utc(payload["updated_at"]),
        house=House(
            house_id=house["house_id"],
            project_code=payload["project"]["code"],
            project_name=payload["project"]["name"],
            building=house["building"],
            unit=house["unit"],
            floor=house["floor"],
            room=house["room"],
            permit_no=house["permit_no"],
            usage=house["usage"],
            building_area=_dec(house["building_area"]),
            inner_area=_dec(house["inner_area"]),
            shared_area=_dec(house["shared_area"]),
        ),
        unit_price=_dec(price["unit_price"]),
        total_price=_dec(price["total_price"]),
        deposit=_dec(price["deposit"]),
        payment_method=payload["payment_method"],
        refund_days=payload.get("refund_days"),
        subscription_no=payload["subscription_no"],
        previous_contract_no=payload["previous_contract_no"],
        planned_signing_on=_date(payload["planned_signing_on"]),
        signed_at=_utc(payload["signed_at"]),
        filed_at=_utc(payload["filed_at"]),
        cancellation=Cancellation(
            _utc(cancellation["cancelled_at"]), cancellation["reason_code"], cancellation["reason"]
        )
        if cancellation
        else None,
        buyers=tuple(
            Buyer(b["name"], b["id_type"], b["id_number"], b["phone"], _dec(b["share"]), b["is_primary"])
            for b in payload["buyers"]
        ),
        payment_plan=tuple(
            PlanItem(p["seq"], p["kind"], _date(p["due_on"]), _dec(p["amount"]), p["bank"])
            for p in payload["payment_plan"]
        ),
        history=tuple(
            StateChange(h["state"], _utc(h["at"]), h["reason_code"], h["reason"]) for h in payload["history"]
        ),
        handover=Handover(
            _date(handover["handed_over_on"]), _dec(handover["as_built_area"]), _dec(handover["area_diff_amount"])
        )
        if handover
        else None,
        registration=Registration(
            registration["status"],
            _date(registration["applied_on"]),
            _date(registration["registered_on"]),
            registration["certificate_no"],
        )
        if registration
        else None,
        payload=payload,
    )


def world_at(count: int, now: datetime) -> list[Contract]:
    """The current version at `now` of contracts 0..count-1 (those that exist by then)."""
    return [c for n in range(count) if (c := synthetic_contract(n, now)) is not None]


def bad_record(
    key: str | None,
    updated_at: datetime | None,
    *,
    reason: str = "price.total_price: expected a decimal string, got 'abc'",
    payload: Any = None,
) -> QuarantineItem:
    """A record the connector refused (by default a contract whose total price is not a number)."""
    if payload is None:
        payload = {"contract_no": key, "updated_at": _iso(updated_at), "price": {"total_price": "abc"}}
    return QuarantineItem(SOURCE, "contract", key, reason, payload, updated_at)


def _sort_key(record: Contract | QuarantineItem) -> tuple[datetime, str]:
    if isinstance(record, Contract):
        return record.updated_at, record.contract_no
    return record.updated_at or BASE_AT.replace(year=1970), record.key or ""


@dataclass
class FakeTradingNetworkClient:
    """Serves a fixed list of records as the network's list API does (inclusive `updated_since`,
    ordered by updated_at then key); `calls` records each `updated_since` asked for. A record without
    `updated_at` (a malformed one) is served to every call. `fail_after` raises `error` after that many
    records of a call."""

    records: Sequence[Contract | QuarantineItem]
    fail_after: int | None = None
    error: Callable[[], BaseException] = lambda: ConnectionError("the network went away (fake)")
    calls: list[datetime | None] = field(default_factory=list)
    detail_calls: list[str] = field(default_factory=list)

    def iter_contracts(self, updated_since: datetime | None = None) -> Iterator[Contract | QuarantineItem]:
        self.calls.append(updated_since)
        chosen = [
            r for r in self.records if updated_since is None or _sort_key(r)[0] >= updated_since or r.updated_at is None
        ]
        for served, record in enumerate(sorted(chosen, key=_sort_key)):
            if self.fail_after is not None and served >= self.fail_after:
                raise self.error()
            yield record

    def get_contract(self, contract_no: str) -> Contract:
        """The detail endpoint: the newest record of that number (a malformed one raises `BadRecord`)."""
        self.detail_calls.append(contract_no)
        return detail_of(self.records, contract_no)


def detail_of(records: Sequence[Any], contract_no: str) -> Contract:
    """What the network's detail endpoint answers for `contract_no` over these records."""
    versions = [r for r in records if (r.contract_no if isinstance(r, Contract) else r.key) == contract_no]
    if not versions:
        raise ContractNotFound(f"expected contract {contract_no} on the (fake) network, got 404", status=404)
    newest = max(versions, key=lambda r: r.updated_at or datetime.min.replace(tzinfo=UTC))
    if isinstance(newest, QuarantineItem):
        raise BadRecord(f"expected a valid contract, got {newest.reason}", item=newest)
    return newest


@dataclass
class StreamingFakeClient:
    """`count` synthetic contracts (their last version), generated as they are served: constant memory.

    Contracts are created 7 minutes apart, so the stream is (nearly) in `updated_at` order; a benchmark
    needs the records, not the order."""

    count: int
    calls: list[datetime | None] = field(default_factory=list)

    def iter_contracts(self, updated_since: datetime | None = None) -> Iterator[Contract | QuarantineItem]:
        self.calls.append(updated_since)
        for n in range(self.count):
            contract = synthetic_contract(n)
            if contract is not None and (updated_since is None or contract.updated_at >= updated_since):
                yield contract
