"""The etl and raw layer: meta, sync state, runs, raw records, quarantine.

Revision ID: 0001
Revises:
Create Date: 2026-04-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# frozen copies of the column types of estatehub.warehouse.types, as they were at this revision
UTC_TIMESTAMP = sa.DateTime(timezone=True)
PAYLOAD = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
SURROGATE_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "etl_meta",
        sa.Column("meta_key", sa.String(), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", UTC_TIMESTAMP, nullable=False),
    )
    op.create_table(
        "etl_sync_state",
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("stream", sa.String(), nullable=False),
        sa.Column("cursor_at", UTC_TIMESTAMP),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("updated_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("source", "stream", name="pk_etl_sync_state"),
    )
    op.create_table(
        "etl_run",
        sa.Column("run_id", sa.String(), primary_key=True),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("stream", sa.String(), nullable=False),
        sa.Column("mode", sa.String(), nullable=False),
        sa.Column("since_at", UTC_TIMESTAMP),
        sa.Column("started_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("finished_at", UTC_TIMESTAMP),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("fetched", sa.BigInteger(), nullable=False),
        sa.Column("loaded", sa.BigInteger(), nullable=False),
        sa.Column("quarantined", sa.BigInteger(), nullable=False),
        sa.Column("message", sa.Text()),
        sa.CheckConstraint("mode in ('full', 'incremental')", name="ck_etl_run_mode"),
        sa.CheckConstraint("status in ('running', 'succeeded', 'failed')", name="ck_etl_run_status"),
    )
    op.create_index("ix_etl_run_source_stream_started_at", "etl_run", ["source", "stream", "started_at"])
    op.create_table(
        "raw_record",
        sa.Column("raw_record_id", SURROGATE_KEY, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("entity", sa.String(), nullable=False),
        sa.Column("record_key", sa.String()),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("fetched_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("payload_hash", sa.String(), nullable=False),
        sa.Column("payload", PAYLOAD),
        sa.Column("is_quarantined", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("source", "entity", "payload_hash", name="uq_raw_record_payload_hash"),
    )
    op.create_index("ix_raw_record_record_key", "raw_record", ["source", "entity", "record_key"])
    op.create_table(
        "etl_quarantine",
        sa.Column("quarantine_id", SURROGATE_KEY, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("entity", sa.String(), nullable=False),
        sa.Column("record_key", sa.String()),
        sa.Column("record_updated_at", UTC_TIMESTAMP),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", PAYLOAD),
        sa.Column("payload_hash", sa.String(), nullable=False),
        sa.Column("first_run_id", sa.String(), nullable=False),
        sa.Column("last_run_id", sa.String(), nullable=False),
        sa.Column("first_seen_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_seen_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("seen_count", sa.Integer(), nullable=False),
        sa.Column("resolved_at", UTC_TIMESTAMP),
        sa.UniqueConstraint("source", "entity", "payload_hash", name="uq_etl_quarantine_payload_hash"),
    )
    op.create_index("ix_etl_quarantine_record_key", "etl_quarantine", ["source", "entity", "record_key"])


def downgrade() -> None:
    op.drop_table("etl_quarantine")
    op.drop_table("raw_record")
    op.drop_table("etl_run")
    op.drop_table("etl_sync_state")
    op.drop_table("etl_meta")
