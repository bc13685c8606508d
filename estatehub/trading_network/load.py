"""The trading network's contracts as a stream of the one runner (`estatehub.sync.stream`): raw → staging
(`stg_tn_*`) → core.

The runner writes the raw records and the quarantine (records the connector refused, and contracts
whose values the warehouse cannot hold exactly: a fraction of a fen, an area with three decimals, a
naive time); `ContractStream.write` adds, inside the batch's transaction:

1. staging: the typed current version of each contract — never an older `updated_at` over a newer
   one (`stage_newest`; equal: the later fetch wins) — and its buyers, payment plan and state
   changes, replaced with it; the accepted rows carry the batch id;
2. core: the `sql/core/` models, each selecting the staged rows of the batch by `:batch_id`.

Buyers are stored by keyed hash and masked form only (`estatehub.warehouse.redact`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, delete, select

from connectors.trading_network.errors import BadRecord, ContractNotFound
from connectors.trading_network.records import SOURCE, Contract, QuarantineItem
from estatehub.pii import PiiHasher
from estatehub.sync.stream import Batch, BatchCounts, Stream, load_records
from estatehub.trading_network.tables import (
    stg_tn_contract,
    stg_tn_contract_buyer,
    stg_tn_payment_plan,
    stg_tn_state_change,
)
from estatehub.warehouse import sqlfiles
from estatehub.warehouse.engine import Warehouse
from estatehub.warehouse.etl import bulk_insert, stage_newest
from estatehub.warehouse.redact import (
    ID_NUMBER,
    PHONE,
    PayloadShape,
    hash_id_number,
    hash_phone,
    mask_id_number,
    mask_phone_number,
    redact_free_text,
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
                "refund_days",
                "subscription_no",
                "previous_contract_no",
                "planned_signing_on",
                "delivery_on",
                "registration_days",
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


def _utc(value: datetime | None, name: str) -> datetime | None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name}: expected a timezone-aware time, got the naive {value.isoformat()}")
    return value


def stage_contract(contract: Contract, *, payload_hash: str, hasher: PiiHasher) -> StagedContract:
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
        "refund_days": contract.refund_days,
        "subscription_no": contract.subscription_no,
        "previous_contract_no": contract.previous_contract_no,
        "planned_signing_on": contract.planned_signing_on,
        "delivery_on": contract.delivery_on,
        "registration_days": contract.registration_days,
        "signed_at": _utc(contract.signed_at, "signed_at"),
        "filed_at": _utc(contract.filed_at, "filed_at"),
        "cancelled_at": _utc(cancellation.cancelled_at, "cancellation.cancelled_at") if cancellation else None,
        "cancel_reason_code": cancellation.reason_code if cancellation else None,
        "cancel_reason": redact_free_text(hasher, cancellation.reason) if cancellation else None,
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
                "reason": redact_free_text(hasher, change.reason),
            }
        )
    if len({row["seq"] for row in staged.payment_plan}) != len(staged.payment_plan):
        raise ValueError("payment_plan: expected distinct seq numbers, got a repeated one")
    return staged


class ContractSource(Protocol):
    """What the sync needs of a trading-network client (`connectors.trading_network.client`)."""

    def iter_contracts(self, updated_since: datetime | None) -> Iterator[Contract | QuarantineItem]: ...

    def get_contract(self, contract_no: str) -> Contract: ...


class ContractStream(Stream[Contract, StagedContract]):
    """The network's contracts: keyed by contract number, versioned by `updated_at`."""

    source = SOURCE
    name = STREAM
    entity = ENTITY
    record_type = Contract
    shape = CONTRACT_PAYLOAD

    def __init__(self, client: ContractSource | None = None) -> None:
        self.client = client

    def fetch(self, since: datetime | None) -> Iterator[Contract | QuarantineItem]:
        if self.client is None:
            raise ValueError("expected a trading-network client to fetch from, got none")
        return self.client.iter_contracts(since)

    def refetch(self, keys: list[str]) -> Iterator[Contract | QuarantineItem]:
        """Each quarantined contract from the detail endpoint: its current version, still bad or not."""
        if self.client is None:
            raise ValueError("expected a trading-network client to fetch from, got none")
        for contract_no in keys:
            try:
                yield self.client.get_contract(contract_no)
            except BadRecord as exc:
                yield exc.item
            except ContractNotFound:
                log.warning("quarantined contract %s is no longer on the network; it stays quarantined", contract_no)

    def key(self, record: Contract) -> str:
        return record.contract_no

    def version(self, record: Contract) -> datetime:
        return record.updated_at

    def stage(self, record: Contract, *, payload_hash: str, hasher: PiiHasher) -> StagedContract:
        return stage_contract(record, payload_hash=payload_hash, hasher=hasher)

    def write(self, conn: Connection, staged: list[StagedContract], batch: Batch) -> int:
        loaded, replacing = _stage(conn, staged, batch)
        if loaded:
            build_core(conn, batch.batch_id, replacing=replacing)
        return loaded


def load_batch(
    conn: Connection,
    warehouse: Warehouse,
    records: list[Contract | QuarantineItem],
    *,
    run_id: str,
    batch_id: str,
    fetched_at: datetime,
) -> BatchCounts:
    """Load one batch of records inside the caller's transaction, without a run or a cursor (tests, benchmarks)."""
    return load_records(
        conn, ContractStream(), warehouse.hasher, records, run_id=run_id, batch_id=batch_id, fetched_at=fetched_at
    )


def _stage(conn: Connection, contracts: list[StagedContract], batch: Batch) -> tuple[int, bool]:
    """Upsert the batch's contracts into staging: (how many were accepted — not older than staged —,
    whether any of them replaced an earlier version)."""
    header = stg_tn_contract
    numbers = [staged.contract["contract_no"] for staged in contracts]
    replacing = conn.execute(select(header.c.contract_no).where(header.c.contract_no.in_(numbers)).limit(1)).first()
    accepted = stage_newest(
        conn,
        header,
        ["contract_no"],
        [staged.contract for staged in contracts],
        version="updated_at",
        batch_id=batch.batch_id,
        constants=batch.stamp,
    )
    if not accepted:
        return 0, False
    if replacing is not None:  # a first load has no earlier children to remove
        batch_contracts = select(header.c.contract_no).where(header.c.batch_id == batch.batch_id)
        for table in _CHILD_TABLES:
            conn.execute(delete(table).where(table.c.contract_no.in_(batch_contracts)))
    kept = [staged for staged in contracts if staged.contract["contract_no"] in accepted]
    for table, rows in (
        (stg_tn_contract_buyer, [row for staged in kept for row in staged.buyers]),
        (stg_tn_payment_plan, [row for staged in kept for row in staged.payment_plan]),
        (stg_tn_state_change, [row for staged in kept for row in staged.state_changes]),
    ):
        bulk_insert(conn, table, rows, constants={"batch_id": batch.batch_id})
    return len(accepted), replacing is not None


def build_core(conn: Connection, batch_id: str, *, replacing: bool = True) -> None:
    """Run the core models for the contracts staged in `batch_id` (without `replacing`, none of them
    was in the warehouse before, so the `__delete` models have nothing to do and are skipped)."""
    for model in CORE_MODELS:
        if replacing or not model.endswith("__delete"):
            sqlfiles.execute(conn, model, {"batch_id": batch_id})
