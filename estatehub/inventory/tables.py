"""The developer's own unit inventory (一房一价 table) as imported, and how it differs from the network's
(made by migration 0017_unit_inventory).

inventory_import        one row per imported file: its outside name (text only), SHA-256, counts
inventory_file_unit     the file's readable rows, typed, keyed by permit and unit code
inventory_diff          each difference of an import against `core_unit_inventory`: a unit missing on
                        either side, or a price, area or use that differs
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, PrimaryKeyConstraint, String, Table

from estatehub.warehouse.types import Area, Money, UtcDateTime

metadata = MetaData()

inventory_import = Table(
    "inventory_import",
    metadata,
    Column("import_id", String, primary_key=True),
    Column("file_name", String, nullable=False),
    Column("file_sha256", String, nullable=False),
    Column("imported_at", UtcDateTime, nullable=False),
    Column("row_count", Integer, nullable=False),
    Column("loaded_count", Integer, nullable=False),
    Column("quarantined_count", Integer, nullable=False),
    Column("diff_count", Integer, nullable=False),
)

inventory_file_unit = Table(
    "inventory_file_unit",
    metadata,
    Column("import_id", String, nullable=False),
    Column("permit_no", String, nullable=False),
    Column("unit_code", String, nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("usage", String),
    Column("building_area", Area),
    Column("inner_area", Area),
    Column("record_unit_price_fen", Money),
    Column("record_total_price_fen", Money),
    PrimaryKeyConstraint("import_id", "permit_no", "unit_code", name="pk_inventory_file_unit"),
)

inventory_diff = Table(
    "inventory_diff",
    metadata,
    Column("import_id", String, nullable=False),
    Column("permit_no", String, nullable=False),
    Column("unit_code", String, nullable=False),
    Column("kind", String, nullable=False),
    Column("file_value", String),
    Column("network_value", String),
    PrimaryKeyConstraint("import_id", "permit_no", "unit_code", "kind", name="pk_inventory_diff"),
)
