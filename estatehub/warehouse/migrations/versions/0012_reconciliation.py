"""Reconciliation: runs, matches, breaks with their status, and the receivables mart.

- `rec_run`: one row per reconciliation run (period, as-of day, the quality check it passed or was
  blocked by, status);
- `rec_match`: the matches of the latest run of each reconciliation and period;
- `rec_break`: every break by its stable key, with its status (open, acknowledged, resolved) kept
  across runs;
- `rec_receivable`: each payment-plan line with what was received against it, its state and ageing.

Revision ID: 0012_reconciliation
Revises: 0011_quality_gates
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_reconciliation"
down_revision = "0011_quality_gates"
branch_labels = None
depends_on = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "rec_run",
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("date_from", sa.Date(), nullable=False),
        sa.Column("date_to", sa.Date(), nullable=False),
        sa.Column("as_of_on", sa.Date(), nullable=False),
        sa.Column("started_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("finished_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("quality_check_id", sa.String(), nullable=True),
        sa.Column("reconciliations", sa.String(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.CheckConstraint("status in ('running', 'succeeded', 'failed', 'blocked')", name="ck_rec_run_status"),
        sa.PrimaryKeyConstraint("run_id", name="pk_rec_run"),
    )
    op.create_index("ix_rec_run_started_at", "rec_run", ["started_at"])
    op.create_table(
        "rec_match",
        sa.Column("reconciliation", sa.String(), nullable=False),
        sa.Column("date_from", sa.Date(), nullable=False),
        sa.Column("date_to", sa.Date(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("match_id", sa.String(), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("tier_name", sa.String(), nullable=False),
        sa.Column("rule", sa.String(), nullable=True),
        sa.Column("left_id", sa.String(), nullable=False),
        sa.Column("right_id", sa.String(), nullable=False),
        sa.Column("left_amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("right_amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("amount_delta_fen", sa.BigInteger(), nullable=False),
        sa.Column("date_delta_days", sa.Integer(), nullable=False),
        sa.Column("text_score", sa.Float(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("reconciliation", "date_from", "date_to", "left_id", "right_id", name="pk_rec_match"),
    )
    op.create_table(
        "rec_break",
        sa.Column("break_key", sa.String(), nullable=False),
        sa.Column("reconciliation", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("rule", sa.String(), nullable=True),
        sa.Column("subject", sa.String(), nullable=True),
        sa.Column("party_masked", sa.String(), nullable=True),
        sa.Column("kind", sa.String(), nullable=True),
        sa.Column("left_ids", sa.Text(), nullable=False),
        sa.Column("right_ids", sa.Text(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("left_amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("right_amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("first_on", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("age_days", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("who", sa.String(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("how", sa.String(), nullable=True),
        sa.Column("first_run_id", sa.String(), nullable=False),
        sa.Column("last_run_id", sa.String(), nullable=False),
        sa.CheckConstraint("status in ('open', 'acknowledged', 'resolved')", name="ck_rec_break_status"),
        sa.PrimaryKeyConstraint("break_key", name="pk_rec_break"),
    )
    op.create_index("ix_rec_break_reconciliation_status", "rec_break", ["reconciliation", "status"])
    op.create_table(
        "rec_receivable",
        sa.Column("contract_no", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("received_fen", sa.BigInteger(), nullable=False),
        sa.Column("outstanding_fen", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("days_overdue", sa.Integer(), nullable=True),
        sa.Column("ageing", sa.String(), nullable=False),
        sa.Column("house_id", sa.String(), nullable=True),
        sa.Column("project_code", sa.String(), nullable=True),
        sa.Column("buyer_masked", sa.String(), nullable=True),
        sa.Column("is_contract_live", sa.Boolean(), nullable=False),
        sa.Column("as_of_on", sa.Date(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("contract_no", "seq", name="pk_rec_receivable"),
    )
    op.create_index("ix_rec_receivable_state", "rec_receivable", ["state"])


def downgrade() -> None:
    op.drop_table("rec_receivable")
    op.drop_table("rec_break")
    op.drop_table("rec_match")
    op.drop_table("rec_run")
