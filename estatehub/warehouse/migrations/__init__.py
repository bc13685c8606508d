"""Versioned migrations of the warehouse (Alembic, configured in code: no alembic.ini).

    upgrade(engine, revision="head")   bring the schema to `revision`, in place
    current_revision(engine)           the revision the schema is at (None: empty)

The scripts live in `versions/` beside this file and ship with the package. The version table is
`etl_schema_version` (not Alembic's default `alembic_version`, which Airflow's metadata database
uses, so the two may share a PostgreSQL database). Each upgrade runs in one transaction: on
PostgreSQL under an advisory lock (two tasks upgrading at once wait for each other), on SQLite with
foreign keys switched off for its duration, as batch-mode table rebuilds require.

A new revision: copy the newest script in `versions/` (or render `script.py.mako`), set `revision`
and `down_revision`, write portable DDL with frozen copies of the column types, and use
`op.batch_alter_table` for any ALTER (SQLite rebuilds the table). Mirror the change in `tables.py`
(or the module's own table definitions); `tests/warehouse/test_migrations.py` compares the two.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from estatehub.warehouse.errors import MigrationError

log = logging.getLogger(__name__)

SCRIPT_LOCATION = Path(__file__).resolve().parent
VERSION_TABLE = "etl_schema_version"
_PG_LOCK_KEY = 7_420_730_122  # pg_advisory_xact_lock key of warehouse migrations


def alembic_config(connection: Connection | None = None) -> Config:
    """The Alembic configuration, built in code; `connection` is what env.py migrates."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("version_table", VERSION_TABLE)
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise MigrationError(f"expected one head revision in {SCRIPT_LOCATION / 'versions'}, found {heads}")
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    """The revision the warehouse schema is at; None for an empty database."""
    with engine.connect() as conn:
        return _revision_of(conn)


def _revision_of(conn: Connection) -> str | None:
    return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Bring the schema to `revision` (default: the newest), in place; returns the revision reached.

    Safe to call before every run: at the wanted revision it does nothing but look.
    """
    if engine.dialect.name == "sqlite":
        _upgrade_sqlite(engine, revision)
    else:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("select pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
            command.upgrade(alembic_config(conn), revision)
    reached = current_revision(engine)
    log.info("warehouse schema at revision %s", reached)
    return reached


def _upgrade_sqlite(engine: Engine, revision: str) -> None:
    # batch mode copies and drops tables: foreign keys must be off, and they can only be switched
    # outside a transaction; they are checked before the migration commits and switched back on
    with engine.connect() as conn:
        driver_connection = conn.connection.driver_connection
        driver_connection.execute("pragma foreign_keys = off")
        try:
            conn.execution_options(sqlite_begin="immediate")
            with conn.begin():
                before = _revision_of(conn)
                command.upgrade(alembic_config(conn), revision)
                if _revision_of(conn) == before:  # nothing migrated: nothing to check (the check reads every
                    return  # row of every table with a foreign key: seconds on a large warehouse, every run)
                broken = conn.exec_driver_sql("pragma foreign_key_check").fetchall()
                if broken:
                    raise MigrationError(
                        f"the migration to {revision} would leave {len(broken)} rows with a broken foreign key, "
                        f"first in table {broken[0][0]}; it was rolled back"
                    )
        finally:
            driver_connection.execute("pragma foreign_keys = on")
