"""The policy monitor's attachment failures: one row per attachment that could not be read (too large,
a decompression or entity bomb, a file its parser fails on), kept until the supervisors were told.

Revision ID: 0013_policy_attachment_failures
Revises: 0012_reconciliation
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_policy_attachment_failures"
down_revision = "0012_reconciliation"
branch_labels = None
depends_on = None

# frozen copies of the column types of estatehub.warehouse.types, as they are at this revision
UTC_TIMESTAMP = sa.DateTime(timezone=True)
SURROGATE_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "etl_policy_attachment_failure",
        sa.Column("failure_id", SURROGATE_KEY, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("watch_id", sa.String(64), nullable=False),
        sa.Column("document_key", sa.String(512), nullable=False),
        sa.Column("notice_key", sa.String(512), nullable=False),
        sa.Column("notice_title", sa.Text()),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("byte_size", sa.BigInteger()),
        sa.Column("detected_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_seen_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("alerted_at", UTC_TIMESTAMP),
        sa.Column("resolved_at", UTC_TIMESTAMP),
        sa.CheckConstraint("kind in ('too_large', 'unreadable')", name="ck_etl_policy_attachment_failure_kind"),
    )
    op.create_index(
        "ix_etl_policy_attachment_failure_document_key",
        "etl_policy_attachment_failure",
        ["document_key", "resolved_at"],
    )
    op.create_index("ix_etl_policy_attachment_failure_alerted_at", "etl_policy_attachment_failure", ["alerted_at"])


def downgrade() -> None:
    op.drop_index("ix_etl_policy_attachment_failure_alerted_at", "etl_policy_attachment_failure")
    op.drop_index("ix_etl_policy_attachment_failure_document_key", "etl_policy_attachment_failure")
    op.drop_table("etl_policy_attachment_failure")
