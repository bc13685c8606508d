"""The trading network's building tables (楼盘表) as a stream of the one runner (`estatehub.sync.stream`):
raw → staging (`stg_tn_inventory_unit`) → core (`core_unit_inventory` and its state history).

    result = sync_unit_inventory(client, warehouse)             # incremental from the stored cursor
    result = sync_unit_inventory(client, warehouse, full=True)  # every permit's whole table again

A row is keyed by the network's own names, `<permit_no>|<unit_code>`, and versioned by its
`updated_at`; one cursor covers every permit (each permit's table is asked `updated_since` it). The
runner writes raw records and the quarantine (rows the connector refused, values the warehouse
cannot hold exactly); `InventoryStream.write` stages the batch's rows (never an older over a newer)
and runs the core models: the sale-state history closes the open state of a unit whose state
changed and opens the new one, then `core_unit_inventory` takes the current row. `house_id` (the
network's 房屋编号, the one the contracts carry) joins a row to `core_unit` and its contracts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, func, select

from connectors.trading_network.records import INVENTORY_ENTITY, SOURCE, InventoryUnit, QuarantineItem
from estatehub.pii import PiiHasher
from estatehub.settings import TRADING_NETWORK_SYNC, SyncSettings
from estatehub.sync.runs import SyncResult
from estatehub.sync.stream import Batch, Stream, run_stream
from estatehub.trading_network.tables import stg_tn_inventory_unit
from estatehub.warehouse import sqlfiles
from estatehub.warehouse.engine import Warehouse
from estatehub.warehouse.etl import stage_newest
from estatehub.warehouse.types import to_area, to_fen

STREAM = "unit_inventory"

# the core build, in order: the history compares the staged state with the open one
CORE_MODELS = (
    "core/core_unit_inventory_state_history__close",
    "core/core_unit_inventory_state_history",
    "core/core_unit_inventory",
)


class InventorySource(Protocol):
    """What the sync needs of a trading-network client (`connectors.trading_network.client`)."""

    def iter_inventory(self, updated_since: datetime | None) -> Iterator[InventoryUnit | QuarantineItem]: ...


def stage_unit(unit: InventoryUnit, *, payload_hash: str) -> dict[str, Any]:
    """The staging row of one building-table row; `ValueError` when a value cannot be stored exactly."""
    if unit.updated_at.tzinfo is None or unit.updated_at.utcoffset() is None:
        raise ValueError(f"updated_at: expected a timezone-aware time, got the naive {unit.updated_at.isoformat()}")
    return {
        "permit_no": unit.permit_no,
        "unit_code": unit.unit_code,
        "project_code": unit.project_code,
        "project_name": unit.project_name,
        "house_id": unit.house_id,
        "realty_unit_no": unit.realty_unit_no,
        "building": unit.building,
        "unit": unit.unit,
        "floor": unit.floor,
        "room": unit.room,
        "usage": unit.usage,
        "building_area": to_area(unit.building_area),
        "inner_area": to_area(unit.inner_area),
        "record_unit_price_fen": to_fen(unit.record_unit_price),
        "record_total_price_fen": to_fen(unit.record_total_price),
        "sale_state": unit.sale_state,
        "restriction": unit.restriction,
        "updated_at": unit.updated_at,
        "payload_hash": payload_hash,
    }


class InventoryStream(Stream[InventoryUnit, dict[str, Any]]):
    """Every permit's building table: keyed by permit and unit code, versioned by `updated_at`."""

    source = SOURCE
    name = STREAM
    entity = INVENTORY_ENTITY
    record_type = InventoryUnit

    def __init__(self, client: InventorySource | None = None) -> None:
        self.client = client

    def fetch(self, since: datetime | None) -> Iterator[InventoryUnit | QuarantineItem]:
        if self.client is None:
            raise ValueError("expected a trading-network client to fetch from, got none")
        return self.client.iter_inventory(since)

    def key(self, record: InventoryUnit) -> str:
        return record.key

    def version(self, record: InventoryUnit) -> datetime:
        return record.updated_at

    def stage(self, record: InventoryUnit, *, payload_hash: str, hasher: PiiHasher) -> dict[str, Any]:
        return stage_unit(record, payload_hash=payload_hash)

    def write(self, conn: Connection, staged: list[dict[str, Any]], batch: Batch) -> int:
        accepted = stage_newest(
            conn,
            stg_tn_inventory_unit,
            ["permit_no", "unit_code"],
            staged,
            version="updated_at",
            batch_id=batch.batch_id,
            constants=batch.stamp,
            accepted="unit_code",
        )
        if not accepted:
            return 0
        for model in CORE_MODELS:
            sqlfiles.execute(conn, model, {"batch_id": batch.batch_id})
        table = stg_tn_inventory_unit
        # unit codes repeat across permits (parking B1-001): count the batch's rows, not the codes
        return conn.execute(
            select(func.count()).select_from(table).where(table.c.batch_id == batch.batch_id)
        ).scalar_one()


def sync_unit_inventory(
    client: InventorySource,
    warehouse: Warehouse,
    *,
    full: bool = False,
    settings: SyncSettings = TRADING_NETWORK_SYNC,
    run_id: str | None = None,
    read_ahead: bool = True,
) -> SyncResult:
    """Bring the trading network's building tables into the warehouse (see `run_stream` for the steps
    and what it raises)."""
    return run_stream(
        InventoryStream(client), warehouse, settings=settings, full=full, run_id=run_id, read_ahead=read_ahead
    )
