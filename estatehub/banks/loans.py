"""The banks' loans as a stream of the one runner: raw → staging (`stg_bank_loan*`) → core (`core_bank_loan*`).

    result = sync_bank_loans(client, warehouse)          # incremental from the bank's stored cursor
    result = sync_bank_loans(client, warehouse, full=True)

The runner (`estatehub.sync.stream.run_stream`) does the batches, the cursor, the raw records
(borrower IDs redacted), the quarantine and the run; `LoanStream.write` adds, inside each batch's
transaction, the staging upsert (never an older `updated_at` over a newer one), the stages and the
core build (`sql/core/core_bank_loan*.sql`) with each loan's link to its contract. After the last
batch every loan still unlinked is tried again (`after`: its contract may have arrived since). The
cursor is per bank (`etl_sync_state` source `bank_<code>`, stream `loans`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, delete, select, update

from connectors.banks.parsing import beijing_date
from connectors.banks.records import Loan, QuarantineItem
from estatehub.banks.tables import core_bank_loan, stg_bank_loan, stg_bank_loan_stage
from estatehub.pii import PiiHasher
from estatehub.settings import BANK_LOANS_SYNC, SyncSettings
from estatehub.sync.runs import SyncResult
from estatehub.sync.stream import Batch, Stream, run_stream
from estatehub.warehouse import sqlfiles
from estatehub.warehouse.engine import Warehouse
from estatehub.warehouse.etl import bulk_execute, stage_newest
from estatehub.warehouse.redact import hash_id_number, mask_id_number, redact_free_text
from estatehub.warehouse.types import to_fen

log = logging.getLogger(__name__)

ENTITY = "loan"
STREAM = "loans"
CORE_MODELS = (
    "core/core_bank_loan",
    "core/core_bank_loan_stage__delete",
    "core/core_bank_loan_stage",
)
LINK_MODEL = "core/core_bank_loan"


def source_of(bank: str) -> str:
    return f"bank_{bank}"


class LoanSource(Protocol):
    """What the sync needs of a bank client (`connectors.banks.client.BankClient`)."""

    code: str

    def iter_loans(self, updated_since: datetime | None = None) -> Iterator[Loan | QuarantineItem]: ...


StagedLoan = tuple[dict[str, Any], list[dict[str, Any]]]  # the loan's row and its stages


def stage_loan(loan: Loan, *, payload_hash: str, hasher: PiiHasher) -> StagedLoan:
    """The staging rows of one loan; `ValueError` when an amount cannot be stored exactly."""
    row = {
        "bank": loan.bank,
        "loan_no": loan.loan_no,
        "loan_type": loan.loan_type,
        "stage": loan.stage,
        "reported_contract_no": loan.contract_no,
        "borrower_name": redact_free_text(hasher, loan.borrower_name),
        "borrower_id_type": loan.borrower_id_type,
        "borrower_id_hash": hash_id_number(hasher, loan.borrower_id_number),
        "borrower_id_masked": mask_id_number(loan.borrower_id_number),
        "property_address": redact_free_text(hasher, loan.property_address),
        "branch": redact_free_text(hasher, loan.branch),
        "applied_fen": to_fen(loan.applied_amount),
        "approved_fen": to_fen(loan.approved_amount),
        "disbursed_fen": to_fen(loan.disbursed_amount),
        "guarantee_fen": to_fen(loan.guarantee_amount),
        "guarantee_released_on": beijing_date(loan.guarantee_released_at) if loan.guarantee_released_at else None,
        "linked_loan_no": loan.linked_loan_no,
        "applied_on": loan.applied_on,
        "approved_on": loan.approved_on,
        "disbursed_on": loan.disbursed_on,
        "updated_at": loan.updated_at,
        "payload_hash": payload_hash,
    }
    stages = [
        {"bank": loan.bank, "loan_no": loan.loan_no, "seq": seq, "stage": event.stage, "entered_at": event.at}
        for seq, event in enumerate(loan.stages, start=1)
    ]
    return row, stages


class LoanStream(Stream[Loan, StagedLoan]):
    """One bank's loans: keyed by loan number, versioned by `updated_at`; cursor per bank."""

    name = STREAM
    entity = ENTITY
    record_type = Loan

    def __init__(self, bank: str, client: LoanSource | None = None) -> None:
        self.bank = bank
        self.source = source_of(bank)
        self.client = client

    def fetch(self, since: datetime | None) -> Iterator[Loan | QuarantineItem]:
        if self.client is None:
            raise ValueError(f"expected a client of bank {self.bank} to fetch from, got none")
        return self.client.iter_loans(since)

    def key(self, record: Loan) -> str:
        return record.loan_no

    def version(self, record: Loan) -> datetime:
        return record.updated_at

    def stage(self, record: Loan, *, payload_hash: str, hasher: PiiHasher) -> StagedLoan:
        return stage_loan(record, payload_hash=payload_hash, hasher=hasher)

    def write(self, conn: Connection, staged: list[StagedLoan], batch: Batch) -> int:
        table = stg_bank_loan
        accepted = stage_newest(
            conn,
            table,
            ["bank", "loan_no"],
            [row for row, _ in staged],
            version="updated_at",
            batch_id=batch.batch_id,
            constants=batch.stamp,
        )
        if not accepted:
            return 0
        in_batch = select(table.c.loan_no).where(table.c.batch_id == batch.batch_id, table.c.bank == self.bank)
        conn.execute(
            delete(stg_bank_loan_stage).where(
                stg_bank_loan_stage.c.bank == self.bank, stg_bank_loan_stage.c.loan_no.in_(in_batch)
            )
        )
        rows = [stage for row, stages in staged if row["loan_no"] in accepted for stage in stages]
        bulk_execute(conn, "stg_bank_loan_stage:insert", lambda _c: stg_bank_loan_stage.insert(), rows)
        for model in CORE_MODELS:
            sqlfiles.execute(conn, model, {"batch_id": batch.batch_id})
        return len(accepted)

    def after(self, conn: Connection, *, run_id: str) -> None:
        relink_loans(conn, f"{run_id}:relink")


def relink_loans(conn: Connection, batch_id: str) -> None:
    """Link loans that were unlinked, now that more contracts may be known: their staged rows join the
    batch `batch_id` and `core_bank_loan` runs for it — the one way a loan is linked. (A staged loan's
    `batch_id` is the batch that last built its core row.)"""
    unlinked = (
        select(core_bank_loan.c.loan_no)
        .where(
            core_bank_loan.c.bank == stg_bank_loan.c.bank,
            core_bank_loan.c.loan_no == stg_bank_loan.c.loan_no,
            core_bank_loan.c.link_basis == "unlinked",
        )
        .exists()
    )
    if conn.execute(update(stg_bank_loan).where(unlinked).values(batch_id=batch_id)).rowcount:
        sqlfiles.execute(conn, LINK_MODEL, {"batch_id": batch_id})


def sync_bank_loans(
    client: LoanSource,
    warehouse: Warehouse,
    *,
    full: bool = False,
    settings: SyncSettings = BANK_LOANS_SYNC,
    run_id: str | None = None,
) -> SyncResult:
    """Bring one bank's loans into the warehouse (see the module doc; `run_stream` for what it raises).
    The run is recorded in `etl_run`; a failure marks it failed and propagates (so the bank's Airflow
    task retries)."""
    return run_stream(LoanStream(client.code, client), warehouse, settings=settings, full=full, run_id=run_id)
