"""The unit inventory (issue 12, section 1): the trading network's building tables (楼盘表) and the
developer's own 一房一价 file checked against them.

- `stg_tn_inventory_unit`, `core_unit_inventory`: every unit of every permit, keyed by permit number and
  the network's unit code, with its areas, 备案价, use and sale state (可售, 已签, 已备案, 限制, 不可售);
  `house_id` joins it to `core_unit` and the contracts;
- `core_unit_inventory_state_history`: each unit's sale states with `valid_from` / `valid_to`;
- `inventory_import`, `inventory_file_unit`, `inventory_diff`: each imported file, its rows and its
  differences from the network's inventory.

Revision ID: 0017_unit_inventory
Revises: 0016_work_lists
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_unit_inventory"
down_revision = "0016_work_lists"
branch_labels = None
depends_on = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)
MONEY = sa.BigInteger()  # integer fen
AREA = sa.Numeric(12, 2)  # m², two decimals


def _unit_columns() -> list[sa.Column]:
    return [
        sa.Column("permit_no", sa.String(), nullable=False),
        sa.Column("unit_code", sa.String(), nullable=False),
        sa.Column("project_code", sa.String()),
        sa.Column("project_name", sa.String()),
        sa.Column("house_id", sa.String()),
        sa.Column("realty_unit_no", sa.String()),
        sa.Column("building", sa.String(), nullable=False),
        sa.Column("unit", sa.String()),
        sa.Column("floor", sa.Integer(), nullable=False),
        sa.Column("room", sa.String(), nullable=False),
        sa.Column("usage", sa.String(), nullable=False),
        sa.Column("building_area", AREA, nullable=False),
        sa.Column("inner_area", AREA),
        sa.Column("record_unit_price_fen", MONEY),
        sa.Column("record_total_price_fen", MONEY, nullable=False),
        sa.Column("sale_state", sa.String(), nullable=False),
        sa.Column("restriction", sa.String()),
        sa.Column("updated_at", UTC_TIMESTAMP, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "stg_tn_inventory_unit",
        *_unit_columns(),
        sa.Column("payload_hash", sa.String(), nullable=False),
        sa.Column("batch_id", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("loaded_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("permit_no", "unit_code", name="pk_stg_tn_inventory_unit"),
    )
    op.create_index("ix_stg_tn_inventory_unit_batch_id", "stg_tn_inventory_unit", ["batch_id"])
    op.create_table(
        "core_unit_inventory",
        *_unit_columns(),
        sa.PrimaryKeyConstraint("permit_no", "unit_code", name="pk_core_unit_inventory"),
    )
    op.create_index("ix_core_unit_inventory_house_id", "core_unit_inventory", ["house_id"])
    op.create_index("ix_core_unit_inventory_project", "core_unit_inventory", ["project_code", "usage"])
    op.create_table(
        "core_unit_inventory_state_history",
        sa.Column("permit_no", sa.String(), nullable=False),
        sa.Column("unit_code", sa.String(), nullable=False),
        sa.Column("valid_from", UTC_TIMESTAMP, nullable=False),
        sa.Column("valid_to", UTC_TIMESTAMP),
        sa.Column("sale_state", sa.String(), nullable=False),
        sa.Column("restriction", sa.String()),
        sa.PrimaryKeyConstraint("permit_no", "unit_code", "valid_from", name="pk_core_unit_inventory_state_history"),
    )
    op.create_index(
        "ix_core_unit_inventory_state_history_state",
        "core_unit_inventory_state_history",
        ["sale_state", "valid_from"],
    )
    op.create_table(
        "inventory_import",
        sa.Column("import_id", sa.String(), primary_key=True),
        sa.Column("file_name", sa.String(), nullable=False),
        sa.Column("file_sha256", sa.String(), nullable=False),
        sa.Column("imported_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("loaded_count", sa.Integer(), nullable=False),
        sa.Column("quarantined_count", sa.Integer(), nullable=False),
        sa.Column("diff_count", sa.Integer(), nullable=False),
    )
    op.create_table(
        "inventory_file_unit",
        sa.Column("import_id", sa.String(), nullable=False),
        sa.Column("permit_no", sa.String(), nullable=False),
        sa.Column("unit_code", sa.String(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("usage", sa.String()),
        sa.Column("building_area", AREA),
        sa.Column("inner_area", AREA),
        sa.Column("record_unit_price_fen", MONEY),
        sa.Column("record_total_price_fen", MONEY),
        sa.PrimaryKeyConstraint("import_id", "permit_no", "unit_code", name="pk_inventory_file_unit"),
    )
    op.create_table(
        "inventory_diff",
        sa.Column("import_id", sa.String(), nullable=False),
        sa.Column("permit_no", sa.String(), nullable=False),
        sa.Column("unit_code", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("file_value", sa.String()),
        sa.Column("network_value", sa.String()),
        sa.PrimaryKeyConstraint("import_id", "permit_no", "unit_code", "kind", name="pk_inventory_diff"),
    )


def downgrade() -> None:
    for table in (
        "inventory_diff",
        "inventory_file_unit",
        "inventory_import",
        "core_unit_inventory_state_history",
        "core_unit_inventory",
        "stg_tn_inventory_unit",
    ):
        op.drop_table(table)
