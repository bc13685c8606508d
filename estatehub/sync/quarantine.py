"""What a person does with quarantined records: list the open ones, dismiss those that will never load.

An entry is open while no good version of its record has loaded (`resolved_at`) and nobody dismissed
it (`dismissed_at`); open entries with a key are asked for again by every incremental sync of their
stream (`estatehub.sync.stream`). Dismissing keeps the entry and its payload, with who and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select, update

from estatehub.warehouse.etl import utcnow
from estatehub.warehouse.tables import etl_quarantine


@dataclass(frozen=True)
class QuarantineEntry:
    quarantine_id: int
    source: str
    entity: str
    record_key: str | None
    reason: str
    first_seen_at: datetime
    last_seen_at: datetime
    seen_count: int
    resolved_at: datetime | None
    dismissed_at: datetime | None


def list_quarantined(
    engine: Engine, *, source: str | None = None, include_closed: bool = False, limit: int = 50
) -> list[QuarantineEntry]:
    """Quarantined records, newest first: the open ones, or every one with `include_closed`."""
    q = etl_quarantine.c
    query = select(
        q.quarantine_id,
        q.source,
        q.entity,
        q.record_key,
        q.reason,
        q.first_seen_at,
        q.last_seen_at,
        q.seen_count,
        q.resolved_at,
        q.dismissed_at,
    )
    if source is not None:
        query = query.where(q.source == source)
    if not include_closed:
        query = query.where(q.resolved_at.is_(None), q.dismissed_at.is_(None))
    query = query.order_by(q.last_seen_at.desc(), q.quarantine_id.desc()).limit(limit)
    with engine.connect() as conn:
        return [QuarantineEntry(*row) for row in conn.execute(query)]


def dismiss(engine: Engine, ids: Sequence[int], *, by: str, note: str) -> list[int]:
    """Dismiss open entries (no longer fetched again); returns the ids dismissed — an id that is not
    open (unknown, resolved, already dismissed) is left as it is."""
    if not by.strip() or not note.strip():
        raise ValueError("expected who dismisses the entries and why (a note), got an empty one")
    q = etl_quarantine.c
    with engine.begin() as conn:
        open_ids = set(
            conn.execute(
                select(q.quarantine_id).where(
                    q.quarantine_id.in_(list(ids)), q.resolved_at.is_(None), q.dismissed_at.is_(None)
                )
            ).scalars()
        )
        if open_ids:
            conn.execute(
                update(etl_quarantine)
                .where(q.quarantine_id.in_(open_ids))
                .values(dismissed_at=utcnow(), dismissed_by=by.strip(), dismiss_note=note.strip())
            )
    return sorted(open_ids)
