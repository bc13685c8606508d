"""Breaks and matches in the warehouse: statuses carried across runs, acknowledged and resolved by people.

A run judges the breaks of its reconciliation whose items fall in its period (`first_on` within it, or
no date): those it finds again keep their status (acknowledged stays acknowledged, with who and why);
those it does not find close by themselves (`resolved`, how = `data_changed`); new ones open. A break
resolved by hand that breaks again reopens. Breaks outside the period are left as they are, so running
an old month again does not close today's breaks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, delete, insert, or_, select, update

from estatehub.reconcile.breaks import BreakStatus, Status, StatusError, acknowledge, carry_over, resolve
from estatehub.reconcile.tables import rec_break, rec_match
from estatehub.warehouse.etl import bulk_insert

BREAK_DATA = (
    "reconciliation",
    "reason",
    "rule",
    "subject",
    "party_masked",
    "kind",
    "left_ids",
    "right_ids",
    "amount_fen",
    "left_amount_fen",
    "right_amount_fen",
    "first_on",
    "due_on",
    "age_days",
    "detail",
)


@dataclass(frozen=True)
class Carried:
    new: int
    kept: int
    reopened: int
    closed: int


class BreakNotFound(LookupError):
    """No break has that key."""


def save_breaks(
    conn: Connection,
    reconciliation: str,
    breaks: list[dict[str, Any]],
    *,
    run_id: str,
    as_of: date,
    date_from: date,
    date_to: date,
) -> Carried:
    """Store today's breaks of one reconciliation and carry the statuses of those in the period."""
    b = rec_break.c
    in_period = or_(b.first_on.is_(None), and_(b.first_on >= date_from, b.first_on <= date_to))
    previous = {
        row.break_key: _status(row)
        for row in conn.execute(select(rec_break).where(b.reconciliation == reconciliation, in_period))
    }
    today = {row["break_key"]: row for row in breaks}
    if len(today) != len(breaks):
        raise ValueError(f"{reconciliation}: two breaks with one key")
    outside = set(today) - set(previous)
    if outside:  # a key known from outside the period (its first item moved): carry its status too
        for row in conn.execute(select(rec_break).where(b.break_key.in_(sorted(outside)))):
            previous[row.break_key] = _status(row)
    carried = carry_over(previous, today, on=as_of)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    closed: list[dict[str, Any]] = []
    for key, status in carried.statuses.items():
        values = _status_values(status)
        if key in today:
            values |= {name: _stored(name, today[key][name]) for name in BREAK_DATA} | {"last_run_id": run_id}
        if key not in previous:
            inserts.append({"break_key": key, "first_run_id": run_id, **values})
        elif key in today:
            updates.append({"key": key, **values})
        elif key in carried.auto_closed:
            closed.append({"key": key, **values})
    if inserts:
        conn.execute(insert(rec_break), inserts)
    for rows in (updates, closed):  # one statement each, executed for many rows
        if rows:
            names = [name for name in rows[0] if name != "key"]
            statement = (
                update(rec_break)
                .where(b.break_key == bindparam("key"))
                .values({name: bindparam(name) for name in names})
            )
            conn.execute(statement, rows)
    return Carried(len(carried.new), len(carried.kept), len(carried.reopened), len(carried.auto_closed))


def save_matches(
    conn: Connection,
    reconciliation: str,
    matches: Iterable[dict[str, Any]],
    *,
    run_id: str,
    date_from: date,
    date_to: date,
) -> int:
    """Replace the matches of this reconciliation and period by this run's."""
    m = rec_match.c
    conn.execute(
        delete(rec_match).where(m.reconciliation == reconciliation, m.date_from == date_from, m.date_to == date_to)
    )
    rows = [
        {"reconciliation": reconciliation, "date_from": date_from, "date_to": date_to, "run_id": run_id, **match}
        for match in matches
    ]
    bulk_insert(conn, rec_match, rows)  # COPY on PostgreSQL: a run writes hundreds of thousands of matches
    return len(rows)


def acknowledge_break(engine: Engine, key: str, *, who: str, note: str, on: date) -> BreakStatus:
    return _change(engine, key, lambda current: acknowledge(current, who=who, note=note, on=on))


def resolve_break(engine: Engine, key: str, *, who: str, how: str, on: date) -> BreakStatus:
    return _change(engine, key, lambda current: resolve(current, how=how, who=who, on=on))


def _change(engine: Engine, key: str, change: Any) -> BreakStatus:
    with engine.begin() as conn:
        row = conn.execute(select(rec_break).where(rec_break.c.break_key == key).with_for_update()).one_or_none()
        if row is None:
            raise BreakNotFound(f"no break {key!r}: `estatehub breaks list` shows the keys")
        changed = change(_status(row))
        conn.execute(update(rec_break).where(rec_break.c.break_key == key).values(**_status_values(changed)))
        return changed


def _status(row: Any) -> BreakStatus:
    return BreakStatus(
        row.break_key,
        Status(row.status),
        opened_on=row.opened_on,
        changed_on=row.changed_on,
        who=row.who,
        note=row.note,
        how=row.how,
    )


def _status_values(status: BreakStatus) -> dict[str, Any]:
    return {
        "status": str(status.status),
        "opened_on": status.opened_on,
        "changed_on": status.changed_on,
        "who": status.who,
        "note": status.note,
        "how": status.how,
    }


def _stored(name: str, value: Any) -> Any:
    if name in ("left_ids", "right_ids"):
        return json.dumps(sorted(str(v) for v in value), ensure_ascii=False)
    return value


__all__ = [
    "BreakNotFound",
    "Carried",
    "StatusError",
    "acknowledge_break",
    "resolve_break",
    "save_breaks",
    "save_matches",
]
