"""Corrected files: a file for the same bank, account and period as a loaded one replaces it.

A file for the same bank, account and period as a loaded one (a corrected file, `_v2`) replaces it:
lines only the earlier file had stay in the warehouse, marked not current and naming the file that
dropped them; the earlier file becomes `replaced`; both steps are in `etl_bank_statement_event`. A
file older than the loaded one (a lower version) is `superseded` and loads nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, select, update

from estatehub.banks.statements.registry import LOADED, REPLACED, record_event
from estatehub.banks.tables import core_bank_statement_line, etl_bank_statement_file
from estatehub.warehouse.etl import utcnow


class Superseded(Exception):
    """The file being loaded is older than file `newer`, loaded for the same period."""

    def __init__(self, newer: int) -> None:
        super().__init__(newer)
        self.newer = newer


def previous_versions(
    conn: Connection, bank: str, account: str | None, period: tuple[date, date] | None, file_id: int
) -> list[Any]:
    """The loaded files (`file_id`, `version`) of the same bank, account and period as file `file_id`."""
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


def check_not_older(previous: list[Any], version: int | None) -> None:
    """Raise `Superseded` when a previous file has a higher version than `version`."""
    newer = [old for old in previous if old.version is not None and version is not None and old.version > version]
    if newer:
        raise Superseded(newer[0].file_id)


def replace(conn: Connection, old_id: int, new_id: int, new_name: str, bank: str, run_id: str) -> int:
    """Mark file `old_id` replaced by `new_id`; its lines the new file does not carry stay, not current.
    Returns how many lines were dropped."""
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
    record_event(
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
