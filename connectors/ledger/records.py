"""Typed records of the finance ledger, as the connector yields them.

Money is `Decimal` yuan (negative on red vouchers and red invoices), times timezone-aware UTC
`datetime` (the ERP writes Beijing time without an offset), business dates `date`. Every record keeps
`payload`: the row as received, keyed by field key, for the warehouse's raw layer. `is_voided` is the
ERP's 作废 (`FCancelStatus` = B); `is_audited` its 已审核 (`FDocumentStatus` = C). Voided and
reversed items are records like any other: the warehouse keeps and marks them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connectors.records import QuarantineItem  # noqa: F401 - what this connector yields besides its records

SOURCE = "finance_ledger"


@dataclass(frozen=True, slots=True)
class VoucherLine:
    """One entry (分录) of a voucher (凭证), with its voucher's header."""

    voucher_id: int
    voucher_group: str  # 记
    voucher_number: int  # 记-0012: 12, numbered per period
    year: int
    period: int
    voucher_on: date
    source_bill_no: str | None
    entry_id: int
    seq: int
    memo: str
    account_no: str
    account_name: str | None
    bank_account_no: str | None  # the bank account of a 银行存款 line (the statements' account number)
    debit: Decimal
    credit: Decimal
    customer_code: str | None
    customer_name: str | None
    phase_code: str | None
    phase_name: str | None
    is_audited: bool
    is_voided: bool
    created_at: datetime
    modified_at: datetime
    payload: dict[str, Any] = field(repr=False, compare=False)

    @property
    def key(self) -> int:
        return self.entry_id

    @property
    def is_red(self) -> bool:
        """A red (negative) line: part of a reversal (红冲)."""
        return self.debit < 0 or self.credit < 0


@dataclass(frozen=True, slots=True)
class Receipt:
    """A receipt bill (收款单): money the cashier saw arrive."""

    bill_id: int
    bill_no: str
    receipt_on: date
    customer_code: str | None
    customer_name: str | None
    payer: str | None
    settle_type: str | None
    purpose: str | None
    bank_account_no: str | None
    bank_account_name: str | None
    amount: Decimal
    remark: str
    phase_code: str | None
    phase_name: str | None
    is_audited: bool
    is_voided: bool
    created_at: datetime
    modified_at: datetime
    payload: dict[str, Any] = field(repr=False, compare=False)

    @property
    def key(self) -> int:
        return self.bill_id


@dataclass(frozen=True, slots=True)
class Refund:
    """A refund bill (收款退款单): money paid back to a buyer."""

    bill_id: int
    bill_no: str
    refund_on: date
    customer_code: str | None
    customer_name: str | None
    payee: str | None
    bank_account_no: str | None
    bank_account_name: str | None
    amount: Decimal
    remark: str
    phase_code: str | None
    phase_name: str | None
    is_audited: bool
    is_voided: bool
    created_at: datetime
    modified_at: datetime
    payload: dict[str, Any] = field(repr=False, compare=False)

    @property
    def key(self) -> int:
        return self.bill_id


@dataclass(frozen=True, slots=True)
class Invoice:
    """An invoice or receipt slip: 收据, 预收款发票 (602, 不征税), 增值税普通发票; red ones negative."""

    invoice_id: int
    bill_no: str
    invoice_type: str
    invoice_no: str
    invoice_on: date
    customer_code: str | None
    customer_name: str | None
    tax_code: str | None
    tax_rate: Decimal  # percent
    amount: Decimal  # 价税合计
    tax_amount: Decimal
    is_red: bool
    blue_invoice_no: str | None
    source_bill_no: str | None
    remark: str
    phase_code: str | None
    phase_name: str | None
    is_audited: bool
    is_voided: bool
    created_at: datetime
    modified_at: datetime
    payload: dict[str, Any] = field(repr=False, compare=False)

    @property
    def key(self) -> int:
        return self.invoice_id


LedgerRecord = VoucherLine | Receipt | Refund | Invoice
