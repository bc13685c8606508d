"""The banks and the fund centre: loans with their stage history and contract link, statement lines,
the statement file registry and its audit trail.

Tables as `estatehub.banks.tables` describes them.

Revision ID: 0004_banks
Revises: 0005_ledger
Create Date: 2026-04-04

The revision id says "0004" (the number the banks were given); it chains after 0005_ledger, the newest
revision when it was written, so the history stays one line.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_banks"
down_revision = "0005_ledger"
branch_labels = None
depends_on = None

# frozen copies of the column types of estatehub.warehouse.types, as they were at this revision
UTC_TIMESTAMP = sa.DateTime(timezone=True)
MONEY = sa.BigInteger()  # integer fen
SURROGATE_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _loan_columns() -> list[sa.Column]:
    return [
        sa.Column("loan_type", sa.String(), nullable=False),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("reported_contract_no", sa.String()),
        sa.Column("borrower_name", sa.String(), nullable=False),
        sa.Column("borrower_id_type", sa.String(), nullable=False),
        sa.Column("borrower_id_hash", sa.String(), nullable=False),
        sa.Column("borrower_id_masked", sa.String(), nullable=False),
        sa.Column("property_address", sa.String()),
        sa.Column("branch", sa.String()),
        sa.Column("applied_fen", MONEY),
        sa.Column("approved_fen", MONEY),
        sa.Column("disbursed_fen", MONEY),
        sa.Column("applied_on", sa.Date()),
        sa.Column("approved_on", sa.Date()),
        sa.Column("disbursed_on", sa.Date()),
        sa.Column("updated_at", UTC_TIMESTAMP, nullable=False),
    ]


def _stage_columns() -> list[sa.Column]:
    return [
        sa.Column("bank", sa.String(), nullable=False),
        sa.Column("loan_no", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("entered_at", UTC_TIMESTAMP, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "stg_bank_loan",
        sa.Column("bank", sa.String(), nullable=False),
        sa.Column("loan_no", sa.String(), nullable=False),
        *_loan_columns(),
        sa.Column("payload_hash", sa.String(), nullable=False),
        sa.Column("batch_id", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("loaded_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("bank", "loan_no", name="pk_stg_bank_loan"),
    )
    op.create_index("ix_stg_bank_loan_batch_id", "stg_bank_loan", ["batch_id"])
    op.create_table(
        "stg_bank_loan_stage",
        *_stage_columns(),
        sa.PrimaryKeyConstraint("bank", "loan_no", "seq", name="pk_stg_bank_loan_stage"),
    )
    op.create_table(
        "core_bank_loan",
        sa.Column("bank", sa.String(), nullable=False),
        sa.Column("loan_no", sa.String(), nullable=False),
        sa.Column("contract_no", sa.String()),
        sa.Column("house_id", sa.String()),
        sa.Column("link_basis", sa.String(), nullable=False),
        *_loan_columns(),
        sa.PrimaryKeyConstraint("bank", "loan_no", name="pk_core_bank_loan"),
        sa.CheckConstraint(
            "link_basis in ('contract_no', 'buyer_id_unit', 'unlinked')", name="ck_core_bank_loan_link_basis"
        ),
    )
    op.create_index("ix_core_bank_loan_contract_no", "core_bank_loan", ["contract_no"])
    op.create_index("ix_core_bank_loan_link_basis", "core_bank_loan", ["link_basis"])
    op.create_table(
        "core_bank_loan_stage",
        *_stage_columns(),
        sa.PrimaryKeyConstraint("bank", "loan_no", "seq", name="pk_core_bank_loan_stage"),
    )
    op.create_table(
        "etl_bank_statement_file",
        sa.Column("file_id", SURROGATE_KEY, primary_key=True, autoincrement=True),
        sa.Column("bank", sa.String(), nullable=False),
        sa.Column("account_no", sa.String()),
        sa.Column("file_name", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("layout", sa.String()),
        sa.Column("period_start_on", sa.Date()),
        sa.Column("period_end_on", sa.Date()),
        sa.Column("version", sa.Integer()),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("quarantined_count", sa.Integer(), nullable=False),
        sa.Column("credit_count", sa.Integer(), nullable=False),
        sa.Column("debit_count", sa.Integer(), nullable=False),
        sa.Column("credit_fen", MONEY, nullable=False),
        sa.Column("debit_fen", MONEY, nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("origin", sa.String(), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("loaded_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("replaced_by_file_id", sa.BigInteger()),
        sa.Column("replaced_at", UTC_TIMESTAMP),
        sa.UniqueConstraint("sha256"),
        sa.CheckConstraint(
            "status in ('loaded', 'replaced', 'quarantined', 'superseded')", name="ck_etl_bank_statement_file_status"
        ),
    )
    op.create_index(
        "ix_etl_bank_statement_file_period",
        "etl_bank_statement_file",
        ["bank", "account_no", "period_start_on", "period_end_on"],
    )
    op.create_index("ix_etl_bank_statement_file_name", "etl_bank_statement_file", ["bank", "file_name"])
    op.create_table(
        "etl_bank_statement_event",
        sa.Column("event_id", SURROGATE_KEY, primary_key=True, autoincrement=True),
        sa.Column("file_id", sa.BigInteger()),
        sa.Column("bank", sa.String(), nullable=False),
        sa.Column("file_name", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("event", sa.String(), nullable=False),
        sa.Column("detail", sa.Text()),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("event_at", UTC_TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "event in ('loaded', 'duplicate', 'replaced', 'quarantined', 'superseded')",
            name="ck_etl_bank_statement_event_event",
        ),
    )
    op.create_index("ix_etl_bank_statement_event_file_id", "etl_bank_statement_event", ["file_id"])
    op.create_table(
        "core_bank_statement_line",
        sa.Column("line_key", sa.String(), primary_key=True),
        sa.Column("bank", sa.String(), nullable=False),
        sa.Column("account_no", sa.String()),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("booked_time", sa.String()),
        sa.Column("value_on", sa.Date()),
        sa.Column("direction", sa.String(), nullable=False),
        sa.Column("amount_fen", MONEY, nullable=False),
        sa.Column("balance_fen", MONEY),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("counterparty_name", sa.String()),
        sa.Column("counterparty_account", sa.String()),
        sa.Column("counterparty_bank", sa.String()),
        sa.Column("summary", sa.String()),
        sa.Column("memo", sa.Text()),
        sa.Column("serial", sa.String()),
        sa.Column("channel", sa.String()),
        sa.Column("layout", sa.String(), nullable=False),
        sa.Column("file_id", sa.BigInteger(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("first_file_id", sa.BigInteger(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("removed_by_file_id", sa.BigInteger()),
        sa.Column("loaded_at", UTC_TIMESTAMP, nullable=False),
        sa.CheckConstraint("direction in ('in', 'out')", name="ck_core_bank_statement_line_direction"),
    )
    op.create_index(
        "ix_core_bank_statement_line_account_booked_on", "core_bank_statement_line", ["account_no", "booked_on"]
    )
    op.create_index("ix_core_bank_statement_line_file_id", "core_bank_statement_line", ["file_id"])


def downgrade() -> None:
    for table in (
        "core_bank_statement_line",
        "etl_bank_statement_event",
        "etl_bank_statement_file",
        "core_bank_loan_stage",
        "core_bank_loan",
        "stg_bank_loan_stage",
        "stg_bank_loan",
    ):
        op.drop_table(table)
