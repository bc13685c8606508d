"""Migration 0003_policy_monitor makes the policy monitor's tables exactly as `estatehub.policy.tables`
describes them, and takes them away again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, inspect

from estatehub.policy import tables
from estatehub.warehouse.migrations import VERSION_TABLE, alembic_config, current_revision, upgrade

REVISION = "0003_policy_monitor"
LATER_TABLES = {"etl_policy_attachment_failure"}  # migration 0013_policy_attachment_failures
POLICY_TABLES = set(tables.metadata.tables) - LATER_TABLES


def _ours(name, type_, parent_names) -> bool:
    if type_ == "schema":
        return True
    if type_ == "table":
        return name in POLICY_TABLES
    return parent_names.get("table_name") in POLICY_TABLES


def test_the_migration_creates_the_policy_tables_as_the_code_describes_them(engine):
    upgrade(engine, REVISION)
    assert current_revision(engine) == REVISION
    assert set(inspect(engine).get_table_names()) >= POLICY_TABLES
    with engine.connect() as conn:
        options = {"compare_type": True, "version_table": VERSION_TABLE, "include_name": _ours}
        at_revision = MetaData()
        for table in tables.metadata.tables.values():
            if table.name in POLICY_TABLES:
                table.to_metadata(at_revision)
        differences = compare_metadata(MigrationContext.configure(conn, opts=options), at_revision)
    assert differences == []


def test_the_policy_tables_are_there_at_head_too(engine):
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= POLICY_TABLES | LATER_TABLES


def test_the_migration_goes_back_down_to_0002_without_the_policy_tables(engine):
    upgrade(engine, REVISION)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0002")
    assert not POLICY_TABLES & set(inspect(engine).get_table_names())
    assert current_revision(engine) == "0002"
