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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, delete, select

from connectors.identity import mask_id, mask_phone
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
    hash_normalized,
    redact_free_text,
    redacted_normalized,
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


# the staging rows' columns, in the order `stage_contract` writes each row's values
CONTRACT_COLUMNS = (
    "contract_no",
    "contract_type",
    "state",
    "updated_at",
    "project_code",
    "project_name",
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
    "unit_price_fen",
    "total_price_fen",
    "deposit_fen",
    "payment_method",
    "refund_days",
    "subscription_no",
    "previous_contract_no",
    "planned_signing_on",
    "delivery_on",
    "registration_days",
    "signed_at",
    "filed_at",
    "cancelled_at",
    "cancel_reason_code",
    "cancel_reason",
    "handed_over_on",
    "as_built_area",
    "area_diff_fen",
    "registration_status",
    "registration_applied_on",
    "registered_on",
    "certificate_no",
    "payload_hash",
)
BUYER_COLUMNS = (
    "contract_no",
    "seq",
    "id_hash",
    "id_type",
    "id_masked",
    "name",
    "phone_hash",
    "phone_masked",
    "share",
    "is_primary",
    "is_company",
)
PLAN_COLUMNS = ("contract_no", "seq", "kind", "due_on", "amount_fen", "bank")
STATE_CHANGE_COLUMNS = ("contract_no", "seq", "state", "changed_at", "reason_code", "reason")


@dataclass(slots=True)
class StagedContract:
    """A contract as typed staging rows, each a tuple of its table's columns (`CONTRACT_COLUMNS`,
    `BUYER_COLUMNS`, ...): the header and its children, written as whole columns (`bulk_execute`)."""

    contract: tuple[Any, ...]
    buyers: list[tuple[Any, ...]] = field(default_factory=list)
    payment_plan: list[tuple[Any, ...]] = field(default_factory=list)
    state_changes: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def contract_no(self) -> str:
        return self.contract[0]


def _utc(value: datetime | None, name: str) -> datetime | None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name}: expected a timezone-aware time, got the naive {value.isoformat()}")
    return value


def stage_contract(contract: Contract, *, payload_hash: str, hasher: PiiHasher) -> StagedContract:
    """The staging rows of one contract; `ValueError` when a value cannot be stored exactly."""
    number = contract.contract_no
    house = contract.house
    cancellation = contract.cancellation
    handover = contract.handover
    registration = contract.registration
    header = (
        number,
        contract.contract_type,
        contract.state,
        _utc(contract.updated_at, "updated_at"),
        house.project_code,
        house.project_name,
        house.house_id,
        house.building,
        house.unit,
        house.floor,
        house.room,
        house.permit_no,
        house.usage,
        to_area(house.building_area),
        to_area(house.inner_area),
        to_area(house.shared_area),
        to_fen(contract.unit_price),
        to_fen(contract.total_price),
        to_fen(contract.deposit),
        contract.payment_method,
        contract.refund_days,
        contract.subscription_no,
        contract.previous_contract_no,
        contract.planned_signing_on,
        contract.delivery_on,
        contract.registration_days,
        _utc(contract.signed_at, "signed_at"),
        _utc(contract.filed_at, "filed_at"),
        _utc(cancellation.cancelled_at, "cancellation.cancelled_at") if cancellation else None,
        cancellation.reason_code if cancellation else None,
        redact_free_text(hasher, cancellation.reason) if cancellation else None,
        handover.handed_over_on if handover else None,
        to_area(handover.as_built_area) if handover else None,
        to_fen(handover.area_diff_amount) if handover else None,
        registration.status if registration else None,
        registration.applied_on if registration else None,
        registration.registered_on if registration else None,
        registration.certificate_no if registration else None,
        payload_hash,
    )
    # the parser normalised the buyers' numbers (`validate_identifier`, `validate_phone`): not again here
    buyers = [
        (
            number,
            seq,
            hash_normalized(hasher, ID_NUMBER, buyer.id_number),
            buyer.id_type,
            mask_id(buyer.id_number),
            buyer.name,
            hash_normalized(hasher, PHONE, buyer.phone) if buyer.phone else None,
            mask_phone(buyer.phone) if buyer.phone else None,
            to_share(buyer.share),
            buyer.is_primary,
            buyer.is_company,
        )
        for seq, buyer in enumerate(contract.buyers, start=1)
    ]
    plan = [
        (number, item.seq, item.kind, item.due_on, to_fen(item.amount), item.bank) for item in contract.payment_plan
    ]
    changes = [
        (
            number,
            seq,
            change.state,
            _utc(change.at, f"history[{seq}].at"),
            change.reason_code,
            redact_free_text(hasher, change.reason),
        )
        for seq, change in enumerate(contract.history, start=1)
    ]
    if len({row[1] for row in plan}) != len(plan):
        raise ValueError("payment_plan: expected distinct seq numbers, got a repeated one")
    return StagedContract(header, buyers, plan, changes)


