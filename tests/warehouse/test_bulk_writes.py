"""The shared bulk writes: a batch's constant columns are written once for every row; rows come as
mappings or as tuples of given columns."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from estatehub.warehouse.etl import bulk_execute, bulk_insert, upsert_statement
from estatehub.warehouse.tables import etl_meta

EARLIER = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
LATER = datetime(2026, 12, 3, 4, 5, 6, 789000, tzinfo=UTC)


def stored(warehouse) -> dict[str, tuple[str, datetime]]:
    with warehouse.engine.connect() as conn:
        return {row.meta_key: (row.value, row.updated_at) for row in conn.execute(select(etl_meta))}


def test_bulk_insert_writes_the_constant_columns_on_every_row_over_the_rows_own(warehouse):
    # COPY on PostgreSQL, executemany on SQLite: the same rows either way
    rows = [{"meta_key": "a", "value": "1"}, {"meta_key": "b", "value": "2"}]
    with warehouse.begin() as conn:
        bulk_insert(conn, etl_meta, rows, constants={"updated_at": LATER})
        bulk_insert(
            conn, etl_meta, [{"meta_key": "c", "value": "3", "updated_at": EARLIER}], constants={"updated_at": LATER}
        )
    found = stored(warehouse)
    assert {key: found[key] for key in "abc"} == {"a": ("1", LATER), "b": ("2", LATER), "c": ("3", LATER)}
    assert rows == [{"meta_key": "a", "value": "1"}, {"meta_key": "b", "value": "2"}]  # not copied into the rows


def test_bulk_execute_upserts_with_constant_columns(warehouse):
    with warehouse.begin() as conn:
        bulk_insert(conn, etl_meta, [{"meta_key": "x", "value": "old", "updated_at": EARLIER}])
        bulk_execute(
            conn,
            "test:etl_meta:upsert",
            lambda c: upsert_statement(c, etl_meta, ["meta_key"]),
            [{"meta_key": "x", "value": "new"}, {"meta_key": "y", "value": "first"}],
            constants={"updated_at": LATER},
        )
    found = stored(warehouse)
    assert (found["x"], found["y"]) == (("new", LATER), ("first", LATER))


def test_rows_as_tuples_of_given_columns_are_written_as_their_mappings_would_be(warehouse):
    # columns in another order than the table's, and a constant over a tuple's own value
    with warehouse.begin() as conn:
        bulk_insert(
            conn,
            etl_meta,
            [("1", "a", EARLIER), ("2", "b", EARLIER)],
            columns=("value", "meta_key", "updated_at"),
            constants={"updated_at": LATER},
        )
        bulk_execute(
            conn,
            "test:etl_meta:upsert-tuples",
            lambda c: upsert_statement(c, etl_meta, ["meta_key"]),
            [("b", "changed", EARLIER), ("c", "3", EARLIER)],
            columns=("meta_key", "value", "updated_at"),
        )
    found = stored(warehouse)
    assert {key: found[key] for key in "abc"} == {"a": ("1", LATER), "b": ("changed", EARLIER), "c": ("3", EARLIER)}


def test_a_tuple_row_of_another_length_than_its_columns_is_refused(warehouse):
    with warehouse.begin() as conn, pytest.raises(ValueError):
        bulk_insert(conn, etl_meta, [("a", "1", LATER), ("b", "2")], columns=("meta_key", "value", "updated_at"))
