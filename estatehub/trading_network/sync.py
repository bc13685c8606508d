"""The trading-network sync: what the Airflow task and `python -m estatehub sync trading-network` run.

    result = sync_trading_network(client, warehouse)             # incremental from the stored cursor
    result = sync_trading_network(client, warehouse, full=True)  # every contract again

1. bring the warehouse schema to head and check the PII key;
2. read the cursor: `since` = None for a full run or a first run, else cursor − look-back (inclusive,
   the network's `updated_since` is `>=`), so a change written late at the cursor's second is not lost;
3. record the run (`etl_run`, running);
4. consume the client's records in batches of `settings.batch_size` (hashed, redacted and typed in a
   read-ahead thread while the previous batch is written); each batch is ONE transaction:
   raw records, quarantine, staging upsert, core build, the run's counters and the cursor
   (max(old, newest `updated_at` of the batch)). A kill at any point leaves the last committed batch
   and its cursor; the re-run fetches from there again and, rows being upserted by key, gives the
   same warehouse;
5. mark the run succeeded with its counts — or, when the share of quarantined records is above
   `settings.quarantine_threshold`, failed with `QuarantineThresholdExceeded` (the good records stay
   committed). Any exception marks the run failed (in its own transaction) and propagates, so Airflow
   retries.

Memory does not grow with the number of contracts: at most three batches are held (one being
written, one handed over, one being fetched by the read-ahead thread).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from typing import Protocol

from connectors.trading_network.records import SOURCE, Contract, QuarantineItem
from estatehub.settings import SYNC, SyncSettings
from estatehub.sync.runs import SyncResult, batches, check_quarantine_threshold, new_run_id
from estatehub.trading_network.load import STREAM, PreparedBatch, prepare_batch, write_batch
from estatehub.warehouse.engine import Warehouse
from estatehub.warehouse.etl import (
    FAILED,
    FULL,
    INCREMENTAL,
    SUCCEEDED,
    add_run_counts,
    advance_cursor,
    finish_run,
    read_cursor,
    start_run,
    utcnow,
)

log = logging.getLogger(__name__)

PROGRESS_EVERY_BATCHES = 50


class ContractSource(Protocol):
    """What the sync needs of a trading-network client (`connectors.trading_network.client`)."""

    def iter_contracts(self, updated_since: datetime | None) -> Iterator[Contract | QuarantineItem]: ...


def sync_trading_network(
    client: ContractSource,
    warehouse: Warehouse,
    *,
    full: bool = False,
    settings: SyncSettings = SYNC,
    run_id: str | None = None,
    read_ahead: bool = True,
) -> SyncResult:
    """Bring the trading network's contracts into the warehouse; see the module doc for the steps.

    Raises `QuarantineThresholdExceeded` (after committing the good records) when too many records
    were bad, `PiiKeyMismatch` when the PII key is not the warehouse's, and whatever the client or the
    database raised otherwise — always after marking the run failed.
    """
    started = time.monotonic()
    run_id = run_id or new_run_id(SOURCE)
    warehouse.prepare()
    engine = warehouse.engine
    cursor = read_cursor(engine, SOURCE, STREAM)
    since = None if full or cursor is None else cursor - settings.look_back
    mode = FULL if since is None else INCREMENTAL
    start_run(engine, run_id=run_id, source=SOURCE, stream=STREAM, mode=mode, since_at=since)
    log.info("sync %s: %s run %s, updated since %s", SOURCE, mode, run_id, since.isoformat() if since else "the start")

    fetched = loaded = quarantined = count = 0
    try:
        records = client.iter_contracts(since)

        def prepare(batch: list[Contract | QuarantineItem]) -> PreparedBatch:
            return prepare_batch(warehouse, batch, run_id=run_id, fetched_at=utcnow())

        # closing(): on an error the read-ahead thread is stopped before the run is marked failed
        with closing(batches(records, settings.batch_size, prepare, read_ahead=read_ahead)) as prepared_batches:
            for count, prepared in enumerate(prepared_batches, start=1):
                with warehouse.begin() as conn:
                    counts = write_batch(conn, prepared, batch_id=f"{run_id}:{count:06d}")
                    add_run_counts(
                        conn, run_id, fetched=counts.fetched, loaded=counts.loaded, quarantined=counts.quarantined
                    )
                    if counts.max_updated_at is not None:
                        advance_cursor(conn, SOURCE, STREAM, counts.max_updated_at, run_id)
                fetched += counts.fetched
                loaded += counts.loaded
                quarantined += counts.quarantined
                if counts.max_updated_at is not None and (cursor is None or counts.max_updated_at > cursor):
                    cursor = counts.max_updated_at
                if count % PROGRESS_EVERY_BATCHES == 0:
                    log.info(
                        "sync %s: %d batches, fetched %d, loaded %d, quarantined %d",
                        SOURCE,
                        count,
                        fetched,
                        loaded,
                        quarantined,
                    )
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
        finish_run(engine, run_id, status=SUCCEEDED, message=_summary(result))
    except BaseException as exc:
        _mark_failed(warehouse, run_id, exc)
        raise
    log.info("sync %s: %s", SOURCE, _summary(result))
    return result


def _summary(result: SyncResult) -> str:
    rate = result.fetched / result.seconds if result.seconds > 0 else 0.0
    return (
        f"{result.mode} run {result.run_id}: fetched {result.fetched}, loaded {result.loaded}, "
        f"quarantined {result.quarantined} in {result.batches} batches, {result.seconds:.1f} s "
        f"({rate:.0f} records/s); cursor {result.cursor.isoformat() if result.cursor else None}"
    )


def _mark_failed(warehouse: Warehouse, run_id: str, exc: BaseException) -> None:
    message = f"{type(exc).__name__}: {exc}"
    try:
        finish_run(warehouse.engine, run_id, status=FAILED, message=message)
    except Exception:
        log.exception("sync %s: could not mark run %s failed", SOURCE, run_id)
    log.error("sync %s: run %s failed: %s", SOURCE, run_id, message)
