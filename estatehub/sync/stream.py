"""The one stream runner: every source's records reach the warehouse through `run_stream`.

    result = run_stream(stream, warehouse, settings=settings.TRADING_NETWORK_SYNC)            # incremental
    result = run_stream(stream, warehouse, settings=settings.TRADING_NETWORK_SYNC, full=True)

A source plugs in a `Stream` (the trading network's contracts, a bank's loans, each of the ledger's
forms): where its cursor and runs are kept (`source`, `name`), what it fetches (`fetch`), how a record
is keyed and versioned (`key`, `version`), how it becomes staging rows (`stage`, no I/O) and how those
rows are written (`write`, inside the batch's transaction). Everything else is here, once:

0. the stream's lock (`estatehub.sync.lock`): one run of a stream at a time; a second one waits up to
   `lock_wait`, then stops with `SyncAlreadyRunning`. Holding it, the runner marks every other run of
   the stream still `running` as `abandoned` (its process died: SIGKILL, a lost worker);
1. the cursor: `since` = None for a full or first run, else cursor − `look_back` (the sources'
   `updated_since` is inclusive), so a change written late at the cursor's second is not lost. An
   incremental run becomes full when the last full run started longer ago than `full_every`;
2. the run record (`etl_run`, running);
3. the records changed since `since` and, on an incremental run, the records still quarantined
   (asked for again by key where the source can, `Stream.refetch`, until they load or a person
   dismisses them), in batches of `settings.batch_size`, prepared (hashed, redacted, typed; a bad record
   quarantined with its reason; of two versions of one key the newer kept) ahead, in a forked
   process (`settings.read_ahead`; a thread where the platform cannot fork: `estatehub.sync.batches`),
   while the previous batch is written; each batch is ONE transaction: raw records, quarantine (open
   entries of a key that now arrives readable resolved), the source's staging and core writes, the
   run's counters and the cursor (max(old, newest version in the batch)). A kill at any point leaves
   the last committed batch and its cursor; the re-run fetches from there again and, rows being
   upserted by key and never older over newer (`stage_newest`), gives the same warehouse;
   Python's automatic garbage collector is off meanwhile, a full collection every ten batches instead
   (`estatehub.sync.collection`: it took about 15% of the sync's CPU, decision 0040);
4. the source's `after` step (its own transaction: relinking what could not be linked before);
5. the run marked succeeded with its counts — or failed with `QuarantineThresholdExceeded` when the
   share of quarantined records is above the threshold (the good records stay committed). Any
   exception marks the run failed (in its own transaction) and propagates, so Airflow retries.

Memory does not grow with the number of records: at most three batches are held (one being written,
one handed over, one being fetched and prepared ahead).
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import Connection, Engine, func, select

from connectors.records import QuarantineItem
from estatehub.pii import PiiHasher
from estatehub.settings import SyncSettings
from estatehub.sync.batches import batches
from estatehub.sync.collection import paced_collection
from estatehub.sync.lock import abandon_stale_runs, stream_lock
from estatehub.sync.runs import SyncResult, check_quarantine_threshold, new_run_id
from estatehub.warehouse.engine import Warehouse
from estatehub.warehouse.etl import (
    FAILED,
    FULL,
    INCREMENTAL,
    SUCCEEDED,
    Received,
    add_run_counts,
    advance_cursor,
    finish_run,
    insert_raw,
    quarantine,
    quarantine_rows,
    raw_rows,
    read_cursor,
    resolve_quarantined,
    start_run,
    utcnow,
)
from estatehub.warehouse.redact import PayloadShape, redact_text
from estatehub.warehouse.tables import etl_quarantine, etl_run

log = logging.getLogger(__name__)

R = TypeVar("R")  # a source's record, as its connector yields it
S = TypeVar("S")  # a record's staging rows, as the source's `stage` makes them

PROGRESS_EVERY_BATCHES = 50


@dataclass(frozen=True, slots=True)
class Batch:
    """Where a batch's rows are written from: its id (`<run id>:<n>`), its run and when it was fetched."""

    batch_id: str
    run_id: str
    fetched_at: datetime

    @property
    def stamp(self) -> dict[str, Any]:
        """What every staging row of the batch carries besides its own values (its run, when it was
        loaded): `stage_newest(..., constants=batch.stamp)` writes them without copying each row."""
        return {"run_id": self.run_id, "loaded_at": self.fetched_at}


