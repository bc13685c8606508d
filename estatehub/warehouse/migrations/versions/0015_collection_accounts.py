"""The collection accounts the banks list and their supervision records; the ledger's bank account per
voucher line (issue 11, section 1).

- `core_bank_account`: each collection account a bank holds for the developer, supervised (预售资金监管
  账户: for which pre-sale permit, its key-supervision amount 重点监管额度) or general (一般户);
- `core_bank_supervision`: the banks' refund approvals and releases (拨付) with the amounts the rule
  allowed and required to stay;
- `stg_fl_voucher_line.bank_account_no`, `core_voucher_line.bank_account_no`: the bank account number
  of a 银行存款 line, as the ledger's account carries it, to put ledger and statements side by side;
- `stg_bank_loan`, `core_bank_loan`: `guarantee_fen` (按揭保证金 held back from the disbursement) and
  `linked_loan_no` (组合贷: the other part of the same mortgage);
- `stg_tn_contract.refund_days`, `core_contract.refund_days`: the contract's refund term (15 or 30 days).

Revision ID: 0015_collection_accounts
Revises: 0014_pipeline_health
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_collection_accounts"
down_revision = "0014_pipeline_health"
branch_labels = None
depends_on = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)
MONEY = sa.BigInteger()  # integer fen


def _loaded() -> list[sa.Column]:
    return [
        sa.Column("payload_hash", sa.String(), nullable=False),
        sa.Column("batch_id", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("loaded_at", UTC_TIMESTAMP, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "core_bank_account",
        sa.Column("bank", sa.String(), nullable=False),
        sa.Column("account_no", sa.String(), nullable=False),
        sa.Column("account_type", sa.String(), nullable=False),
        sa.Column("account_name", sa.String()),
        sa.Column("permit_no", sa.String()),
        sa.Column("project_name", sa.String()),
        sa.Column("building", sa.String()),
        sa.Column("key_supervision_fen", MONEY),
        sa.Column("listed_at", UTC_TIMESTAMP, nullable=False),
        *_loaded(),
        sa.PrimaryKeyConstraint("bank", "account_no", name="pk_core_bank_account"),
        sa.CheckConstraint("account_type in ('supervised', 'general')", name="ck_core_bank_account_account_type"),
    )
    op.create_index("ix_core_bank_account_permit_no", "core_bank_account", ["permit_no"])
    op.create_table(
        "core_bank_supervision",
        sa.Column("bank", sa.String(), nullable=False),
        sa.Column("record_no", sa.String(), nullable=False),
        sa.Column("record_type", sa.String(), nullable=False),
        sa.Column("account_no", sa.String(), nullable=False),
        sa.Column("counter_account_no", sa.String()),
        sa.Column("permit_no", sa.String()),
        sa.Column("contract_no", sa.String()),
        sa.Column("milestone", sa.String()),
        sa.Column("amount_fen", MONEY, nullable=False),
        sa.Column("allowed_fen", MONEY),
        sa.Column("retained_fen", MONEY),
        sa.Column("approved_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("approved_on", sa.Date(), nullable=False),
        *_loaded(),
        sa.PrimaryKeyConstraint("bank", "record_no", name="pk_core_bank_supervision"),
        sa.CheckConstraint(
            "record_type in ('refund_approval', 'release')", name="ck_core_bank_supervision_record_type"
        ),
    )
    op.create_index("ix_core_bank_supervision_account", "core_bank_supervision", ["account_no", "approved_on"])
    op.create_index("ix_core_bank_supervision_contract_no", "core_bank_supervision", ["contract_no"])
    for table in ("stg_fl_voucher_line", "core_voucher_line"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("bank_account_no", sa.String(), nullable=True))
    for table in ("stg_tn_contract", "core_contract"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("refund_days", sa.Integer(), nullable=True))
    for table in ("stg_bank_loan", "core_bank_loan"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("guarantee_fen", MONEY, nullable=True))
            batch.add_column(sa.Column("linked_loan_no", sa.String(), nullable=True))


def downgrade() -> None:
    for table in ("core_bank_loan", "stg_bank_loan"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("linked_loan_no")
            batch.drop_column("guarantee_fen")
    for table in ("core_contract", "stg_tn_contract"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("refund_days")
    for table in ("core_voucher_line", "stg_fl_voucher_line"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("bank_account_no")
    op.drop_index("ix_core_bank_supervision_contract_no", table_name="core_bank_supervision")
    op.drop_index("ix_core_bank_supervision_account", table_name="core_bank_supervision")
    op.drop_table("core_bank_supervision")
    op.drop_index("ix_core_bank_account_permit_no", table_name="core_bank_account")
    op.drop_table("core_bank_account")
