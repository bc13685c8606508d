"""Statement lines: the counterparty's account or card number masked, with its keyed hash.

A payer's bank card number is personal financial information (PIPL). From this revision
`core_bank_statement_line.counterparty_account` holds the masked form (`6217***********3333`) and the new
column `counterparty_account_hash` the keyed hash of the full number.

The numbers already stored are masked in place. Their hash stays null: a migration has no PII key, the
full number is gone once masked (it is only in the bank's file), and a later load does not rewrite a
line already loaded.
The line keys, plain digests of fields that include the full number, are re-keyed with the PII key by
the first statement load or sync after this upgrade (`estatehub.banks.statements.ensure_keyed_line_keys`).

Revision ID: 0006_mask_counterparty_account
Revises: 0004_banks
Create Date: 2026-11-26
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0006_mask_counterparty_account"
down_revision = "0004_banks"
branch_labels = None
depends_on = None

BATCH = 5000
_NOISE = re.compile(r"[\s-]")


def _mask(value: str) -> str:
    """A frozen copy of `connectors.identity.mask_account` as it was at this revision."""
    number = _NOISE.sub("", value)
    if len(number) <= 4:
        return "*" * len(number)
    if len(number) <= 12:
        return "*" * (len(number) - 4) + number[-4:]
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def upgrade() -> None:
    with op.batch_alter_table("core_bank_statement_line") as batch:
        batch.add_column(sa.Column("counterparty_account_hash", sa.String()))
    lines = sa.table(
        "core_bank_statement_line", sa.column("line_key", sa.String()), sa.column("counterparty_account", sa.String())
    )
    conn = op.get_bind()
    after = ""
    while True:
        rows = conn.execute(
            sa.select(lines.c.line_key, lines.c.counterparty_account)
            .where(lines.c.line_key > after, lines.c.counterparty_account.is_not(None))
            .order_by(lines.c.line_key)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        masked = [
            {"key": key, "masked": _mask(account) if _NOISE.sub("", account) else None}
            for key, account in rows
            if "*" not in account
        ]
        if masked:
            conn.execute(
                lines.update()
                .where(lines.c.line_key == sa.bindparam("key"))
                .values(counterparty_account=sa.bindparam("masked")),
                masked,
            )
        after = rows[-1].line_key


def downgrade() -> None:
    with op.batch_alter_table("core_bank_statement_line") as batch:
        batch.drop_column("counterparty_account_hash")
