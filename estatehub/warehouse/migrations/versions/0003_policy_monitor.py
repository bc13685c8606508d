"""The policy monitor: watch state, fetch log, documents, snapshots and changes (estatehub.policy.tables).

Revision ID: 0003_policy_monitor
Revises: 0002
Create Date: 2026-04-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_policy_monitor"
down_revision = "0002"
branch_labels = None
depends_on = None

# frozen copies of the column types of estatehub.warehouse.types, as they were at this revision
UTC_TIMESTAMP = sa.DateTime(timezone=True)
PAYLOAD = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
SURROGATE_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "etl_policy_watch_state",
        sa.Column("watch_id", sa.String(64), primary_key=True),
        sa.Column("baselined_at", UTC_TIMESTAMP),
        sa.Column("last_run_at", UTC_TIMESTAMP),
        sa.Column("last_ok_at", UTC_TIMESTAMP),
        sa.Column("last_failure_at", UTC_TIMESTAMP),
        sa.Column("last_error", sa.Text()),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("failure_alerted_at", UTC_TIMESTAMP),
        sa.Column("selector_missing", PAYLOAD, nullable=False),
        sa.Column("selector_broken_since", UTC_TIMESTAMP),
        sa.Column("selector_alerted_at", UTC_TIMESTAMP),
        sa.Column("updated_at", UTC_TIMESTAMP, nullable=False),
    )
    op.create_table(
        "etl_policy_fetch_log",
        sa.Column("fetch_id", SURROGATE_KEY, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("watch_id", sa.String(64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("status", sa.Integer()),
        sa.Column("byte_size", sa.BigInteger()),
        sa.Column("elapsed_ms", sa.Integer()),
        sa.Column("error", sa.Text()),
        sa.Column("fetched_at", UTC_TIMESTAMP, nullable=False),
        sa.CheckConstraint("purpose in ('list', 'notice', 'attachment')", name="ck_etl_policy_fetch_log_purpose"),
        sa.CheckConstraint(
            "outcome in ('ok', 'not_modified', 'gone', 'error', 'error_page', 'refused', 'unreadable')",
            name="ck_etl_policy_fetch_log_outcome",
        ),
    )
    op.create_index("ix_etl_policy_fetch_log_fetched_at", "etl_policy_fetch_log", ["fetched_at"])
    op.create_index("ix_etl_policy_fetch_log_watch_id_fetched_at", "etl_policy_fetch_log", ["watch_id", "fetched_at"])
    op.create_table(
        "core_policy_document",
        sa.Column("document_key", sa.String(512), primary_key=True),
        sa.Column("watch_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("notice_key", sa.String(512), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text()),
        sa.Column("doc_number", sa.String(128)),
        sa.Column("published_on", sa.Date()),
        sa.Column("office", sa.String(256)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("snapshot_id", sa.BigInteger()),
        sa.Column("text_hash", sa.String(64)),
        sa.Column("etag", sa.String(256)),
        sa.Column("last_modified", sa.String(64)),
        sa.Column("first_seen_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_seen_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_changed_at", UTC_TIMESTAMP),
        sa.CheckConstraint("kind in ('notice', 'attachment')", name="ck_core_policy_document_kind"),
        sa.CheckConstraint(
            "status in ('active', 'unlisted', 'withdrawn', 'removed')", name="ck_core_policy_document_status"
        ),
    )
    op.create_index(
        "ix_core_policy_document_watch_id_kind_status", "core_policy_document", ["watch_id", "kind", "status"]
    )
    op.create_index("ix_core_policy_document_notice_key", "core_policy_document", ["notice_key"])
    op.create_table(
        "core_policy_snapshot",
        sa.Column("snapshot_id", SURROGATE_KEY, primary_key=True, autoincrement=True),
        sa.Column("document_key", sa.String(512), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("fetched_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text()),
        sa.Column("doc_number", sa.String(128)),
        sa.Column("published_on", sa.Date()),
        sa.Column("office", sa.String(256)),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(128)),
        sa.Column("byte_size", sa.BigInteger(), nullable=False),
        sa.Column("etag", sa.String(256)),
        sa.Column("last_modified", sa.String(64)),
        sa.Column("extract_note", sa.Text()),
    )
    op.create_index(
        "ix_core_policy_snapshot_document_key_fetched_at", "core_policy_snapshot", ["document_key", "fetched_at"]
    )
    op.create_index("ix_core_policy_snapshot_fetched_at", "core_policy_snapshot", ["fetched_at"])
    op.create_table(
        "core_policy_change",
        sa.Column("change_id", SURROGATE_KEY, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("watch_id", sa.String(64), nullable=False),
        sa.Column("document_key", sa.String(512), nullable=False),
        sa.Column("notice_key", sa.String(512), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("doc_number", sa.String(128)),
        sa.Column("published_on", sa.Date()),
        sa.Column("attachment_label", sa.Text()),
        sa.Column("old_snapshot_id", sa.BigInteger()),
        sa.Column("new_snapshot_id", sa.BigInteger()),
        sa.Column("added_lines", PAYLOAD, nullable=False),
        sa.Column("removed_lines", PAYLOAD, nullable=False),
        sa.Column("topics", PAYLOAD, nullable=False),
        sa.Column("urgency", sa.String(8), nullable=False),
        sa.Column("urgency_reasons", PAYLOAD, nullable=False),
        sa.Column("detected_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("alerted_at", UTC_TIMESTAMP),
        sa.CheckConstraint(
            "kind in ('new', 'changed', 'attachment_changed', 'withdrawn')", name="ck_core_policy_change_kind"
        ),
        sa.CheckConstraint("urgency in ('low', 'medium', 'high')", name="ck_core_policy_change_urgency"),
    )
    op.create_index("ix_core_policy_change_alerted_at", "core_policy_change", ["alerted_at"])
    op.create_index("ix_core_policy_change_notice_key_detected_at", "core_policy_change", ["notice_key", "detected_at"])
    op.create_index("ix_core_policy_change_detected_at", "core_policy_change", ["detected_at"])


def downgrade() -> None:
    for table in (
        "core_policy_change",
        "core_policy_snapshot",
        "core_policy_document",
        "etl_policy_fetch_log",
        "etl_policy_watch_state",
    ):
        op.drop_table(table)