def buyer_redactions(contract: Contract, hasher: PiiHasher) -> dict[tuple[str, str], dict[str, str]]:
    """The stored form of the buyers' ID numbers and phones, by (kind, value as in the payload), from the
    values the parser normalised: the payload's redaction takes them (`redact.stored_payload`'s `known`)
    instead of normalising and hashing each number a second time. The parser keeps the buyers in the
    payload's order; a buyer whose value in the payload is not a string is left to the redaction."""
    known: dict[tuple[str, str], dict[str, str]] = {}
    received = contract.payload.get("buyers") if type(contract.payload) is dict else None
    if type(received) is not list or len(received) != len(contract.buyers):
        return known
    for entry, buyer in zip(received, contract.buyers, strict=True):
        if type(entry) is not dict:
            continue
        number, phone = entry.get("id_number"), entry.get("phone")
        if type(number) is str:
            known[(ID_NUMBER, number)] = redacted_normalized(hasher, ID_NUMBER, buyer.id_number)
        if type(phone) is str and buyer.phone:
            known[(PHONE, phone)] = redacted_normalized(hasher, PHONE, buyer.phone)
    return known


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

    def redactions(self, record: Contract, hasher: PiiHasher) -> Mapping[tuple[str, str], dict[str, str]]:
        return buyer_redactions(record, hasher)

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
    numbers = [staged.contract_no for staged in contracts]
    replacing = conn.execute(select(header.c.contract_no).where(header.c.contract_no.in_(numbers)).limit(1)).first()
    accepted = stage_newest(
        conn,
        header,
        ["contract_no"],
        [staged.contract for staged in contracts],
        version="updated_at",
        batch_id=batch.batch_id,
        constants=batch.stamp,
        columns=CONTRACT_COLUMNS,
    )
    if not accepted:
        return 0, False
    if replacing is not None:  # a first load has no earlier children to remove
        batch_contracts = select(header.c.contract_no).where(header.c.batch_id == batch.batch_id)
        for table in _CHILD_TABLES:
            conn.execute(delete(table).where(table.c.contract_no.in_(batch_contracts)))
    kept = [staged for staged in contracts if staged.contract_no in accepted]
    for table, columns, rows in (
        (stg_tn_contract_buyer, BUYER_COLUMNS, [row for staged in kept for row in staged.buyers]),
        (stg_tn_payment_plan, PLAN_COLUMNS, [row for staged in kept for row in staged.payment_plan]),
        (stg_tn_state_change, STATE_CHANGE_COLUMNS, [row for staged in kept for row in staged.state_changes]),
    ):
        bulk_insert(conn, table, rows, constants={"batch_id": batch.batch_id}, columns=columns)
    return len(accepted), replacing is not None


def build_core(conn: Connection, batch_id: str, *, replacing: bool = True) -> None:
    """Run the core models for the contracts staged in `batch_id` (without `replacing`, none of them
    was in the warehouse before, so the `__delete` models have nothing to do and are skipped)."""
    for model in CORE_MODELS:
        if replacing or not model.endswith("__delete"):
            sqlfiles.execute(conn, model, {"batch_id": batch_id})
