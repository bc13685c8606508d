"""The loading machinery every source shares: runs, sync state, raw records, quarantine, upserts.

Functions that take a `Connection` write inside the caller's transaction (a sync writes a batch's
rows, its raw records, its quarantine entries, its run counters and its cursor in one transaction);
functions that take an `Engine` commit on their own (a run's start and end).
"""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
import weakref
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Connection, Engine, Table, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from estatehub.pii import PiiHasher
from estatehub.warehouse.redact import PayloadShape, redact_payload, stored_payload
from estatehub.warehouse.tables import etl_quarantine, etl_run, etl_sync_state, raw_record

FULL = "full"
INCREMENTAL = "incremental"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
ABANDONED = "abandoned"  # its process ended before it finished; marked by the next run of the stream
MESSAGE_LIMIT = 4000
RAW_KEY = ("source", "entity", "payload_hash")  # one row per distinct payload of an entity
# parameters of one statement of many rows on SQLite (decision 0041): within its limit (32,766 since 3.32),
# and small enough that the statements the driver keeps prepared, with their last values, stay small
SQLITE_VARIABLES = 8000
Row = Mapping[str, Any] | Sequence[Any]  # a row to write: by column name, or a tuple of given columns


def utcnow() -> datetime:
    return datetime.now(UTC)


# -- upserts -------------------------------------------------------------------------------------


def upsert_statement(
    conn: Connection,
    table: Table,
    key: Sequence[str],
    *,
    update_columns: Iterable[str] | None = None,
    set_: Callable[[Any], Mapping[str, Any]] | None = None,
    where: Callable[[Any], ColumnElement[bool]] | None = None,
) -> Any:
    """`insert ... on conflict (key) do update set ... [where ...]` for SQLite and PostgreSQL.

    By default every non-key column takes the incoming value; `set_(excluded)` overrides columns,
    `where(excluded)` keeps the stored row unless it holds.
    """
    insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[conn.dialect.name]
    statement = insert(table)
    excluded = statement.excluded
    names = update_columns if update_columns is not None else [c.name for c in table.columns if c.name not in key]
    values: dict[str, Any] = {name: excluded[name] for name in names}
    if set_ is not None:
        values.update(set_(excluded))
    return statement.on_conflict_do_update(
        index_elements=list(key), set_=values, where=where(excluded) if where is not None else None
    )


def insert_ignore_statement(conn: Connection, table: Table, key: Sequence[str]) -> Any:
    """`insert ... on conflict (key) do nothing` for SQLite and PostgreSQL."""
    insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[conn.dialect.name]
    return insert(table).on_conflict_do_nothing(index_elements=list(key))


def stage_newest(
    conn: Connection,
    table: Table,
    key: Sequence[str],
    rows: Sequence[Row],
    *,
    version: str,
    batch_id: str,
    accepted: str | None = None,
    constants: Mapping[str, Any] | None = None,
    columns: Sequence[str] | None = None,
) -> set[Any]:
    """Upsert a batch's staging rows by `key`, never replacing a stored row by an older version (the
    `version` column: an equal version replaces, so a re-read gives the same row). Each row gets
    `batch_id` and the `constants` (columns with one value for the whole batch: its run, when it was
    loaded; see `bulk_execute`; rows as tuples of `columns` there too); returns the values of column
    `accepted` (default the last key column) of the rows this batch now holds — the ones that were not
    older than what was staged."""
    if not rows:
        return set()
    column = table.c[version]
    bulk_execute(
        conn,
        f"{table.name}:stage_newest",
        lambda c: upsert_statement(c, table, key, where=lambda excluded: excluded[version] >= column),
        rows,
        constants={**(constants or {}), "batch_id": batch_id},
        columns=columns,
    )
    return column_values(conn, table.c[accepted or key[-1]], table.c.batch_id == batch_id)


def column_values(conn: Connection, column: Any, where: ColumnElement[bool]) -> set[Any]:
    """The distinct values of one column (text or integers) in the rows where `where` holds. On SQLite they
    come as one JSON array, one step of the driver: one step per row beside a busy thread waits for Python's
    lock once per row (see `_rows_per_statement`)."""
    if conn.dialect.name != "sqlite" or _python_type(column.type) not in (int, str):
        return set(conn.execute(select(column).where(where)).scalars())
    text = conn.execute(select(func.json_group_array(column)).where(where)).scalar_one()
    return set(json.loads(text))


