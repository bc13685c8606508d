"""Quality gates: each check of the sources and its findings.

- `etl_quality_run`: one row per check (as of a business day): passed, warnings or failed, with counts;
- `etl_quality_result`: its findings (gate, source, subject, severity, message, observed number), and
  one `row_count` row per core table, which the next check compares against.

Revision ID: 0011_quality_gates
Revises: 0007_sync_locks
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_quality_gates"
down_revision = "0007_sync_locks"
branch_labels = None
depends_on = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)
SURROGATE_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "etl_quality_run",
        sa.Column("check_id", sa.String(), nullable=False),
        sa.Column("as_of_on", sa.Date(), nullable=False),
        sa.Column("checked_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("errors", sa.BigInteger(), nullable=False),
        sa.Column("warnings", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.CheckConstraint("status in ('passed', 'warnings', 'failed')", name="ck_etl_quality_run_status"),
        sa.PrimaryKeyConstraint("check_id", name="pk_etl_quality_run"),
    )
    op.create_index("ix_etl_quality_run_checked_at", "etl_quality_run", ["checked_at"])
    op.create_table(
        "etl_quality_result",
        sa.Column("result_id", SURROGATE_KEY, autoincrement=True, nullable=False),
        sa.Column("check_id", sa.String(), nullable=False),
        sa.Column("gate", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("observed", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("severity in ('ok', 'warning', 'error')", name="ck_etl_quality_result_severity"),
        sa.PrimaryKeyConstraint("result_id", name="pk_etl_quality_result"),
    )
    op.create_index("ix_etl_quality_result_check_id", "etl_quality_result", ["check_id"])
    op.create_index("ix_etl_quality_result_gate_subject", "etl_quality_result", ["gate", "subject"])


def downgrade() -> None:
    op.drop_table("etl_quality_result")
    op.drop_table("etl_quality_run")
