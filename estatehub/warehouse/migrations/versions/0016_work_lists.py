"""Work lists (issue 12, section 4): the specialists' lists as a mart, and the contract terms they need.

- `mart_work_item`: every item of every work list as of the latest build (one list per process), with
  its deadline and days left (negative: days late), the masked buyer and phone, and the day it was
  first listed (kept across builds);
- `mart_work_list_build`: one row per build: the day it judged, when, how many items per list;
- `stg_tn_contract.delivery_on`, `core_contract.delivery_on`: the delivery date the contract names
  (交付日期); `registration_days`: days after handover (现售: after signing) by which the property
  right must be registered (办证), as the contract names it (none: the city's default).

Revision ID: 0016_work_lists
Revises: 0015_collection_accounts
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_work_lists"
down_revision = "0015_collection_accounts"
branch_labels = None
depends_on = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)
MONEY = sa.BigInteger()  # integer fen
SURROGATE_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "mart_work_item",
        sa.Column("list_name", sa.String(), nullable=False),
        sa.Column("item_key", sa.String(), nullable=False),
        sa.Column("project_code", sa.String()),
        sa.Column("contract_no", sa.String()),
        sa.Column("house_id", sa.String()),
        sa.Column("buyer_masked", sa.String()),
        sa.Column("phone_masked", sa.String()),
        sa.Column("what", sa.String()),
        sa.Column("amount_fen", MONEY),
        sa.Column("since_on", sa.Date()),
        sa.Column("deadline_on", sa.Date(), nullable=False),
        sa.Column("days_left", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("first_listed_on", sa.Date(), nullable=False),
        sa.Column("as_of_on", sa.Date(), nullable=False),
        sa.Column("build_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("list_name", "item_key", name="pk_mart_work_item"),
    )
    op.create_index("ix_mart_work_item_project_code", "mart_work_item", ["project_code"])
    op.create_table(
        "mart_work_list_build",
        sa.Column("build_id", sa.String(), nullable=False),
        sa.Column("as_of_on", sa.Date(), nullable=False),
        sa.Column("built_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("build_id", name="pk_mart_work_list_build"),
    )
    op.create_index("ix_mart_work_list_build_as_of_on", "mart_work_list_build", ["as_of_on", "built_at"])
    for table in ("stg_tn_contract", "core_contract"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("delivery_on", sa.Date(), nullable=True))
            batch.add_column(sa.Column("registration_days", sa.Integer(), nullable=True))


def downgrade() -> None:
    for table in ("core_contract", "stg_tn_contract"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("registration_days")
            batch.drop_column("delivery_on")
    op.drop_index("ix_mart_work_list_build_as_of_on", table_name="mart_work_list_build")
    op.drop_table("mart_work_list_build")
    op.drop_index("ix_mart_work_item_project_code", table_name="mart_work_item")
    op.drop_table("mart_work_item")