def analyze(engine: Engine, tables: Iterable[Table]) -> None:
    """Refresh PostgreSQL's statistics of `tables` (its own transaction): after a load of many rows and before
    queries that join them. Without statistics the planner guesses, and may rescan a table once per row of
    another (an `IN (subquery)` not hashed). Autovacuum may be off, or not yet done. On SQLite nothing:
    its planner needs no statistics for these queries."""
    if engine.dialect.name != "postgresql":
        return
    names = ", ".join(table.name for table in tables)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"analyze {names}")


# -- runs ----------------------------------------------------------------------------------------


def start_run(engine: Engine, *, run_id: str, source: str, stream: str, mode: str, since_at: datetime | None) -> None:
    """Record a run as running (its own transaction). A run id used before starts over."""
    row = {
        "run_id": run_id,
        "source": source,
        "stream": stream,
        "mode": mode,
        "since_at": since_at,
        "started_at": utcnow(),
        "finished_at": None,
        "status": RUNNING,
        "fetched": 0,
        "loaded": 0,
        "quarantined": 0,
        "message": None,
    }
    with engine.begin() as conn:
        conn.execute(upsert_statement(conn, etl_run, ["run_id"]), row)


def add_run_counts(conn: Connection, run_id: str, *, fetched: int, loaded: int, quarantined: int) -> None:
    conn.execute(
        update(etl_run)
        .where(etl_run.c.run_id == run_id)
        .values(
            fetched=etl_run.c.fetched + fetched,
            loaded=etl_run.c.loaded + loaded,
            quarantined=etl_run.c.quarantined + quarantined,
        )
    )


def finish_run(engine: Engine, run_id: str, *, status: str, message: str | None = None) -> None:
    """Mark a run succeeded or failed (its own transaction)."""
    if message is not None and len(message) > MESSAGE_LIMIT:
        message = message[: MESSAGE_LIMIT - 1] + "…"
    with engine.begin() as conn:
        conn.execute(
            update(etl_run)
            .where(etl_run.c.run_id == run_id)
            .values(status=status, finished_at=utcnow(), message=message)
        )


# -- sync state ----------------------------------------------------------------------------------


def read_cursor(target: Engine | Connection, source: str, stream: str) -> datetime | None:
    """The stream's cursor: the newest `updated_at` loaded so far (None: never synced)."""
    query = select(etl_sync_state.c.cursor_at).where(
        etl_sync_state.c.source == source, etl_sync_state.c.stream == stream
    )
    if isinstance(target, Connection):
        return target.execute(query).scalar_one_or_none()
    with target.connect() as conn:
        return conn.execute(query).scalar_one_or_none()


def advance_cursor(conn: Connection, source: str, stream: str, cursor_at: datetime, run_id: str) -> None:
    """Move the cursor to `cursor_at` unless it is already past it (inside the batch's transaction)."""
    state = etl_sync_state
    statement = upsert_statement(
        conn,
        state,
        ["source", "stream"],
        set_=lambda excluded: {
            "cursor_at": case(
                (state.c.cursor_at.is_(None), excluded.cursor_at),
                (excluded.cursor_at > state.c.cursor_at, excluded.cursor_at),
                else_=state.c.cursor_at,
            )
        },
    )
    conn.execute(
        statement,
        {"source": source, "stream": stream, "cursor_at": cursor_at, "run_id": run_id, "updated_at": utcnow()},
    )


# -- raw and quarantine --------------------------------------------------------------------------


