"""The warehouse: SQLAlchemy 2 Core over SQLite (embedded default) and PostgreSQL (production).

Layers, by table-name prefix: `raw_` (every fetched record as received, redacted) → `stg_` (typed,
deduplicated, current) → `core_` (contracts and their state history, units, buyers, ...) → `mart_`.
`etl_` tables hold the loading machinery: sync state, runs, quarantine, meta.
"""

from estatehub.warehouse.engine import Warehouse, create_warehouse_engine
from estatehub.warehouse.errors import MigrationError, PiiKeyMismatch, WarehouseError

__all__ = ["MigrationError", "PiiKeyMismatch", "Warehouse", "WarehouseError", "create_warehouse_engine"]
