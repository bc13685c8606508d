"""Helpers for tests of anything that writes the warehouse.

snapshot(engine)      the content of the staging and core tables, comparable across runs and
                      backends: typed values, sorted rows, no run ids / batch ids / load times
stored_texts(engine)  every value of every column of every table, as text (for PII scans)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from sqlalchemy import Engine, MetaData, select

from estatehub.schema import all_metadata

# columns that say when and by which run a row was written, not what it holds
VOLATILE_COLUMNS = frozenset({"batch_id", "run_id", "loaded_at", "linked_at", "listed_at"})  # when we read, not what
CONTENT_PREFIXES = ("stg_", "core_")


def snapshot(
    engine: Engine,
    *,
    prefixes: Iterable[str] = CONTENT_PREFIXES,
    exclude_columns: Iterable[str] = VOLATILE_COLUMNS,
) -> dict[str, list[tuple]]:
    """{table: sorted rows} of every table whose name starts with one of `prefixes`."""
    prefixes = tuple(prefixes)
    excluded = set(exclude_columns)
    result: dict[str, list[tuple]] = {}
    with engine.connect() as conn:
        for table in (table for metadata in all_metadata() for table in metadata.sorted_tables):
            if not table.name.startswith(prefixes):
                continue
            columns = [column for column in table.columns if column.name not in excluded]
            rows = conn.execute(select(*columns)).all()
            result[table.name] = sorted((tuple(row) for row in rows), key=_sort_key)
    return result


def _sort_key(row: tuple) -> tuple:
    return tuple((value is None, str(value)) for value in row)


def stored_texts(engine: Engine) -> Iterator[tuple[str, str, str]]:
    """(table, column, value as text) for every non-null value in every table of the database."""
    reflected = MetaData()
    reflected.reflect(engine)
    with engine.connect() as conn:
        for table in reflected.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                for column, value in row.items():
                    if value is None:
                        continue
                    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
                    yield table.name, column, text