class Stream(ABC, Generic[R, S]):
    """One stream of one source, as the runner needs it. Subclasses set the class attributes and
    answer one question per method."""

    source: ClassVar[str] | str  # `etl_sync_state.source` and `etl_run.source`; raw records' source
    name: ClassVar[str] | str  # the stream: `contracts`, `loans`, `vouchers`, ...
    entity: ClassVar[str] | str  # raw records' and quarantine entries' entity
    record_type: ClassVar[type | tuple[type, ...]]
    shape: ClassVar[PayloadShape | None] = None  # the payload's known shape, for fast redaction

    @abstractmethod
    def fetch(self, since: datetime | None) -> Iterable[Any]:
        """The records changed since `since` (None: all), each a `record_type` or a `QuarantineItem`."""

    @abstractmethod
    def key(self, record: R) -> str:
        """The record's key: one current version per key is staged."""

    @abstractmethod
    def version(self, record: R) -> datetime:
        """When the record last changed at the source: the cursor, and newer-over-older."""

    def payload(self, record: R) -> Any:
        """The record as received, for the raw layer."""
        return record.payload  # type: ignore[attr-defined]

    def redactions(self, record: R, hasher: PiiHasher) -> Mapping[tuple[str, str], dict[str, str]] | None:
        """The stored form of the record's ID numbers and phones, by (kind, value as in its payload), where
        the connector has normalised them already (`redact.redacted_normalized`): the payload's shaped
        redaction takes them instead of normalising and hashing again. None: the redaction finds them."""
        return None

    @abstractmethod
    def stage(self, record: R, *, payload_hash: str, hasher: PiiHasher) -> S:
        """The record's staging rows (no I/O); `ValueError` or `TypeError` quarantines the record."""

    @abstractmethod
    def write(self, conn: Connection, staged: list[S], batch: Batch) -> int:
        """Write a batch's staged records to staging and core, inside the batch's transaction; returns
        how many were loaded (an older version than the one staged is not)."""

    def refetch(self, keys: list[str]) -> Iterable[Any] | None:
        """The current version of each quarantined record of `keys`, where the source can be asked by
        key (a detail endpoint, a filter by id); None where it cannot (the periodic full run reads
        them again instead)."""
        return None

    def after(self, conn: Connection, *, run_id: str) -> None:  # noqa: B027 - optional, does nothing by default
        """After the last batch, in its own transaction: what depends on every batch (relinking)."""


@dataclass(slots=True)
class PreparedBatch(Generic[S]):
    """A batch turned into rows, ready to write: everything but the I/O."""

    fetched_at: datetime
    fetched: int
    raw: list[dict[str, Any]]
    quarantine: list[dict[str, Any]]
    staged: list[S]
    versions: dict[str, datetime]  # key → version of each staged record
    cursor: datetime | None  # the newest version of the batch, bad records included

    @property
    def quarantined(self) -> int:
        return sum(row["seen_count"] for row in self.quarantine)


def prepare_batch(
    stream: Stream[R, S], hasher: PiiHasher, records: list[Any], *, run_id: str, fetched_at: datetime
) -> PreparedBatch[S]:
    """Hash, redact and type one batch of records (no I/O; runs in the read-ahead thread).

    Of two versions of one key in the batch the newer is staged; a bad record followed later in the
    batch by a good version as new or newer is recorded as resolved at once.
    """
    received: list[Received] = []
    bad: list[tuple[int, Received]] = []
    good: dict[str, tuple[int, datetime, S]] = {}  # key → (position, version, staged rows)
    cursor: datetime | None = None
    for position, record in enumerate(records):
        if isinstance(record, QuarantineItem):
            item = Received.of(
                hasher,
                source=record.source,
                entity=record.entity,
                record_key=record.key,
                payload=record.payload,
                updated_at=record.updated_at,
                reason=redact_text(hasher, record.reason),  # it may quote the value it could not read
            )
            bad.append((position, item))
        elif isinstance(record, stream.record_type):
            key, version = stream.key(record), stream.version(record)
            aware = version.tzinfo is not None and version.utcoffset() is not None
            item = Received.of(
                hasher,
                source=stream.source,
                entity=stream.entity,
                record_key=key,
                payload=stream.payload(record),
                updated_at=version if aware else None,
                shape=stream.shape,
                known=stream.redactions(record, hasher),
            )
            try:
                if not aware:
                    raise ValueError(f"expected a timezone-aware time of the last change, got the naive {version}")
                staged = stream.stage(record, payload_hash=item.payload_hash, hasher=hasher)
            except (ValueError, TypeError) as exc:
                reason = f"{stream.entity} {key}: the warehouse cannot store it exactly: {exc}"
                item = item.quarantined(redact_text(hasher, reason))
                bad.append((position, item))
            else:
                current = good.get(key)
                if current is None or version >= current[1]:
                    good[key] = (position, version, staged)
        else:
            raise TypeError(f"expected a {stream.record_type} or a QuarantineItem, got {type(record).__name__}")
        received.append(item)
        if item.updated_at is not None and (cursor is None or item.updated_at > cursor):
            cursor = item.updated_at
    superseded = {
        item.payload_hash
        for position, item in bad
        if item.source == stream.source
        and item.entity == stream.entity
        and item.record_key in good
        and good[item.record_key][0] > position
        and (item.updated_at is None or item.updated_at <= good[item.record_key][1])
    }
    return PreparedBatch(
        fetched_at=fetched_at,
        fetched=len(records),
        raw=raw_rows(hasher, received, run_id=run_id, fetched_at=fetched_at),
        quarantine=quarantine_rows(
            hasher, [item for _, item in bad], run_id=run_id, seen_at=fetched_at, resolved=superseded
        ),
        staged=[staged for _, _, staged in good.values()],
        versions={key: version for key, (_, version, _) in good.items()},
        cursor=cursor,
    )


