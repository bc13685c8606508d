"""Loading the banks' loans: raw → staging (`stg_bank_loan*`) → core (`core_bank_loan*`), batch by batch.

    result = sync_bank_loans(client, warehouse)          # incremental from the bank's stored cursor
    result = sync_bank_loans(client, warehouse, full=True)

Each batch is one transaction: raw records (borrower IDs redacted), quarantine, the staging upsert
(a newer `updated_at` never replaced by an older one), the core build (`sql/core/core_bank_loan*.sql`)
with each loan's link to its contract, the run's counters and the cursor. After the last batch every
loan still unlinked is tried again (its contract may have arrived since). The cursor is per bank
(`etl_sync_state` source `bank_<code>`, stream `loans`), inclusive with a look-back window.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, delete, select, update

from connectors.banks.records import Loan, QuarantineItem
from estatehub.banks.tables import core_bank_loan, stg_bank_loan, stg_bank_loan_stage
from estatehub.settings import SYNC, SyncSettings
from estatehub.sync.runs import SyncResult, batches, check_quarantine_threshold, new_run_id
from estatehub.warehouse import sqlfiles
from estatehub.warehouse.engine import Warehouse
from estatehub.warehouse.etl import (
    FAILED,
    FULL,
    INCREMENTAL,
    SUCCEEDED,
    Received,
    add_run_counts,
    advance_cursor,
    bulk_execute,
    finish_run,
    insert_raw,
    quarantine,
    quarantine_rows,
    raw_rows,
    read_cursor,
    resolve_quarantined,
    start_run,
    upsert_statement,
    utcnow,
)
from estatehub.warehouse.redact import hash_id_number, mask_id_number
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


@dataclass(slots=True)
class PreparedLoans:
    fetched: int
    raw: list[dict[str, Any]]
    quarantine: list[dict[str, Any]]
    loans: list[dict[str, Any]]
    stages: list[dict[str, Any]] = field(default_factory=list)
    max_updated_at: datetime | None = None


def stage_loan(warehouse: Warehouse, loan: Loan, *, payload_hash: str) -> tuple[dict[str, Any], list[dict]]:
    """The staging rows of one loan; `ValueError` when an amount cannot be stored exactly."""
    row = {
        "bank": loan.bank,
        "loan_no": loan.loan_no,
        "loan_type": loan.loan_type,
        "stage": loan.stage,
        "reported_contract_no": loan.contract_no,
        "borrower_name": loan.borrower_name,
        "borrower_id_type": loan.borrower_id_type,
        "borrower_id_hash": hash_id_number(warehouse.hasher, loan.borrower_id_number),
        "borrower_id_masked": mask_id_number(loan.borrower_id_number),
        "property_address": loan.property_address,
        "branch": loan.branch,
        "applied_fen": to_fen(loan.applied_amount),
        "approved_fen": to_fen(loan.approved_amount),
        "disbursed_fen": to_fen(loan.disbursed_amount),
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


def prepare_loans(
    warehouse: Warehouse, bank: str, records: Sequence[Loan | QuarantineItem], *, run_id: str, fetched_at: datetime
) -> PreparedLoans:
    """Hash, redact and type one batch (no I/O)."""
    hasher = warehouse.hasher
    received: list[Received] = []
    bad: list[Received] = []
    good: dict[str, tuple[dict[str, Any], list[dict]]] = {}
    newest: datetime | None = None
    for record in records:
        if isinstance(record, QuarantineItem):
            item = Received.of(
                hasher,
                source=record.source,
                entity=record.entity,
                record_key=record.key,
                payload=record.payload,
                reason=record.reason,
            )
            bad.append(item)
        elif isinstance(record, Loan):
            item = Received.of(
                hasher,
                source=source_of(bank),
                entity=ENTITY,
                record_key=record.loan_no,
                payload=record.payload,
                updated_at=record.updated_at,
            )
            try:
                staged = stage_loan(warehouse, record, payload_hash=item.payload_hash)
            except (ValueError, TypeError) as exc:
                item = item.quarantined(f"loan {record.loan_no}: the warehouse cannot store it exactly: {exc}")
                bad.append(item)
            else:
                current = good.get(record.loan_no)
                if current is None or record.updated_at >= current[0]["updated_at"]:
                    good[record.loan_no] = staged
        else:
            raise TypeError(f"expected a Loan or a QuarantineItem, got {type(record).__name__}")
        received.append(item)
        if item.updated_at is not None and (newest is None or item.updated_at > newest):
            newest = item.updated_at
    return PreparedLoans(
        fetched=len(records),
        raw=raw_rows(hasher, received, run_id=run_id, fetched_at=fetched_at),
        quarantine=quarantine_rows(hasher, bad, run_id=run_id, seen_at=fetched_at),
        loans=[row for row, _ in good.values()],
        stages=[stage for _, stages in good.values() for stage in stages],
        max_updated_at=newest,
    )


def write_loans(conn: Connection, bank: str, batch: PreparedLoans, *, run_id: str, batch_id: str, at: datetime) -> int:
    """Write a prepared batch inside the caller's transaction; returns how many loans were staged."""
    insert_raw(conn, batch.raw)
    resolve_quarantined(
        conn, source_of(bank), ENTITY, {row["loan_no"]: row["updated_at"] for row in batch.loans}, resolved_at=at
    )
    quarantine(conn, batch.quarantine)
    if not batch.loans:
        return 0
    table = stg_bank_loan
    bulk_execute(
        conn,
        "stg_bank_loan:upsert",
        lambda c: upsert_statement(
            c, table, ["bank", "loan_no"], where=lambda excluded: excluded.updated_at >= table.c.updated_at
        ),
        [{**row, "batch_id": batch_id, "run_id": run_id, "loaded_at": at} for row in batch.loans],
    )
    accepted = set(conn.execute(select(table.c.loan_no).where(table.c.batch_id == batch_id)).scalars())
    if not accepted:
        return 0
    staged = select(table.c.loan_no).where(table.c.batch_id == batch_id, table.c.bank == bank)
    conn.execute(
        delete(stg_bank_loan_stage).where(stg_bank_loan_stage.c.bank == bank, stg_bank_loan_stage.c.loan_no.in_(staged))
    )
    rows = [stage for stage in batch.stages if stage["loan_no"] in accepted]
    bulk_execute(conn, "stg_bank_loan_stage:insert", lambda _c: stg_bank_loan_stage.insert(), rows)
    for model in CORE_MODELS:
        sqlfiles.execute(conn, model, {"batch_id": batch_id})
    return len(accepted)


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
    settings: SyncSettings = SYNC,
    run_id: str | None = None,
) -> SyncResult:
    """Bring one bank's loans into the warehouse (see the module docstring). The run is recorded in
    `etl_run`; a failure marks it failed and propagates (so the bank's Airflow task retries)."""
    bank = client.code
    source = source_of(bank)
    started = time.monotonic()
    run_id = run_id or new_run_id(source)
    warehouse.prepare()
    engine = warehouse.engine
    cursor = read_cursor(engine, source, STREAM)
    since = None if full or cursor is None else cursor - settings.look_back
    mode = FULL if since is None else INCREMENTAL
    start_run(engine, run_id=run_id, source=source, stream=STREAM, mode=mode, since_at=since)
    fetched = loaded = quarantined = count = 0
    try:
        records = client.iter_loans(since)
        for count, batch in enumerate(
            batches(
                records,
                settings.batch_size,
                lambda chunk: prepare_loans(warehouse, bank, chunk, run_id=run_id, fetched_at=utcnow()),
            ),
            start=1,
        ):
            with warehouse.begin() as conn:
                staged = write_loans(conn, bank, batch, run_id=run_id, batch_id=f"{run_id}:{count:06d}", at=utcnow())
                bad = sum(row["seen_count"] for row in batch.quarantine)
                add_run_counts(conn, run_id, fetched=batch.fetched, loaded=staged, quarantined=bad)
                if batch.max_updated_at is not None:
                    advance_cursor(conn, source, STREAM, batch.max_updated_at, run_id)
            fetched, loaded, quarantined = fetched + batch.fetched, loaded + staged, quarantined + bad
            if batch.max_updated_at is not None and (cursor is None or batch.max_updated_at > cursor):
                cursor = batch.max_updated_at
        with warehouse.begin() as conn:
            relink_loans(conn, f"{run_id}:relink")
        result = SyncResult(
            run_id, mode, since, fetched, loaded, quarantined, cursor, count, time.monotonic() - started
        )
        check_quarantine_threshold(result, settings)
        finish_run(engine, run_id, status=SUCCEEDED, message=_summary(bank, result))
    except BaseException as exc:
        finish_run(engine, run_id, status=FAILED, message=f"{type(exc).__name__}: {exc}")
        raise
    log.info("sync %s loans: %s", bank, _summary(bank, result))
    return result


def _summary(bank: str, result: SyncResult) -> str:
    return (
        f"{bank} {result.mode} run {result.run_id}: fetched {result.fetched}, loaded {result.loaded}, "
        f"quarantined {result.quarantined} in {result.batches} batches, {result.seconds:.1f} s"
    )
