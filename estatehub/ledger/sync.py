"""The ledger sync: what the Airflow task and `python -m estatehub sync ledger` run.

    result = sync_ledger(client, warehouse)             # incremental from each stream's cursor
    result = sync_ledger(client, warehouse, full=True)  # every row again

Four streams of the one runner (`estatehub.sync.stream.run_stream`: the cursor with its look-back —
the ERP's `FModifyDate >=` is inclusive —, one transaction per batch with its cursor, read-ahead, the
quarantine threshold, one run record per stream `<run id>:<stream>`), in this order (invoices link
through receipts): vouchers (`GL_VOUCHER` lines), receipts (`AR_RECEIVEBILL`), refunds
(`AR_REFUNDBILL`), invoices (`IV_SALESOC`). `estatehub.ledger.load.FormStream` says how a row of each
form is keyed, typed, memo-read and written.

Then every customer with a row that came in this run, or with a row still without a contract (its
contract may have reached the warehouse since), has all its receipts, refunds and invoices linked anew
(`estatehub.ledger.link.link_customers`, a chunk of customers per transaction, the next chunk's memos read
in a read-ahead process meanwhile): links depend on the rows and contracts only, never on how the rows were
split into runs. A sync killed before this step leaves those rows unlinked (`linked_at` null); the next run
links them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from connectors.ledger.records import SOURCE
from estatehub.ledger.load import INVOICE, RECEIPT, REFUND, STREAMS, VOUCHER, FormStream, LedgerSource, link_pending
from estatehub.settings import LEDGER_SYNC, SyncSettings
from estatehub.sync.runs import SyncResult, new_run_id
from estatehub.sync.stream import run_stream
from estatehub.warehouse.engine import Warehouse
from estatehub.warehouse.etl import utcnow

log = logging.getLogger(__name__)

FORMS = (VOUCHER, RECEIPT, REFUND, INVOICE)


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
    settings: SyncSettings = LEDGER_SYNC,
    run_id: str | None = None,
    read_ahead: bool = True,
    forms: tuple[str, ...] = FORMS,
) -> LedgerSyncResult:
    """Bring the ledger into the warehouse; see the module doc. Raises after marking the run failed."""
    started = time.monotonic()
    run_id = run_id or new_run_id(SOURCE)
    warehouse.prepare()
    streams: dict[str, SyncResult] = {}
    for form in forms:
        streams[STREAMS[form]] = run_stream(
            FormStream(form, client),
            warehouse,
            settings=settings,
            full=full,
            run_id=f"{run_id}:{STREAMS[form]}",
            read_ahead=read_ahead,
        )
    # the linking reads its memos ahead where the streams read their batches ahead (decision 0045)
    relinked = link_pending(warehouse, at=utcnow(), read_ahead=settings.read_ahead_where(read_ahead))
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
