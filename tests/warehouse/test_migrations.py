from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, inspect, select

from estatehub.schema import all_metadata, all_tables
from estatehub.warehouse import create_warehouse_engine, tables
from estatehub.warehouse.errors import MigrationError
from estatehub.warehouse.migrations import VERSION_TABLE, current_revision, head_revision, upgrade

ETL_TABLES = {"etl_meta", "etl_sync_state", "etl_run", "raw_record", "etl_quarantine"}
TN_TABLES = {
    "stg_tn_contract",
    "stg_tn_contract_buyer",
    "stg_tn_payment_plan",
    "stg_tn_state_change",
    "core_unit",
    "core_buyer",
    "core_contract",
    "core_contract_buyer",
    "core_payment_plan",
    "core_contract_state_history",
    "core_handover",
    "core_registration",
}


def test_migrations_bring_an_empty_database_to_head(engine):
    assert current_revision(engine) is None
    reached = upgrade(engine)
    assert reached == head_revision()
    # later revisions (other sources) add tables of their own
    assert set(inspect(engine).get_table_names()) >= ETL_TABLES | TN_TABLES | {VERSION_TABLE}


def test_upgrade_at_head_changes_nothing(engine):
    upgrade(engine)
    assert upgrade(engine) == head_revision()
    assert current_revision(engine) == head_revision()


@pytest.mark.parametrize("metadata", all_metadata(), ids=lambda m: sorted(m.tables)[0])
def test_schema_at_head_matches_the_table_objects_the_loaders_use(engine, metadata):
    upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "version_table": VERSION_TABLE,
                # the tables of this metadata only: each source's are compared in their own case
                "include_name": lambda name, kind, _parents: kind != "table" or name in metadata.tables,
            },
        )
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_the_table_objects_of_all_sources_cover_every_table_at_head(engine):
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) - {VERSION_TABLE} == set(all_tables())


def test_upgrade_from_0001_to_head_keeps_existing_rows(engine):
    upgrade(engine, "0001")
    assert current_revision(engine) == "0001"
    assert set(inspect(engine).get_table_names()) == ETL_TABLES | {VERSION_TABLE}
    at = datetime(2026, 3, 31, 2, 0, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(tables.etl_meta.insert(), [{"meta_key": "pii_key_fingerprint", "value": "abc", "updated_at": at}])
        conn.execute(
            tables.etl_run.insert(),
            [
                {
                    "run_id": "r1",
                    "source": "trading_network",
                    "stream": "contracts",
                    "mode": "full",
                    "since_at": None,
                    "started_at": at,
                    "finished_at": at,
                    "status": "succeeded",
                    "fetched": 3,
                    "loaded": 3,
                    "quarantined": 0,
                    "message": None,
                }
            ],
        )
        conn.execute(
            tables.raw_record.insert(),
            [
                {
                    "source": "trading_network",
                    "entity": "contract",
                    "record_key": "YS1",
                    "run_id": "r1",
                    "fetched_at": at,
                    "payload_hash": "h1",
                    "payload": {"contract_no": "YS1"},
                    "is_quarantined": False,
                }
            ],
        )
        conn.execute(
            tables.etl_sync_state.insert(),
            [{"source": "trading_network", "stream": "contracts", "cursor_at": at, "run_id": "r1", "updated_at": at}],
        )

    assert upgrade(engine) == head_revision()

    with engine.connect() as conn:
        assert conn.execute(select(tables.etl_run.c.run_id, tables.etl_run.c.fetched)).all() == [("r1", 3)]
        assert conn.execute(select(tables.raw_record.c.payload)).scalar_one() == {"contract_no": "YS1"}
        assert conn.execute(select(tables.etl_sync_state.c.cursor_at)).scalar_one() == at
        assert conn.execute(select(tables.etl_meta.c.value)).scalar_one() == "abc"
    assert set(inspect(engine).get_table_names()) >= TN_TABLES


def test_a_second_engine_on_the_same_database_sees_the_revision_reached(engine, warehouse_url):
    assert upgrade(engine) == head_revision()
    other = create_warehouse_engine(warehouse_url)
    try:
        assert current_revision(other) == head_revision()
        assert upgrade(other) == head_revision()
    finally:
        other.dispose()


def test_upgrade_at_head_reads_no_table(engine):
    """Every sync brings the schema to head first: at head it must only look at the revision, not run
    SQLite's foreign-key check over every row (0.39 s of an incremental sync's 1.5 s at 94,304 contracts)."""
    upgrade(engine)
    statements: list[str] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", keep)
    try:
        assert upgrade(engine) == head_revision()
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert not [s for s in statements if "foreign_key_check" in s]


def test_a_migration_that_would_leave_a_broken_foreign_key_is_rolled_back(tmp_path):
    """SQLite's migrations copy tables with the foreign keys off, and check them before they commit (PostgreSQL
    checks each row as it is written)."""
    engine = create_warehouse_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    upgrade(engine, "0019_fee_lines")
    with engine.connect() as conn:  # a row the foreign keys would refuse, written with them off
        conn.connection.driver_connection.execute("pragma foreign_keys = off")
        conn.exec_driver_sql(
            "insert into core_contract_buyer (contract_no, seq, id_hash, share, is_primary) "
            "values ('HT-none', 1, 'no-such-buyer', 100, 1)"
        )
        conn.commit()
        conn.connection.driver_connection.execute("pragma foreign_keys = on")
    with pytest.raises(MigrationError, match="broken foreign key, first in table core_contract_buyer"):
        upgrade(engine)
    assert current_revision(engine) == "0019_fee_lines"
    engine.dispose()
