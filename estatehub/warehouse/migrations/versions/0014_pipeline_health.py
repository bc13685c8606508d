"""Pipeline health: staleness findings told once, the reports sent, and an index for "newest data".

- `etl_health_finding`: each staleness finding while it lasts (estatehub.health), with when the
  supervisors were told and when it ended;
- `etl_report_sent`: every report sent (report, sent_at, recipients_count, path), written by the
  report senders, shown on the supervisors' page;
- `ix_raw_record_source_fetched_at`: the newest record of a source in one index lookup (the page and
  the hourly check ask it for every source).

Revision ID: 0014_pipeline_health
Revises: 0013_policy_attachment_failures
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_pipeline_health"
down_revision = "0013_policy_attachment_failures"
branch_labels = None
depends_on = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)
SURROGATE_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "etl_health_finding",
        sa.Column("finding_id", SURROGATE_KEY, primary_key=True, autoincrement=True),
        sa.Column("finding_key", sa.String(512), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("last_good_at", UTC_TIMESTAMP),
        sa.Column("first_seen_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("last_seen_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("alerted_at", UTC_TIMESTAMP),
        sa.Column("resolved_at", UTC_TIMESTAMP),
    )
    op.create_index("ix_etl_health_finding_key_resolved_at", "etl_health_finding", ["finding_key", "resolved_at"])
    op.create_table(
        "etl_report_sent",
        sa.Column("report_sent_id", SURROGATE_KEY, primary_key=True, autoincrement=True),
        sa.Column("report", sa.String(128), nullable=False),
        sa.Column("sent_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("recipients_count", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text()),
    )
    op.create_index("ix_etl_report_sent_sent_at", "etl_report_sent", ["sent_at"])
    op.create_index("ix_raw_record_source_fetched_at", "raw_record", ["source", "fetched_at"])


def downgrade() -> None:
    op.drop_index("ix_raw_record_source_fetched_at", table_name="raw_record")
    op.drop_index("ix_etl_report_sent_sent_at", table_name="etl_report_sent")
    op.drop_table("etl_report_sent")
    op.drop_index("ix_etl_health_finding_key_resolved_at", table_name="etl_health_finding")
    op.drop_table("etl_health_finding")
