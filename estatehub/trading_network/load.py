"""Loading the trading network's contracts: raw → staging (`stg_tn_*`) → core, one batch at a time.

`load_batch` writes one batch inside the caller's transaction:

1. raw: every record as received, redacted, once per distinct payload (`raw_record`);
2. quarantine: records the connector refused, and contracts whose values the warehouse cannot hold
   exactly (a fraction of a fen, an area with three decimals, a naive time), with their reason;
   open entries of a key that now arrives in a good version as new or newer are resolved;
3. staging: the typed current version of each contract — an upsert that never replaces a newer
   `updated_at` by an older one (equal: the later fetch wins) — and its buyers, payment plan and
   state changes, replaced with it; the accepted rows carry the batch id;
4. core: the `sql/core/` models, each selecting the staged rows of the batch by `:batch_id`.

Buyers are stored by keyed hash and masked form only (`estatehub.warehouse.redact`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select

from connectors.trading_network.records import SOURCE, Contract, QuarantineItem
from estatehub.trading_network.tables import (
    stg_tn_contract,
    stg_tn_contract_buyer,
    stg_tn_payment_plan,
    stg_tn_state_change,
)
from estatehub.warehouse import sqlfiles
from estatehub.warehouse.engine import Warehouse
from estatehub.warehouse.etl import (
    Received,
    bulk_execute,
    bulk_insert,
    insert_raw,
    quarantine,
    quarantine_rows,
    raw_rows,
    resolve_quarantined,
    upsert_statement,
)
from estatehub.warehouse.redact import (
    ID_NUMBER,
    PHONE,
    PayloadShape,
    hash_id_number,
    hash_phone,
    mask_id_number,
    mask_phone_number,
)
from estatehub.warehouse.types import to_area, to_fen, to_share

log = logging.getLogger(__name__)

ENTITY = "contract"
STREAM = "contracts"

# the core build, in order (parents before children; each child model after its __delete)
CORE_MODELS = (
    "core/core_unit",
    "core/core_buyer",
    "core/core_contract",
    "core/core_contract_buyer__delete",
    "core/core_contract_buyer",
    "core/core_payment_plan__delete",
    "core/core_payment_plan",
    "core/core_contract_state_history__delete",
    "core/core_contract_state_history",
    "core/core_handover__delete",
    "core/core_handover",
    "core/core_registration__delete",
    "core/core_registration",
)

_CHILD_TABLES = (stg_tn_contract_buyer, stg_tn_payment_plan, stg_tn_state_change)


def _plain(*names: str) -> PayloadShape:
    return PayloadShape(dict.fromkeys(names))


# the contract object as the network sends it (`connectors.trading_network.parse`): its buyers'
# `id_number` and `phone` are redacted without walking every value (`redact.stored_payload`); a payload
# of another shape is redacted by the full walk
CONTRACT_PAYLOAD = PayloadShape(
    {
        **dict.fromkeys(
            (
                "contract_no",
                "contract_type",
                "state",
                "updated_at",
                "payment_method",
                "subscription_no",
                "previous_contract_no",
                "planned_signing_on",
                "signed_at",
                "filed_at",
            )
        ),
        "project": _plain("code", "name"),
        "house": _plain(
            "house_id",
            "building",
            "unit",
            "floor",
            "room",
            "permit_no",
            "usage",
            "building_area",
            "inner_area",
            "shared_area",
        ),
        "price": _plain("unit_price", "total_price", "deposit"),
        "cancellation": _plain("cancelled_at", "reason_code", "reason"),
        "buyers": [
            PayloadShape(
                {
                    **dict.fromkeys(("name", "id_type", "share", "is_primary")),
                    "id_number": ID_NUMBER,
                    "phone": PHONE,
                }
            )
        ],
        "payment_plan": [_plain("seq", "kind", "due_on", "amount", "bank")],
        "history": [_plain("state", "at", "reason_code", "reason")],
        "handover": _plain("handed_over_on", "as_built_area", "area_diff_amount"),
        "registration": _plain("status", "applied_on", "registered_on", "certificate_no"),
    }
)


@dataclass(slots=True)
class StagedContract:
    """A contract as typed staging rows: the header and its children."""

    contract: dict[str, Any]
    buyers: list[dict[str, Any]] = field(default_factory=list)
    payment_plan: list[dict[str, Any]] = field(default_factory=list)
    state_changes: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class BatchCounts:
    fetched: int
    loaded: int
    quarantined: int
    max_updated_at: datetime | None


def _utc(value: datetime | None, name: str) -> datetime | None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name}: expected a timezone-aware time, got the naive {value.isoformat()}")
    return value


def stage_contract(warehouse: Warehouse, contract: Contract, *, payload_hash: str) -> StagedContract:
    """The staging rows of one contract; `ValueError` when a value cannot be stored exactly."""
    house = contract.house
    cancellation = contract.cancellation
    handover = contract.handover
    registration = contract.registration
    header = {
        "contract_no": contract.contract_no,
        "contract_type": contract.contract_type,
        "state": contract.state,
        "updated_at": _utc(contract.updated_at, "updated_at"),
        "project_code": house.project_code,
        "project_name": house.project_name,
        "house_id": house.house_id,
        "building": house.building,
        "unit": house.unit,
        "floor": house.floor,
        "room": house.room,
        "permit_no": house.permit_no,
        "usage": house.usage,
        "building_area": to_area(house.building_area),
        "inner_area": to_area(house.inner_area),
        "shared_area": to_area(house.shared_area),
        "unit_price_fen": to_fen(contract.unit_price),
        "total_price_fen": to_fen(contract.total_price),
        "deposit_fen": to_fen(contract.deposit),
        "payment_method": contract.payment_method,
        "subscription_no": contract.subscription_no,
        "previous_contract_no": contract.previous_contract_no,
        "planned_signing_on": contract.planned_signing_on,
        "signed_at": _utc(contract.signed_at, "signed_at"),
        "filed_at": _utc(contract.filed_at, "filed_at"),
        "cancelled_at": _utc(cancellation.cancelled_at, "cancellation.cancelled_at") if cancellation else None,
        "cancel_reason_code": cancellation.reason_code if cancellation else None,
        "cancel_reason": cancellation.reason if cancellation else None,
        "handed_over_on": handover.handed_over_on if handover else None,
        "as_built_area": to_area(handover.as_built_area) if handover else None,
        "area_diff_fen": to_fen(handover.area_diff_amount) if handover else None,
        "registration_status": registration.status if registration else None,
        "registration_applied_on": registration.applied_on if registration else None,
        "registered_on": registration.registered_on if registration else None,
        "certificate_no": registration.certificate_no if registration else None,
        "payload_hash": payload_hash,
    }
    staged = StagedContract(header)
    hasher = warehouse.hasher
    for seq, buyer in enumerate(contract.buyers, start=1):
        staged.buyers.append(
            {
                "contract_no": contract.contract_no,
                "seq": seq,
                "id_hash": hash_id_number(hasher, buyer.id_number),
                "id_type": buyer.id_type,
                "id_masked": mask_id_number(buyer.id_number),
                "name": buyer.name,
                "phone_hash": hash_phone(hasher, buyer.phone) if buyer.phone else None,
                "phone_masked": mask_phone_number(buyer.phone) if buyer.phone else None,
                "share": to_share(buyer.share),
                "is_primary": buyer.is_primary,
                "is_company": buyer.is_company,
            }
        )
    for item in contract.payment_plan:
        staged.payment_plan.append(
            {
                "contract_no": contract.contract_no,
                "seq": item.seq,
                "kind": item.kind,
                "due_on": item.due_on,
                "amount_fen": to_fen(item.amount),
                "bank": item.bank,
            }
        )
    for seq, change in enumerate(contract.history, start=1):
        staged.state_changes.append(
            {
                "contract_no": contract.contract_no,
                "seq": seq,
                "state": change.state,
                "changed_at": _utc(change.at, f"history[{seq}].at"),
                "reason_code": change.reason_code,
                "reason": change.reason,
            }
        )
    if len({row["seq"] for row in staged.payment_plan}) != len(staged.payment_plan):
        raise ValueError("payment_plan: expected distinct seq numbers, got a repeated one")
    return staged


@dataclass(slots=True)
class PreparedBatch:
    """A batch turned into rows, ready to write: everything but the I/O (so it can run in the
    read-ahead thread while the previous batch is being written)."""

    run_id: str
    fetched_at: datetime
    fetched: int
    raw: list[dict[str, Any]]
    quarantine: list[dict[str, Any]]
    contracts: list[StagedContract]
    max_updated_at: datetime | None

    @property
    def good_versions(self) -> dict[str, datetime]:
        return {staged.contract["contract_no"]: staged.contract["updated_at"] for staged in self.contracts}


def prepare_batch(
    warehouse: Warehouse, records: Sequence[Contract | QuarantineItem], *, run_id: str, fetched_at: datetime
) -> PreparedBatch:
    """Hash, redact and type one batch of records (no I/O)."""
    hasher = warehouse.hasher
    received: list[Received] = []
    bad: list[tuple[int, Received]] = []
    good: dict[str, tuple[int, StagedContract]] = {}  # contract_no → (position, newest version)
    max_updated_at: datetime | None = None

    for position, record in enumerate(records):
        if isinstance(record, QuarantineItem):
            item = Received.of(
                hasher,
                source=record.source,
                entity=record.entity,
                record_key=record.key,
                payload=record.payload,
                updated_at=record.updated_at,
                reason=record.reason,
            )
            bad.append((position, item))
        elif isinstance(record, Contract):
            item = Received.of(
                hasher,
                source=SOURCE,
                entity=ENTITY,
                record_key=record.contract_no,
                payload=record.payload,
                updated_at=record.updated_at,
                shape=CONTRACT_PAYLOAD,
            )
            try:
                staged = stage_contract(warehouse, record, payload_hash=item.payload_hash)
            except (ValueError, TypeError) as exc:
                item = item.quarantined(f"contract {record.contract_no}: the warehouse cannot store it exactly: {exc}")
                bad.append((position, item))
            else:
                current = good.get(record.contract_no)
                if current is None or record.updated_at >= current[1].contract["updated_at"]:
                    good[record.contract_no] = (position, staged)
        else:
            raise TypeError(f"expected a Contract or a QuarantineItem, got {type(record).__name__}")
        received.append(item)
        if item.updated_at is not None and (max_updated_at is None or item.updated_at > max_updated_at):
            max_updated_at = item.updated_at

    return PreparedBatch(
        run_id=run_id,
        fetched_at=fetched_at,
        fetched=len(records),
        raw=raw_rows(hasher, received, run_id=run_id, fetched_at=fetched_at),
        quarantine=quarantine_rows(
            hasher,
            [item for _, item in bad],
            run_id=run_id,
            seen_at=fetched_at,
            resolved=_superseded_in_batch(bad, good),
        ),
        contracts=[staged for _, staged in good.values()],
        max_updated_at=max_updated_at,
    )


def write_batch(conn: Connection, batch: PreparedBatch, *, batch_id: str) -> BatchCounts:
    """Write a prepared batch (raw, quarantine, staging, core) inside the caller's transaction."""
    insert_raw(conn, batch.raw)
    resolve_quarantined(conn, SOURCE, ENTITY, batch.good_versions, resolved_at=batch.fetched_at)
    quarantine(conn, batch.quarantine)
    loaded, replacing = _stage(conn, batch.contracts, run_id=batch.run_id, batch_id=batch_id, at=batch.fetched_at)
    if loaded:
        build_core(conn, batch_id, replacing=replacing)
    return BatchCounts(
        fetched=batch.fetched,
        loaded=loaded,
        quarantined=sum(row["seen_count"] for row in batch.quarantine),
        max_updated_at=batch.max_updated_at,
    )


