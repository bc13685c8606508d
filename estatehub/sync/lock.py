"""One run at a time per stream: the lock a sync holds while it writes, and the runs it finds abandoned.

    with stream_lock(warehouse, "trading_network", "contracts", run_id, wait=timedelta(0)):
        ...   # no other sync of this stream writes meanwhile

On PostgreSQL the lock is a session advisory lock held on a connection of its own for the whole run:
the server releases it when that connection ends, a killed process included. On SQLite (one machine)
it is a row of `etl_lock` naming the run, the host and the process: a row whose process is gone (a
sync killed with SIGKILL), or older than `stale_after`, is taken over.

A second sync of the same stream waits up to `wait` for the lock, then raises `SyncAlreadyRunning`,
whose message names the run that holds it and what to do. Once the lock is held, every other run of
the stream still marked `running` cannot be alive: `abandon_stale_runs` marks it `abandoned`.

The lock is re-entrant for its run: code holding it may call code that takes it again under the same
`run_id` in the same thread (a statement sync holds its bank's lock and loads each file through
`load_statement_file`, which takes the same lock when called on its own, from `import-statement`);
the inner call just runs. Another run id is another run, refused or waited for as above.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, select, text, update

from estatehub.sync.errors import SyncAlreadyRunning
from estatehub.warehouse.engine import Warehouse
from estatehub.warehouse.etl import ABANDONED, RUNNING, utcnow
from estatehub.warehouse.tables import etl_lock, etl_run

log = logging.getLogger(__name__)

POLL_S = 0.5

_held = threading.local()  # the locks this thread holds: {(database, source, stream, run id): depth}


def _advisory_key(source: str, stream: str) -> int:
    digest = hashlib.blake2b(f"estatehub:{source}:{stream}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _holder(conn: Connection, source: str, stream: str) -> str:
    """Who seems to hold the lock, for the message: the newest running run of the stream."""
    row = conn.execute(
        select(etl_run.c.run_id, etl_run.c.started_at)
        .where(etl_run.c.source == source, etl_run.c.stream == stream, etl_run.c.status == RUNNING)
        .order_by(etl_run.c.started_at.desc())
        .limit(1)
    ).first()
    return f"run {row.run_id}, started {row.started_at:%Y-%m-%d %H:%M:%S} UTC" if row else "a run not yet recorded"


@contextmanager
def stream_lock(
    warehouse: Warehouse,
    source: str,
    stream: str,
    run_id: str,
    *,
    wait: timedelta = timedelta(0),
    stale_after: timedelta = timedelta(hours=6),
) -> Iterator[None]:
    """Hold the lock of one stream for the body; see the module doc."""
    held: dict[tuple[str, str, str, str], int] = _held.__dict__.setdefault("locks", {})
    key = (warehouse.engine.url.render_as_string(hide_password=True), source, stream, run_id)
    if held.get(key):
        held[key] += 1
        try:
            yield
        finally:
            held[key] -= 1
        return
    with _acquire(warehouse, source, stream, run_id, wait=wait, stale_after=stale_after):
        held[key] = 1
        try:
            yield
        finally:
            held.pop(key, None)


@contextmanager
def _acquire(
    warehouse: Warehouse, source: str, stream: str, run_id: str, *, wait: timedelta, stale_after: timedelta
) -> Iterator[None]:
    engine = warehouse.engine
    deadline = time.monotonic() + wait.total_seconds()
    if engine.dialect.name == "postgresql":
        key = _advisory_key(source, stream)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            while not conn.execute(text("select pg_try_advisory_lock(:key)"), {"key": key}).scalar_one():
                if time.monotonic() >= deadline:
                    raise SyncAlreadyRunning(_busy_message(source, stream, _holder(conn, source, stream)))
                time.sleep(POLL_S)
            try:
                yield
            finally:
                conn.execute(text("select pg_advisory_unlock(:key)"), {"key": key})
        return
    me = {"host": socket.gethostname(), "pid": os.getpid()}
    while not _claim_row(warehouse, source, stream, run_id, me, stale_after):
        if time.monotonic() >= deadline:
            with engine.connect() as conn:
                holder = conn.execute(
                    select(etl_lock).where(etl_lock.c.source == source, etl_lock.c.stream == stream)
                ).first()
            who = f"run {holder.run_id} (process {holder.pid} on {holder.host})" if holder else "another run"
            raise SyncAlreadyRunning(_busy_message(source, stream, who))
        time.sleep(POLL_S)
    try:
        yield
    finally:
        with warehouse.begin() as conn:
            conn.execute(
                delete(etl_lock).where(
                    etl_lock.c.source == source, etl_lock.c.stream == stream, etl_lock.c.run_id == run_id
                )
            )


def _claim_row(warehouse: Warehouse, source: str, stream: str, run_id: str, me: dict, stale_after: timedelta) -> bool:
    now = utcnow()
    with warehouse.begin() as conn:
        held = conn.execute(select(etl_lock).where(etl_lock.c.source == source, etl_lock.c.stream == stream)).first()
        if held is not None:
            gone = held.host == me["host"] and not _process_alive(held.pid)
            if not gone and now - held.acquired_at < stale_after:
                return False
            log.warning(
                "sync %s/%s: taking over the lock of run %s (process %s on %s, since %s): %s",
                source,
                stream,
                held.run_id,
                held.pid,
                held.host,
                held.acquired_at,
                "its process is gone" if gone else f"held longer than {stale_after}",
            )
            conn.execute(delete(etl_lock).where(etl_lock.c.source == source, etl_lock.c.stream == stream))
        conn.execute(etl_lock.insert().values(source=source, stream=stream, run_id=run_id, acquired_at=now, **me))
    return True


def _busy_message(source: str, stream: str, holder: str) -> str:
    return (
        f"another sync of {source}/{stream} is running ({holder}); wait for it to finish and run again — "
        f"or, if it was stopped, run again: a stopped run's lock is released with its process"
    )


def abandon_stale_runs(conn: Connection, source: str, stream: str, run_id: str, at: datetime) -> list[str]:
    """Mark `abandoned` every other run of the stream still `running` (call it holding the lock: none of
    them can be alive). Returns their ids."""
    stale = list(
        conn.execute(
            select(etl_run.c.run_id).where(
                etl_run.c.source == source,
                etl_run.c.stream == stream,
                etl_run.c.status == RUNNING,
                etl_run.c.run_id != run_id,
            )
        ).scalars()
    )
    if stale:
        conn.execute(
            update(etl_run)
            .where(etl_run.c.run_id.in_(stale))
            .values(
                status=ABANDONED,
                finished_at=at,
                message=f"abandoned: its process ended before the run finished (found by run {run_id})",
            )
        )
    return stale
