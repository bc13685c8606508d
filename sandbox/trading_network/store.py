"""The trading network's view of the world store: a simulated clock and the contracts visible at it.

The world file (written by `sandbox.world`) is opened read-only. What the server adds lives in a
temporary SQLite file of its own, the main database of every connection, with the world attached as
`world`: the table `visible(contract_no, updated_at)` of every contract that exists at the clock,
`updated_at` being its last event at or before the clock, indexed on `(updated_at, contract_no)`.
A list page is then a keyset range scan of that index, O(page) whatever the size of the world.

Moving the clock forward adds the events in between (an index range scan of `world.events`); moving it
back rebuilds the table. Requests read under a shared lock, the clock moves under an exclusive one,
so a request never sees a half-moved clock.
"""

from __future__ import annotations

import logging
import os
import queue
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from datetime import time as dtime
from pathlib import Path
from urllib.parse import quote

from sandbox.world.clock import BUSINESS_TZ

log = logging.getLogger(__name__)

Row = tuple[str, str, str]  # contract_no, updated_at (UTC key), doc (JSON text)


def utc_key(moment: datetime) -> str:
    """A time as the world store writes it: UTC ISO text, sortable (`2026-03-31T02:15:00+00:00`)."""
    if moment.tzinfo is None:
        raise ValueError("expected a timezone-aware datetime")
    return moment.astimezone(UTC).isoformat()


class _ReadWriteLock:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writing:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            while self._writing:
                self._cond.wait()
            self._writing = True
            while self._readers:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


class WorldStore:
    """Read access to one world file at a movable simulated clock (default: the world's end)."""

    def __init__(self, world_path: str | Path, *, now: datetime | None = None) -> None:
        self.world_path = Path(world_path)
        if not self.world_path.is_file():
            raise FileNotFoundError(f"world store {self.world_path} does not exist: generate the world first")
        handle, name = tempfile.mkstemp(prefix="estatehub-visible-", suffix=".db")
        os.close(handle)
        self._visible_path = Path(name)
        self._lock = _ReadWriteLock()
        self._pool: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._key: str | None = None
        self._now: datetime | None = None
        try:
            self._writer = self._connect()
            self._writer.execute("pragma main.journal_mode=wal")
            self._writer.execute("pragma main.synchronous=off")
            self.meta = dict(self._writer.execute("select key, value from world.meta").fetchall())
            self.world_end = self._world_end()
            self.set_clock(now or self.world_end)
        except BaseException:
            self.close()
            raise

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._visible_path, check_same_thread=False, isolation_level=None)
        world_uri = f"file:{quote(str(self.world_path.resolve()))}?mode=ro"
        conn.execute("attach database ? as world", (world_uri,))
        conn.execute("pragma world.mmap_size=1073741824")
        conn.execute("pragma cache_size=-32768")
        with self._connections_lock:
            self._connections.append(conn)
        return conn

    def _world_end(self) -> datetime:
        (last_event,) = self._writer.execute("select max(at) from world.events").fetchone()
        candidates = [datetime.fromisoformat(last_event)] if last_event else []
        if self.meta.get("end_on"):
            end_day = date.fromisoformat(self.meta["end_on"])
            candidates.append(datetime.combine(end_day, dtime(23, 59, 59), tzinfo=BUSINESS_TZ))
        if not candidates:
            raise ValueError(f"world store {self.world_path} has neither events nor meta end_on")
        return max(candidates).astimezone(UTC)

    @property
    def start_key(self) -> str:
        """The world's start (its first day, 00:00 Beijing) as a UTC key: the `updated_at` of a
        building-table row nothing changed."""
        start_on = self.meta.get("start_on")
        if not start_on:
            return utc_key(self.world_end)
        return utc_key(datetime.combine(date.fromisoformat(start_on[:10]), dtime(0), tzinfo=BUSINESS_TZ))

    @property
    def now(self) -> datetime:
        assert self._now is not None
        return self._now

    def set_clock(self, now: datetime) -> None:
        """Show the world as it stands at `now` (aware datetime)."""
        key = utc_key(now)
        started = time.perf_counter()
        with self._lock.write():
            conn = self._writer
            conn.execute("begin")
            try:
                if self._key is not None and key >= self._key:
                    how = "forward"
                    conn.execute(
                        "insert into visible(contract_no, updated_at)"
                        " select contract_no, max(at) from world.events where at > ? and at <= ?"
                        " group by contract_no"
                        " on conflict(contract_no) do update set updated_at = excluded.updated_at",
                        (self._key, key),
                    )
                else:
                    how = "rebuilt"
                    conn.execute("drop table if exists visible")
                    conn.execute(
                        "create table visible (contract_no text primary key, updated_at text not null) without rowid"
                    )
                    conn.execute(
                        "insert into visible(contract_no, updated_at)"
                        " select contract_no, max(at) from world.events where at <= ? group by contract_no",
                        (key,),
                    )
                    conn.execute("create index visible_order on visible(updated_at, contract_no)")
                conn.execute("commit")
            except BaseException:
                conn.execute("rollback")
                raise
            self._key = key
            self._now = now.astimezone(UTC)
        log.info("clock at %s: visible contracts %s in %.2fs", key, how, time.perf_counter() - started)

    @contextmanager
    def reading(self) -> Iterator[tuple[sqlite3.Connection, datetime]]:
        """A connection and the clock, consistent with each other while the block runs."""
        with self._lock.read():
            try:
                conn = self._pool.get_nowait()
            except queue.Empty:
                conn = self._connect()
                conn.execute("pragma query_only=1")
            try:
                yield conn, self.now
            finally:
                self._pool.put(conn)

    @staticmethod
    def page(
        conn: sqlite3.Connection,
        *,
        since: str | None,
        after: tuple[str, str] | None,
        include_after: bool = False,
        limit: int,
    ) -> list[Row]:
        """Visible contracts in (updated_at, contract_no) order: from `since` (inclusive) when `after`
        is None, else after the keyset position `after` (inclusive with `include_after`)."""
        select = (
            "select v.contract_no, v.updated_at, c.doc from visible v"
            " cross join world.contracts c on c.contract_no = v.contract_no"
        )
        order = " order by v.updated_at, v.contract_no limit ?"
        if after is not None:
            op = ">=" if include_after else ">"
            sql = f"{select} where (v.updated_at, v.contract_no) {op} (?, ?){order}"
            return conn.execute(sql, (*after, limit)).fetchall()
        if since is not None:
            return conn.execute(f"{select} where v.updated_at >= ?{order}", (since, limit)).fetchall()
        return conn.execute(f"{select}{order}", (limit,)).fetchall()

    @staticmethod
    def iter_all(conn: sqlite3.Connection, *, since: str | None) -> Iterator[Row]:
        sql = (
            "select v.contract_no, v.updated_at, c.doc from visible v"
            " cross join world.contracts c on c.contract_no = v.contract_no"
            " where v.updated_at >= ? order by v.updated_at, v.contract_no"
        )
        yield from conn.execute(sql, (since or "",))

    @staticmethod
    def doc(conn: sqlite3.Connection, contract_no: str) -> str | None:
        """The whole-life document of a contract visible at the clock, else None."""
        row = conn.execute(
            "select c.doc from visible v cross join world.contracts c on c.contract_no = v.contract_no"
            " where v.contract_no = ?",
            (contract_no,),
        ).fetchone()
        return row[0] if row else None

    def visible_count(self) -> int:
        with self.reading() as (conn, _):
            return conn.execute("select count(*) from visible").fetchone()[0]

    def close(self) -> None:
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self._visible_path}{suffix}").unlink(missing_ok=True)
