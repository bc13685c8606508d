"""The trading network: staging (stg_tn_*) and core tables (units, buyers, contracts and what hangs on them).

Revision ID: 0002
Revises: 0001
Create Date: 2026-04-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# frozen copies of the column types of estatehub.warehouse.types, as they were at this revision
UTC_TIMESTAMP = sa.DateTime(timezone=True)
MONEY = sa.BigInteger()  # integer fen
AREA = sa.Numeric(12, 2)  # m², two decimals
SHARE = sa.Numeric(5, 2)  # percent


def _contract_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["contract_no"], ["core_contract.contract_no"], name=f"fk_{table}_contract_no")


def upgrade() -> None:
    _staging()
    _core()


def _staging() -> None:
    op.create_table(
        "stg_tn_contract",
        sa.Column("contract_no", sa.String(), primary_key=True),
        sa.Column("contract_type", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("updated_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("project_code", sa.String(), nullable=False),
        sa.Column("project_name", sa.String(), nullable=False),
        sa.Column("house_id", sa.String(), nullable=False),
        sa.Column("building", sa.String(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("floor", sa.Integer(), nullable=False),
        sa.Column("room", sa.String(), nullable=False),
        sa.Column("permit_no", sa.String()),
        sa.Column("usage", sa.String()),
        sa.Column("building_area", AREA, nullable=False),
        sa.Column("inner_area", AREA),
        sa.Column("shared_area", AREA),
        sa.Column("unit_price_fen", MONEY, nullable=False),
        sa.Column("total_price_fen", MONEY, nullable=False),
        sa.Column("deposit_fen", MONEY),
        sa.Column("payment_method", sa.String()),
        sa.Column("subscription_no", sa.String()),
        sa.Column("previous_contract_no", sa.String()),
        sa.Column("planned_signing_on", sa.Date()),
        sa.Column("signed_at", UTC_TIMESTAMP),
        sa.Column("filed_at", UTC_TIMESTAMP),
        sa.Column("cancelled_at", UTC_TIMESTAMP),
        sa.Column("cancel_reason_code", sa.String()),
        sa.Column("cancel_reason", sa.Text()),
        sa.Column("handed_over_on", sa.Date()),
        sa.Column("as_built_area", AREA),
        sa.Column("area_diff_fen", MONEY),
        sa.Column("registration_status", sa.String()),
        sa.Column("registration_applied_on", sa.Date()),
        sa.Column("registered_on", sa.Date()),
        sa.Column("certificate_no", sa.String()),
        sa.Column("payload_hash", sa.String(), nullable=False),
        sa.Column("batch_id", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("loaded_at", UTC_TIMESTAMP, nullable=False),
    )
    op.create_index("ix_stg_tn_contract_batch_id", "stg_tn_contract", ["batch_id"])
    op.create_index("ix_stg_tn_contract_house_id", "stg_tn_contract", ["house_id"])
    op.create_table(
        "stg_tn_contract_buyer",
        sa.Column("contract_no", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("id_hash", sa.String(), nullable=False),
        sa.Column("id_type", sa.String(), nullable=False),
        sa.Column("id_masked", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("phone_hash", sa.String()),
        sa.Column("phone_masked", sa.String()),
        sa.Column("share", SHARE),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("is_company", sa.Boolean(), nullable=False),
        sa.Column("batch_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("contract_no", "seq", name="pk_stg_tn_contract_buyer"),
    )
    op.create_index("ix_stg_tn_contract_buyer_id_hash", "stg_tn_contract_buyer", ["id_hash"])
    op.create_index("ix_stg_tn_contract_buyer_batch_id", "stg_tn_contract_buyer", ["batch_id"])
    op.create_table(
        "stg_tn_payment_plan",
        sa.Column("contract_no", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("due_on", sa.Date()),
        sa.Column("amount_fen", MONEY, nullable=False),
        sa.Column("bank", sa.String()),
        sa.Column("batch_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("contract_no", "seq", name="pk_stg_tn_payment_plan"),
    )
    op.create_index("ix_stg_tn_payment_plan_batch_id", "stg_tn_payment_plan", ["batch_id"])
    op.create_table(
        "stg_tn_state_change",
        sa.Column("contract_no", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("changed_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("reason_code", sa.String()),
        sa.Column("reason", sa.Text()),
        sa.Column("batch_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("contract_no", "seq", name="pk_stg_tn_state_change"),
    )
    op.create_index("ix_stg_tn_state_change_batch_id", "stg_tn_state_change", ["batch_id"])


def _core() -> None:
    op.create_table(
        "core_unit",
        sa.Column("house_id", sa.String(), primary_key=True),
        sa.Column("project_code", sa.String(), nullable=False),
        sa.Column("project_name", sa.String(), nullable=False),
        sa.Column("building", sa.String(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("floor", sa.Integer(), nullable=False),
        sa.Column("room", sa.String(), nullable=False),
        sa.Column("permit_no", sa.String()),
        sa.Column("usage", sa.String()),
        sa.Column("building_area", AREA, nullable=False),
        sa.Column("inner_area", AREA),
        sa.Column("shared_area", AREA),
    )
    op.create_table(
        "core_buyer",
        sa.Column("id_hash", sa.String(), primary_key=True),
        sa.Column("id_type", sa.String(), nullable=False),
        sa.Column("id_masked", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("phone_hash", sa.String()),
        sa.Column("phone_masked", sa.String()),
        sa.Column("is_company", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "core_contract",
        sa.Column("contract_no", sa.String(), primary_key=True),
        sa.Column("contract_type", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("house_id", sa.String(), nullable=False),
        sa.Column("unit_price_fen", MONEY, nullable=False),
        sa.Column("total_price_fen", MONEY, nullable=False),
        sa.Column("deposit_fen", MONEY),
        sa.Column("payment_method", sa.String()),
        sa.Column("subscription_no", sa.String()),
        sa.Column("previous_contract_no", sa.String()),
        sa.Column("planned_signing_on", sa.Date()),
        sa.Column("signed_at", UTC_TIMESTAMP),
        sa.Column("filed_at", UTC_TIMESTAMP),
        sa.Column("cancelled_at", UTC_TIMESTAMP),
        sa.Column("cancel_reason_code", sa.String()),
        sa.Column("cancel_reason", sa.Text()),
        sa.Column("updated_at", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["house_id"], ["core_unit.house_id"], name="fk_core_contract_house_id"),
    )
    op.create_index("ix_core_contract_house_id", "core_contract", ["house_id"])
    op.create_index("ix_core_contract_state", "core_contract", ["state"])
    op.create_table(
        "core_contract_buyer",
        sa.Column("contract_no", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("id_hash", sa.String(), nullable=False),
        sa.Column("share", SHARE),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("contract_no", "seq", name="pk_core_contract_buyer"),
        _contract_fk("core_contract_buyer"),
        sa.ForeignKeyConstraint(["id_hash"], ["core_buyer.id_hash"], name="fk_core_contract_buyer_id_hash"),
    )
    op.create_index("ix_core_contract_buyer_id_hash", "core_contract_buyer", ["id_hash"])
    op.create_table(
        "core_payment_plan",
        sa.Column("contract_no", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("due_on", sa.Date()),
        sa.Column("amount_fen", MONEY, nullable=False),
        sa.Column("bank", sa.String()),
        sa.PrimaryKeyConstraint("contract_no", "seq", name="pk_core_payment_plan"),
        _contract_fk("core_payment_plan"),
    )
    op.create_table(
        "core_contract_state_history",
        sa.Column("contract_no", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("valid_from", UTC_TIMESTAMP, nullable=False),
        sa.Column("valid_to", UTC_TIMESTAMP),
        sa.Column("reason_code", sa.String()),
        sa.Column("reason", sa.Text()),
        sa.PrimaryKeyConstraint("contract_no", "seq", name="pk_core_contract_state_history"),
        _contract_fk("core_contract_state_history"),
    )
    op.create_index("ix_core_contract_state_history_state", "core_contract_state_history", ["state", "valid_from"])
    op.create_table(
        "core_handover",
        sa.Column("contract_no", sa.String(), primary_key=True),
        sa.Column("handed_over_on", sa.Date(), nullable=False),
        sa.Column("as_built_area", AREA, nullable=False),
        sa.Column("area_diff_fen", MONEY, nullable=False),
        _contract_fk("core_handover"),
    )
    op.create_table(
        "core_registration",
        sa.Column("contract_no", sa.String(), primary_key=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("applied_on", sa.Date()),
        sa.Column("registered_on", sa.Date()),
        sa.Column("certificate_no", sa.String()),
        _contract_fk("core_registration"),
    )


def downgrade() -> None:
    for table in (
        "core_registration",
        "core_handover",
        "core_contract_state_history",
        "core_payment_plan",
        "core_contract_buyer",
        "core_contract",
        "core_buyer",
        "core_unit",
        "stg_tn_state_change",
        "stg_tn_payment_plan",
        "stg_tn_contract_buyer",
        "stg_tn_contract",
    ):
        op.drop_table(table)
