"""The policy monitor's tables, as SQLAlchemy Core objects (made by migration 0003_policy_monitor).

    etl_policy_watch_state   one row per watch: failure streak, selector health, alerts sent
    etl_policy_fetch_log     one row per request: URL (no query), outcome, status, size, time
    core_policy_document     one row per notice and per attachment: where it is, its current state
    core_policy_snapshot     the history: normalised text and hashes of each version seen
    core_policy_change       what was detected: kind, added/removed lines, topics, urgency, alerted_at
    etl_policy_attachment_failure   an attachment that could not be read (too large, a bomb, broken):
                             why, when first and last seen, when alerted, when it read again
                             (migration 0013_policy_attachment_failures)

Keys are text: a notice is `<watch id>:<path of its page>`, an attachment `<notice key>#<label>`.
Snapshots and changes reference documents by key, not by foreign key, so that retention can delete
old snapshots (a change keeps its own added and removed lines).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, Date, Index, Integer, MetaData, String, Table, Text

from estatehub.warehouse.types import Payload, SurrogateKey, UtcDateTime

metadata = MetaData()

CHANGE_KINDS = ("new", "changed", "attachment_changed", "withdrawn")
DOCUMENT_STATUSES = ("active", "unlisted", "withdrawn", "removed")
FAILURE_KINDS = ("too_large", "unreadable")
FETCH_OUTCOMES = ("ok", "not_modified", "gone", "error", "error_page", "refused", "unreadable")

etl_policy_watch_state = Table(
    "etl_policy_watch_state",
    metadata,
    Column("watch_id", String(64), primary_key=True),
    Column("baselined_at", UtcDateTime),
    Column("last_run_at", UtcDateTime),
    Column("last_ok_at", UtcDateTime),
    Column("last_failure_at", UtcDateTime),
    Column("last_error", Text),
    Column("consecutive_failures", Integer, nullable=False),
    Column("failure_alerted_at", UtcDateTime),
    Column("selector_missing", Payload, nullable=False),
    Column("selector_broken_since", UtcDateTime),
    Column("selector_alerted_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
)

etl_policy_fetch_log = Table(
    "etl_policy_fetch_log",
    metadata,
    Column("fetch_id", SurrogateKey, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("watch_id", String(64), nullable=False),
    Column("url", Text, nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("status", Integer),
    Column("byte_size", BigInteger),
    Column("elapsed_ms", Integer),
    Column("error", Text),
    Column("fetched_at", UtcDateTime, nullable=False),
    CheckConstraint("purpose in ('list', 'notice', 'attachment')", name="ck_etl_policy_fetch_log_purpose"),
    CheckConstraint(
        "outcome in ('ok', 'not_modified', 'gone', 'error', 'error_page', 'refused', 'unreadable')",
        name="ck_etl_policy_fetch_log_outcome",
    ),
    Index("ix_etl_policy_fetch_log_fetched_at", "fetched_at"),
    Index("ix_etl_policy_fetch_log_watch_id_fetched_at", "watch_id", "fetched_at"),
)

core_policy_document = Table(
    "core_policy_document",
    metadata,
    Column("document_key", String(512), primary_key=True),
    Column("watch_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("notice_key", String(512), nullable=False),
    Column("url", Text, nullable=False),
    Column("title", Text),
    Column("doc_number", String(128)),
    Column("published_on", Date),
    Column("office", String(256)),
    Column("status", String(16), nullable=False),
    Column("snapshot_id", BigInteger),
    Column("text_hash", String(64)),
    Column("etag", String(256)),
    Column("last_modified", String(64)),
    Column("first_seen_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("last_changed_at", UtcDateTime),
    CheckConstraint("kind in ('notice', 'attachment')", name="ck_core_policy_document_kind"),
    CheckConstraint("status in ('active', 'unlisted', 'withdrawn', 'removed')", name="ck_core_policy_document_status"),
    Index("ix_core_policy_document_watch_id_kind_status", "watch_id", "kind", "status"),
    Index("ix_core_policy_document_notice_key", "notice_key"),
)

core_policy_snapshot = Table(
    "core_policy_snapshot",
    metadata,
    Column("snapshot_id", SurrogateKey, primary_key=True, autoincrement=True),
    Column("document_key", String(512), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("fetched_at", UtcDateTime, nullable=False),
    Column("url", Text, nullable=False),
    Column("title", Text),
    Column("doc_number", String(128)),
    Column("published_on", Date),
    Column("office", String(256)),
    Column("text", Text, nullable=False),
    Column("text_hash", String(64), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("content_type", String(128)),
    Column("byte_size", BigInteger, nullable=False),
    Column("etag", String(256)),
    Column("last_modified", String(64)),
    Column("extract_note", Text),
    Index("ix_core_policy_snapshot_document_key_fetched_at", "document_key", "fetched_at"),
    Index("ix_core_policy_snapshot_fetched_at", "fetched_at"),
)

core_policy_change = Table(
    "core_policy_change",
    metadata,
    Column("change_id", SurrogateKey, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("watch_id", String(64), nullable=False),
    Column("document_key", String(512), nullable=False),
    Column("notice_key", String(512), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("title", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("doc_number", String(128)),
    Column("published_on", Date),
    Column("attachment_label", Text),
    Column("old_snapshot_id", BigInteger),
    Column("new_snapshot_id", BigInteger),
    Column("added_lines", Payload, nullable=False),
    Column("removed_lines", Payload, nullable=False),
    Column("topics", Payload, nullable=False),
    Column("urgency", String(8), nullable=False),
    Column("urgency_reasons", Payload, nullable=False),
    Column("detected_at", UtcDateTime, nullable=False),
    Column("alerted_at", UtcDateTime),
    CheckConstraint("kind in ('new', 'changed', 'attachment_changed', 'withdrawn')", name="ck_core_policy_change_kind"),
    CheckConstraint("urgency in ('low', 'medium', 'high')", name="ck_core_policy_change_urgency"),
    Index("ix_core_policy_change_alerted_at", "alerted_at"),
    Index("ix_core_policy_change_notice_key_detected_at", "notice_key", "detected_at"),
    Index("ix_core_policy_change_detected_at", "detected_at"),
)

etl_policy_attachment_failure = Table(
    "etl_policy_attachment_failure",
    metadata,
    Column("failure_id", SurrogateKey, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("watch_id", String(64), nullable=False),
    Column("document_key", String(512), nullable=False),
    Column("notice_key", String(512), nullable=False),
    Column("notice_title", Text),
    Column("label", Text, nullable=False),
    Column("url", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("content_hash", String(64)),
    Column("byte_size", BigInteger),
    Column("detected_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("alerted_at", UtcDateTime),
    Column("resolved_at", UtcDateTime),
    CheckConstraint("kind in ('too_large', 'unreadable')", name="ck_etl_policy_attachment_failure_kind"),
    Index("ix_etl_policy_attachment_failure_document_key", "document_key", "resolved_at"),
    Index("ix_etl_policy_attachment_failure_alerted_at", "alerted_at"),
)