def load_batch(
    conn: Connection,
    warehouse: Warehouse,
    records: Sequence[Contract | QuarantineItem],
    *,
    run_id: str,
    batch_id: str,
    fetched_at: datetime,
) -> BatchCounts:
    """Prepare and write one batch of records inside the caller's transaction."""
    return write_batch(conn, prepare_batch(warehouse, records, run_id=run_id, fetched_at=fetched_at), batch_id=batch_id)


def _superseded_in_batch(bad: list[tuple[int, Received]], good: dict[str, tuple[int, StagedContract]]) -> set[str]:
    """Payload hashes of bad records followed, later in the same batch, by a good version as new or newer."""
    superseded = set()
    for position, item in bad:
        if item.source != SOURCE or item.entity != ENTITY or item.record_key not in good:
            continue
        good_position, staged = good[item.record_key]
        if good_position > position and (item.updated_at is None or item.updated_at <= staged.contract["updated_at"]):
            superseded.add(item.payload_hash)
    return superseded


def _stage(
    conn: Connection, contracts: list[StagedContract], *, run_id: str, batch_id: str, at: datetime
) -> tuple[int, bool]:
    """Upsert the batch's contracts into staging: (how many were accepted — not older than staged —,
    whether any of them replaced an earlier version)."""
    if not contracts:
        return 0, False
    header = stg_tn_contract
    numbers = [staged.contract["contract_no"] for staged in contracts]
    replacing = conn.execute(select(header.c.contract_no).where(header.c.contract_no.in_(numbers)).limit(1)).first()
    bulk_execute(
        conn,
        "stg_tn_contract:upsert",
        lambda c: upsert_statement(
            c, header, ["contract_no"], where=lambda excluded: excluded.updated_at >= header.c.updated_at
        ),
        [{**staged.contract, "batch_id": batch_id, "run_id": run_id, "loaded_at": at} for staged in contracts],
    )
    accepted = set(conn.execute(select(header.c.contract_no).where(header.c.batch_id == batch_id)).scalars())
    if not accepted:
        return 0, False
    if replacing is not None:  # a first load has no earlier children to remove
        batch_contracts = select(header.c.contract_no).where(header.c.batch_id == batch_id)
        for table in _CHILD_TABLES:
            conn.execute(delete(table).where(table.c.contract_no.in_(batch_contracts)))
    kept = [staged for staged in contracts if staged.contract["contract_no"] in accepted]
    for table, rows in (
        (stg_tn_contract_buyer, [row for staged in kept for row in staged.buyers]),
        (stg_tn_payment_plan, [row for staged in kept for row in staged.payment_plan]),
        (stg_tn_state_change, [row for staged in kept for row in staged.state_changes]),
    ):
        for row in rows:
            row["batch_id"] = batch_id
        bulk_insert(conn, table, rows)
    return len(accepted), replacing is not None


def build_core(conn: Connection, batch_id: str, *, replacing: bool = True) -> None:
    """Run the core models for the contracts staged in `batch_id` (without `replacing`, none of them
    was in the warehouse before, so the `__delete` models have nothing to do and are skipped)."""
    for model in CORE_MODELS:
        if replacing or not model.endswith("__delete"):
            sqlfiles.execute(conn, model, {"batch_id": batch_id})
