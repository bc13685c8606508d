"""What every sync job shares: the result of a run, run ids, the quarantine threshold, batching."""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from estatehub.settings import SyncSettings
from estatehub.sync.errors import QuarantineThresholdExceeded

log = logging.getLogger(__name__)

T = TypeVar("T")
U = TypeVar("U")

READ_AHEAD_JOIN_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class SyncResult:
    """What one sync run did. `cursor` is the stream's cursor after the run."""

    run_id: str
    mode: str  # full | incremental
    since: datetime | None
    fetched: int
    loaded: int
    quarantined: int
    cursor: datetime | None
    batches: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (times as ISO 8601 strings): what the Airflow task returns as its XCom."""
        data = asdict(self)
        for name in ("since", "cursor"):
            if data[name] is not None:
                data[name] = data[name].isoformat()
        data["seconds"] = round(self.seconds, 3)
        return data


def new_run_id(source: str) -> str:
    return f"{source}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def check_quarantine_threshold(result: SyncResult, settings: SyncSettings) -> None:
    """Raise `QuarantineThresholdExceeded` when the run's share of bad records is above the threshold
    (runs of fewer than `quarantine_min_records` records never fail on the threshold alone)."""
    if result.fetched < settings.quarantine_min_records or result.fetched == 0:
        return
    share = result.quarantined / result.fetched
    if share > settings.quarantine_threshold:
        raise QuarantineThresholdExceeded(
            f"run {result.run_id} quarantined {result.quarantined} of {result.fetched} records ({share:.1%}), "
            f"more than the threshold of {settings.quarantine_threshold:.1%}; the {result.loaded} good records "
            f"are loaded. See etl_quarantine where last_run_id = '{result.run_id}' for the reasons, fix the source "
            f"(or raise SyncSettings.quarantine_threshold if this share is expected), then run again.",
            result=result,
            threshold=settings.quarantine_threshold,
        )


def batches(
    records: Iterable[T], size: int, prepare: Callable[[list[T]], U], *, read_ahead: bool = True
) -> Iterator[U]:
    """`prepare(batch)` for each batch of `size` records. With `read_ahead`, a thread fetches and
    prepares the next batch while the caller writes this one (at most three batches in memory); the
    records are then consumed, and `prepare` runs, in that thread only."""
    if size < 1:
        raise ValueError(f"expected a batch size of at least 1, got {size}")
    if not read_ahead:
        for chunk in _chunks(iter(records), size):
            yield prepare(chunk)
        return
    yield from _read_ahead(records, size, prepare)


def _chunks(iterator: Iterator[T], size: int) -> Iterator[list[T]]:
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


_BATCH, _ERROR, _DONE = "batch", "error", "done"


def _read_ahead(records: Iterable[T], size: int, prepare: Callable[[list[T]], U]) -> Iterator[U]:
    handoff: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(message: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                handoff.put(message, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(records)
        try:
            for chunk in _chunks(iterator, size):
                if not put((_BATCH, prepare(chunk))):
                    return
            put((_DONE, None))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put((_ERROR, exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="sync-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = handoff.get()
            if kind == _BATCH:
                yield value
            elif kind == _ERROR:
                raise value
            else:
                return
    finally:
        stop.set()
        thread.join(READ_AHEAD_JOIN_TIMEOUT_S)
        if thread.is_alive():
            log.warning("the read-ahead thread did not stop within %.0f s", READ_AHEAD_JOIN_TIMEOUT_S)
