"""Loading the ledger: raw → staging (`stg_fl_*`) → core, one batch of one form at a time.

`prepare_batch` (no I/O, runs in the read-ahead thread) hashes and types a batch and reads each memo;
`write_batch` writes it inside the caller's transaction:

1. raw: every row as received, once per distinct payload (`raw_record`, entity = the form id);
2. quarantine: rows the connector refused, with their reason; open entries of an id that now
   arrives readable are resolved;
3. staging: the typed current version of each row — an upsert that never replaces a newer
   `modified_at` by an older one — carrying the batch id;
4. core: the `sql/core/` models of the form, selecting the batch's rows by `:batch_id` (a row that
   comes again loses its link to a contract; `link_pending` links it anew at the end of the sync).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from connectors.ledger.records import SOURCE, Invoice, QuarantineItem, Receipt, Refund, VoucherLine
from estatehub.ledger import link
from estatehub.ledger.tables import STAGING
from estatehub.memo import parse_memo
from estatehub.warehouse import sqlfiles
from estatehub.warehouse.engine import Warehouse
from estatehub.warehouse.etl import (
    Received,
    insert_raw,
    quarantine,
    quarantine_rows,
    raw_rows,
    resolve_quarantined,
    upsert_statement,
)
from estatehub.warehouse.types import to_fen

VOUCHER, RECEIPT, REFUND, INVOICE = "GL_VOUCHER", "AR_RECEIVEBILL", "AR_REFUNDBILL", "IV_SALESOC"
STREAMS = {VOUCHER: "vouchers", RECEIPT: "receipts", REFUND: "refunds", INVOICE: "invoices"}
KEYS = {VOUCHER: "entry_id", RECEIPT: "bill_id", REFUND: "bill_id", INVOICE: "invoice_id"}
CORE_MODELS = {
    VOUCHER: (
        "core/core_voucher",
        "core/core_voucher__reverses",
        "core/core_voucher__reversed",
        "core/core_voucher_line",
        "core/core_deposit__delete",
        "core/core_deposit",
    ),
    RECEIPT: ("core/core_receipt", "core/core_deposit__delete", "core/core_deposit"),
    REFUND: ("core/core_refund",),
    INVOICE: ("core/core_invoice",),
}
_REVERSAL = re.compile(r"冲销\s*(\d{4})\s*年\s*(\d{1,2})\s*期\s*记\s*-?\s*(\d+)\s*号")
_CONFIDENCE = Decimal("0.001")

LedgerRecord = VoucherLine | Receipt | Refund | Invoice


@dataclass(frozen=True, slots=True)
class BatchCounts:
    fetched: int
    loaded: int
    quarantined: int
    max_modified_at: datetime | None
    resolved: int = 0
    unresolved: int = 0


@dataclass(slots=True)
class PreparedBatch:
    form: str
    run_id: str
    fetched_at: datetime
    fetched: int
    raw: list[dict[str, Any]]
    quarantine: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    good_versions: dict[str, datetime]
    max_modified_at: datetime | None


def _memo_columns(text: str) -> dict[str, Any]:
    reading = parse_memo(text)
    units = ";".join("-".join(part or "?" for part in ref.key) for ref in reading.units)
    return {
        "payment_kind": reading.kind,
        "memo_units": units or None,
        "memo_confidence": Decimal(str(reading.confidence)).quantize(_CONFIDENCE) if reading.units else None,
        "memo_rule": reading.rule,
    }


def _status(record: LedgerRecord) -> dict[str, Any]:
    return {
        "is_audited": record.is_audited,
        "is_voided": record.is_voided,
        "created_at": record.created_at,
        "modified_at": record.modified_at,
    }


def stage_record(record: LedgerRecord) -> dict[str, Any]:
    """The staging row of one record; `ValueError` when a value cannot be stored exactly."""
    if isinstance(record, VoucherLine):
        reverses = _REVERSAL.search(record.memo) if record.is_red else None
        return {
            "entry_id": record.entry_id,
            "voucher_id": record.voucher_id,
            "voucher_group": record.voucher_group,
            "voucher_number": record.voucher_number,
            "year": record.year,
            "period": record.period,
            "voucher_on": record.voucher_on,
            "source_bill_no": record.source_bill_no,
            "seq": record.seq,
            "memo": record.memo,
            "account_no": record.account_no,
            "account_name": record.account_name,
            "debit_fen": to_fen(record.debit),
            "credit_fen": to_fen(record.credit),
            "customer_code": record.customer_code,
            "customer_name": record.customer_name,
            "phase_code": record.phase_code,
            "phase_name": record.phase_name,
            **_status(record),
            **{k: v for k, v in _memo_columns(record.memo).items() if k != "memo_rule"},
            "memo_rule": None,
            "reverses_year": int(reverses.group(1)) if reverses else None,
            "reverses_period": int(reverses.group(2)) if reverses else None,
            "reverses_number": int(reverses.group(3)) if reverses else None,
        }
    if isinstance(record, Receipt):
        return {
            "bill_id": record.bill_id,
            "bill_no": record.bill_no,
            "receipt_on": record.receipt_on,
            "customer_code": record.customer_code,
            "customer_name": record.customer_name,
            "payer": record.payer,
            "settle_type": record.settle_type,
            "purpose": record.purpose,
            "bank_account_no": record.bank_account_no,
            "bank_account_name": record.bank_account_name,
            "amount_fen": to_fen(record.amount),
            "remark": record.remark,
            "phase_code": record.phase_code,
            "phase_name": record.phase_name,
            **_status(record),
            **_memo_columns(record.remark),
        }
    if isinstance(record, Refund):
        return {
            "bill_id": record.bill_id,
            "bill_no": record.bill_no,
            "refund_on": record.refund_on,
            "customer_code": record.customer_code,
            "customer_name": record.customer_name,
            "payee": record.payee,
            "bank_account_no": record.bank_account_no,
            "bank_account_name": record.bank_account_name,
            "amount_fen": to_fen(record.amount),
            "remark": record.remark,
            "phase_code": record.phase_code,
            "phase_name": record.phase_name,
            **_status(record),
            **_memo_columns(record.remark),
        }
    if isinstance(record, Invoice):
        return {
            "invoice_id": record.invoice_id,
            "bill_no": record.bill_no,
            "invoice_type": record.invoice_type,
            "invoice_no": record.invoice_no,
            "invoice_on": record.invoice_on,
            "customer_code": record.customer_code,
            "customer_name": record.customer_name,
            "tax_code": record.tax_code,
            "tax_rate": record.tax_rate,
            "amount_fen": to_fen(record.amount),
            "tax_fen": to_fen(record.tax_amount),
            "is_red": record.is_red,
            "blue_invoice_no": record.blue_invoice_no,
            "source_bill_no": record.source_bill_no,
            "remark": record.remark,
            "phase_code": record.phase_code,
            "phase_name": record.phase_name,
            **_status(record),
            **_memo_columns(record.remark),
        }
    raise TypeError(f"expected a ledger record, got {type(record).__name__}")


def prepare_batch(
    warehouse: Warehouse,
    form: str,
    records: Sequence[LedgerRecord | QuarantineItem],
    *,
    run_id: str,
    fetched_at: datetime,
) -> PreparedBatch:
    """Hash, redact, type and read the memos of one batch of one form (no I/O)."""
    hasher = warehouse.hasher
    received: list[Received] = []
    bad: list[Received] = []
    rows: dict[int, dict[str, Any]] = {}
    max_modified: datetime | None = None
    for record in records:
        if isinstance(record, QuarantineItem):
            item = Received.of(
                hasher,
                source=record.source,
                entity=record.entity,
                record_key=record.key,
                payload=record.payload,
                updated_at=record.updated_at,
                reason=record.reason,
            )
            bad.append(item)
        else:
            item = Received.of(
                hasher,
                source=SOURCE,
                entity=form,
                record_key=str(record.key),
                payload=record.payload,
                updated_at=record.modified_at,
            )
            try:
                row = stage_record(record)
            except (ValueError, TypeError) as exc:
                item = item.quarantined(f"{form} {record.key}: the warehouse cannot store it exactly: {exc}")
                bad.append(item)
            else:
                row["payload_hash"] = item.payload_hash
                current = rows.get(record.key)
                if current is None or row["modified_at"] >= current["modified_at"]:
                    rows[record.key] = row
        received.append(item)
        if item.updated_at is not None and (max_modified is None or item.updated_at > max_modified):
            max_modified = item.updated_at
    return PreparedBatch(
        form=form,
        run_id=run_id,
        fetched_at=fetched_at,
        fetched=len(records),
        raw=raw_rows(hasher, received, run_id=run_id, fetched_at=fetched_at),
        quarantine=quarantine_rows(hasher, bad, run_id=run_id, seen_at=fetched_at),
        rows=list(rows.values()),
        good_versions={str(key): row["modified_at"] for key, row in rows.items()},
        max_modified_at=max_modified,
    )


def write_batch(conn: Connection, batch: PreparedBatch, *, batch_id: str) -> BatchCounts:
    """Write a prepared batch (raw, quarantine, staging, core, links) inside the caller's transaction."""
    insert_raw(conn, batch.raw)
    resolve_quarantined(conn, SOURCE, batch.form, batch.good_versions, resolved_at=batch.fetched_at)
    quarantine(conn, batch.quarantine)
    loaded = _stage(conn, batch, batch_id=batch_id)
    if loaded:
        for model in CORE_MODELS[batch.form]:
            sqlfiles.execute(conn, model, {"batch_id": batch_id})
    return BatchCounts(
        fetched=batch.fetched,
        loaded=loaded,
        quarantined=sum(row["seen_count"] for row in batch.quarantine),
        max_modified_at=batch.max_modified_at,
    )


