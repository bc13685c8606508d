"""The ledger sync: what the Airflow task and `python -m estatehub sync ledger` run.

    result = sync_ledger(client, warehouse)             # incremental from each stream's cursor
    result = sync_ledger(client, warehouse, full=True)  # every row again

Four streams, in this order (invoices link through receipts): vouchers (`GL_VOUCHER` lines), receipts
(`AR_RECEIVEBILL`), refunds (`AR_REFUNDBILL`), invoices (`IV_SALESOC`). For each:

1. `since` = None for a full or first run, else the stream's cursor − `look_back` (the ERP's
   `FModifyDate >=` is inclusive), so a row modified late at the cursor's second is not lost;
2. the run is recorded (`etl_run`, one per stream: `<run id>:<stream>`);
3. the client's records are consumed in batches of `batch_size` (typed and memo-read in a read-ahead
   thread); each batch is ONE transaction: raw, quarantine, staging upsert, core models, links, the
   run's counters and the cursor (max(old, newest `FModifyDate` of the batch)). A killed sync leaves
   the last committed batch and cursor; running it again gives the same warehouse (rows are upserted
   by id, never older over newer);
4. the run is marked succeeded — or failed with `QuarantineThresholdExceeded` when too many rows were
   bad (the good ones stay loaded).

Then every customer with a row that came in this run, or with a row still without a contract (its
contract may have reached the warehouse since), has all its receipts, refunds and invoices linked anew
(`estatehub.ledger.link.link_customers`, a chunk of customers per transaction): links depend on the
rows and contracts only, never on how the rows were split into runs. A sync killed before this step
leaves those rows unlinked (`linked_at` null); the next run links them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from connectors.ledger.records import SOURCE, QuarantineItem
from estatehub.ledger.load import (
    INVOICE,
    RECEIPT,
    REFUND,
    STREAMS,
    VOUCHER,
    LedgerRecord,
    link_pending,
    prepare_batch,
    write_batch,
)
from estatehub.settings import SyncSettings
from estatehub.sync.runs import SyncResult, batches, check_quarantine_threshold, new_run_id
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

FORMS = (VOUCHER, RECEIPT, REFUND, INVOICE)


@dataclass(frozen=True)
class LedgerSyncSettings:
    """How a ledger sync pages, batches, looks back and judges bad rows."""

    batch_size: int = 2000  # rows per transaction (the client's page size is the Connection's)
    look_back: timedelta = timedelta(hours=1)
    quarantine_threshold: float = 0.05
    quarantine_min_records: int = 20

    def as_sync_settings(self) -> SyncSettings:
        return SyncSettings(
            batch_size=self.batch_size,
            look_back=self.look_back,
            quarantine_threshold=self.quarantine_threshold,
            quarantine_min_records=self.quarantine_min_records,
        )


class LedgerSource(Protocol):
    """What the sync needs of a ledger client (`connectors.ledger.LedgerClient`)."""

    def iter_form(self, form_id: str, *, modified_since: datetime | None = None) -> Iterator[Any]: ...


@dataclass(frozen=True)
class LedgerSyncResult:
    """What one ledger sync did, per stream, and how many receipts are linked to a contract."""

    run_id: str
    streams: dict[str, SyncResult]
    receipts_resolved: int = 0
    receipts_unresolved: int = 0
    seconds: float = 0.0
    relinked: tuple[int, int] = (0, 0)  # receipts (resolved, unresolved) among those linked this run

    @property
    def fetched(self) -> int:
        return sum(result.fetched for result in self.streams.values())

    @property
    def loaded(self) -> int:
        return sum(result.loaded for result in self.streams.values())

    @property
    def quarantined(self) -> int:
        return sum(result.quarantined for result in self.streams.values())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: what the Airflow task returns as its XCom."""
        return {
            "run_id": self.run_id,
            "fetched": self.fetched,
            "loaded": self.loaded,
            "quarantined": self.quarantined,
            "receipts_resolved": self.receipts_resolved,
            "receipts_unresolved": self.receipts_unresolved,
            "seconds": round(self.seconds, 3),
            "streams": {name: result.as_dict() for name, result in self.streams.items()},
        }


