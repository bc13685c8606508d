"""Indexes for the ledger linker's four lookups that read a whole table each time (issue 13, decision 0046).

- `ix_core_contract_subscription_no` on `core_contract (subscription_no)` and
  `ix_core_contract_previous_contract_no` on `core_contract (previous_contract_no)`: for the contracts of a
  chunk's houses, the linker asks which contracts name them as their subscription or previous contract
  (`Linker._successors_start`: when a contract was superseded).
- `ix_core_receipt_house_id` on `core_receipt (house_id)`: which customer codes stand for a house and a name
  in the links the warehouse holds (`Linker._fetch_claims`: two namesakes of one project).
- `ix_core_refund_customer_code` on `core_refund (customer_code)` and `ix_core_invoice_customer_code` on
  `core_invoice (customer_code)`: the refunds and the invoices of a chunk of customer codes (`_refunds_of`,
  `_invoices_of`).

Without them each question read every contract, receipt, refund or invoice: the linking grew with the square
of the world.

Revision ID: 0021_linker_lookup_indexes
Revises: 0020_buyer_name_index
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0021_linker_lookup_indexes"
down_revision = "0020_buyer_name_index"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_core_contract_subscription_no", "core_contract", "subscription_no"),
    ("ix_core_contract_previous_contract_no", "core_contract", "previous_contract_no"),
    ("ix_core_receipt_house_id", "core_receipt", "house_id"),
    ("ix_core_refund_customer_code", "core_refund", "customer_code"),
    ("ix_core_invoice_customer_code", "core_invoice", "customer_code"),
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