@dataclass(frozen=True, slots=True)
class BatchCounts:
    fetched: int
    loaded: int
    quarantined: int
    cursor: datetime | None


def write_batch(conn: Connection, stream: Stream[R, S], prepared: PreparedBatch[S], batch: Batch) -> BatchCounts:
    """Write a prepared batch inside the caller's transaction: raw, quarantine, then the source's rows."""
    insert_raw(conn, prepared.raw)
    resolve_quarantined(conn, stream.source, stream.entity, prepared.versions, resolved_at=prepared.fetched_at)
    quarantine(conn, prepared.quarantine)
    loaded = stream.write(conn, prepared.staged, batch) if prepared.staged else 0
    return BatchCounts(prepared.fetched, loaded, prepared.quarantined, prepared.cursor)


def load_records(
    conn: Connection,
    stream: Stream[R, S],
    hasher: PiiHasher,
    records: list[Any],
    *,
    run_id: str,
    batch_id: str,
    fetched_at: datetime,
) -> BatchCounts:
    """Prepare and write one batch of records inside the caller's transaction (no run, no cursor)."""
    prepared = prepare_batch(stream, hasher, records, run_id=run_id, fetched_at=fetched_at)
    return write_batch(conn, stream, prepared, Batch(batch_id, run_id, fetched_at))


def run_stream(
    stream: Stream[R, S],
    warehouse: Warehouse,
    *,
    settings: SyncSettings,
    full: bool = False,
    run_id: str | None = None,
    read_ahead: bool = True,
) -> SyncResult:
    """Bring one stream into the warehouse; see the module doc for the steps.

    Raises `QuarantineThresholdExceeded` (after committing the good records) when too many records
    were bad, `PiiKeyMismatch` when the PII key is not the warehouse's, and whatever the source or
    the database raised otherwise — always after marking the run failed.
    """
    started = time.monotonic()
    run_id = run_id or new_run_id(stream.source)
    warehouse.prepare()
    with stream_lock(warehouse, stream.source, stream.name, run_id, wait=settings.lock_wait):
        return _run_locked(
            stream, warehouse, settings=settings, full=full, run_id=run_id, read_ahead=read_ahead, started=started
        )


