"""Syncing a bank's published statement files, and loading a landing folder.

    result = sync_bank_statements(client, warehouse, folder)          # what the bank published since
    result = load_folder(warehouse, folder, bank="icbc")               # every file dropped into a folder

A sync lists the files of the days since the last loaded period (less the look-back of
`estatehub.settings.BANK_STATEMENTS`), skips names already registered and loads each of the others
as its own transaction. It holds its bank's statement lock (`estatehub.sync.lock.stream_lock`, source
`bank_<code>`, stream `statements`) throughout: a second sync of the same bank, or an import of a file
for it, waits up to `lock_wait`, then stops with `SyncAlreadyRunning` naming the run that holds it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, func, select

from connectors.banks.records import QuarantineItem, StatementFile
from connectors.files import UnsafeName, check_outside_name
from estatehub.banks.statements.lines import ensure_keyed_line_keys
from estatehub.banks.statements.load import load_statement_file
from estatehub.banks.statements.quarantine import quarantine_items
from estatehub.banks.statements.registry import DUPLICATE, LOADED, QUARANTINED, STREAM, SUPERSEDED, FileResult
from estatehub.banks.tables import etl_bank_statement_file
from estatehub.sealed import FileSeal, is_sealed
from estatehub.settings import BANK_STATEMENTS, StatementSettings
from estatehub.sync.lock import abandon_stale_runs, stream_lock
from estatehub.sync.runs import new_run_id
from estatehub.warehouse.engine import Warehouse
from estatehub.warehouse.etl import FAILED, FULL, INCREMENTAL, SUCCEEDED, finish_run, quarantine, start_run, utcnow

log = logging.getLogger(__name__)


class StatementSource(Protocol):
    code: str
    has_statements: bool

    def list_statement_files(self, date_from: date, date_to: date) -> list[StatementFile]: ...

    def download_statement(self, file: StatementFile, folder: Path) -> Path: ...


@dataclass
class StatementsResult:
    bank: str
    run_id: str
    listed: int = 0
    files: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for result in self.files if result.status == status)

    @property
    def lines_inserted(self) -> int:
        return sum(result.inserted for result in self.files)

    def as_dict(self) -> dict[str, Any]:
        return {
            "bank": self.bank,
            "run_id": self.run_id,
            "listed": self.listed,
            "loaded": self.count(LOADED),
            "duplicates": self.count(DUPLICATE),
            "quarantined": self.count(QUARANTINED),
            "superseded": self.count(SUPERSEDED),
            "replaced": sum(len(result.replaced_file_ids) for result in self.files),
            "lines_inserted": self.lines_inserted,
            "rows_quarantined": sum(result.quarantined_rows for result in self.files),
            "seconds": round(self.seconds, 3),
        }

    def summary(self) -> str:
        counts = self.as_dict()
        return (
            f"{self.bank}: {counts['listed']} files listed, {counts['loaded']} loaded ({counts['lines_inserted']} "
            f"new lines), {counts['duplicates']} duplicates, {counts['replaced']} replaced, {counts['quarantined']} "
            f"quarantined, {counts['superseded']} superseded"
        )


def _window(conn: Connection, bank: str, first_day: date, look_back: timedelta) -> date:
    last = conn.execute(
        select(func.max(etl_bank_statement_file.c.period_end_on)).where(
            etl_bank_statement_file.c.bank == bank, etl_bank_statement_file.c.status != QUARANTINED
        )
    ).scalar_one_or_none()
    return max(first_day, last - look_back) if last else first_day


def _registered_names(conn: Connection, bank: str) -> set[str]:
    files = etl_bank_statement_file
    rows = conn.execute(select(files.c.file_name).where(files.c.bank == bank, files.c.status != QUARANTINED))
    return set(rows.scalars())


def sync_bank_statements(
    client: StatementSource,
    warehouse: Warehouse,
    folder: str | Path,
    *,
    first_day: date | None = None,
    last_day: date | None = None,
    run_id: str | None = None,
    settings: StatementSettings = BANK_STATEMENTS,
) -> StatementsResult:
    """Download and load the statement files `client`'s bank published since the last loaded period
    (less the look-back), skipping names already registered. Each file is its own transaction."""
    bank = client.code
    first_day = first_day or settings.first_day
    run_id = run_id or new_run_id(f"bank_{bank}")
    result = StatementsResult(bank, run_id)
    if not client.has_statements:
        return result
    started = time.monotonic()
    warehouse.prepare()
    source = f"bank_{bank}"
    with stream_lock(warehouse, source, STREAM, run_id, wait=settings.lock_wait):
        with warehouse.begin() as conn:
            ensure_keyed_line_keys(conn, warehouse.hasher)
            abandoned = abandon_stale_runs(conn, source, STREAM, run_id, utcnow())
        if abandoned:
            log.warning("bank %s statements: runs %s were left running by a stopped sync: abandoned", bank, abandoned)
        _sync(client, warehouse, folder, result, first_day, last_day, settings, started)
    return result


def _sync(
    client: StatementSource,
    warehouse: Warehouse,
    folder: str | Path,
    result: StatementsResult,
    first_day: date,
    last_day: date | None,
    settings: StatementSettings,
    started: float,
) -> None:
    bank, run_id = result.bank, result.run_id
    engine = warehouse.engine
    seal = FileSeal(warehouse.hasher)
    with engine.connect() as conn:
        since = _window(conn, bank, first_day, settings.look_back)
        registered = _registered_names(conn, bank)
    mode = FULL if since == first_day else INCREMENTAL
    start_run(
        engine,
        run_id=run_id,
        source=f"bank_{bank}",
        stream=STREAM,
        mode=mode,
        since_at=datetime.combine(since, datetime.min.time()).replace(tzinfo=UTC),
    )
    try:
        listed = client.list_statement_files(since, last_day or date.today() + timedelta(days=1))
        result.listed = len(listed)
        target = Path(folder) / bank
        for file in sorted(listed, key=lambda f: (f.period_start, f.version, f.file_name)):
            if file.file_name in registered:
                continue
            refused = _refuse_unsafe_name(warehouse, file, run_id)
            if refused is not None:
                result.files.append(refused)
                continue
            path = client.download_statement(file, target)
            result.files.append(
                load_statement_file(
                    warehouse,
                    path,
                    bank=bank,
                    account_no=file.account_no,
                    origin="api",
                    version=file.version,
                    file_name=file.file_name,
                    run_id=run_id,
                )
            )
            seal.seal(path)  # the bank's file holds payers' card numbers in full: kept sealed at rest
        result.seconds = time.monotonic() - started
        finish_run(engine, run_id, status=SUCCEEDED, message=result.summary())
    except BaseException as exc:
        finish_run(engine, run_id, status=FAILED, message=f"{type(exc).__name__}: {exc}")
        raise


def _refuse_unsafe_name(warehouse: Warehouse, file: StatementFile, run_id: str) -> FileResult | None:
    """A listed file whose name would be a path (`../x`, `a/b`, `/x`, `C:x`) is quarantined, not
    downloaded; None for a plain name. (The download saves under a local name anyway.)"""
    try:
        check_outside_name(file.file_name)
    except UnsafeName as exc:
        reason = f"the bank listed a file whose name is a path: {exc}"
        item = QuarantineItem(
            f"bank_{file.bank}",
            "statement_listing",
            str(file.file_name),
            reason,
            {"account_no": file.account_no, "date": file.period_start.isoformat(), "version": file.version},
            file_name=str(file.file_name),
        )
        with warehouse.begin() as conn:
            quarantine(conn, quarantine_items(warehouse.hasher, file.bank, [item], run_id))
        log.warning("bank %s: %s", file.bank, reason)
        return FileResult(str(file.file_name), QUARANTINED, reason=reason)
    return None


def load_folder(warehouse: Warehouse, folder: str | Path, *, bank: str, origin: str = "landing") -> StatementsResult:
    """Load every file dropped into `folder` (a landing folder), oldest name first; duplicates load nothing.
    Each file is sealed at rest once read (files sealed before are not read again)."""
    run_id = new_run_id(f"bank_{bank}")
    result = StatementsResult(bank, run_id)
    paths = sorted(p for p in Path(folder).iterdir() if p.is_file() and not p.name.startswith(".") and not is_sealed(p))
    result.listed = len(paths)
    seal = FileSeal(warehouse.hasher)
    for path in paths:
        result.files.append(load_statement_file(warehouse, path, bank=bank, origin=origin, run_id=run_id))
        seal.seal(path)
    return result
