"""Batches of a record stream, prepared in a read-ahead thread while the caller writes the previous one."""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
U = TypeVar("U")

READ_AHEAD_JOIN_TIMEOUT_S = 120.0


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
