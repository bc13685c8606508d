"""Loading one statement file: register it, upsert its lines, check its totals, replace earlier versions.

    result = load_statement_file(warehouse, path, bank="icbc")        # one file, one transaction

Each step is a function of its own module (`registry`, `lines`, `versions`, `quarantine`); this one
puts them in order inside the file's transaction, so a file loads whole or not at all.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from connectors.banks.errors import StatementError
from connectors.banks.records import QuarantineItem
from connectors.banks.statements import StatementReader
from estatehub.banks.statements.lines import ensure_keyed_line_keys, line_row, new_line_count, upsert_lines
from estatehub.banks.statements.quarantine import quarantine_items
from estatehub.banks.statements.registry import (
    DUPLICATE,
    LOADED,
    QUARANTINED,
    STREAM,
    SUPERSEDED,
    FileResult,
    complete_registration,
    file_sha256,
    known_file,
    record_event,
    register_loading,
    register_only,
    resolve_file_quarantine,
    version_of,
)
from estatehub.banks.statements.versions import Superseded, check_not_older, previous_versions, replace
from estatehub.sealed import FileSeal, plain_name
from estatehub.settings import BANK_STATEMENTS
from estatehub.sync.lock import stream_lock
from estatehub.sync.runs import new_run_id
from estatehub.warehouse.engine import Warehouse
from estatehub.warehouse.etl import quarantine, utcnow

log = logging.getLogger(__name__)


def load_statement_file(
    warehouse: Warehouse,
    path: str | Path,
    *,
    bank: str,
    account_no: str | None = None,
    origin: str = "manual",
    version: int | None = None,
    file_name: str | None = None,
    run_id: str | None = None,
) -> FileResult:
    """Load one statement file; the outcome is in the registry and returned. Holds the bank's statement
    lock (already held when a sync calls it): a sync of the bank running meanwhile is waited for up
    to `lock_wait`, then `SyncAlreadyRunning`. A file the hub sealed at rest (`NAME.sealed`,
    `estatehub.sealed`) is read through a private plain copy, under its plain name."""
    path = Path(path)
    name = file_name or plain_name(path)
    run_id = run_id or new_run_id(f"bank_{bank}")
    with (
        stream_lock(warehouse, f"bank_{bank}", STREAM, run_id, wait=BANK_STATEMENTS.lock_wait),
        FileSeal(warehouse.hasher).opened(path) as plain,
    ):
        return _load_file(warehouse, plain, bank, account_no, origin, version, name, run_id)


def _load_file(
    warehouse: Warehouse,
    path: Path,
    bank: str,
    account_no: str | None,
    origin: str,
    version: int | None,
    name: str,
    run_id: str,
) -> FileResult:
    version = version if version is not None else version_of(name)
    sha = file_sha256(path)
    with warehouse.begin() as conn:
        ensure_keyed_line_keys(conn, warehouse.hasher)
        known = known_file(conn, sha)
        if known is not None and known.status != QUARANTINED:
            record_event(
                conn,
                file_id=known.file_id,
                bank=bank,
                name=name,
                sha=sha,
                event=DUPLICATE,
                run_id=run_id,
                detail=f"the same content as file {known.file_id} ({known.status}): nothing loaded again",
            )
            return FileResult(name, DUPLICATE, file_id=known.file_id)
    reader = StatementReader(path, bank=bank, account_no=account_no, file_name=name)
    registration: dict[str, Any] = {
        "bank": bank,
        "name": name,
        "sha": sha,
        "origin": origin,
        "version": version,
        "run_id": run_id,
        "retry_of": known.file_id if known is not None else None,
    }
    if known is not None:
        log.info("statement %s (%s): quarantined before as file %s, read again", name, bank, known.file_id)
    try:
        return _load(warehouse, reader, quarantined_as=(known.bank, known.file_name) if known else None, **registration)
    except StatementError as exc:
        return register_only(warehouse, reader, status=QUARANTINED, reason=str(exc), **registration)
    except Superseded as exc:
        reason = f"file {exc.newer} of a later version covers the same period"
        return register_only(warehouse, reader, status=SUPERSEDED, reason=reason, **registration)


def _load(
    warehouse: Warehouse,
    reader: StatementReader,
    *,
    bank: str,
    name: str,
    sha: str,
    origin: str,
    version: int | None,
    run_id: str,
    retry_of: int | None,
    quarantined_as: tuple[str, str] | None,
) -> FileResult:
    at = utcnow()
    bad: list[QuarantineItem] = []
    with warehouse.begin() as conn:
        file_id = register_loading(
            conn,
            reader,
            bank=bank,
            name=name,
            sha=sha,
            origin=origin,
            version=version,
            run_id=run_id,
            at=at,
            retry_of=retry_of,
        )
        rows: list[dict[str, Any]] = []
        for item in reader:
            if isinstance(item, QuarantineItem):
                bad.append(item)
                continue
            rows.append(line_row(warehouse.hasher, item, file_id, at))
            if len(rows) >= BANK_STATEMENTS.line_batch:
                upsert_lines(conn, rows)
                rows = []
        upsert_lines(conn, rows)
        reader.check_totals()
        previous = previous_versions(conn, bank, reader.account_no, reader.period, file_id)
        check_not_older(previous, version)
        inserted = new_line_count(conn, file_id)
        complete_registration(conn, file_id, reader)
        quarantine(conn, quarantine_items(warehouse.hasher, bank, bad, run_id))
        detail = f"{reader.lines} lines ({inserted} new), {reader.quarantined} rows quarantined"
        record_event(conn, file_id=file_id, bank=bank, name=name, sha=sha, event=LOADED, run_id=run_id, detail=detail)
        dropped = sum(replace(conn, old.file_id, file_id, name, bank, run_id) for old in previous)
        if quarantined_as is not None:  # read again and loaded: its file-level quarantine entry is resolved
            resolve_file_quarantine(conn, *quarantined_as, at)
    log.info(
        "statement %s (%s): %d lines, %d new, %d rows quarantined, %d replaced files",
        name,
        bank,
        reader.lines,
        inserted,
        reader.quarantined,
        len(previous),
    )
    return FileResult(
        name,
        LOADED,
        file_id=file_id,
        lines=reader.lines,
        inserted=inserted,
        kept=reader.lines - inserted,
        quarantined_rows=reader.quarantined,
        replaced_file_ids=[old.file_id for old in previous],
        dropped=dropped,
    )
