"""Loading the ledger: raw → staging (`stg_fl_*`) → core, one batch of one form at a time.

Each form (vouchers, receipts, refunds, invoices) is a stream of the one runner
(`estatehub.sync.stream`), which writes the raw records (entity = the form id) and the quarantine;
`FormStream` types each row and reads its memo (`stage`, in the read-ahead thread) and writes, inside
the batch's transaction:

1. staging: the typed current version of each row — never an older `modified_at` over a newer one
   (`stage_newest`) — carrying the batch id;
2. core: the `sql/core/` models of the form, selecting the batch's rows by `:batch_id` (a row that
   comes again loses its link to a contract; `link_pending` links it anew at the end of the sync).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import Connection

from connectors.ledger.records import SOURCE, Invoice, Receipt, Refund, VoucherLine
from estatehub.ledger import link
from estatehub.ledger.tables import STAGING
from estatehub.memo import MemoReading, RoomDirectory, fee_kind, fee_payable_kind, parse_memo
from estatehub.pii import PiiHasher
from estatehub.settings import read_ahead_mode
from estatehub.sync.batches import PROCESS, batches, can_fork
from estatehub.sync.collection import paced_collection
from estatehub.sync.stream import Batch, Stream
from estatehub.warehouse import sqlfiles
from estatehub.warehouse.engine import Warehouse
from estatehub.warehouse.etl import analyze, stage_newest
from estatehub.warehouse.redact import redact_free_text
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
# what a clerk types: any of it may hold an ID number, a phone or a card (the memo is read before)
FREE_TEXT = ("memo", "remark", "payer", "payee", "purpose", "customer_name")

LedgerRecord = VoucherLine | Receipt | Refund | Invoice


def _memo_columns(text: str) -> dict[str, Any]:
    """The staging columns of what the memo says (a new dict: the caller may change it)."""
    kind, units, confidence, rule = _memo_values(text)
    return {"payment_kind": kind, "memo_units": units, "memo_confidence": confidence, "memo_rule": rule}


@functools.lru_cache(maxsize=16_384)
def _memo_values(text: str) -> tuple[str | None, str | None, Decimal | None, str | None]:
    """A voucher's lines share its memo, and a receipt's remark comes again on its voucher: read once."""
    reading = parse_memo(text)
    units = ";".join("-".join(part or "?" for part in ref.key) for ref in reading.units)
    confidence = Decimal(str(reading.confidence)).quantize(_CONFIDENCE) if reading.units else None
    return reading.kind, units or None, confidence, reading.rule


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
            "bank_account_no": record.bank_account_no,
            "debit_fen": to_fen(record.debit),
            "credit_fen": to_fen(record.credit),
            "customer_code": record.customer_code,
            "customer_name": record.customer_name,
            "phase_code": record.phase_code,
            "phase_name": record.phase_name,
            **_status(record),
            **_memo_columns(record.memo),  # its memo_rule set to None below
            # a line of a fee payable (其他应付款_代收契税 …) is that fee whatever its memo says: the account decides
            **({"payment_kind": fee} if (fee := fee_payable_kind(record.account_name)) else {}),
            "memo_rule": None,
            "reverses_year": int(reverses.group(1)) if reverses else None,
            "reverses_period": int(reverses.group(2)) if reverses else None,
            "reverses_number": int(reverses.group(3)) if reverses else None,
        }
    if isinstance(record, Receipt):
        memo = _memo_columns(record.remark)
        # a fee collected for others (代收契税 …) is one whatever its memo says: the purpose decides (0028)
        memo["payment_kind"] = fee_kind(record.purpose, memo["payment_kind"]) or memo["payment_kind"]
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
            **memo,
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


class LedgerSource(Protocol):
    """What the sync needs of a ledger client (`connectors.ledger.LedgerClient`)."""

    def iter_form(self, form_id: str, *, modified_since: datetime | None = None) -> Iterator[Any]: ...

    def iter_rows(self, form_id: str, ids: list[int]) -> Iterator[Any]: ...


class FormStream(Stream[LedgerRecord, dict[str, Any]]):
    """One form of the ledger: rows keyed by their id, versioned by `FModifyDate`."""

    source = SOURCE
    record_type = (VoucherLine, Receipt, Refund, Invoice)

    def __init__(self, form: str, client: LedgerSource | None = None) -> None:
        if form not in STREAMS:
            raise ValueError(f"expected a ledger form among {', '.join(STREAMS)}, got {form!r}")
        self.form = form
        self.name = STREAMS[form]
        self.entity = form
        self.client = client

    def fetch(self, since: datetime | None) -> Iterator[Any]:
        if self.client is None:
            raise ValueError("expected a ledger client to fetch from, got none")
        return self.client.iter_form(self.form, modified_since=since)

    def refetch(self, keys: list[str]) -> Iterator[Any]:
        """The quarantined rows of the form again, by id (keys that are not ids are left to the full run)."""
        if self.client is None:
            raise ValueError("expected a ledger client to fetch from, got none")
        ids = sorted(int(key) for key in keys if key.isdigit())
        return self.client.iter_rows(self.form, ids)

    def key(self, record: LedgerRecord) -> str:
        return str(record.key)

    def version(self, record: LedgerRecord) -> datetime:
        return record.modified_at

    def stage(self, record: LedgerRecord, *, payload_hash: str, hasher: PiiHasher) -> dict[str, Any]:
        """The staging row, its memo read first and then stored with ID, phone and card numbers redacted."""
        row = stage_record(record)
        for column in FREE_TEXT:
            if column in row:
                row[column] = redact_free_text(hasher, row[column])
        row["payload_hash"] = payload_hash
        return row

    def write(self, conn: Connection, staged: list[dict[str, Any]], batch: Batch) -> int:
        accepted = stage_newest(
            conn,
            STAGING[self.form],
            [KEYS[self.form]],
            staged,
            version="modified_at",
            batch_id=batch.batch_id,
            constants=batch.stamp,
        )
        if accepted:
            for model in CORE_MODELS[self.form]:
                sqlfiles.execute(conn, model, {"batch_id": batch.batch_id})
        return len(accepted)


def link_pending(
    warehouse: Warehouse, *, at: datetime, chunk: int = 500, read_ahead: bool | str = True
) -> tuple[int, int]:
    """Link the rows of every customer with a row not linked since it last came (or without a contract),
    a chunk of customers per transaction. Returns (receipts resolved, unresolved) among those relinked."""
    with warehouse.engine.connect() as conn:
        codes = link.pending_customers(conn)
    return link_codes(warehouse, codes, at=at, chunk=chunk, read_ahead=read_ahead)


def link_codes(
    warehouse: Warehouse, codes: list[str | None], *, at: datetime, chunk: int = 500, read_ahead: bool | str = True
) -> tuple[int, int]:
    """Link every receipt, refund and invoice of these customer codes (None: the rows without one), a chunk of
    customers per transaction; returns (receipts resolved, unresolved).

    Where the syncs read their batches ahead in a forked process (`read_ahead`: True, the installation's
    choice, `estatehub.settings.read_ahead_mode`; or a mode of `estatehub.sync.batches`), the memos of each
    chunk are read in one too, while the linker links the chunk before: reading is Python, and so is
    linking; in two processes they run on two cores (decision 0045). Elsewhere the linker reads each memo
    itself: a thread would only take turns with it, and read each chunk's rows once more."""
    chunks = [codes[start : start + chunk] for start in range(0, len(codes), chunk)]
    passes = [(link.CUSTOMERS, part) for part in chunks] + [(link.INVOICES, part) for part in chunks]
    mode = read_ahead_mode() if read_ahead is True else read_ahead
    if passes and mode == PROCESS and can_fork() and _shared(warehouse):  # no process forked for nothing to link
        readings: Iterator[dict[str, MemoReading] | None] = batches(
            _closing_connections(warehouse, passes), 1, functools.partial(_read_memos, warehouse), read_ahead=PROCESS
        )
    else:
        readings = (None for _ in passes)
    resolved = unresolved = 0
    rooms: dict[str, RoomDirectory] = {}  # each project's rooms, read once for every chunk
    analyze(warehouse.engine, link.TABLES_READ)  # the rows just loaded: the linker's joins planned on them
    # a chunk is a batch: the collector paced by chunks (decision 0040), in the reading process too
    with paced_collection() as pacer, closing(readings):
        for (rows_of, part), memos in zip(passes, readings, strict=True):
            with warehouse.begin() as conn:
                if rows_of == link.CUSTOMERS:
                    done, left = link.link_customers(conn, part, at=at, rooms=rooms, readings=memos)
                    resolved += done
                    unresolved += left
                else:
                    link.link_invoices_of(conn, part, at=at, rooms=rooms, readings=memos)
            pacer.batch_written()
    return resolved, unresolved


def _closing_connections(warehouse: Warehouse, passes: list[Any]) -> Iterator[Any]:
    """The passes, iterated in the reading process, which then closes the connections it opened itself (the
    parent's it never touches: `estatehub.warehouse.engine`), rather than leave them to its exit."""
    try:
        yield from passes
    finally:
        warehouse.engine.dispose()


def _read_memos(warehouse: Warehouse, passes: list[tuple[str, list[str | None]]]) -> dict[str, MemoReading]:
    """The readings of one pass's memos (`link.memo_readings`), on a connection of the reading process."""
    ((rows_of, codes),) = passes
    with warehouse.engine.connect() as conn:
        return link.memo_readings(conn, rows_of, codes)


def _shared(warehouse: Warehouse) -> bool:
    """Whether another process can open this warehouse: not a SQLite database in memory, which only the
    connection that made it sees."""
    url = warehouse.engine.url
    if url.get_backend_name() != "sqlite":
        return True
    database = url.database or ""
    return bool(database) and ":memory:" not in database and url.query.get("mode") != "memory"
