"""The finance ledger's tables, as SQLAlchemy Core objects (made by migration 0005_ledger).

    stg_fl_voucher_line   each voucher entry as last fetched (typed), with its memo read
    stg_fl_receipt        each receipt bill (收款单) as last fetched
    stg_fl_refund         each refund bill (收款退款单) as last fetched
    stg_fl_invoice        each invoice / receipt slip as last fetched
    core_voucher          vouchers: number, period, status; a red reversal points at what it reverses
    core_voucher_line     voucher entries with accounts, amounts, auxiliary customer and project phase
    core_receipt          receipts, with the contract and house they resolve to, the basis and a confidence
    core_refund           refunds, linked the same way
    core_invoice          invoices (收据, 602 预收款发票, final VAT invoices; red ones negative), linked
    core_deposit          诚意金 received and how much of it was converted (转定金)

Voided (作废) and reversed (红冲) items are kept and marked (`is_voided`, `reversed_voucher_id`,
`reversed_by_voucher_id`), never deleted. Money in integer fen; times UTC; business dates as dates.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, Index, Integer, MetaData, Numeric, String, Table, Text

from estatehub.warehouse.types import Money, UtcDateTime

metadata = MetaData()

Confidence = Numeric(4, 3)
Rate = Numeric(5, 2)


def _status() -> list[Column]:
    return [
        Column("is_audited", Boolean, nullable=False),
        Column("is_voided", Boolean, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("modified_at", UtcDateTime, nullable=False),
    ]


def _memo() -> list[Column]:
    return [
        Column("payment_kind", String),
        Column("memo_units", String),  # the units the memo names, `3-2-1502;3-2-1503` (`?` for a part left out)
        Column("memo_confidence", Confidence),
        Column("memo_rule", String),
    ]


def _loaded() -> list[Column]:
    return [
        Column("payload_hash", String, nullable=False),
        Column("batch_id", String, nullable=False),
        Column("run_id", String, nullable=False),
        Column("loaded_at", UtcDateTime, nullable=False),
    ]


def _link() -> list[Column]:
    return [
        Column("contract_no", String),
        Column("house_id", String),
        Column("link_basis", String),
        Column("link_confidence", Confidence),
        Column("linked_at", UtcDateTime),
    ]


# -- staging ---------------------------------------------------------------------------------------

stg_fl_voucher_line = Table(
    "stg_fl_voucher_line",
    metadata,
    Column("entry_id", BigInteger, primary_key=True, autoincrement=False),
    Column("voucher_id", BigInteger, nullable=False),
    Column("voucher_group", String, nullable=False),
    Column("voucher_number", Integer, nullable=False),
    Column("year", Integer, nullable=False),
    Column("period", Integer, nullable=False),
    Column("voucher_on", Date, nullable=False),
    Column("source_bill_no", String),
    Column("seq", Integer, nullable=False),
    Column("memo", Text, nullable=False),
    Column("account_no", String, nullable=False),
    Column("account_name", String),
    Column("bank_account_no", String),  # the bank account of a 银行存款 line (0015)
    Column("debit_fen", Money, nullable=False),
    Column("credit_fen", Money, nullable=False),
    Column("customer_code", String),
    Column("customer_name", String),
    Column("phase_code", String),
    Column("phase_name", String),
    *_status(),
    *_memo(),
    Column("reverses_year", Integer),
    Column("reverses_period", Integer),
    Column("reverses_number", Integer),
    *_loaded(),
    Index("ix_stg_fl_voucher_line_batch_id", "batch_id"),
)

stg_fl_receipt = Table(
    "stg_fl_receipt",
    metadata,
    Column("bill_id", BigInteger, primary_key=True, autoincrement=False),
    Column("bill_no", String, nullable=False),
    Column("receipt_on", Date, nullable=False),
    Column("customer_code", String),
    Column("customer_name", String),
    Column("payer", String),
    Column("settle_type", String),
    Column("purpose", String),
    Column("bank_account_no", String),
    Column("bank_account_name", String),
    Column("amount_fen", Money, nullable=False),
    Column("remark", Text, nullable=False),
    Column("phase_code", String),
    Column("phase_name", String),
    *_status(),
    *_memo(),
    *_loaded(),
    Index("ix_stg_fl_receipt_batch_id", "batch_id"),
)

stg_fl_refund = Table(
    "stg_fl_refund",
    metadata,
    Column("bill_id", BigInteger, primary_key=True, autoincrement=False),
    Column("bill_no", String, nullable=False),
    Column("refund_on", Date, nullable=False),
    Column("customer_code", String),
    Column("customer_name", String),
    Column("payee", String),
    Column("bank_account_no", String),
    Column("bank_account_name", String),
    Column("amount_fen", Money, nullable=False),
    Column("remark", Text, nullable=False),
    Column("phase_code", String),
    Column("phase_name", String),
    *_status(),
    *_memo(),
    *_loaded(),
    Index("ix_stg_fl_refund_batch_id", "batch_id"),
)

stg_fl_invoice = Table(
    "stg_fl_invoice",
    metadata,
    Column("invoice_id", BigInteger, primary_key=True, autoincrement=False),
    Column("bill_no", String, nullable=False),
    Column("invoice_type", String, nullable=False),
    Column("invoice_no", String, nullable=False),
    Column("invoice_on", Date, nullable=False),
    Column("customer_code", String),
    Column("customer_name", String),
    Column("tax_code", String),
    Column("tax_rate", Rate, nullable=False),
    Column("amount_fen", Money, nullable=False),
    Column("tax_fen", Money, nullable=False),
    Column("is_red", Boolean, nullable=False),
    Column("blue_invoice_no", String),
    Column("source_bill_no", String),
    Column("remark", Text, nullable=False),
    Column("phase_code", String),
    Column("phase_name", String),
    *_status(),
    *_memo(),
    *_loaded(),
    Index("ix_stg_fl_invoice_batch_id", "batch_id"),
)

# -- core ------------------------------------------------------------------------------------------

core_voucher = Table(
    "core_voucher",
    metadata,
    Column("voucher_id", BigInteger, primary_key=True, autoincrement=False),
    Column("voucher_group", String, nullable=False),
    Column("voucher_number", Integer, nullable=False),
    Column("year", Integer, nullable=False),
    Column("period", Integer, nullable=False),
    Column("voucher_on", Date, nullable=False),
    Column("source_bill_no", String),
    Column("is_audited", Boolean, nullable=False),
    Column("is_voided", Boolean, nullable=False),
    Column("is_reversal", Boolean, nullable=False),
    Column("reversed_voucher_id", BigInteger),  # the voucher this red voucher reverses (冲销)
    Column("reversed_by_voucher_id", BigInteger),  # the red voucher that reverses this one
    Column("created_at", UtcDateTime, nullable=False),
    Column("modified_at", UtcDateTime, nullable=False),
    Index("ix_core_voucher_period", "year", "period", "voucher_number"),
)

core_voucher_line = Table(
    "core_voucher_line",
    metadata,
    Column("entry_id", BigInteger, primary_key=True, autoincrement=False),
    Column("voucher_id", BigInteger, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("voucher_on", Date, nullable=False),
    Column("memo", Text, nullable=False),
    Column("account_no", String, nullable=False),
    Column("account_name", String),
    Column("bank_account_no", String),  # the bank account of a 银行存款 line (0015)
    Column("debit_fen", Money, nullable=False),
    Column("credit_fen", Money, nullable=False),
    Column("customer_code", String),
    Column("customer_name", String),
    Column("phase_code", String),
    Column("is_voided", Boolean, nullable=False),
    Column("payment_kind", String),
    Column("memo_units", String),
    Column("memo_confidence", Confidence),
    Index("ix_core_voucher_line_voucher_id", "voucher_id"),
    Index("ix_core_voucher_line_account", "account_no", "customer_code"),
)

core_receipt = Table(
    "core_receipt",
    metadata,
    Column("bill_id", BigInteger, primary_key=True, autoincrement=False),
    Column("bill_no", String, nullable=False, unique=True),
    Column("receipt_on", Date, nullable=False),
    Column("customer_code", String),
    Column("customer_name", String),
    Column("payer", String),
    Column("settle_type", String),
    Column("purpose", String),
    Column("bank_account_no", String),
    Column("amount_fen", Money, nullable=False),
    Column("remark", Text, nullable=False),
    Column("phase_code", String),
    *_status(),
    *_memo(),
    *_link(),
    Index("ix_core_receipt_contract_no", "contract_no"),
    Index("ix_core_receipt_customer_code", "customer_code"),
    Index("ix_core_receipt_house_id", "house_id"),  # the linker's claims of a house by a name: 0021
)

core_refund = Table(
    "core_refund",
    metadata,
    Column("bill_id", BigInteger, primary_key=True, autoincrement=False),
    Column("bill_no", String, nullable=False, unique=True),
    Column("refund_on", Date, nullable=False),
    Column("customer_code", String),
    Column("customer_name", String),
    Column("payee", String),
    Column("bank_account_no", String),
    Column("amount_fen", Money, nullable=False),
    Column("remark", Text, nullable=False),
    Column("phase_code", String),
    *_status(),
    *_memo(),
    *_link(),
    Index("ix_core_refund_contract_no", "contract_no"),
    Index("ix_core_refund_customer_code", "customer_code"),  # the linker's rows of a chunk of customers: 0021
)

core_invoice = Table(
    "core_invoice",
    metadata,
    Column("invoice_id", BigInteger, primary_key=True, autoincrement=False),
    Column("bill_no", String, nullable=False, unique=True),
    Column("invoice_type", String, nullable=False),
    Column("invoice_no", String, nullable=False),
    Column("invoice_on", Date, nullable=False),
    Column("customer_code", String),
    Column("customer_name", String),
    Column("tax_code", String),
    Column("tax_rate", Rate, nullable=False),
    Column("amount_fen", Money, nullable=False),
    Column("tax_fen", Money, nullable=False),
    Column("is_red", Boolean, nullable=False),
    Column("blue_invoice_no", String),
    Column("source_bill_no", String),
    Column("remark", Text, nullable=False),
    Column("phase_code", String),
    *_status(),
    *_memo(),
    *_link(),
    Index("ix_core_invoice_invoice_no", "invoice_no"),
    Index("ix_core_invoice_source_bill_no", "source_bill_no"),
    Index("ix_core_invoice_customer_code", "customer_code"),  # the linker's rows of a chunk of customers: 0021
)

core_deposit = Table(
    "core_deposit",
    metadata,
    Column("bill_id", BigInteger, primary_key=True, autoincrement=False),
    Column("bill_no", String, nullable=False),
    Column("received_on", Date, nullable=False),
    Column("customer_code", String),
    Column("customer_name", String),
    Column("phase_code", String),
    Column("amount_fen", Money, nullable=False),
    Column("converted_fen", Money, nullable=False),
    Column("is_converted", Boolean, nullable=False),
    Column("is_voided", Boolean, nullable=False),
)

STAGING = {
    "GL_VOUCHER": stg_fl_voucher_line,
    "AR_RECEIVEBILL": stg_fl_receipt,
    "AR_REFUNDBILL": stg_fl_refund,
    "IV_SALESOC": stg_fl_invoice,
}