class JsonText(str):
    """A JSON document already serialised (the canonical redacted payload): a bulk write stores the
    text as it is in a JSON column instead of serialising it again."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Received:
    """One record as fetched, ready for the raw layer: the payload as received, the canonical JSON of
    its redacted form (`stored`, what the raw layer keeps) and the keyed hash of that text."""

    source: str
    entity: str
    record_key: str | None
    payload: Any
    payload_hash: str
    updated_at: datetime | None = None
    reason: str | None = None  # set when the record is quarantined
    stored: str | None = None  # None: redacted from `payload` when its row is made

    @classmethod
    def of(
        cls,
        hasher: PiiHasher,
        *,
        source: str,
        entity: str,
        record_key: str | None,
        payload: Any,
        updated_at: datetime | None = None,
        reason: str | None = None,
        shape: PayloadShape | None = None,
        known: Mapping[tuple[str, str], dict[str, str]] | None = None,
    ) -> Received:
        """Redact and hash the payload (`redact.stored_payload`; `shape`: the source's known payload shape;
        `known`: the stored form of its ID numbers and phones, where the stream has them already)."""
        stored, digest = stored_payload(hasher, payload, shape, known)
        return cls(source, entity, record_key, payload, digest, updated_at, reason, stored)

    def quarantined(self, reason: str) -> Received:
        return Received(
            self.source,
            self.entity,
            self.record_key,
            self.payload,
            self.payload_hash,
            self.updated_at,
            reason,
            self.stored,
        )

    def redacted_payload(self, hasher: PiiHasher) -> Any:
        """The redacted payload to store: the canonical text when known, else redacted now."""
        return JsonText(self.stored) if self.stored is not None else redact_payload(hasher, self.payload)


def raw_rows(
    hasher: PiiHasher, received: Iterable[Received], *, run_id: str, fetched_at: datetime
) -> list[dict[str, Any]]:
    """`raw_record` rows of the received records: one per distinct payload, redacted (no I/O)."""
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for item in received:
        key = (item.source, item.entity, item.payload_hash)
        if key in rows:
            continue
        rows[key] = {
            "source": item.source,
            "entity": item.entity,
            "record_key": item.record_key,
            "run_id": run_id,
            "fetched_at": fetched_at,
            "payload_hash": item.payload_hash,
            "payload": item.redacted_payload(hasher),
            "is_quarantined": item.reason is not None,
        }
    return list(rows.values())


def insert_raw(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Keep every distinct payload once; a payload already kept is not stored again."""
    bulk_execute(conn, "raw_record:insert_ignore", lambda c: insert_ignore_statement(c, raw_record, RAW_KEY), rows)


