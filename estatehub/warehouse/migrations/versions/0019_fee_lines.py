"""The fees a buyer pays at handover for others as lines of the receivables mart (issue 11, decision 0036).

- `rec_receivable.is_fee`: the line is a fee collected for others (契税, 维修基金, 登记费) that the city's fee
  schedule gives a contract handed over, not a line of the network's payment plan.

Revision ID: 0019_fee_lines
Revises: 0018_guarantee_release
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_fee_lines"
down_revision = "0018_guarantee_release"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rec_receivable") as batch:
        batch.add_column(sa.Column("is_fee", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("rec_receivable") as batch:
        batch.drop_column("is_fee")