def sync_ledger(
    client: LedgerSource,
    warehouse: Warehouse,
    *,
    full: bool = False,
    settings: LedgerSyncSettings | None = None,
    run_id: str | None = None,
    read_ahead: bool = True,
    forms: tuple[str, ...] = FORMS,
) -> LedgerSyncResult:
    """Bring the ledger into the warehouse; see the module doc. Raises after marking the run failed."""
    started = time.monotonic()
    settings = settings or LedgerSyncSettings()
    run_id = run_id or new_run_id(SOURCE)
    warehouse.prepare()
    streams: dict[str, SyncResult] = {}
    for form in forms:
        streams[STREAMS[form]] = _sync_stream(
            client,
            warehouse,
            form,
            full=full,
            settings=settings,
            run_id=f"{run_id}:{STREAMS[form]}",
            read_ahead=read_ahead,
        )
    relinked = link_pending(warehouse, at=utcnow())
    resolved, unresolved = _receipt_links(warehouse)
    result = LedgerSyncResult(run_id, streams, resolved, unresolved, time.monotonic() - started, relinked)
    log.info("sync %s: %s", SOURCE, result.as_dict())
    return result


def _receipt_links(warehouse: Warehouse) -> tuple[int, int]:
    from sqlalchemy import func, select

    from estatehub.ledger.tables import core_receipt

    with warehouse.engine.connect() as conn:
        rows = conn.execute(
            select(core_receipt.c.contract_no.is_not(None), func.count())
            .where(core_receipt.c.is_voided.is_(False))
            .group_by(core_receipt.c.contract_no.is_not(None))
        ).all()
    counts = {bool(flag): count for flag, count in rows}
    return counts.get(True, 0), counts.get(False, 0)


def _sync_stream(
    client: LedgerSource,
    warehouse: Warehouse,
    form: str,
    *,
    full: bool,
    settings: LedgerSyncSettings,
    run_id: str,
    read_ahead: bool,
) -> SyncResult:
    started = time.monotonic()
    stream = STREAMS[form]
    engine = warehouse.engine
    cursor = read_cursor(engine, SOURCE, stream)
    since = None if full or cursor is None else cursor - settings.look_back
    mode = FULL if since is None else INCREMENTAL
    start_run(engine, run_id=run_id, source=SOURCE, stream=stream, mode=mode, since_at=since)
    log.info(
        "sync %s/%s: %s run %s since %s", SOURCE, stream, mode, run_id, since.isoformat() if since else "the start"
    )
    fetched = loaded = quarantined = count = 0
    try:
        records = client.iter_form(form, modified_since=since)
        prepare: Callable[[list[LedgerRecord | QuarantineItem]], Any] = lambda batch: prepare_batch(  # noqa: E731
            warehouse, form, batch, run_id=run_id, fetched_at=utcnow()
        )
        for count, prepared in enumerate(batches(records, settings.batch_size, prepare, read_ahead=read_ahead), 1):
            with warehouse.begin() as conn:
                counts = write_batch(conn, prepared, batch_id=f"{run_id}:{count:06d}")
                add_run_counts(
                    conn, run_id, fetched=counts.fetched, loaded=counts.loaded, quarantined=counts.quarantined
                )
                if counts.max_modified_at is not None:
                    advance_cursor(conn, SOURCE, stream, counts.max_modified_at, run_id)
            fetched += counts.fetched
            loaded += counts.loaded
            quarantined += counts.quarantined
            if counts.max_modified_at is not None and (cursor is None or counts.max_modified_at > cursor):
                cursor = counts.max_modified_at
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
        check_quarantine_threshold(result, settings.as_sync_settings())
        finish_run(engine, run_id, status=SUCCEEDED, message=_summary(result))
    except BaseException as exc:
        message = f"{type(exc).__name__}: {exc}"
        try:
            finish_run(engine, run_id, status=FAILED, message=message)
        except Exception:
            log.exception("sync %s/%s: could not mark run %s failed", SOURCE, stream, run_id)
        log.error("sync %s/%s: run %s failed: %s", SOURCE, stream, run_id, message)
        raise
    log.info("sync %s/%s: %s", SOURCE, stream, _summary(result))
    return result


def _summary(result: SyncResult) -> str:
    data = asdict(result)
    return (
        f"{result.mode} run {result.run_id}: fetched {data['fetched']}, loaded {data['loaded']}, "
        f"quarantined {data['quarantined']} in {data['batches']} batches, {result.seconds:.1f} s"
    )
