"""Statement lines as stored: one row per line key, the counterparty's number masked with its keyed hash.

The counterparty's account or card number (a payer's bank card is personal financial information under
PIPL) is stored masked (`6217***********3333`) with its keyed hash, `counterparty_account_hash`, so the
lines of one payer can still be matched (a number the bank already masked has no hash: two payers may
share its visible digits); the full number stays in the bank's file only. The line key the reader
makes is a plain digest of the line's fields, the full number among them, so it is stored keyed
(`hasher.hash("statement_line", key)`): nothing can be tried against it. Lines stored before, under
the plain key, are re-keyed in place by the first load or sync after the upgrade
(`ensure_keyed_line_keys`).

The free text of a line (`FREE_TEXT`: memo, summary, the counterparty's name and bank, the channel)
is what a payer or a clerk typed: an ID number, a phone or a card number written in it is stored
redacted by shape, as the ledger's memos are (`estatehub.warehouse.redact.redact_text`: the masked form
and the keyed hash, so a line can still be matched to a person; the room and the words around it stay
for the memo parser).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from connectors.banks.records import StatementLine
from connectors.identity import mask_account, normalize_account
from estatehub.banks.tables import core_bank_statement_line
from estatehub.pii import PiiHasher
from estatehub.settings import BANK_STATEMENTS
from estatehub.warehouse.etl import bulk_execute, insert_ignore_statement, upsert_statement, utcnow
from estatehub.warehouse.redact import redact_free_text
from estatehub.warehouse.tables import etl_meta
from estatehub.warehouse.types import to_fen

log = logging.getLogger(__name__)

ACCOUNT = "account"  # the keyed-hash kind of a bank account or card number
LINE_KEY = "statement_line"  # the keyed-hash kind of a statement line's key
# `etl_meta` flag: every stored line key is keyed (lines loaded before migration 0006 were re-keyed)
LINE_KEYS_KEYED = "statement_line_keys_keyed"
_PLAIN_KEY_LENGTH = 32  # the reader's key: a 16-byte BLAKE2b digest in hex (a keyed one has 64)


def ensure_keyed_line_keys(conn: Connection, hasher: PiiHasher) -> int:
    """Re-key the lines stored under the reader's plain key (before migration 0006), once per
    warehouse, and redact the free text of lines stored before that was done on load
    (`ensure_redacted_free_text`); returns how many were re-keyed. A migration cannot do it: it has
    no PII key."""
    ensure_redacted_free_text(conn, hasher)
    meta = etl_meta
    if conn.execute(select(meta.c.value).where(meta.c.meta_key == LINE_KEYS_KEYED)).scalar_one_or_none():
        return 0
    table = core_bank_statement_line
    plain = list(
        conn.execute(select(table.c.line_key).where(func.length(table.c.line_key) == _PLAIN_KEY_LENGTH)).scalars()
    )
    batch = BANK_STATEMENTS.line_batch
    for start in range(0, len(plain), batch):
        conn.execute(
            update(table).where(table.c.line_key == bindparam("plain_key")).values(line_key=bindparam("keyed_key")),
            [{"plain_key": key, "keyed_key": hasher.hash(LINE_KEY, key)} for key in plain[start : start + batch]],
        )
    conn.execute(
        insert_ignore_statement(conn, meta, ["meta_key"]),
        {"meta_key": LINE_KEYS_KEYED, "value": f"{len(plain)} re-keyed", "updated_at": utcnow()},
    )
    if plain:
        log.info("statement lines: %d lines stored under the plain key were re-keyed", len(plain))
    return len(plain)


# what a payer or a clerk types: any of it may hold an ID number, a phone or a card number
FREE_TEXT = ("memo", "summary", "counterparty_name", "counterparty_bank", "channel")


FREE_TEXT_REDACTED = "statement_line_free_text_redacted"  # `etl_meta` flag: lines stored before were redacted


def ensure_redacted_free_text(conn: Connection, hasher: PiiHasher) -> int:
    """Redact the free text of the lines stored before it was redacted on load, once per warehouse;
    returns how many lines changed. A migration cannot do it: it has no PII key."""
    meta = etl_meta
    if conn.execute(select(meta.c.value).where(meta.c.meta_key == FREE_TEXT_REDACTED)).scalar_one_or_none():
        return 0
    table = core_bank_statement_line
    columns = [table.c[name] for name in FREE_TEXT]
    changed: list[dict[str, Any]] = []
    for row in conn.execute(select(table.c.line_key, *columns)).mappings():
        redacted = {name: redact_free_text(hasher, row[name]) for name in FREE_TEXT}
        if any(redacted[name] != row[name] for name in FREE_TEXT):
            changed.append({"key": row["line_key"], **{f"new_{name}": redacted[name] for name in FREE_TEXT}})
    batch = BANK_STATEMENTS.line_batch
    statement = (
        update(table)
        .where(table.c.line_key == bindparam("key"))
        .values({name: bindparam(f"new_{name}") for name in FREE_TEXT})
    )
    for start in range(0, len(changed), batch):
        conn.execute(statement, changed[start : start + batch])
    conn.execute(
        insert_ignore_statement(conn, meta, ["meta_key"]),
        {"meta_key": FREE_TEXT_REDACTED, "value": f"{len(changed)} redacted", "updated_at": utcnow()},
    )
    if changed:
        log.info("statement lines: the free text of %d lines stored before was redacted", len(changed))
    return len(changed)


def line_row(hasher: PiiHasher, line: StatementLine, file_id: int, at: datetime) -> dict[str, Any]:
    """The `core_bank_statement_line` row of `line`, carried by file `file_id`."""
    account = line.counterparty_account
    if account is not None and not normalize_account(account):
        account = None
    row = _row(hasher, line, account, file_id, at)
    for column in FREE_TEXT:
        row[column] = redact_free_text(hasher, row[column])
    return row


def _row(hasher: PiiHasher, line: StatementLine, account: str | None, file_id: int, at: datetime) -> dict[str, Any]:
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


def upsert_lines(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` by line key; a line already stored is now carried by the newer file."""
    bulk_execute(
        conn,
        "core_bank_statement_line:upsert",
        lambda c: upsert_statement(
            c,
            core_bank_statement_line,
            ["line_key"],
            update_columns=["file_id", "line_no", "is_current", "removed_by_file_id"],
        ),
        rows,
    )


def new_line_count(conn: Connection, file_id: int) -> int:
    """How many of the stored lines file `file_id` was the first to carry. Called right after its lines
    were upserted, when every line it carries names it as `file_id`: the condition on `file_id` (indexed)
    keeps the count to the file's own lines instead of a scan of every line stored (a scan per file made a
    sync of many daily files quadratic)."""
    lines = core_bank_statement_line
    carried = (lines.c.file_id == file_id) & (lines.c.first_file_id == file_id)
    return conn.execute(select(func.count()).select_from(lines).where(carried)).scalar_one()
