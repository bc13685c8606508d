"""Reading and writing the policy monitor's tables (`estatehub.policy.tables`).

A notice and what was found about it (its snapshot, its attachments' snapshots, the changes) are
written in one transaction by a `NoticeWriter`, so a run killed halfway leaves each notice either as
it was or fully updated; the watch's state (failure streak, selector health) and the fetch log are
written at the end of the watch. Nothing here logs texts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, String, and_, bindparam, delete, func, insert, select, update

from estatehub.policy.classify import Classification
from estatehub.policy.config import Retention
from estatehub.policy.normalise import TextSnapshot
from estatehub.policy.tables import (
    core_policy_change,
    core_policy_document,
    core_policy_snapshot,
    etl_policy_attachment_failure,
    etl_policy_fetch_log,
    etl_policy_watch_state,
)

log = logging.getLogger(__name__)


@dataclass
class WatchState:
    """What the monitor remembers of a watch between runs."""

    watch_id: str
    baselined_at: datetime | None = None
    last_run_at: datetime | None = None
    last_ok_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    failure_alerted_at: datetime | None = None
    selector_missing: list[str] = field(default_factory=list)
    selector_broken_since: datetime | None = None
    selector_alerted_at: datetime | None = None


@dataclass(frozen=True)
class Document:
    document_key: str
    watch_id: str
    kind: str
    notice_key: str
    url: str
    title: str | None
    doc_number: str | None
    published_on: date | None
    office: str | None
    status: str
    snapshot_id: int | None
    text_hash: str | None
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class SnapshotRow:
    """A version of a document to keep: its normalised text and what came with it."""

    document_key: str
    url: str
    text: TextSnapshot
    content_hash: str
    byte_size: int
    title: str | None = None
    doc_number: str | None = None
    published_on: date | None = None
    office: str | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    extract_note: str | None = None

    @property
    def text_hash(self) -> str:
        """The hash that decides whether a document changed: of its text, or of its bytes when it has none."""
        return self.text.hash if self.text.lines else self.content_hash


@dataclass(frozen=True)
class ChangeRow:
    kind: str
    watch_id: str
    document_key: str
    notice_key: str
    title: str
    url: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    classification: Classification
    doc_number: str | None = None
    published_on: date | None = None
    attachment_label: str | None = None
    old_snapshot_id: int | None = None
    new_snapshot_id: int | None = None


@dataclass(frozen=True)
class AttachmentFailure:
    """An attachment that could not be read in this run: what it is and why."""

    watch_id: str
    document_key: str
    notice_key: str
    notice_title: str | None
    label: str
    url: str
    kind: str  # too_large | unreadable
    reason: str
    content_hash: str | None = None
    byte_size: int | None = None


@dataclass(frozen=True)
class StoredFailure:
    """An attachment failure as the alert reads it back."""

    failure_id: int
    watch_id: str
    notice_title: str | None
    label: str
    url: str
    kind: str
    reason: str
    byte_size: int | None
    detected_at: datetime


@dataclass(frozen=True)
class StoredChange:
    """A detected change as the digest reads it back."""

    change_id: int
    watch_id: str
    kind: str
    title: str
    url: str
    doc_number: str | None
    published_on: date | None
    attachment_label: str | None
    added: tuple[str, ...]
    removed: tuple[str, ...]
    topics: tuple[str, ...]
    urgency: str
    reasons: tuple[str, ...]
    detected_at: datetime
    notice_key: str


class NoticeWriter:
    """Writes within one transaction: snapshots, documents, changes."""

    def __init__(self, conn: Connection, run_id: str, now: datetime) -> None:
        self.conn = conn
        self.run_id = run_id
        self.now = now

    def add_snapshot(self, row: SnapshotRow) -> int:
        result = self.conn.execute(
            insert(core_policy_snapshot).values(
                document_key=row.document_key,
                run_id=self.run_id,
                fetched_at=self.now,
                url=row.url,
                title=row.title,
                doc_number=row.doc_number,
                published_on=row.published_on,
                office=row.office,
                text=row.text.text,
                text_hash=row.text_hash,
                content_hash=row.content_hash,
                content_type=row.content_type,
                byte_size=row.byte_size,
                etag=row.etag,
                last_modified=row.last_modified,
                extract_note=row.extract_note,
            )
        )
        return int(result.inserted_primary_key[0])

    def save_document(
        self,
        *,
        key: str,
        watch_id: str,
        kind: str,
        notice_key: str,
        row: SnapshotRow,
        status: str,
        snapshot_id: int | None,
        changed: bool,
    ) -> None:
        """Insert or update a document; `snapshot_id` None keeps its current snapshot."""
        values: dict[str, Any] = {
            "url": row.url,
            "title": row.title,
            "doc_number": row.doc_number,
            "published_on": row.published_on,
            "office": row.office,
            "status": status,
            "text_hash": row.text_hash,
            "etag": row.etag,
            "last_modified": row.last_modified,
            "last_seen_at": self.now,
        }
        if snapshot_id is not None:
            values["snapshot_id"] = snapshot_id
        if changed:
            values["last_changed_at"] = self.now
        table = core_policy_document
        updated = self.conn.execute(update(table).where(table.c.document_key == key).values(**values))
        if updated.rowcount == 0:
            self.conn.execute(
                insert(table).values(
                    document_key=key,
                    watch_id=watch_id,
                    kind=kind,
                    notice_key=notice_key,
                    first_seen_at=self.now,
                    **values,
                )
            )

    def touch(self, key: str, *, etag: str | None, last_modified: str | None, status: str | None = None) -> None:
        """The document was seen unchanged: keep its validators fresh."""
        values: dict[str, Any] = {"last_seen_at": self.now}
        if etag:
            values["etag"] = etag
        if last_modified:
            values["last_modified"] = last_modified
        if status:
            values["status"] = status
        table = core_policy_document
        self.conn.execute(update(table).where(table.c.document_key == key).values(**values))

    def set_status(self, key: str, status: str) -> None:
        table = core_policy_document
        self.conn.execute(
            update(table).where(table.c.document_key == key).values(status=status, last_changed_at=self.now)
        )

    def add_change(self, change: ChangeRow) -> None:
        self.conn.execute(
            insert(core_policy_change).values(
                run_id=self.run_id,
                watch_id=change.watch_id,
                document_key=change.document_key,
                notice_key=change.notice_key,
                kind=change.kind,
                title=change.title,
                url=change.url,
                doc_number=change.doc_number,
                published_on=change.published_on,
                attachment_label=change.attachment_label,
                old_snapshot_id=change.old_snapshot_id,
                new_snapshot_id=change.new_snapshot_id,
                added_lines=list(change.added),
                removed_lines=list(change.removed),
                topics=list(change.classification.topics),
                urgency=change.classification.urgency,
                urgency_reasons=list(change.classification.reasons),
                detected_at=self.now,
            )
        )


class PolicyStore:
    """The policy monitor's view of the warehouse."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def writer(self, run_id: str, now: datetime) -> Iterator[NoticeWriter]:
        with self.engine.begin() as conn:
            yield NoticeWriter(conn, run_id, now)

    # -- documents and snapshots -------------------------------------------------------------------

    def documents(self, watch_id: str) -> dict[str, Document]:
        table = core_policy_document
        with self.engine.connect() as conn:
            rows = conn.execute(select(*_document_columns()).where(table.c.watch_id == watch_id)).all()
        return {row.document_key: Document(**row._mapping) for row in rows}

    def snapshot_lines(self, snapshot_id: int | None) -> tuple[str, ...]:
        if snapshot_id is None:
            return ()
        table = core_policy_snapshot
        with self.engine.connect() as conn:
            text = conn.execute(select(table.c.text).where(table.c.snapshot_id == snapshot_id)).scalar_one_or_none()
        return tuple(line for line in (text or "").split("\n") if line)

    # -- watch state and fetch log -----------------------------------------------------------------

    def load_state(self, watch_id: str) -> WatchState:
        table = etl_policy_watch_state
        with self.engine.connect() as conn:
            row = conn.execute(select(table).where(table.c.watch_id == watch_id)).first()
        if row is None:
            return WatchState(watch_id)
        values = dict(row._mapping)
        values.pop("updated_at")
        values["selector_missing"] = list(values.get("selector_missing") or [])
        return WatchState(**values)

    def save_state(
        self,
        state: WatchState,
        now: datetime,
        fetches: Sequence[Mapping[str, Any]] = (),
        touches: Sequence[tuple[str, str | None, str | None]] = (),
        failures: Sequence[AttachmentFailure] = (),
        read_again: Iterable[str] = (),
        run_id: str = "",
    ) -> None:
        """The watch's state, the run's fetch log rows, the documents seen unchanged
        (`(key, etag, last_modified)`: validators refreshed), the attachments that failed and those
        that `read_again` (their open failure is resolved), in one transaction."""
        table = etl_policy_watch_state
        values = {
            "baselined_at": state.baselined_at,
            "last_run_at": state.last_run_at,
            "last_ok_at": state.last_ok_at,
            "last_failure_at": state.last_failure_at,
            "last_error": state.last_error,
            "consecutive_failures": state.consecutive_failures,
            "failure_alerted_at": state.failure_alerted_at,
            "selector_missing": list(state.selector_missing),
            "selector_broken_since": state.selector_broken_since,
            "selector_alerted_at": state.selector_alerted_at,
            "updated_at": now,
        }
        with self.engine.begin() as conn:
            updated = conn.execute(update(table).where(table.c.watch_id == state.watch_id).values(**values))
            if updated.rowcount == 0:
                conn.execute(insert(table).values(watch_id=state.watch_id, **values))
            if fetches:
                conn.execute(insert(etl_policy_fetch_log), [dict(row) for row in fetches])
            if touches:
                doc = core_policy_document
                conn.execute(
                    update(doc)
                    .where(doc.c.document_key == bindparam("touched_key"))
                    .values(
                        last_seen_at=now,
                        etag=func.coalesce(bindparam("touched_etag", type_=String), doc.c.etag),
                        last_modified=func.coalesce(
                            bindparam("touched_last_modified", type_=String), doc.c.last_modified
                        ),
                    ),
                    [
                        {"touched_key": key, "touched_etag": etag, "touched_last_modified": last_modified}
                        for key, etag, last_modified in touches
                    ],
                )
            _record_failures(conn, failures, set(read_again), run_id, now)

    # -- changes -----------------------------------------------------------------------------------

    def pending_changes(self) -> list[StoredChange]:
        """Changes not yet in a sent digest, oldest first."""
        table = core_policy_change
        query = select(table).where(table.c.alerted_at.is_(None)).order_by(table.c.detected_at, table.c.change_id)
        with self.engine.connect() as conn:
            return [_stored_change(row._mapping) for row in conn.execute(query)]

    def changes_between(self, start: datetime, end: datetime) -> list[StoredChange]:
        table = core_policy_change
        query = (
            select(table)
            .where(and_(table.c.detected_at >= start, table.c.detected_at < end))
            .order_by(table.c.detected_at, table.c.change_id)
        )
        with self.engine.connect() as conn:
            return [_stored_change(row._mapping) for row in conn.execute(query)]

    def mark_alerted(self, change_ids: Iterable[int], at: datetime) -> None:
        ids = list(change_ids)
        if not ids:
            return
        table = core_policy_change
        with self.engine.begin() as conn:
            conn.execute(update(table).where(table.c.change_id.in_(ids)).values(alerted_at=at))

    # -- attachment failures -----------------------------------------------------------------------

    def pending_failures(self) -> list[StoredFailure]:
        """Attachment failures the supervisors were not told about yet, oldest first."""
        table = etl_policy_attachment_failure
        query = select(table).where(table.c.alerted_at.is_(None)).order_by(table.c.detected_at, table.c.failure_id)
        with self.engine.connect() as conn:
            return [
                StoredFailure(**{name: row._mapping[name] for name in StoredFailure.__dataclass_fields__})
                for row in conn.execute(query)
            ]

    def mark_failures_alerted(self, failure_ids: Iterable[int], at: datetime) -> None:
        ids = list(failure_ids)
        if ids:
            table = etl_policy_attachment_failure
            with self.engine.begin() as conn:
                conn.execute(update(table).where(table.c.failure_id.in_(ids)).values(alerted_at=at))

    # -- retention ---------------------------------------------------------------------------------

    def purge(self, retention: Retention, now: datetime) -> dict[str, int]:
        """Delete history older than the retention windows; each document's current snapshot stays."""
        snapshot_cutoff = now - timedelta(days=retention.snapshot_days)
        change_cutoff = now - timedelta(days=retention.change_days)
        log_cutoff = now - timedelta(days=retention.fetch_log_days)
        snap, doc, change = core_policy_snapshot, core_policy_document, core_policy_change
        current = select(doc.c.snapshot_id).where(doc.c.snapshot_id.is_not(None))
        old_snapshots = select(snap.c.snapshot_id).where(
            and_(snap.c.fetched_at < snapshot_cutoff, snap.c.snapshot_id.not_in(current))
        )
        with self.engine.begin() as conn:
            conn.execute(update(change).where(change.c.old_snapshot_id.in_(old_snapshots)).values(old_snapshot_id=None))
            conn.execute(update(change).where(change.c.new_snapshot_id.in_(old_snapshots)).values(new_snapshot_id=None))
            snapshots = conn.execute(delete(snap).where(snap.c.snapshot_id.in_(old_snapshots))).rowcount
            changes = conn.execute(
                delete(change).where(and_(change.c.detected_at < change_cutoff, change.c.alerted_at.is_not(None)))
            ).rowcount
            fetches = conn.execute(
                delete(etl_policy_fetch_log).where(etl_policy_fetch_log.c.fetched_at < log_cutoff)
            ).rowcount
            failure = etl_policy_attachment_failure
            failures = conn.execute(
                delete(failure).where(
                    and_(
                        failure.c.resolved_at < change_cutoff,
                        failure.c.alerted_at.is_not(None),
                    )
                )
            ).rowcount
        purged = {"snapshots": snapshots, "changes": changes, "fetch_log": fetches, "attachment_failures": failures}
        if any(purged.values()):
            log.info("policy retention: deleted %s", purged)
        return purged