def _run_locked(
    stream: Stream[R, S],
    warehouse: Warehouse,
    *,
    settings: SyncSettings,
    full: bool,
    run_id: str,
    read_ahead: bool,
    started: float,
) -> SyncResult:
    label = f"{stream.source}/{stream.name}"
    engine = warehouse.engine
    with warehouse.begin() as conn:
        abandoned = abandon_stale_runs(conn, stream.source, stream.name, run_id, utcnow())
    if abandoned:
        log.warning(
            "sync %s: marked %d runs abandoned (their process ended unfinished): %s",
            label,
            len(abandoned),
            ", ".join(abandoned),
        )
    cursor = read_cursor(engine, stream.source, stream.name)
    if not full and cursor is not None and _full_run_due(engine, stream, settings):
        log.info("sync %s: no full run within %s: this run is a full one", label, settings.full_every)
        full = True
    since = None if full or cursor is None else cursor - settings.look_back
    mode = FULL if since is None else INCREMENTAL
    start_run(engine, run_id=run_id, source=stream.source, stream=stream.name, mode=mode, since_at=since)
    log.info("sync %s: %s run %s, changed since %s", label, mode, run_id, since.isoformat() if since else "the start")

    fetched = loaded = quarantined = count = 0
    try:
        hasher = warehouse.hasher

        def prepare(records: list[Any]) -> PreparedBatch[S]:
            return prepare_batch(stream, hasher, records, run_id=run_id, fetched_at=utcnow())

        # closing(): on an error the read-ahead is stopped before the run is marked failed
        records = _records(stream, since, engine, settings.refetch_limit if mode == INCREMENTAL else 0)
        ahead = settings.read_ahead_where(read_ahead)
        with (
            paced_collection() as pacer,
            closing(batches(records, settings.batch_size, prepare, read_ahead=ahead)) as prepared,
        ):
            for count, batch in enumerate(prepared, start=1):
                with warehouse.begin() as conn:
                    counts = write_batch(conn, stream, batch, Batch(f"{run_id}:{count:06d}", run_id, batch.fetched_at))
                    add_run_counts(
                        conn, run_id, fetched=counts.fetched, loaded=counts.loaded, quarantined=counts.quarantined
                    )
                    if counts.cursor is not None:
                        advance_cursor(conn, stream.source, stream.name, counts.cursor, run_id)
                fetched += counts.fetched
                loaded += counts.loaded
                quarantined += counts.quarantined
                if counts.cursor is not None and (cursor is None or counts.cursor > cursor):
                    cursor = counts.cursor
                pacer.batch_written()
                if count % PROGRESS_EVERY_BATCHES == 0:
                    log.info(
                        "sync %s: %d batches, fetched %d, loaded %d, quarantined %d",
                        label,
                        count,
                        fetched,
                        loaded,
                        quarantined,
                    )
        with warehouse.begin() as conn:
            stream.after(conn, run_id=run_id)
        result = SyncResult(
            run_id=run_id,
            mode=mode,
            since=since,
            fetched=fetched,
            loaded=loaded,
            quarantined=quarantined,
            cursor=cursor,
            batches=count,
            seconds=time.monotonic() - started,
        )
        check_quarantine_threshold(result, settings)
        finish_run(engine, run_id, status=SUCCEEDED, message=result.summary())
    except BaseException as exc:
        _mark_failed(warehouse, label, run_id, exc)
        raise
    log.info("sync %s: %s", label, result.summary())
    return result


def _full_run_due(engine: Engine, stream: Stream[Any, Any], settings: SyncSettings) -> bool:
    if settings.full_every is None:
        return False
    run = etl_run.c
    with engine.connect() as conn:
        # started, whatever became of it: a killed first load resumes from its cursor, as an increment
        last_full = conn.execute(
            select(func.max(run.started_at)).where(
                run.source == stream.source, run.stream == stream.name, run.mode == FULL
            )
        ).scalar_one()
    return last_full is None or utcnow() - last_full > settings.full_every


def open_quarantined_keys(engine: Engine, source: str, entity: str, limit: int) -> list[str]:
    """Keys of records still quarantined (not resolved by a good version, not dismissed), oldest first."""
    q = etl_quarantine.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(q.record_key, func.min(q.first_seen_at).label("since"))
            .where(
                q.source == source,
                q.entity == entity,
                q.record_key.is_not(None),
                q.resolved_at.is_(None),
                q.dismissed_at.is_(None),
            )
            .group_by(q.record_key)
            .order_by("since", q.record_key)
            .limit(limit)
        ).all()
    return [row.record_key for row in rows]


def _records(stream: Stream[Any, Any], since: datetime | None, engine: Engine, refetch_limit: int) -> Iterator[Any]:
    """The run's records: those changed since `since`, then (`refetch_limit` > 0) the quarantined ones
    asked for again. Lazy: the source is first asked where the read-ahead iterates it (its own process)."""
    yield from stream.fetch(since)
    if refetch_limit > 0:
        yield from _quarantined_again(stream, engine, refetch_limit)


def _quarantined_again(stream: Stream[Any, Any], engine: Engine, limit: int) -> Iterator[Any]:
    """The quarantined records of the stream, asked for again (lazily: after the changed ones)."""
    keys = open_quarantined_keys(engine, stream.source, stream.entity, limit)
    if not keys:
        return
    records = stream.refetch(keys)
    if records is None:
        log.info(
            "sync %s/%s: %d records still quarantined; the next full run reads them again",
            stream.source,
            stream.name,
            len(keys),
        )
        return
    log.info("sync %s/%s: asking again for %d quarantined records", stream.source, stream.name, len(keys))
    yield from records


def _mark_failed(warehouse: Warehouse, label: str, run_id: str, exc: BaseException) -> None:
    message = f"{type(exc).__name__}: {exc}"
    try:
        finish_run(warehouse.engine, run_id, status=FAILED, message=message)
    except Exception:
        log.exception("sync %s: could not mark run %s failed", label, run_id)
    log.error("sync %s: run %s failed: %s", label, run_id, message)
