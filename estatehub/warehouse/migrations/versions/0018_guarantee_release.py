"""The day a bank released a loan's guarantee deposit (按揭保证金), as the banks report it (issue 11).

- `stg_bank_loan.guarantee_released_on`, `core_bank_loan.guarantee_released_on`: the Beijing day the bank
  paid the deposit it held back out to the developer (after the mortgage was registered); null while held.

Revision ID: 0018_guarantee_release
Revises: 0017_unit_inventory
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_guarantee_release"
down_revision = "0017_unit_inventory"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("stg_bank_loan", "core_bank_loan"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("guarantee_released_on", sa.Date(), nullable=True))


def downgrade() -> None:
    for table in ("core_bank_loan", "stg_bank_loan"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("guarantee_released_on")