def _record_failures(
    conn: Connection, failures: Sequence[AttachmentFailure], read_again: set[str], run_id: str, now: datetime
) -> None:
    """A failure seen again the same way (same bytes, or again too large) only refreshes its row; a new
    one (or the same attachment failing with other bytes) is a new row, due for the next alert. An
    attachment read again closes its open failure."""
    table = etl_policy_attachment_failure
    open_rows = table.c.resolved_at.is_(None)
    for failure in failures:
        current = conn.execute(
            select(table.c.failure_id, table.c.kind, table.c.content_hash).where(
                and_(table.c.document_key == failure.document_key, open_rows)
            )
        ).first()
        if current is not None and (current.kind, current.content_hash) == (failure.kind, failure.content_hash):
            conn.execute(update(table).where(table.c.failure_id == current.failure_id).values(last_seen_at=now))
            continue
        if current is not None:
            conn.execute(update(table).where(table.c.failure_id == current.failure_id).values(resolved_at=now))
        conn.execute(
            insert(table).values(
                run_id=run_id,
                watch_id=failure.watch_id,
                document_key=failure.document_key,
                notice_key=failure.notice_key,
                notice_title=failure.notice_title,
                label=failure.label,
                url=failure.url,
                kind=failure.kind,
                reason=failure.reason,
                content_hash=failure.content_hash,
                byte_size=failure.byte_size,
                detected_at=now,
                last_seen_at=now,
            )
        )
    failed = {f.document_key for f in failures}
    for key in read_again - failed:
        conn.execute(update(table).where(and_(table.c.document_key == key, open_rows)).values(resolved_at=now))


def _document_columns() -> list[Any]:
    table = core_policy_document
    names = [f for f in Document.__dataclass_fields__]
    return [table.c[name] for name in names]


def _stored_change(row: Mapping[str, Any]) -> StoredChange:
    return StoredChange(
        change_id=int(row["change_id"]),
        watch_id=row["watch_id"],
        kind=row["kind"],
        title=row["title"],
        url=row["url"],
        doc_number=row["doc_number"],
        published_on=row["published_on"],
        attachment_label=row["attachment_label"],
        added=tuple(row["added_lines"] or ()),
        removed=tuple(row["removed_lines"] or ()),
        topics=tuple(row["topics"] or ()),
        urgency=row["urgency"],
        reasons=tuple(row["urgency_reasons"] or ()),
        detected_at=row["detected_at"],
        notice_key=row["notice_key"],
    )
