"""An index of the buyers by name, for the ledger's linker (issue 13, decision 0040).

- `ix_core_buyer_name` on `core_buyer (name)`: the linker asks, for the names of a chunk of receipts, which
  houses their buyers hold; without the index each question scanned every buyer.

Revision ID: 0020_buyer_name_index
Revises: 0019_fee_lines
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0020_buyer_name_index"
down_revision = "0019_fee_lines"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_core_buyer_name", "core_buyer", ["name"])


def downgrade() -> None:
    op.drop_index("ix_core_buyer_name", table_name="core_buyer")
