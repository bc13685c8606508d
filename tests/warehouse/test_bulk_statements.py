"""Bulk writes on SQLite go many rows to a statement, and reads of one column come in one step (decision 0041).

SQLite's driver lets other threads run during each step of a statement and takes Python's lock back after
it; beside a busy thread (a sync's read-ahead) each step waits for the lock. An executemany is one step per
row, a SELECT one step per row read: these tests count the statements the driver is given, so a change
back to one row per statement fails here, not only in a benchmark."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    event,
    make_url,
    select,
    update,
)

from estatehub.pii import PiiHasher
from estatehub.warehouse import etl
from estatehub.warehouse.engine import Warehouse
from estatehub.warehouse.etl import (
    bulk_execute,
    bulk_insert,
    column_values,
    insert_ignore_statement,
    stage_newest,
    upsert_statement,
)
from estatehub.warehouse.tables import etl_meta, etl_run, raw_record
from estatehub.warehouse.types import UtcDateTime
from tests.conftest import TEST_PII_KEY

AT = datetime(2026, 12, 4, 22, 0, tzinfo=UTC)


@pytest.fixture
def statements(warehouse):
    """Every statement the engine hands its driver: (executemany?, SQL, parameters)."""
    seen: list[tuple[bool, str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, executemany):
        seen.append((executemany, statement, parameters))

    event.listen(warehouse.engine, "before_cursor_execute", record)
    yield seen
    event.remove(warehouse.engine, "before_cursor_execute", record)


def meta(warehouse) -> dict[str, str]:
    with warehouse.engine.connect() as conn:
        kept = conn.execute(select(etl_meta).where(etl_meta.c.meta_key != "pii_key_fingerprint"))
        return {row.meta_key: row.value for row in kept}


def upsert_meta(conn, rows: list[tuple[str, str]]) -> None:
    """(key, value) rows upserted into `etl_meta` by `bulk_execute`."""
    bulk_execute(
        conn,
        "test:etl_meta:upsert",
        lambda c: upsert_statement(c, etl_meta, ["meta_key"]),
        rows,
        columns=("meta_key", "value"),
        constants={"updated_at": AT},
    )


def test_thousands_of_rows_go_in_a_few_statements_of_many_rows_on_sqlite(warehouse, statements):
    rows = [{"meta_key": f"k{i:05d}", "value": str(i), "updated_at": AT} for i in range(5000)]
    with warehouse.begin() as conn:
        bulk_insert(conn, etl_meta, rows)
    inserts = [item for item in statements if "etl_meta" in item[1] and item[1].lstrip().upper().startswith("INSERT")]
    if warehouse.dialect == "sqlite":
        per_statement = etl.SQLITE_VARIABLES // 3
        assert not any(many for many, _, _ in inserts)
        assert len(inserts) == math.ceil(5000 / per_statement)
        assert [len(parameters) for _, _, parameters in inserts] == [
            3 * min(per_statement, 5000 - start) for start in range(0, 5000, per_statement)
        ]
    assert meta(warehouse) == {row["meta_key"]: row["value"] for row in rows}


@pytest.fixture
def small_statements(monkeypatch):
    """Two rows of three columns per statement on SQLite: a batch spans several, with a remainder."""
    monkeypatch.setattr(etl, "SQLITE_VARIABLES", 7)


@pytest.mark.parametrize(
    ("name", "statement", "kept"),
    [
        # an upsert keeps the last version of a key, an insert that keeps a row once the first
        ("upsert", lambda c: upsert_statement(c, etl_meta, ["meta_key"]), {"x": "3", "y": "2", "z": "1", "w": "1"}),
        (
            "insert-ignore",
            lambda c: insert_ignore_statement(c, etl_meta, ["meta_key"]),
            {"x": "1", "y": "1", "z": "1", "w": "1"},
        ),
    ],
)
def test_rows_of_one_batch_are_written_in_their_order_within_and_across_statements(
    warehouse, statements, small_statements, name, statement, kept
):
    # a key that comes again in the same statement ("x" twice in the first) and in later ones
    rows = [("x", "1"), ("x", "2"), ("y", "1"), ("x", "3"), ("z", "1"), ("y", "2"), ("w", "1")]
    with warehouse.begin() as conn:
        bulk_execute(
            conn, f"test:etl_meta:{name}", statement, rows, columns=("meta_key", "value"), constants={"updated_at": AT}
        )
    assert meta(warehouse) == kept
    if warehouse.dialect == "sqlite":
        assert [len(p) for _, sql, p in statements if sql.startswith("INSERT INTO etl_meta")] == [6, 6, 6, 3]


def test_a_statement_that_is_not_one_rows_values_is_executed_once_per_row(warehouse, statements):
    with warehouse.begin() as conn:
        bulk_insert(conn, etl_meta, [{"meta_key": k, "value": "old", "updated_at": AT} for k in "xyz"])
        bulk_execute(
            conn,
            "test:etl_meta:update",
            lambda _c: (
                update(etl_meta).where(etl_meta.c.meta_key == bindparam("b_key")).values(value=bindparam("b_value"))
            ),
            [{"b_key": "x", "b_value": "new"}, {"b_key": "z", "b_value": "newer"}],
        )
    assert meta(warehouse) == {"x": "new", "y": "old", "z": "newer"}
    assert [many for many, sql, _ in statements if sql.startswith("UPDATE etl_meta")] == [True]


@pytest.mark.parametrize(
    ("sql", "parts"),
    [
        ("INSERT INTO t (a, b) VALUES (?, ?)", ("INSERT INTO t (a, b) VALUES ", "(?, ?)", "")),
        (
            "INSERT INTO t (a, b) VALUES (?, lower(?)) ON CONFLICT (a) DO NOTHING",
            ("INSERT INTO t (a, b) VALUES ", "(?, lower(?))", " ON CONFLICT (a) DO NOTHING"),
        ),
        ("INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT (a) DO UPDATE SET b = ?", None),  # a parameter after
        ("UPDATE t SET b = ? WHERE a = ?", None),
        ("INSERT INTO t (a, b) SELECT a, b FROM u WHERE a = ? AND b = ?", None),
    ],
)
def test_only_an_insert_of_one_rows_values_is_written_many_rows_at_once(sql, parts):
    assert etl._values_clause(sql, 2) == parts
    if parts is not None:
        head, group, tail = parts
        assert head + group + tail == sql


def test_stage_newest_gives_the_batchs_accepted_keys_in_one_step(warehouse, statements):
    # a table of the test's own: integer keys, a version, the batch id
    metadata = MetaData()
    table = Table(
        "t_stage_newest",
        metadata,
        Column("k", Integer, primary_key=True),
        Column("v", String),
        Column("version", UtcDateTime, nullable=False),
        Column("batch_id", String, nullable=False),
    )
    metadata.create_all(warehouse.engine)
    older, newer = datetime(2026, 1, 1, tzinfo=UTC), AT
    with warehouse.begin() as conn:
        first = stage_newest(
            conn,
            table,
            ["k"],
            [(k, "a", newer) for k in range(600)],
            version="version",
            batch_id="b1",
            columns=("k", "v", "version"),
        )
    statements.clear()
    with warehouse.begin() as conn:
        # keys 0-99 again, older: kept as they were; 600-699 new
        second = stage_newest(
            conn,
            table,
            ["k"],
            [(k, "b", older) for k in [*range(100), *range(600, 700)]],
            version="version",
            batch_id="b2",
            columns=("k", "v", "version"),
        )
    assert first == set(range(600))
    assert second == set(range(600, 700))
    if warehouse.dialect == "sqlite":
        assert [sql for _, sql, _ in statements if sql.lstrip().upper().startswith("SELECT")] == [
            sql for _, sql, _ in statements if "json_group_array" in sql
        ]


def test_column_values_are_those_of_a_plain_select_in_one_row_on_sqlite(warehouse, statements):
    with warehouse.begin() as conn:
        bulk_insert(
            conn,
            etl_run,
            [
                {
                    "run_id": f"run-{i}",
                    "source": "s",
                    "stream": "t",
                    "mode": "full",
                    "started_at": AT,
                    "status": "succeeded",
                    "fetched": i,
                    "loaded": 0,
                    "quarantined": 0,
                }
                for i in range(500)
            ],
        )
    statements.clear()
    with warehouse.engine.connect() as conn:
        where = etl_run.c.fetched < 400
        texts = column_values(conn, etl_run.c.run_id, where)
        numbers = column_values(conn, etl_run.c.fetched, where)
        times = column_values(conn, etl_run.c.started_at, where)  # not text or integers: a plain SELECT
        plain = {
            column.name: set(conn.execute(select(column).where(where)).scalars())
            for column in (etl_run.c.run_id, etl_run.c.fetched, etl_run.c.started_at)
        }
        nothing = column_values(conn, etl_run.c.run_id, etl_run.c.fetched < 0)
    assert texts == plain["run_id"] == {f"run-{i}" for i in range(400)}
    assert numbers == plain["fetched"] == set(range(400))
    assert times == plain["started_at"]
    assert nothing == set()
    if warehouse.dialect == "sqlite":
        grouped = [sql for _, sql, _ in statements if "json_group_array" in sql]
        assert len(grouped) == 3  # run ids, counts and the empty one; not the times


def temporary_tables(conn) -> list[str]:
    return list(
        conn.exec_driver_sql(
            "select relname from pg_class where relpersistence = 't' and starts_with(relname, 'bulk_') order by relname"
        ).scalars()
    )


def test_many_rows_with_distinct_keys_are_written_in_their_order_on_postgresql_through_a_copy(warehouse):
    # 150 raw records: on PostgreSQL through a temporary table (dropped at commit); the generated ids in the
    # rows' order on both
    rows = [
        {
            "source": "s",
            "entity": "e",
            "record_key": f"r{i:03d}",
            "run_id": "run",
            "fetched_at": AT,
            "payload_hash": f"{(i * 7919) % 1000:03d}-{i}",
            "payload": {"n": i},
            "is_quarantined": False,
        }
        for i in reversed(range(150))
    ]
    with warehouse.begin() as conn:
        etl.insert_raw(conn, rows)
        etl.insert_raw(conn, rows)  # kept once: nothing more
        during = temporary_tables(conn) if warehouse.dialect == "postgresql" else None
    with warehouse.engine.connect() as conn:
        after = temporary_tables(conn) if warehouse.dialect == "postgresql" else None
        kept = conn.execute(select(raw_record.c.record_key, raw_record.c.payload).order_by(raw_record.c.raw_record_id))
        kept = kept.all()
    if warehouse.dialect == "postgresql":
        assert len(during) == 1 and during[0].startswith("bulk_raw_record_") and after == []
    assert [key for key, _ in kept] == [row["record_key"] for row in rows]
    assert [payload for _, payload in kept] == [row["payload"] for row in rows]


@pytest.mark.parametrize("many", [99, 150])
def test_an_upsert_of_a_key_that_comes_twice_ends_as_one_row_after_the_other(warehouse, many):
    # on PostgreSQL a batch with a key twice is not copied (one INSERT … SELECT would refuse it): the last wins
    rows = [(f"k{i:03d}", "first") for i in range(many)] + [("k000", "again"), ("k001", "again")]
    with warehouse.begin() as conn:
        upsert_meta(conn, rows)
        if warehouse.dialect == "postgresql":
            assert temporary_tables(conn) == []
    assert meta(warehouse) == {f"k{i:03d}": "first" for i in range(2, many)} | {"k000": "again", "k001": "again"}


def test_an_upsert_of_distinct_keys_keeps_the_newer_stored_version(warehouse):
    # copied on PostgreSQL (150 distinct keys): the statement's own condition still decides per row
    older, newer = datetime(2026, 1, 1, tzinfo=UTC), AT
    with warehouse.begin() as conn:
        bulk_insert(
            conn, etl_meta, [{"meta_key": f"k{i:03d}", "value": "stored", "updated_at": newer} for i in range(50)]
        )
    rows = [(f"k{i:03d}", "incoming", older if i < 25 else newer) for i in range(150)]
    with warehouse.begin() as conn:
        bulk_execute(
            conn,
            "test:etl_meta:upsert-newer",
            lambda c: upsert_statement(
                c, etl_meta, ["meta_key"], where=lambda excluded: excluded.updated_at >= etl_meta.c.updated_at
            ),
            rows,
            columns=("meta_key", "value", "updated_at"),
        )
    assert meta(warehouse) == {f"k{i:03d}": "stored" if i < 25 else "incoming" for i in range(150)}


@pytest.mark.postgres
def test_a_role_that_may_not_create_temporary_tables_writes_its_rows_one_by_one(postgres_database_url):
    # a production database may revoke TEMP from the warehouse's role: the rows still go in, as an executemany
    admin = create_engine(postgres_database_url, isolation_level="AUTOCOMMIT")
    role = f"estatehub_no_temp_{uuid.uuid4().hex[:8]}"
    database = make_url(postgres_database_url).database
    try:
        Warehouse(admin, PiiHasher(TEST_PII_KEY)).prepare()
        with admin.connect() as conn:
            for statement in (
                f"create role {role} login",
                f'revoke temporary on database "{database}" from public',
                f"grant usage on schema public to {role}",
                f"grant select, insert, update on all tables in schema public to {role}",
                f"grant usage on all sequences in schema public to {role}",
            ):
                conn.exec_driver_sql(statement)
        limited = Warehouse(
            create_engine(make_url(postgres_database_url).set(username=role, password=None)), PiiHasher(TEST_PII_KEY)
        )
        rows = [(f"k{i:03d}", "v") for i in range(150)]
        with limited.begin() as conn:
            upsert_meta(conn, rows)
            assert temporary_tables(conn) == []
        limited.engine.dispose()
        assert meta(Warehouse(admin, PiiHasher(TEST_PII_KEY))) == dict(rows)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"drop owned by {role}")
            conn.exec_driver_sql(f"drop role if exists {role}")
        admin.dispose()
