"""Sync runs that can be abandoned, a lock per stream, and quarantine entries a person can dismiss.

- `etl_run.status` may be `abandoned`: a run whose process ended without finishing (SIGKILL, a lost
  worker), found and marked by the next run of the same stream;
- `etl_lock`: who holds the lock of a stream on SQLite (PostgreSQL uses an advisory lock): the run,
  its host and process id, since when;
- `etl_quarantine.dismissed_at`, `dismissed_by`, `dismiss_note`: a quarantined record a person looked at
  and let go; it is no longer fetched again.

Revision ID: 0007_sync_locks
Revises: 0006_mask_counterparty_account
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_sync_locks"
down_revision = "0006_mask_counterparty_account"
branch_labels = None
depends_on = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("etl_run") as batch:
        batch.drop_constraint("ck_etl_run_status", type_="check")
        batch.create_check_constraint("ck_etl_run_status", "status in ('running', 'succeeded', 'failed', 'abandoned')")
    op.create_table(
        "etl_lock",
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("stream", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("host", sa.String(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("acquired_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("source", "stream", name="pk_etl_lock"),
    )
    with op.batch_alter_table("etl_quarantine") as batch:
        batch.add_column(sa.Column("dismissed_at", UTC_TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("dismissed_by", sa.String(), nullable=True))
        batch.add_column(sa.Column("dismiss_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("etl_quarantine") as batch:
        batch.drop_column("dismiss_note")
        batch.drop_column("dismissed_by")
        batch.drop_column("dismissed_at")
    op.drop_table("etl_lock")
    op.execute("update etl_run set status = 'failed' where status = 'abandoned'")
    with op.batch_alter_table("etl_run") as batch:
        batch.drop_constraint("ck_etl_run_status", type_="check")
        batch.create_check_constraint("ck_etl_run_status", "status in ('running', 'succeeded', 'failed')")
