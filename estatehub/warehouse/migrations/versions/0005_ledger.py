"""The finance ledger: staging (stg_fl_*) and core tables (vouchers, lines, receipts, refunds, invoices, deposits).

Tables as `estatehub.ledger.tables` describes them. Voided and reversed items are kept and marked.

Revision ID: 0005_ledger
Revises: 0003_policy_monitor
Create Date: 2026-04-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_ledger"
down_revision = "0003_policy_monitor"  # the newest when written; 0004_banks chains after this one
branch_labels = None
depends_on = None

# frozen copies of the column types of estatehub.warehouse.types, as they were at this revision
UTC_TIMESTAMP = sa.DateTime(timezone=True)
MONEY = sa.BigInteger()  # integer fen
CONFIDENCE = sa.Numeric(4, 3)
RATE = sa.Numeric(5, 2)

TABLES = (
    "stg_fl_voucher_line", "stg_fl_receipt", "stg_fl_refund", "stg_fl_invoice",
    "core_voucher", "core_voucher_line", "core_receipt", "core_refund", "core_invoice", "core_deposit",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "core_deposit",
        sa.Column("bill_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("bill_no", sa.String(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("customer_code", sa.String()),
        sa.Column("customer_name", sa.String()),
        sa.Column("phase_code", sa.String()),
        sa.Column("amount_fen", MONEY, nullable=False),
        sa.Column("converted_fen", MONEY, nullable=False),
        sa.Column("is_converted", sa.Boolean(), nullable=False),
        sa.Column("is_voided", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "core_invoice",
        sa.Column("invoice_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("bill_no", sa.String(), nullable=False, unique=True),
        sa.Column("invoice_type", sa.String(), nullable=False),
        sa.Column("invoice_no", sa.String(), nullable=False),
        sa.Column("invoice_on", sa.Date(), nullable=False),
        sa.Column("customer_code", sa.String()),
        sa.Column("customer_name", sa.String()),
        sa.Column("tax_code", sa.String()),
        sa.Column("tax_rate", RATE, nullable=False),
        sa.Column("amount_fen", MONEY, nullable=False),
        sa.Column("tax_fen", MONEY, nullable=False),
        sa.Column("is_red", sa.Boolean(), nullable=False),
        sa.Column("blue_invoice_no", sa.String()),
        sa.Column("source_bill_no", sa.String()),
        sa.Column("remark", sa.Text(), nullable=False),
        sa.Column("phase_code", sa.String()),
        sa.Column("is_audited", sa.Boolean(), nullable=False),
        sa.Column("is_voided", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("modified_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("payment_kind", sa.String()),
        sa.Column("memo_units", sa.String()),
        sa.Column("memo_confidence", CONFIDENCE),
        sa.Column("memo_rule", sa.String()),
        sa.Column("contract_no", sa.String()),
        sa.Column("house_id", sa.String()),
        sa.Column("link_basis", sa.String()),
        sa.Column("link_confidence", CONFIDENCE),
        sa.Column("linked_at", UTC_TIMESTAMP),
    )
    op.create_index("ix_core_invoice_source_bill_no", "core_invoice", ["source_bill_no"])
    op.create_index("ix_core_invoice_invoice_no", "core_invoice", ["invoice_no"])
    op.create_table(
        "core_receipt",
        sa.Column("bill_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("bill_no", sa.String(), nullable=False, unique=True),
        sa.Column("receipt_on", sa.Date(), nullable=False),
        sa.Column("customer_code", sa.String()),
        sa.Column("customer_name", sa.String()),
        sa.Column("payer", sa.String()),
        sa.Column("settle_type", sa.String()),
        sa.Column("purpose", sa.String()),
        sa.Column("bank_account_no", sa.String()),
        sa.Column("amount_fen", MONEY, nullable=False),
        sa.Column("remark", sa.Text(), nullable=False),
        sa.Column("phase_code", sa.String()),
        sa.Column("is_audited", sa.Boolean(), nullable=False),
        sa.Column("is_voided", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("modified_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("payment_kind", sa.String()),
        sa.Column("memo_units", sa.String()),
        sa.Column("memo_confidence", CONFIDENCE),
        sa.Column("memo_rule", sa.String()),
        sa.Column("contract_no", sa.String()),
        sa.Column("house_id", sa.String()),
        sa.Column("link_basis", sa.String()),
        sa.Column("link_confidence", CONFIDENCE),
        sa.Column("linked_at", UTC_TIMESTAMP),
    )
    op.create_index("ix_core_receipt_contract_no", "core_receipt", ["contract_no"])
    op.create_index("ix_core_receipt_customer_code", "core_receipt", ["customer_code"])
    op.create_table(
        "core_refund",
        sa.Column("bill_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("bill_no", sa.String(), nullable=False, unique=True),
        sa.Column("refund_on", sa.Date(), nullable=False),
        sa.Column("customer_code", sa.String()),
        sa.Column("customer_name", sa.String()),
        sa.Column("payee", sa.String()),
        sa.Column("bank_account_no", sa.String()),
        sa.Column("amount_fen", MONEY, nullable=False),
        sa.Column("remark", sa.Text(), nullable=False),
        sa.Column("phase_code", sa.String()),
        sa.Column("is_audited", sa.Boolean(), nullable=False),
        sa.Column("is_voided", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("modified_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("payment_kind", sa.String()),
        sa.Column("memo_units", sa.String()),
        sa.Column("memo_confidence", CONFIDENCE),
        sa.Column("memo_rule", sa.String()),
        sa.Column("contract_no", sa.String()),
        sa.Column("house_id", sa.String()),
        sa.Column("link_basis", sa.String()),
        sa.Column("link_confidence", CONFIDENCE),
        sa.Column("linked_at", UTC_TIMESTAMP),
    )
    op.create_index("ix_core_refund_contract_no", "core_refund", ["contract_no"])
    op.create_table(
        "core_voucher",
        sa.Column("voucher_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("voucher_group", sa.String(), nullable=False),
        sa.Column("voucher_number", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("voucher_on", sa.Date(), nullable=False),
        sa.Column("source_bill_no", sa.String()),
        sa.Column("is_audited", sa.Boolean(), nullable=False),
        sa.Column("is_voided", sa.Boolean(), nullable=False),
        sa.Column("is_reversal", sa.Boolean(), nullable=False),
        sa.Column("reversed_voucher_id", sa.BigInteger()),
        sa.Column("reversed_by_voucher_id", sa.BigInteger()),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("modified_at", UTC_TIMESTAMP, nullable=False),
    )
    op.create_index("ix_core_voucher_period", "core_voucher", ["year", "period", "voucher_number"])
    op.create_table(
        "core_voucher_line",
        sa.Column("entry_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("voucher_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("voucher_on", sa.Date(), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("account_no", sa.String(), nullable=False),
        sa.Column("account_name", sa.String()),
        sa.Column("debit_fen", MONEY, nullable=False),
        sa.Column("credit_fen", MONEY, nullable=False),
        sa.Column("customer_code", sa.String()),
        sa.Column("customer_name", sa.String()),
        sa.Column("phase_code", sa.String()),
        sa.Column("is_voided", sa.Boolean(), nullable=False),
        sa.Column("payment_kind", sa.String()),
        sa.Column("memo_units", sa.String()),
        sa.Column("memo_confidence", CONFIDENCE),
    )
    op.create_index("ix_core_voucher_line_voucher_id", "core_voucher_line", ["voucher_id"])
    op.create_index("ix_core_voucher_line_account", "core_voucher_line", ["account_no", "customer_code"])
    op.create_table(
        "stg_fl_invoice",
        sa.Column("invoice_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("bill_no", sa.String(), nullable=False),
        sa.Column("invoice_type", sa.String(), nullable=False),
        sa.Column("invoice_no", sa.String(), nullable=False),
        sa.Column("invoice_on", sa.Date(), nullable=False),
        sa.Column("customer_code", sa.String()),
        sa.Column("customer_name", sa.String()),
        sa.Column("tax_code", sa.String()),
        sa.Column("tax_rate", RATE, nullable=False),
        sa.Column("amount_fen", MONEY, nullable=False),
        sa.Column("tax_fen", MONEY, nullable=False),
        sa.Column("is_red", sa.Boolean(), nullable=False),
        sa.Column("blue_invoice_no", sa.String()),
        sa.Column("source_bill_no", sa.String()),
        sa.Column("remark", sa.Text(), nullable=False),
        sa.Column("phase_code", sa.String()),
        sa.Column("phase_name", sa.String()),
        sa.Column("is_audited", sa.Boolean(), nullable=False),
        sa.Column("is_voided", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("modified_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("payment_kind", sa.String()),
        sa.Column("memo_units", sa.String()),
        sa.Column("memo_confidence", CONFIDENCE),
        sa.Column("memo_rule", sa.String()),
        sa.Column("payload_hash", sa.String(), nullable=False),
        sa.Column("batch_id", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("loaded_at", UTC_TIMESTAMP, nullable=False),
    )
    op.create_index("ix_stg_fl_invoice_batch_id", "stg_fl_invoice", ["batch_id"])
    op.create_table(
        "stg_fl_receipt",
        sa.Column("bill_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("bill_no", sa.String(), nullable=False),
        sa.Column("receipt_on", sa.Date(), nullable=False),
        sa.Column("customer_code", sa.String()),
        sa.Column("customer_name", sa.String()),
        sa.Column("payer", sa.String()),
        sa.Column("settle_type", sa.String()),
        sa.Column("purpose", sa.String()),
        sa.Column("bank_account_no", sa.String()),
        sa.Column("bank_account_name", sa.String()),
        sa.Column("amount_fen", MONEY, nullable=False),
        sa.Column("remark", sa.Text(), nullable=False),
        sa.Column("phase_code", sa.String()),
        sa.Column("phase_name", sa.String()),
        sa.Column("is_audited", sa.Boolean(), nullable=False),
        sa.Column("is_voided", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("modified_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("payment_kind", sa.String()),
        sa.Column("memo_units", sa.String()),
        sa.Column("memo_confidence", CONFIDENCE),
        sa.Column("memo_rule", sa.String()),
        sa.Column("payload_hash", sa.String(), nullable=False),
        sa.Column("batch_id", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("loaded_at", UTC_TIMESTAMP, nullable=False),
    )
    op.create_index("ix_stg_fl_receipt_batch_id", "stg_fl_receipt", ["batch_id"])
    op.create_table(
        "stg_fl_refund",
        sa.Column("bill_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("bill_no", sa.String(), nullable=False),
        sa.Column("refund_on", sa.Date(), nullable=False),
        sa.Column("customer_code", sa.String()),
        sa.Column("customer_name", sa.String()),
        sa.Column("payee", sa.String()),
        sa.Column("bank_account_no", sa.String()),
        sa.Column("bank_account_name", sa.String()),
        sa.Column("amount_fen", MONEY, nullable=False),
        sa.Column("remark", sa.Text(), nullable=False),
        sa.Column("phase_code", sa.String()),
        sa.Column("phase_name", sa.String()),
        sa.Column("is_audited", sa.Boolean(), nullable=False),
        sa.Column("is_voided", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("modified_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("payment_kind", sa.String()),
        sa.Column("memo_units", sa.String()),
        sa.Column("memo_confidence", CONFIDENCE),
        sa.Column("memo_rule", sa.String()),
        sa.Column("payload_hash", sa.String(), nullable=False),
        sa.Column("batch_id", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("loaded_at", UTC_TIMESTAMP, nullable=False),
    )
    op.create_index("ix_stg_fl_refund_batch_id", "stg_fl_refund", ["batch_id"])
    op.create_table(
        "stg_fl_voucher_line",
        sa.Column("entry_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("voucher_id", sa.BigInteger(), nullable=False),
        sa.Column("voucher_group", sa.String(), nullable=False),
        sa.Column("voucher_number", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("voucher_on", sa.Date(), nullable=False),
        sa.Column("source_bill_no", sa.String()),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("account_no", sa.String(), nullable=False),
        sa.Column("account_name", sa.String()),
        sa.Column("debit_fen", MONEY, nullable=False),
        sa.Column("credit_fen", MONEY, nullable=False),
        sa.Column("customer_code", sa.String()),
        sa.Column("customer_name", sa.String()),
        sa.Column("phase_code", sa.String()),
        sa.Column("phase_name", sa.String()),
        sa.Column("is_audited", sa.Boolean(), nullable=False),
        sa.Column("is_voided", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("modified_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("payment_kind", sa.String()),
        sa.Column("memo_units", sa.String()),
        sa.Column("memo_confidence", CONFIDENCE),
        sa.Column("memo_rule", sa.String()),
        sa.Column("reverses_year", sa.Integer()),
        sa.Column("reverses_period", sa.Integer()),
        sa.Column("reverses_number", sa.Integer()),
        sa.Column("payload_hash", sa.String(), nullable=False),
        sa.Column("batch_id", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("loaded_at", UTC_TIMESTAMP, nullable=False),
    )
    op.create_index("ix_stg_fl_voucher_line_batch_id", "stg_fl_voucher_line", ["batch_id"])


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
