"""The ERP's bill forms as `ExecuteBillQuery` shows them: field keys → SQL over the ledger store.

Every form is a flat view (one row per voucher entry for `GL_VOUCHER`, one per bill otherwise) of the
ledger store as it stands at the server's clock (`:now`, naive Beijing time text): only what was
created by then; `FDocumentStatus` C (已审核) once audited, else A (创建); `FCancelStatus` B (作废)
once voided, else A; `FModifyDate` the latest of those moments. Field keys are case-insensitive, as
in K/3 Cloud. Values are answered as K/3 does: numbers for amounts, `YYYY-MM-DDTHH:MM:SS` text for
dates and times (Beijing time, no offset).
"""

from __future__ import annotations

from dataclasses import dataclass

TEXT, INT, MONEY, DATETIME, DATE = "text", "int", "money", "datetime", "date"


@dataclass(frozen=True, slots=True)
class Field:
    key: str
    sql: str
    kind: str


@dataclass(frozen=True, slots=True)
class Form:
    form_id: str
    source: str  # FROM … (with the row alias `x` for the timed table)
    order_key: str  # the field key of the row id (stable order, keyset paging)
    fields: dict[str, Field]  # lower-case key → field

    def field(self, key: str) -> Field | None:
        return self.fields.get(key.strip().lower())


def _status(alias: str) -> tuple[Field, Field, Field, Field]:
    return (
        Field("FDocumentStatus", f"case when {alias}.audited_at <= :now then 'C' else 'A' end", TEXT),
        Field("FCancelStatus", f"case when {alias}.voided_at <= :now then 'B' else 'A' end", TEXT),
        Field("FCreateDate", f"{alias}.created_at", DATETIME),
        Field(
            "FModifyDate",
            f"max({alias}.created_at, coalesce(case when {alias}.audited_at <= :now then {alias}.audited_at end, ''),"
            f" coalesce(case when {alias}.voided_at <= :now then {alias}.voided_at end, ''))",
            DATETIME,
        ),
    )


def _form(form_id: str, source: str, order_key: str, *fields: Field) -> Form:
    return Form(form_id, source, order_key, {f.key.lower(): f for f in fields})


VOUCHER = _form(
    "GL_VOUCHER",
    "entries e join vouchers x on x.voucher_id = e.voucher_id left join accounts a on a.number = e.account_no",
    "FEntity_FEntryID",
    Field("FVOUCHERID", "x.voucher_id", INT),
    Field("FVOUCHERGROUPID.FName", "'记'", TEXT),
    Field("FVOUCHERGROUPNO", "x.number", INT),
    Field("FYEAR", "x.year", INT),
    Field("FPERIOD", "x.period", INT),
    Field("FDate", "x.date", DATE),
    Field("FSourceBillNo", "x.source_bill_no", TEXT),
    Field("FEntity_FEntryID", "e.entry_id", INT),
    Field("FEntity_FSEQ", "e.seq", INT),
    Field("FEXPLANATION", "e.memo", TEXT),
    Field("FACCOUNTID.FNumber", "e.account_no", TEXT),
    Field("FACCOUNTID.FName", "a.name", TEXT),
    Field("FACCOUNTID.FFullName", "a.full_name", TEXT),
    Field("FACCOUNTID.FBankAcctNo", "a.bank_account_no", TEXT),
    Field("FDEBIT", "e.debit_fen", MONEY),
    Field("FCREDIT", "e.credit_fen", MONEY),
    Field("FDetailID.FFLEX6.FNumber", "e.customer_code", TEXT),
    Field("FDetailID.FFLEX6.FName", "e.customer_name", TEXT),
    Field("FDetailID.FF100002.FNumber", "e.phase_code", TEXT),
    Field("FDetailID.FF100002.FName", "e.phase_name", TEXT),
    *_status("x"),
)

RECEIPT = _form(
    "AR_RECEIVEBILL",
    "receipts x left join accounts a on a.number = x.account_no",
    "FID",
    Field("FID", "x.bill_id", INT),
    Field("FBillNo", "x.bill_no", TEXT),
    Field("FDATE", "x.date", DATE),
    Field("FCONTACTUNITTYPE", "'BD_Customer'", TEXT),
    Field("FCONTACTUNIT.FNumber", "x.customer_code", TEXT),
    Field("FCONTACTUNIT.FName", "x.customer_name", TEXT),
    Field("FPAYUNIT.FName", "x.payer", TEXT),
    Field("FSETTLETYPEID.FName", "x.settle_type", TEXT),
    Field("FPURPOSEID.FName", "x.purpose", TEXT),
    Field("FACCOUNTID.FNumber", "a.bank_account_no", TEXT),
    Field("FACCOUNTID.FName", "a.name", TEXT),
    Field("FRECTOTALAMOUNTFOR", "x.amount_fen", MONEY),
    Field("FREMARK", "x.remark", TEXT),
    Field("F_PROJECT.FNumber", "x.phase_code", TEXT),
    Field("F_PROJECT.FName", "x.phase_name", TEXT),
    *_status("x"),
)

REFUND = _form(
    "AR_REFUNDBILL",
    "refunds x left join accounts a on a.number = x.account_no",
    "FID",
    Field("FID", "x.bill_id", INT),
    Field("FBillNo", "x.bill_no", TEXT),
    Field("FDATE", "x.date", DATE),
    Field("FCONTACTUNIT.FNumber", "x.customer_code", TEXT),
    Field("FCONTACTUNIT.FName", "x.customer_name", TEXT),
    Field("FRECEIVEUNIT.FName", "x.payee", TEXT),
    Field("FACCOUNTID.FNumber", "a.bank_account_no", TEXT),
    Field("FACCOUNTID.FName", "a.name", TEXT),
    Field("FREFUNDTOTALAMOUNTFOR", "x.amount_fen", MONEY),
    Field("FREMARK", "x.remark", TEXT),
    Field("F_PROJECT.FNumber", "x.phase_code", TEXT),
    Field("F_PROJECT.FName", "x.phase_name", TEXT),
    *_status("x"),
)

INVOICE = _form(
    "IV_SALESOC",
    "invoices x",
    "FID",
    Field("FID", "x.invoice_id", INT),
    Field("FBillNo", "x.bill_no", TEXT),
    Field("FBillTypeID.FName", "x.invoice_type", TEXT),
    Field("FINVOICENO", "x.invoice_no", TEXT),
    Field("FINVOICEDATE", "x.date", DATE),
    Field("FCUSTOMERID.FNumber", "x.customer_code", TEXT),
    Field("FCUSTOMERID.FName", "x.customer_name", TEXT),
    Field("F_TAXCLASSCODE", "x.tax_code", TEXT),
    Field("FTAXRATE", "x.tax_rate_bp / 100.0", TEXT),
    Field("FALLAMOUNTFOR", "x.amount_fen", MONEY),
    Field("FTAXAMOUNTFOR", "x.tax_fen", MONEY),
    Field("FREDBLUE", "x.is_red", INT),
    Field("F_BLUEINVOICENO", "x.blue_invoice_no", TEXT),
    Field("FSRCBILLNO", "x.source_bill_no", TEXT),
    Field("FREMARK", "x.remark", TEXT),
    Field("F_PROJECT.FNumber", "x.phase_code", TEXT),
    Field("F_PROJECT.FName", "x.phase_name", TEXT),
    *_status("x"),
)

FORMS = {form.form_id.lower(): form for form in (VOUCHER, RECEIPT, REFUND, INVOICE)}
