"""Loading statement files: a registry of files, every line once, corrected files replacing earlier ones.

    result = load_statement_file(warehouse, path, bank="icbc")        # one file, one transaction
    result = sync_bank_statements(client, warehouse, folder)          # what the bank published since

A file is known by its SHA-256: delivered again (by the API, a landing folder or by hand), it is a
`duplicate` and nothing is loaded twice. A new file is read by `connectors.banks.statements`; its
lines are inserted by their line key (the same line in an overlapping file — a period export over the
days of the daily files — is the same key: kept once, now carried by the newer file). Rows the reader
could not read are quarantined with file and line; a file of unknown layout, or whose rows do not add
up to its totals line, is quarantined whole (the reason names the file and the difference) and none of
its lines are loaded — other files are not affected.

A file for the same bank, account and period as a loaded one (a corrected file, `_v2`) replaces it:
lines only the earlier file had stay in the warehouse, marked not current and naming the file that
dropped them; the earlier file becomes `replaced`; both steps are in `etl_bank_statement_event`. A
file older than the loaded one (a lower version) is `superseded` and loads nothing.

The counterparty's account or card number (a payer's bank card is personal financial information under
PIPL) is stored masked (`6217***********3333`) with its keyed hash, `counterparty_account_hash`, so the
lines of one payer can still be matched (a number the bank already masked has no hash: two payers may
share its visible digits); the full number stays in the bank's file only. The line key the reader
makes is a plain digest of the line's fields, the full number among them, so it is stored keyed
(`hasher.hash("statement_line", key)`): nothing can be tried against it. Lines stored before, under
the plain key, are re-keyed in place by the first load or sync after the upgrade
(`ensure_keyed_line_keys`). A quarantined row and its reason are kept with every account-like run of
digits masked the same way (and ID numbers and phones redacted, as in every payload).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, and_, bindparam, func, insert, select, update

from connectors.banks.errors import StatementError
from connectors.banks.records import QuarantineItem, StatementFile, StatementLine
from connectors.banks.statements import StatementReader
from connectors.identity import mask_account, normalize_account
from estatehub.banks.tables import core_bank_statement_line, etl_bank_statement_event, etl_bank_statement_file
from estatehub.pii import PiiHasher
from estatehub.sync.runs import new_run_id
from estatehub.warehouse.engine import Warehouse
from estatehub.warehouse.etl import (
    FAILED,
    FULL,
    INCREMENTAL,
    SUCCEEDED,
    Received,
    bulk_execute,
    finish_run,
    insert_ignore_statement,
    quarantine,
    quarantine_rows,
    start_run,
    upsert_statement,
    utcnow,
)
from estatehub.warehouse.redact import redact_text
from estatehub.warehouse.tables import etl_meta
from estatehub.warehouse.types import to_fen

log = logging.getLogger(__name__)

STREAM = "statements"
LINE_BATCH = 2000
LOOK_BACK_DAYS = 7
FIRST_DAY = date(2000, 1, 1)
_VERSION_RE = re.compile(r"_v(\d+)\.\w+$")

LOADED, DUPLICATE, REPLACED, QUARANTINED, SUPERSEDED = "loaded", "duplicate", "replaced", "quarantined", "superseded"


@dataclass
class FileResult:
    """What became of one delivered file."""

    file_name: str
    status: str  # loaded | duplicate | quarantined | superseded
    file_id: int | None = None
    lines: int = 0
    inserted: int = 0
    kept: int = 0
    quarantined_rows: int = 0
    replaced_file_ids: list[int] = field(default_factory=list)
    dropped: int = 0
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _version_of(name: str) -> int | None:
    found = _VERSION_RE.search(name)
    return int(found[1]) if found else None


def _event(
    conn: Connection,
    *,
    file_id: int | None,
    bank: str,
    name: str,
    sha: str,
    event: str,
    run_id: str,
    detail: str | None = None,
) -> None:
    conn.execute(
        insert(etl_bank_statement_event).values(
            file_id=file_id,
            bank=bank,
            file_name=name,
            sha256=sha,
            event=event,
            detail=detail,
            run_id=run_id,
            event_at=utcnow(),
        )
    )


ACCOUNT = "account"  # the keyed-hash kind of a bank account or card number
LINE_KEY = "statement_line"  # the keyed-hash kind of a statement line's key
# `etl_meta` flag: every stored line key is keyed (lines loaded before migration 0006 were re-keyed)
LINE_KEYS_KEYED = "statement_line_keys_keyed"
_PLAIN_KEY_LENGTH = 32  # the reader's key: a 16-byte BLAKE2b digest in hex (a keyed one has 64)


def ensure_keyed_line_keys(conn: Connection, hasher: PiiHasher) -> int:
    """Re-key the lines stored under the reader's plain key (before migration 0006), once per
    warehouse; returns how many were re-keyed. A migration cannot do it: it has no PII key."""
    meta = etl_meta
    if conn.execute(select(meta.c.value).where(meta.c.meta_key == LINE_KEYS_KEYED)).scalar_one_or_none():
        return 0
    table = core_bank_statement_line
    plain = list(
        conn.execute(select(table.c.line_key).where(func.length(table.c.line_key) == _PLAIN_KEY_LENGTH)).scalars()
    )
    for start in range(0, len(plain), LINE_BATCH):
        conn.execute(
            update(table).where(table.c.line_key == bindparam("plain_key")).values(line_key=bindparam("keyed_key")),
            [{"plain_key": key, "keyed_key": hasher.hash(LINE_KEY, key)} for key in plain[start : start + LINE_BATCH]],
        )
    conn.execute(
        insert_ignore_statement(conn, meta, ["meta_key"]),
        {"meta_key": LINE_KEYS_KEYED, "value": f"{len(plain)} re-keyed", "updated_at": utcnow()},
    )
    if plain:
        log.info("statement lines: %d lines stored under the plain key were re-keyed", len(plain))
    return len(plain)


def _line_row(hasher: PiiHasher, line: StatementLine, file_id: int, at: datetime) -> dict[str, Any]:
    account = line.counterparty_account
    if account is not None and not normalize_account(account):
        account = None
    return {
        "line_key": hasher.hash(LINE_KEY, line.line_key),
        "bank": line.bank,
        "account_no": line.account_no,
        "booked_on": line.booked_on,
        "booked_time": line.booked_time.isoformat() if line.booked_time else None,
        "value_on": line.value_on,
        "direction": line.direction,
        "amount_fen": to_fen(line.amount),
        "balance_fen": to_fen(line.balance),
        "currency": line.currency,
        "counterparty_name": line.counterparty_name,
        "counterparty_account": mask_account(account) if account else None,
        "counterparty_account_hash": (
            hasher.hash(ACCOUNT, normalize_account(account)) if account and "*" not in account else None
        ),
        "counterparty_bank": line.counterparty_bank,
        "summary": line.summary,
        "memo": line.memo,
        "serial": line.serial,
        "channel": line.channel,
        "layout": line.layout,
        "file_id": file_id,
        "line_no": line.line_no,
        "first_file_id": file_id,
        "is_current": True,
        "removed_by_file_id": None,
        "loaded_at": at,
    }


def _upsert_lines(conn: Connection, rows: list[dict[str, Any]]) -> None:
    table = core_bank_statement_line
    bulk_execute(
        conn,
        "core_bank_statement_line:upsert",
        lambda c: upsert_statement(
            c,
            table,
            ["line_key"],
            update_columns=["file_id", "line_no", "is_current", "removed_by_file_id"],
        ),
        rows,
    )


# 12 or more digits in a row, or in groups of four split by single spaces or dashes
# (`6217 0000 1111 2222`); a run of exactly 18 is left to the ID-number redaction of `Received.of`
_ACCOUNT_RUN = re.compile(r"(?<![\d*])(?:\d{12,}|\d{4}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,4})?)(?![\d*])")


def _mask_account_runs(value: Any) -> Any:
    """`value` (a row's text, cells or object) with every account-like run of digits masked."""
    if isinstance(value, str):
        return _ACCOUNT_RUN.sub(
            lambda match: match.group(0) if len(match.group(0)) == 18 else mask_account(match.group(0)), value
        )
    if isinstance(value, list | tuple):
        return [_mask_account_runs(item) for item in value]
    if isinstance(value, dict):
        return {key: _mask_account_runs(item) for key, item in value.items()}
    return value


def _masked_reason(hasher: PiiHasher, reason: str) -> str:
    """A reason fit to store and show: it may quote a cell of the row."""
    return redact_text(hasher, _mask_account_runs(reason))


def _quarantine_rows(warehouse: Warehouse, bank: str, items: Iterable[QuarantineItem], run_id: str) -> list[dict]:
    received = [
        Received.of(
            warehouse.hasher,
            source=f"bank_{bank}",
            entity=item.entity,
            record_key=f"{item.file_name}:{item.line_no}" if item.line_no is not None else item.file_name,
            payload={"file_name": item.file_name, "line_no": item.line_no, "row": _mask_account_runs(item.payload)},
            reason=_masked_reason(warehouse.hasher, item.reason),
        )
        for item in items
    ]
    return quarantine_rows(warehouse.hasher, received, run_id=run_id, seen_at=utcnow())


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
    """Load one statement file (see the module docstring); the outcome is in the registry and returned."""
    path = Path(path)
    name = file_name or path.name
    run_id = run_id or new_run_id(f"bank_{bank}")
    version = version if version is not None else _version_of(name)
    sha = file_sha256(path)
    with warehouse.begin() as conn:
        ensure_keyed_line_keys(conn, warehouse.hasher)
        known = conn.execute(
            select(etl_bank_statement_file.c.file_id, etl_bank_statement_file.c.status).where(
                etl_bank_statement_file.c.sha256 == sha
            )
        ).first()
        if known is not None:
            _event(
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
    try:
        return _load(warehouse, reader, bank=bank, name=name, sha=sha, origin=origin, version=version, run_id=run_id)
    except StatementError as exc:
        return _quarantine_file(
            warehouse,
            reader,
            bank=bank,
            name=name,
            sha=sha,
            origin=origin,
            version=version,
            run_id=run_id,
            reason=str(exc),
        )


class _Superseded(Exception):
    def __init__(self, newer: int) -> None:
        super().__init__(newer)
        self.newer = newer


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
) -> FileResult:
    files = etl_bank_statement_file
    at = utcnow()
    bad: list[QuarantineItem] = []
    try:
        with warehouse.begin() as conn:
            file_id = conn.execute(
                insert(files)
                .values(
                    bank=bank,
                    account_no=reader.given_account,
                    file_name=name,
                    sha256=sha,
                    version=version,
                    line_count=0,
                    quarantined_count=0,
                    credit_count=0,
                    debit_count=0,
                    credit_fen=0,
                    debit_fen=0,
                    status=LOADED,
                    origin=origin,
                    run_id=run_id,
                    loaded_at=at,
                )
                .returning(files.c.file_id)
            ).scalar_one()
            rows: list[dict[str, Any]] = []
            for item in reader:
                if isinstance(item, QuarantineItem):
                    bad.append(item)
                    continue
                rows.append(_line_row(warehouse.hasher, item, file_id, at))
                if len(rows) >= LINE_BATCH:
                    _upsert_lines(conn, rows)
                    rows = []
            _upsert_lines(conn, rows)
            reader.check_totals()
            period = reader.period
            account = reader.account_no
            replaced = _previous_versions(conn, bank, account, period, file_id)
            newer = [
                old for old in replaced if old.version is not None and version is not None and old.version > version
            ]
            if newer:
                raise _Superseded(newer[0].file_id)
            inserted = conn.execute(
                select(func.count())
                .select_from(core_bank_statement_line)
                .where(core_bank_statement_line.c.first_file_id == file_id)
            ).scalar_one()
            conn.execute(
                update(files)
                .where(files.c.file_id == file_id)
                .values(
                    account_no=account,
                    layout=reader.layout.name if reader.layout else None,
                    period_start_on=period[0] if period else None,
                    period_end_on=period[1] if period else None,
                    line_count=reader.lines,
                    quarantined_count=reader.quarantined,
                    credit_count=reader.credit_count,
                    debit_count=reader.debit_count,
                    credit_fen=to_fen(reader.credit_total),
                    debit_fen=to_fen(reader.debit_total),
                )
            )
            quarantine(conn, _quarantine_rows(warehouse, bank, bad, run_id))
            detail = f"{reader.lines} lines ({inserted} new), {reader.quarantined} rows quarantined"
            _event(conn, file_id=file_id, bank=bank, name=name, sha=sha, event=LOADED, run_id=run_id, detail=detail)
            dropped = sum(_replace(conn, old.file_id, file_id, name, bank, run_id) for old in replaced)
    except _Superseded as exc:
        return _register_only(
            warehouse,
            reader,
            bank=bank,
            name=name,
            sha=sha,
            origin=origin,
            version=version,
            run_id=run_id,
            status=SUPERSEDED,
            reason=f"file {exc.newer} of a later version covers the same period",
        )
    log.info(
        "statement %s (%s): %d lines, %d new, %d rows quarantined, %d replaced files",
        name,
        bank,
        reader.lines,
        inserted,
        reader.quarantined,
        len(replaced),
    )
    return FileResult(
        name,
        LOADED,
        file_id=file_id,
        lines=reader.lines,
        inserted=inserted,
        kept=reader.lines - inserted,
        quarantined_rows=reader.quarantined,
        replaced_file_ids=[old.file_id for old in replaced],
        dropped=dropped,
    )


def _previous_versions(
    conn: Connection, bank: str, account: str | None, period: tuple[date, date] | None, file_id: int
) -> list[Any]:
    if period is None:
        return []
    files = etl_bank_statement_file
    return list(
        conn.execute(
            select(files.c.file_id, files.c.version).where(
                files.c.bank == bank,
                files.c.account_no == account if account is not None else files.c.account_no.is_(None),
                files.c.period_start_on == period[0],
                files.c.period_end_on == period[1],
                files.c.status == LOADED,
                files.c.file_id != file_id,
            )
        )
    )


def _replace(conn: Connection, old_id: int, new_id: int, new_name: str, bank: str, run_id: str) -> int:
    """Mark file `old_id` replaced by `new_id`; its lines the new file does not carry stay, not current."""
    lines = core_bank_statement_line
    dropped = conn.execute(
        update(lines)
        .where(and_(lines.c.file_id == old_id, lines.c.is_current.is_(True)))
        .values(is_current=False, removed_by_file_id=new_id)
    ).rowcount
    files = etl_bank_statement_file
    conn.execute(
        update(files)
        .where(files.c.file_id == old_id)
        .values(status=REPLACED, replaced_by_file_id=new_id, replaced_at=utcnow())
    )
    old = conn.execute(select(files.c.file_name, files.c.sha256).where(files.c.file_id == old_id)).one()
    _event(
        conn,
        file_id=old_id,
        bank=bank,
        name=old.file_name,
        sha=old.sha256,
        event=REPLACED,
        run_id=run_id,
        detail=f"replaced by file {new_id} ({new_name}); {dropped} of its lines are not in the new file",
    )
    return dropped


def _register_only(
    warehouse: Warehouse,
    reader: StatementReader,
    *,
    bank: str,
    name: str,
    sha: str,
    origin: str,
    version: int | None,
    run_id: str,
    status: str,
    reason: str,
) -> FileResult:
    """Record a file that loads no line (quarantined or superseded), with the reason (which may quote a
    cell: account-like runs masked, ID numbers and phones redacted)."""
    received_reason, reason = reason, _masked_reason(warehouse.hasher, reason)
    files = etl_bank_statement_file
    period = reader.period if reader.finished or reader.stated_period else None
    with warehouse.begin() as conn:
        file_id = conn.execute(
            insert(files)
            .values(
                bank=bank,
                account_no=reader.account_no,
                file_name=name,
                sha256=sha,
                layout=reader.layout.name if reader.layout else None,
                period_start_on=period[0] if period else None,
                period_end_on=period[1] if period else None,
                version=version,
                line_count=reader.lines,
                quarantined_count=reader.quarantined,
                credit_count=reader.credit_count,
                debit_count=reader.debit_count,
                credit_fen=to_fen(reader.credit_total),
                debit_fen=to_fen(reader.debit_total),
                status=status,
                origin=origin,
                reason=reason,
                run_id=run_id,
                loaded_at=utcnow(),
            )
            .returning(files.c.file_id)
        ).scalar_one()
        _event(conn, file_id=file_id, bank=bank, name=name, sha=sha, event=status, run_id=run_id, detail=reason)
        if status == QUARANTINED:
            item = QuarantineItem(
                f"bank_{bank}", "statement_file", name, received_reason, {"sha256": sha}, file_name=name
            )  # masked once, by _quarantine_rows
            quarantine(conn, _quarantine_rows(warehouse, bank, [item], run_id))
    log.warning("statement %s (%s) %s: %s", name, bank, status, reason)
    return FileResult(name, status, file_id=file_id, lines=0, reason=reason)


def _quarantine_file(warehouse: Warehouse, reader: StatementReader, **kwargs: Any) -> FileResult:
    return _register_only(warehouse, reader, status=QUARANTINED, **kwargs)


# -- syncing a bank's published files --------------------------------------------------------------


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


def _window(conn: Connection, bank: str, first_day: date) -> date:
    last = conn.execute(
        select(func.max(etl_bank_statement_file.c.period_end_on)).where(
            etl_bank_statement_file.c.bank == bank, etl_bank_statement_file.c.status != QUARANTINED
        )
    ).scalar_one_or_none()
    return max(first_day, last - timedelta(days=LOOK_BACK_DAYS)) if last else first_day


def _registered_names(conn: Connection, bank: str) -> set[str]:
    files = etl_bank_statement_file
    rows = conn.execute(select(files.c.file_name).where(files.c.bank == bank, files.c.status != QUARANTINED))
    return set(rows.scalars())


def sync_bank_statements(
    client: StatementSource,
    warehouse: Warehouse,
    folder: str | Path,
    *,
    first_day: date = FIRST_DAY,
    last_day: date | None = None,
    run_id: str | None = None,
) -> StatementsResult:
    """Download and load the statement files `client`'s bank published since the last loaded period
    (less a look-back week), skipping names already registered. Each file is its own transaction."""
    bank = client.code
    run_id = run_id or new_run_id(f"bank_{bank}")
    result = StatementsResult(bank, run_id)
    if not client.has_statements:
        return result
    started = time.monotonic()
    warehouse.prepare()
    with warehouse.begin() as conn:
        ensure_keyed_line_keys(conn, warehouse.hasher)
    engine = warehouse.engine
    with engine.connect() as conn:
        since = _window(conn, bank, first_day)
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
            path = client.download_statement(file, target)
            result.files.append(
                load_statement_file(
                    warehouse,
                    path,
                    bank=bank,
                    account_no=file.account_no,
                    origin="api",
                    version=file.version,
                    run_id=run_id,
                )
            )
        result.seconds = time.monotonic() - started
        finish_run(engine, run_id, status=SUCCEEDED, message=_summary(result))
    except BaseException as exc:
        finish_run(engine, run_id, status=FAILED, message=f"{type(exc).__name__}: {exc}")
        raise
    return result


def load_folder(warehouse: Warehouse, folder: str | Path, *, bank: str, origin: str = "landing") -> StatementsResult:
    """Load every file dropped into `folder` (a landing folder), oldest name first; duplicates load nothing."""
    run_id = new_run_id(f"bank_{bank}")
    result = StatementsResult(bank, run_id)
    paths = sorted(p for p in Path(folder).iterdir() if p.is_file() and not p.name.startswith("."))
    result.listed = len(paths)
    for path in paths:
        result.files.append(load_statement_file(warehouse, path, bank=bank, origin=origin, run_id=run_id))
    return result


def _summary(result: StatementsResult) -> str:
    counts = result.as_dict()
    return (
        f"{result.bank}: {counts['listed']} files listed, {counts['loaded']} loaded ({counts['lines_inserted']} new "
        f"lines), {counts['duplicates']} duplicates, {counts['replaced']} replaced, {counts['quarantined']} "
        f"quarantined, {counts['superseded']} superseded"
    )


def iter_statement_lines(conn: Connection, bank: str) -> Iterator[Any]:
    """The current lines of `bank`, by account and date (for reports and tests)."""
    lines = core_bank_statement_line
    yield from conn.execute(
        select(lines)
        .where(lines.c.bank == bank, lines.c.is_current.is_(True))
        .order_by(lines.c.account_no, lines.c.booked_on, lines.c.line_no)
    )
