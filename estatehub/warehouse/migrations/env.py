"""Alembic environment of the warehouse: migrates the connection handed over in `config.attributes`.

Run through `estatehub.warehouse.migrations.upgrade`, never through an alembic.ini.
"""

from __future__ import annotations

from alembic import context

from estatehub.warehouse.errors import MigrationError
from estatehub.warehouse.tables import metadata

config = context.config
connection = config.attributes.get("connection")

if context.is_offline_mode() or connection is None:
    raise MigrationError(
        "warehouse migrations run on a live connection: call estatehub.warehouse.migrations.upgrade(engine)"
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=config.get_main_option("version_table"),
    render_as_batch=True,  # SQLite cannot ALTER most things: rebuild the table in batch mode
    compare_type=True,
)

with context.begin_transaction():
    context.run_migrations()
