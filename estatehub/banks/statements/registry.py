"""The registry of statement files (`etl_bank_statement_file`) and what happened to each
(`etl_bank_statement_event`).

A file is known by its SHA-256: delivered again (by the API, a landing folder or by hand), it is a
`duplicate` and nothing is loaded twice — unless it was `quarantined`: then it is read again (imported
with the right `--bank`, or of a layout added since) and, when it loads, takes over its registry row and
its file-level quarantine entry is resolved. A file that loads no line (`quarantined`, `superseded`)
is registered with its reason.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select, update

from connectors.banks.records import QuarantineItem
from connectors.banks.statements import StatementReader
from estatehub.banks.statements.quarantine import masked_reason, quarantine_items
from estatehub.banks.tables import etl_bank_statement_event, etl_bank_statement_file
from estatehub.warehouse.engine import Warehouse
from estatehub.warehouse.etl import quarantine, utcnow
from estatehub.warehouse.tables import etl_quarantine
from estatehub.warehouse.types import to_fen

log = logging.getLogger(__name__)

STREAM = "statements"  # the stream of `etl_run` and of the lock, per source `bank_<code>`
LOADED, DUPLICATE, REPLACED, QUARANTINED, SUPERSEDED = "loaded", "duplicate", "replaced", "quarantined", "superseded"
_VERSION_RE = re.compile(r"_v(\d+)\.\w+$")


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


def version_of(name: str) -> int | None:
    """The version a file's name states (`..._v2.csv`), if any."""
    found = _VERSION_RE.search(name)
    return int(found[1]) if found else None


def record_event(
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


def known_file(conn: Connection, sha: str) -> Any:
    """The registered file with this content (`file_id`, `status`, `bank`, `file_name`), or None."""
    files = etl_bank_statement_file
    return conn.execute(
        select(files.c.file_id, files.c.status, files.c.bank, files.c.file_name).where(files.c.sha256 == sha)
    ).first()


def resolve_file_quarantine(conn: Connection, bank: str, name: str, at: datetime) -> int:
    """Mark resolved the open quarantine entry of a whole file that has now loaded; how many were."""
    q = etl_quarantine
    return conn.execute(
        update(q)
        .where(
            q.c.source == f"bank_{bank}",
            q.c.entity == "statement_file",
            q.c.record_key == name,
            q.c.resolved_at.is_(None),
        )
        .values(resolved_at=at)
    ).rowcount


def register_loading(
    conn: Connection,
    reader: StatementReader,
    *,
    bank: str,
    name: str,
    sha: str,
    origin: str,
    version: int | None,
    run_id: str,
    at: datetime,
    retry_of: int | None = None,
) -> int:
    """Register a file about to be loaded (its counts come with `complete_registration`); its id.
    `retry_of`: the id of the same content quarantined before, whose row is taken over."""
    files = etl_bank_statement_file
    values = {
        "bank": bank,
        "account_no": reader.given_account,
        "file_name": name,
        "sha256": sha,
        "layout": None,
        "period_start_on": None,
        "period_end_on": None,
        "version": version,
        "line_count": 0,
        "quarantined_count": 0,
        "credit_count": 0,
        "debit_count": 0,
        "credit_fen": 0,
        "debit_fen": 0,
        "status": LOADED,
        "origin": origin,
        "reason": None,
        "run_id": run_id,
        "loaded_at": at,
    }
    if retry_of is not None:
        conn.execute(update(files).where(files.c.file_id == retry_of).values(**values))
        return retry_of
    return conn.execute(insert(files).values(**values).returning(files.c.file_id)).scalar_one()


def _counts(reader: StatementReader, period: tuple | None) -> dict[str, Any]:
    return {
        "account_no": reader.account_no,
        "layout": reader.layout.name if reader.layout else None,
        "period_start_on": period[0] if period else None,
        "period_end_on": period[1] if period else None,
        "line_count": reader.lines,
        "quarantined_count": reader.quarantined,
        "credit_count": reader.credit_count,
        "debit_count": reader.debit_count,
        "credit_fen": to_fen(reader.credit_total),
        "debit_fen": to_fen(reader.debit_total),
    }


def complete_registration(conn: Connection, file_id: int, reader: StatementReader) -> None:
    """Record what the reader found in a loaded file: account, layout, period and counts."""
    files = etl_bank_statement_file
    conn.execute(update(files).where(files.c.file_id == file_id).values(**_counts(reader, reader.period)))


def register_only(
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
    retry_of: int | None = None,
) -> FileResult:
    """Record a file that loads no line (quarantined or superseded), with the reason (which may quote a
    cell: account-like runs masked, ID numbers and phones redacted). `retry_of`: as for
    `register_loading` (a file quarantined again keeps its row)."""
    received_reason, reason = reason, masked_reason(warehouse.hasher, reason)
    files = etl_bank_statement_file
    period = reader.period if reader.finished or reader.stated_period else None
    values = {
        "bank": bank,
        "file_name": name,
        "sha256": sha,
        "version": version,
        "status": status,
        "origin": origin,
        "reason": reason,
        "run_id": run_id,
        "loaded_at": utcnow(),
        **_counts(reader, period),
    }
    with warehouse.begin() as conn:
        if retry_of is not None:
            conn.execute(update(files).where(files.c.file_id == retry_of).values(**values))
            file_id = retry_of
        else:
            file_id = conn.execute(insert(files).values(**values).returning(files.c.file_id)).scalar_one()
        record_event(conn, file_id=file_id, bank=bank, name=name, sha=sha, event=status, run_id=run_id, detail=reason)
        if status == QUARANTINED:
            item = QuarantineItem(
                f"bank_{bank}", "statement_file", name, received_reason, {"sha256": sha}, file_name=name
            )  # masked once, by quarantine_items
            quarantine(conn, quarantine_items(warehouse.hasher, bank, [item], run_id))
    log.warning("statement %s (%s) %s: %s", name, bank, status, reason)
    return FileResult(name, status, file_id=file_id, lines=0, reason=reason)
