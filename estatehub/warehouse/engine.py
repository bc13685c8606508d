"""The warehouse connection: one SQLAlchemy 2 Core engine and the PII hasher, as one `Warehouse`.

SQLite (the embedded default, one file) runs in WAL mode with a 30 s busy timeout, foreign keys on and
`synchronous=NORMAL`; its transactions are real (the driver's own implicit transaction handling is
switched off and `BEGIN` is sent by SQLAlchemy), so DDL and a batch of writes commit or roll back as
one. PostgreSQL (production) goes through psycopg 3.

A process forked from one that holds engines (a sync's read-ahead process) starts with their pools
emptied without closing what they hold (`Engine.dispose(close=False)`, SQLAlchemy's recipe for a forked
child): a pooled connection is the parent's; the child connects anew where it reads.
"""

from __future__ import annotations

import json
import logging
import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, select
from sqlalchemy.engine import URL, make_url

from estatehub.pii import PiiHasher
from estatehub.warehouse import tables
from estatehub.warehouse.errors import PiiKeyMismatch, WarehouseError

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
PII_KEY_FINGERPRINT = "pii_key_fingerprint"


def _json_dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def normalize_url(url: str | URL | Path | None) -> URL:
    """A SQLAlchemy URL for the warehouse.

    `postgres://` and `postgresql://` become `postgresql+psycopg://`; a plain file path (or None, the
    embedded default `var/warehouse.db`) becomes a SQLite URL.
    """
    if url is None:
        from estatehub.settings import default_warehouse_path

        url = default_warehouse_path()
    if isinstance(url, Path):
        return URL.create("sqlite", database=str(url))
    if isinstance(url, str):
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        if "://" not in url:
            return URL.create("sqlite", database=url)
        url = make_url(url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()  # every live one, for a forked child
_INHERITED: list[Any] = []  # in a forked child: the parent's pools, kept from being closed until the child ends


def _forget_inherited_connections() -> None:
    """In a forked child: every engine starts a new pool. The parent's pools are kept, unused, so that their
    connections are never closed from the child either (a SQLite handle must not be touched across a fork:
    "How To Corrupt An SQLite Database File", section 2.6, https://sqlite.org/howtocorrupt.html)."""
    for engine in list(_ENGINES):
        _INHERITED.append(engine.pool)
        engine.dispose(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_inherited_connections)


def create_warehouse_engine(url: str | URL | Path | None = None, **options: Any) -> Engine:
    """The warehouse engine for `url` (see `normalize_url`); `options` go to `create_engine`."""
    url = normalize_url(url)
    backend = url.get_backend_name()
    options.setdefault("json_serializer", _json_dumps)
    if backend == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        connect_args = options.setdefault("connect_args", {})
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        engine = create_engine(url, **options)
        _configure_sqlite(engine)
    elif backend == "postgresql":
        options.setdefault("pool_pre_ping", True)
        engine = create_engine(url, **options)
    else:
        raise WarehouseError(f"expected a SQLite or PostgreSQL warehouse URL, got the backend {backend!r}")
    _ENGINES.add(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # the driver must not open or commit transactions on its own: `begin` below does
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("pragma journal_mode = wal")
            cursor.execute(f"pragma busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("pragma foreign_keys = on")
            cursor.execute("pragma synchronous = normal")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # `sqlite_begin="immediate"` takes the write lock at once, so a writer waits (busy_timeout)
        # instead of failing when another writer committed since its transaction began
        mode = conn.get_execution_options().get("sqlite_begin", "deferred")
        conn.exec_driver_sql(f"begin {mode}")


@dataclass(frozen=True)
class Warehouse:
    """What every loader receives: the engine, and the hasher for ID numbers, phones and payloads."""

    engine: Engine
    hasher: PiiHasher

    @classmethod
    def from_url(cls, url: str | URL | Path | None, *, pii_key: bytes, **options: Any) -> Warehouse:
        return cls(create_warehouse_engine(url, **options), PiiHasher(pii_key))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One write transaction (on SQLite it holds the write lock from its first statement)."""
        with self.engine.connect() as conn:
            conn.execution_options(sqlite_begin="immediate")
            with conn.begin():
                yield conn

    def prepare(self, revision: str = "head") -> None:
        """Bring the schema to `revision` and check that the PII key is the one the warehouse was built with."""
        from estatehub.warehouse.migrations import upgrade

        upgrade(self.engine, revision)
        self.check_pii_key()

    def check_pii_key(self) -> None:
        """Record the key's fingerprint at first use; refuse a different key later.

        Raises `PiiKeyMismatch`: hashes made under two keys would never match each other.
        """
        fingerprint = self.hasher.fingerprint()
        with self.begin() as conn:
            stored = conn.execute(
                select(tables.etl_meta.c.value).where(tables.etl_meta.c.meta_key == PII_KEY_FINGERPRINT)
            ).scalar_one_or_none()
            if stored is None:
                conn.execute(
                    tables.etl_meta.insert().values(
                        meta_key=PII_KEY_FINGERPRINT, value=fingerprint, updated_at=datetime.now(UTC)
                    )
                )
                log.info("warehouse: recorded the PII key fingerprint %s", fingerprint)
                return
        if stored != fingerprint:
            raise PiiKeyMismatch(
                f"the warehouse was built with the PII key of fingerprint {stored}, but this run has the key of "
                f"fingerprint {fingerprint}: the ID and phone hashes would no longer match. Use the original "
                f"pii_key of the 'warehouse' Connection, or build a new warehouse for the new key."
            )

    def dispose(self) -> None:
        self.engine.dispose()