def quarantine_rows(
    hasher: PiiHasher,
    bad: Iterable[Received],
    *,
    run_id: str,
    seen_at: datetime,
    resolved: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """`etl_quarantine` rows of the bad records, one per distinct payload with how often it came (no I/O).

    `resolved` holds payload hashes of bad records that a later good version in the same batch
    already supersedes: they are recorded as resolved at once.
    """
    resolved = set(resolved)
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for item in bad:
        key = (item.source, item.entity, item.payload_hash)
        if key in rows:
            rows[key]["seen_count"] += 1
            continue
        rows[key] = {
            "source": item.source,
            "entity": item.entity,
            "record_key": item.record_key,
            "record_updated_at": item.updated_at,
            "reason": item.reason or "no reason given",
            "payload": item.redacted_payload(hasher),
            "payload_hash": item.payload_hash,
            "first_run_id": run_id,
            "last_run_id": run_id,
            "first_seen_at": seen_at,
            "last_seen_at": seen_at,
            "seen_count": 1,
            "resolved_at": seen_at if item.payload_hash in resolved else None,
        }
    return list(rows.values())


def quarantine(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Keep each bad record with its reason and redacted payload; count how often it was seen."""
    q = etl_quarantine

    def statement(c: Connection) -> Any:
        return upsert_statement(
            c,
            q,
            RAW_KEY,
            update_columns=["reason", "last_run_id", "last_seen_at"],
            set_=lambda excluded: {
                "seen_count": q.c.seen_count + excluded.seen_count,
                "resolved_at": func.coalesce(q.c.resolved_at, excluded.resolved_at),
            },
        )

    bulk_execute(conn, "etl_quarantine:upsert", statement, rows)


def resolve_quarantined(
    conn: Connection, source: str, entity: str, good_versions: Mapping[str, datetime], *, resolved_at: datetime
) -> int:
    """Mark open quarantine entries resolved where a good version of the same record key, as new or
    newer, has now been loaded. Returns how many were resolved."""
    if not good_versions:
        return 0
    q = etl_quarantine
    # most batches find nothing open: one cheap question first, not an IN list of every key in the batch
    anything_open = conn.execute(
        select(q.c.quarantine_id).where(q.c.source == source, q.c.entity == entity, q.c.resolved_at.is_(None)).limit(1)
    ).first()
    if anything_open is None:
        return 0
    open_rows = conn.execute(
        select(q.c.quarantine_id, q.c.record_key, q.c.record_updated_at).where(
            q.c.source == source,
            q.c.entity == entity,
            q.c.resolved_at.is_(None),
            q.c.record_key.in_(list(good_versions)),
        )
    ).all()
    ids = [
        row.quarantine_id
        for row in open_rows
        if row.record_updated_at is None or row.record_updated_at <= good_versions[row.record_key]
    ]
    if ids:
        conn.execute(update(q).where(q.c.quarantine_id.in_(ids)).values(resolved_at=resolved_at))
    return len(ids)


# -- bulk writes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Bulk:
    """An executemany statement compiled once per engine with positional parameters, and the bind
    processors of the columns that have one (most values go to the driver as they are).

    An `INSERT ... VALUES (?, …)` is also kept, on SQLite, as its three parts (`values`: before the row's
    parameters, the row's parameters, after them) to write many rows per statement (`statement`); on
    PostgreSQL as what a write from a copy needs (`copy`; decision 0041)."""

    sql: str
    names: tuple[str, ...]
    processed: tuple[tuple[int, Callable[[Any], Any]], ...]  # (position, processor)
    values: tuple[str, str, str] | None = None
    copy: _CopyTarget | None = None
    _statements: dict[int, str] = field(default_factory=dict, compare=False, repr=False)

    def statement(self, rows: int) -> str:
        """The statement that writes `rows` rows at once (`values` given)."""
        sql = self._statements.get(rows)
        if sql is None:
            head, group, tail = self.values  # type: ignore[misc]
            sql = f"{head}{', '.join(itertools.repeat(group, rows))}{tail}"
            if len(self._statements) < 4:  # the full size and a few batch ends; any other is made again
                self._statements[rows] = sql
        return sql

    @classmethod
    def compile(cls, dialect: Any, statement: Any, keys: Sequence[str]) -> _Bulk:
        # PostgreSQL: positional `%s` (the driver's other style): rows as tuples on both backends
        positional = type(dialect)(paramstyle="format") if dialect.name == "postgresql" else dialect
        compiled = statement.compile(dialect=positional, column_keys=list(keys), for_executemany=True)
        if not compiled.positional:
            raise ValueError(f"expected a positional parameter style for {dialect.name}, got {dialect.paramstyle}")
        names = tuple(compiled.positiontup)
        processors = [_bind_processor(compiled.binds[name].type, dialect) for name in names]
        processed = tuple((i, p) for i, p in enumerate(processors) if p is not None)
        if dialect.name == "sqlite":
            return cls(compiled.string, names, processed, values=_values_clause(compiled.string, len(names)))
        if dialect.name == "postgresql":
            return cls(compiled.string, names, processed, copy=_CopyTarget.of(compiled.string, names))
        return cls(compiled.string, names, processed)

    def parameters(
        self,
        rows: Sequence[Row],
        constants: Mapping[str, Any] | None = None,
        columns: Sequence[str] | None = None,
    ) -> list[tuple[Any, ...]]:
        # column by column: the loops over rows and values run in C, only the processors in Python;
        # a constant column is processed once and repeated; rows given as tuples of `columns` are
        # turned into whole columns at once
        constants = constants or {}
        processors = dict(self.processed)
        given = dict(zip(columns, zip(*rows, strict=True), strict=True)) if columns is not None else None
        values: list[Any] = []
        for i, name in enumerate(self.names):
            processor = processors.get(i)
            if name in constants:
                value = constants[name]
                values.append(itertools.repeat(value if processor is None else processor(value), len(rows)))
                continue
            column = given[name] if given is not None else list(map(itemgetter(name), rows))
            values.append(column if processor is None else list(map(processor, column)))
        return list(zip(*values, strict=True))


def _python_type(type_: Any) -> type | None:
    try:
        return type_.python_type
    except NotImplementedError:  # a type that does not say what Python values it holds
        return None


def _values_clause(sql: str, parameters: int, placeholder: str = "?") -> tuple[str, str, str] | None:
    """`sql` as (before, one row's `(?, …)`, after) when it is an INSERT whose only parameters are one
    row's values, else None (the statement is then only ever executed once per row)."""
    marker = " VALUES ("
    if not sql.startswith("INSERT ") or sql.count(marker) != 1 or sql.count(placeholder) != parameters:
        return None
    start = sql.index(marker) + len(marker) - 1
    depth = 0
    for end in range(start, len(sql)):
        depth += {"(": 1, ")": -1}.get(sql[end], 0)
        if depth == 0:
            break
    group = sql[start : end + 1]
    if depth != 0 or group.count(placeholder) != parameters:
        return None
    return sql[:start], group, sql[end + 1 :]


def _bind_processor(type_: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """The bind processor of a column type; a JSON column also takes `JsonText` as it is."""
    processor = type_.dialect_impl(dialect).bind_processor(dialect)
    if processor is None or not isinstance(type_, JSON):
        return processor

    def process(value: Any) -> Any:
        return str(value) if type(value) is JsonText else processor(value)

    return process


_BULK: weakref.WeakKeyDictionary[Any, dict[tuple, _Bulk]] = weakref.WeakKeyDictionary()


def bulk_execute(
    conn: Connection,
    name: str,
    build: Callable[[Connection], Any],
    rows: Sequence[Row],
    *,
    constants: Mapping[str, Any] | None = None,
    columns: Sequence[str] | None = None,
) -> None:
    """Execute `build(conn)` for every row (executemany), with the statement compiled once per engine.

    The rows' values go through the same type processors SQLAlchemy would apply, without its per-row
    bookkeeping: the bulk writes of a sync are mostly that bookkeeping otherwise. Rows are mappings
    with the keys of the first, or, with `columns`, tuples of those columns' values in that order (what
    a source that types its records straight into rows hands over: no dict per row). `constants` are
    columns with one value for every row (a batch's id, its run, when it was loaded): given once,
    processed once, never copied into each row; they win over a row's own value of the same column.
    """
    if not rows:
        return
    keys = _keys(rows, constants, columns)
    compiled = _BULK.setdefault(conn.dialect, {})
    bulk = compiled.get((name, keys))
    if bulk is None:
        bulk = compiled[(name, keys)] = _Bulk.compile(conn.dialect, build(conn), keys)
    parameters = bulk.parameters(rows, constants, columns)
    if conn.dialect.name == "postgresql" and _copy_then_insert(conn, bulk, parameters):
        return
    per_statement = _rows_per_statement(conn, bulk)
    if per_statement <= 1:
        conn.exec_driver_sql(bulk.sql, parameters)
        return
    for start in range(0, len(parameters), per_statement):
        chunk = parameters[start : start + per_statement]
        conn.exec_driver_sql(bulk.statement(len(chunk)), tuple(itertools.chain.from_iterable(chunk)))


_INSERT_HEAD = re.compile(r"INSERT INTO (\w+) \(([\w, ]+)\) VALUES ")
_CONFLICT = re.compile(r" ON CONFLICT \(([\w, ]+)\) ")
COPY_FROM_ROWS = 100  # fewer rows go as an executemany: a temporary table costs a few statements


@dataclass(frozen=True)
class _CopyTarget:
    """What writing a PostgreSQL `INSERT … VALUES` from a copy needs, read once from the statement: its table,
    its columns as written, what follows its values (`ON CONFLICT …` or nothing), and the conflict key of a
    row's parameters (None without a conflict clause)."""

    table: str
    names: str
    tail: str
    key: Callable[[tuple[Any, ...]], Any] | None

    @classmethod
    def of(cls, sql: str, names: tuple[str, ...]) -> _CopyTarget | None:
        """None for a statement of another form: it is only ever executed as an executemany."""
        values = _values_clause(sql, len(names), "%s")
        insert = _INSERT_HEAD.fullmatch(values[0]) if values is not None else None
        if values is None or insert is None:
            return None
        tail = values[2]
        if not tail:
            return cls(insert.group(1), insert.group(2), tail, None)
        conflict = _CONFLICT.match(tail)
        key_names = [name.strip() for name in conflict.group(1).split(",")] if conflict else []
        if not key_names or not set(key_names) <= set(names):
            return None
        return cls(insert.group(1), insert.group(2), tail, itemgetter(*map(names.index, key_names)))


def _copy_then_insert(conn: Connection, bulk: _Bulk, parameters: list[tuple[Any, ...]]) -> bool:
    """PostgreSQL: the rows COPYed into a temporary table like the target, then one `INSERT … SELECT` with
    the statement's own `ON CONFLICT`; False (nothing done) where that could end otherwise than the rows
    one after the other: rows whose conflict key comes twice, or a statement of another form."""
    target = bulk.copy
    if target is None or len(parameters) < COPY_FROM_ROWS or not conn.in_transaction():
        return False
    if not _may_create_temporary_tables(conn):
        return False
    if target.key is not None and len(set(map(target.key, parameters))) != len(parameters):
        return False
    table, names = target.table, target.names
    temporary = f"bulk_{table}_{zlib.crc32(names.encode()):08x}"  # its columns only, of their types, no constraint
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(
            f"create temporary table if not exists {temporary} on commit drop"
            f" as select {names} from {table} with no data"
        )
        cursor.execute(f"truncate {temporary}")
        _copy_rows(cursor, temporary, names, parameters)
        # in the rows' order (a fresh table's physical order), so generated ids follow it as one by one
        cursor.execute(f"insert into {table} ({names}) select {names} from {temporary} order by ctid{target.tail}")
    finally:
        cursor.close()
    return True


def _copy_rows(cursor: Any, table: str, names: str, parameters: Iterable[tuple[Any, ...]]) -> None:
    """PostgreSQL's `COPY … FROM STDIN` of rows of processed values into `table`'s columns `names`."""
    with cursor.copy(f"copy {table} ({names}) from stdin") as copy:
        for values in parameters:
            copy.write_row(values)


_TEMPORARY_ALLOWED: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


def _may_create_temporary_tables(conn: Connection) -> bool:
    """Whether the warehouse's role may create temporary tables (a database may revoke TEMP from it: the rows
    then go as an executemany); asked once per engine."""
    allowed = _TEMPORARY_ALLOWED.get(conn.engine)
    if allowed is None:
        asked = conn.exec_driver_sql("select has_database_privilege(current_database(), 'TEMP')").scalar()
        allowed = _TEMPORARY_ALLOWED[conn.engine] = bool(asked)
    return allowed


def _rows_per_statement(conn: Connection, bulk: _Bulk) -> int:
    """How many rows one statement writes: on SQLite as many as `SQLITE_VARIABLES` parameters allow (within
    the connection's own limit), else one (PostgreSQL's driver pipelines an executemany). SQLite's driver
    lets other threads run during each statement and takes Python's lock back after it: one row per
    statement beside a busy thread (a sync's read-ahead) waits for that lock once per row (decision 0041)."""
    if bulk.values is None:  # not an INSERT of one row's values, or not on SQLite
        return 1
    driver = conn.connection.driver_connection
    limit = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if hasattr(driver, "getlimit") else 999
    return max(1, min(SQLITE_VARIABLES, limit) // len(bulk.names))


def _keys(
    rows: Sequence[Row], constants: Mapping[str, Any] | None, columns: Sequence[str] | None = None
) -> tuple[str, ...]:
    """The columns written: `columns` (else the first row's keys), then the constants' not among them."""
    keys = tuple(columns if columns is not None else rows[0])
    return keys + tuple(name for name in constants if name not in keys) if constants else keys


def bulk_insert(
    conn: Connection,
    table: Table,
    rows: Sequence[Row],
    *,
    constants: Mapping[str, Any] | None = None,
    columns: Sequence[str] | None = None,
) -> None:
    """Plain inserts of many rows: `COPY` on PostgreSQL (an order of magnitude faster than
    executemany), executemany elsewhere. Values pass the columns' bind processors either way;
    `constants` and `columns` as in `bulk_execute`."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        bulk_execute(
            conn, f"{table.name}:insert", lambda _conn: table.insert(), rows, constants=constants, columns=columns
        )
        return
    names = _keys(rows, constants, columns)
    processors = tuple(_bind_processor(table.c[name].type, conn.dialect) for name in names)
    bulk = _Bulk("", names, tuple((i, p) for i, p in enumerate(processors) if p is not None))
    cursor = conn.connection.driver_connection.cursor()
    try:
        _copy_rows(cursor, table.name, ", ".join(names), bulk.parameters(rows, constants, columns))
    finally:
        cursor.close()
