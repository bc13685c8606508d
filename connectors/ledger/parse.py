"""ERP rows (arrays in field-key order) → typed ledger records, or quarantine items with reasons.

Nothing here raises on bad input: each problem of a row is collected, and a row with any problem comes
back as a `QuarantineItem` whose reason names every field, what was expected and what came.

The ERP answers amounts as JSON numbers; they are read back through their shortest decimal text
(`repr`), which is exact for amounts of up to 15 significant digits, and must have at most two
decimals. Negative amounts are expected only where the books use them: red (冲销) voucher lines and
red invoices; a negative receipt or refund, or a negative voucher line whose memo does not say it
reverses something, is quarantined. Times are Beijing time without an offset.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.ledger.records import SOURCE, Invoice, LedgerRecord, QuarantineItem, Receipt, Refund, VoucherLine

BEIJING = timezone(timedelta(hours=8), "CST")
CENT = Decimal("0.01")
MAX_DIGITS = 15
_REVERSAL_MEMO = re.compile(r"冲销|红冲|冲回|冲红|红字|^冲")

VOUCHER, RECEIPT, REFUND, INVOICE = "GL_VOUCHER", "AR_RECEIVEBILL", "AR_REFUNDBILL", "IV_SALESOC"

FIELDS: dict[str, tuple[str, ...]] = {
    VOUCHER: (
        "FEntity_FEntryID",
        "FVOUCHERID",
        "FVOUCHERGROUPID.FName",
        "FVOUCHERGROUPNO",
        "FYEAR",
        "FPERIOD",
        "FDate",
        "FSourceBillNo",
        "FEntity_FSEQ",
        "FEXPLANATION",
        "FACCOUNTID.FNumber",
        "FACCOUNTID.FName",
        "FACCOUNTID.FBankAcctNo",
        "FDEBIT",
        "FCREDIT",
        "FDetailID.FFLEX6.FNumber",
        "FDetailID.FFLEX6.FName",
        "FDetailID.FF100002.FNumber",
        "FDetailID.FF100002.FName",
        "FDocumentStatus",
        "FCancelStatus",
        "FCreateDate",
        "FModifyDate",
    ),
    RECEIPT: (
        "FID",
        "FBillNo",
        "FDATE",
        "FCONTACTUNIT.FNumber",
        "FCONTACTUNIT.FName",
        "FPAYUNIT.FName",
        "FSETTLETYPEID.FName",
        "FPURPOSEID.FName",
        "FACCOUNTID.FNumber",
        "FACCOUNTID.FName",
        "FRECTOTALAMOUNTFOR",
        "FREMARK",
        "F_PROJECT.FNumber",
        "F_PROJECT.FName",
        "FDocumentStatus",
        "FCancelStatus",
        "FCreateDate",
        "FModifyDate",
    ),
    REFUND: (
        "FID",
        "FBillNo",
        "FDATE",
        "FCONTACTUNIT.FNumber",
        "FCONTACTUNIT.FName",
        "FRECEIVEUNIT.FName",
        "FACCOUNTID.FNumber",
        "FACCOUNTID.FName",
        "FREFUNDTOTALAMOUNTFOR",
        "FREMARK",
        "F_PROJECT.FNumber",
        "F_PROJECT.FName",
        "FDocumentStatus",
        "FCancelStatus",
        "FCreateDate",
        "FModifyDate",
    ),
    INVOICE: (
        "FID",
        "FBillNo",
        "FBillTypeID.FName",
        "FINVOICENO",
        "FINVOICEDATE",
        "FCUSTOMERID.FNumber",
        "FCUSTOMERID.FName",
        "F_TAXCLASSCODE",
        "FTAXRATE",
        "FALLAMOUNTFOR",
        "FTAXAMOUNTFOR",
        "FREDBLUE",
        "F_BLUEINVOICENO",
        "FSRCBILLNO",
        "FREMARK",
        "F_PROJECT.FNumber",
        "F_PROJECT.FName",
        "FDocumentStatus",
        "FCancelStatus",
        "FCreateDate",
        "FModifyDate",
    ),
}
ID_FIELD = {form: fields[0] for form, fields in FIELDS.items()}


class _Row:
    """A row by field key, collecting the reasons it cannot be accepted."""

    def __init__(self, form: str, values: dict[str, Any]) -> None:
        self.form = form
        self.values = values
        self.reasons: list[str] = []

    def _bad(self, key: str, expected: str, value: Any) -> None:
        self.reasons.append(f"{key}: expected {expected}, got {_describe(value)}")

    def integer(self, key: str) -> int:
        value = self.values.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            self._bad(key, "a whole number", value)
            return 0
        return int(value)

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = self.values.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self._bad(key, "text", value)
            return None
        if not isinstance(value, str):
            self._bad(key, "text", value)
            return None
        return value.strip()

    def money(self, key: str) -> Decimal:
        value = self.values.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self._bad(key, "an amount (a JSON number)", value)
            return Decimal(0)
        try:
            amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        except InvalidOperation:  # pragma: no cover - repr of a finite float is always a decimal
            self._bad(key, "a finite amount", value)
            return Decimal(0)
        if not amount.is_finite() or len(amount.as_tuple().digits) > MAX_DIGITS + 2:
            self._bad(key, f"an amount of at most {MAX_DIGITS} digits", value)
            return Decimal(0)
        if amount != amount.quantize(CENT):
            self._bad(key, "an amount with at most two decimals", value)
            return Decimal(0)
        return amount.quantize(CENT)

    def moment(self, key: str) -> datetime:
        value = self.values.get(key)
        try:
            parsed = datetime.fromisoformat(str(value).strip()) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None:
            self._bad(key, "a time like '2026-03-12T14:03:00'", value)
            return datetime(1970, 1, 1, tzinfo=UTC)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=BEIJING)
        return parsed.astimezone(UTC)

    def day(self, key: str) -> date:
        value = self.values.get(key)
        try:
            parsed = datetime.fromisoformat(str(value).strip()) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None:
            self._bad(key, "a date like '2026-03-12T00:00:00'", value)
            return date(1970, 1, 1)
        return parsed.date()

    def status(self, key: str, allowed: Sequence[str]) -> str:
        value = self.values.get(key)
        if value not in allowed:
            self._bad(key, f"one of {', '.join(allowed)}", value)
            return allowed[0]
        return value

    def positive(self, key: str, amount: Decimal) -> None:
        if amount <= 0 and not any(key in reason for reason in self.reasons):
            self.reasons.append(f"{key}: expected an amount above zero, got {amount}")


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "…")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    return f"a {type(value).__name__}"


def _common(row: _Row) -> dict[str, Any]:
    return {
        "is_audited": row.status("FDocumentStatus", ("A", "B", "C", "D", "Z")) == "C",
        "is_voided": row.status("FCancelStatus", ("A", "B")) == "B",
        "created_at": row.moment("FCreateDate"),
        "modified_at": row.moment("FModifyDate"),
    }


def _voucher(row: _Row) -> VoucherLine:
    memo = row.text("FEXPLANATION") or ""
    debit, credit = row.money("FDEBIT"), row.money("FCREDIT")
    if (debit < 0 or credit < 0) and not _REVERSAL_MEMO.search(memo):
        row.reasons.append(
            f"FDEBIT/FCREDIT: expected a negative amount only on a reversal (冲销) line, got {debit}/{credit} "
            f"with memo {_describe(memo)}"
        )
    return VoucherLine(
        voucher_id=row.integer("FVOUCHERID"),
        voucher_group=row.text("FVOUCHERGROUPID.FName") or "记",
        voucher_number=row.integer("FVOUCHERGROUPNO"),
        year=row.integer("FYEAR"),
        period=row.integer("FPERIOD"),
        voucher_on=row.day("FDate"),
        source_bill_no=row.text("FSourceBillNo"),
        entry_id=row.integer("FEntity_FEntryID"),
        seq=row.integer("FEntity_FSEQ"),
        memo=memo,
        account_no=row.text("FACCOUNTID.FNumber", required=True) or "",
        account_name=row.text("FACCOUNTID.FName"),
        bank_account_no=row.text("FACCOUNTID.FBankAcctNo"),
        debit=debit,
        credit=credit,
        customer_code=row.text("FDetailID.FFLEX6.FNumber"),
        customer_name=row.text("FDetailID.FFLEX6.FName"),
        phase_code=row.text("FDetailID.FF100002.FNumber"),
        phase_name=row.text("FDetailID.FF100002.FName"),
        payload=row.values,
        **_common(row),
    )


def _receipt(row: _Row) -> Receipt:
    amount = row.money("FRECTOTALAMOUNTFOR")
    row.positive("FRECTOTALAMOUNTFOR", amount)
    return Receipt(
        bill_id=row.integer("FID"),
        bill_no=row.text("FBillNo", required=True) or "",
        receipt_on=row.day("FDATE"),
        customer_code=row.text("FCONTACTUNIT.FNumber"),
        customer_name=row.text("FCONTACTUNIT.FName"),
        payer=row.text("FPAYUNIT.FName"),
        settle_type=row.text("FSETTLETYPEID.FName"),
        purpose=row.text("FPURPOSEID.FName"),
        bank_account_no=row.text("FACCOUNTID.FNumber"),
        bank_account_name=row.text("FACCOUNTID.FName"),
        amount=amount,
        remark=row.text("FREMARK") or "",
        phase_code=row.text("F_PROJECT.FNumber"),
        phase_name=row.text("F_PROJECT.FName"),
        payload=row.values,
        **_common(row),
    )


def _refund(row: _Row) -> Refund:
    amount = row.money("FREFUNDTOTALAMOUNTFOR")
    row.positive("FREFUNDTOTALAMOUNTFOR", amount)
    return Refund(
        bill_id=row.integer("FID"),
        bill_no=row.text("FBillNo", required=True) or "",
        refund_on=row.day("FDATE"),
        customer_code=row.text("FCONTACTUNIT.FNumber"),
        customer_name=row.text("FCONTACTUNIT.FName"),
        payee=row.text("FRECEIVEUNIT.FName"),
        bank_account_no=row.text("FACCOUNTID.FNumber"),
        bank_account_name=row.text("FACCOUNTID.FName"),
        amount=amount,
        remark=row.text("FREMARK") or "",
        phase_code=row.text("F_PROJECT.FNumber"),
        phase_name=row.text("F_PROJECT.FName"),
        payload=row.values,
        **_common(row),
    )


def _invoice(row: _Row) -> Invoice:
    amount, tax = row.money("FALLAMOUNTFOR"), row.money("FTAXAMOUNTFOR")
    is_red = row.integer("FREDBLUE") == 1
    if not is_red:
        row.positive("FALLAMOUNTFOR", amount)
    elif amount >= 0:
        row.reasons.append(f"FALLAMOUNTFOR: expected a negative amount on a red invoice, got {amount}")
    rate = row.values.get("FTAXRATE")
    tax_rate = Decimal(repr(rate)) if isinstance(rate, int | float) and not isinstance(rate, bool) else Decimal(0)
    return Invoice(
        invoice_id=row.integer("FID"),
        bill_no=row.text("FBillNo", required=True) or "",
        invoice_type=row.text("FBillTypeID.FName", required=True) or "",
        invoice_no=row.text("FINVOICENO", required=True) or "",
        invoice_on=row.day("FINVOICEDATE"),
        customer_code=row.text("FCUSTOMERID.FNumber"),
        customer_name=row.text("FCUSTOMERID.FName"),
        tax_code=row.text("F_TAXCLASSCODE"),
        tax_rate=tax_rate,
        amount=amount,
        tax_amount=tax,
        is_red=is_red,
        blue_invoice_no=row.text("F_BLUEINVOICENO"),
        source_bill_no=row.text("FSRCBILLNO"),
        remark=row.text("FREMARK") or "",
        phase_code=row.text("F_PROJECT.FNumber"),
        phase_name=row.text("F_PROJECT.FName"),
        payload=row.values,
        **_common(row),
    )


_BUILDERS: dict[str, Callable[[_Row], LedgerRecord]] = {
    VOUCHER: _voucher,
    RECEIPT: _receipt,
    REFUND: _refund,
    INVOICE: _invoice,
}


def parse_row(form: str, keys: Sequence[str], values: Any) -> LedgerRecord | QuarantineItem:
    """One ERP row → its record, or a `QuarantineItem` naming every problem."""
    if not isinstance(values, list) or len(values) != len(keys):
        count = len(values) if isinstance(values, list) else None
        return QuarantineItem(
            SOURCE,
            form,
            None,
            f"expected a row of {len(keys)} values, got "
            f"{'a list of ' + str(count) if count is not None else _describe(values)}",
            values,
        )
    row = _Row(form, dict(zip(keys, values, strict=True)))
    record = _BUILDERS[form](row)
    id_value = row.values.get(ID_FIELD[form])
    key = str(int(id_value)) if isinstance(id_value, int | float) and not isinstance(id_value, bool) else None
    if row.reasons:
        modified = record.modified_at if "FModifyDate" not in " ".join(row.reasons) else None
        return QuarantineItem(SOURCE, form, key, "; ".join(row.reasons), row.values, modified)
    return record