def _stage(conn: Connection, batch: PreparedBatch, *, batch_id: str) -> int:
    if not batch.rows:
        return 0
    table = STAGING[batch.form]
    key = KEYS[batch.form]
    upsert = upsert_statement(conn, table, [key], where=lambda excluded: excluded.modified_at >= table.c.modified_at)
    conn.execute(
        upsert,
        [{**row, "batch_id": batch_id, "run_id": batch.run_id, "loaded_at": batch.fetched_at} for row in batch.rows],
    )
    return len(conn.execute(select(table.c[key]).where(table.c.batch_id == batch_id)).all())


def link_pending(warehouse: Warehouse, *, at: datetime, chunk: int = 500) -> tuple[int, int]:
    """Link the rows of every customer with a row not linked since it last came (or without a contract),
    a chunk of customers per transaction. Returns (receipts resolved, unresolved) among those relinked."""
    with warehouse.engine.connect() as conn:
        codes = link.pending_customers(conn)
    resolved = unresolved = 0
    for start in range(0, len(codes), chunk):
        with warehouse.begin() as conn:
            done, left = link.link_customers(conn, codes[start : start + chunk], at=at)
        resolved += done
        unresolved += left
    for start in range(0, len(codes), chunk):
        with warehouse.begin() as conn:
            link.link_invoices_of(conn, codes[start : start + chunk], at=at)
    return resolved, unresolved
