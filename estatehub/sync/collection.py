"""Python's cyclic garbage collector, paced by the batches of a sync instead of by allocations.

A sync allocates millions of small containers (payload dicts, rows as tuples, parsed records), nearly all
freed by reference counting the moment their batch is written. Left to count allocations, the collector
runs a young collection every 700 of them; each one moves the objects of the batches in flight (alive, not
yet written) to an older generation, so that a full collection — every object of the process, Airflow's and
SQLAlchemy's modules included — comes due once or twice a batch: 28–41 of them in a sync of 94,304 contracts,
and 14–16 of its 91–102 CPU-s inside the collector (decision 0040). `paced_collection` turns the automatic
collector off for the length of a run and collects fully every `every` batches instead: cyclic garbage (a
caught exception's traceback, a connection's bookkeeping) still goes, at a bounded interval, and memory stays
bounded as before.

The switch is the process's: other threads (the read-ahead thread, a task runner's) run without the
automatic collector too while a sync runs. It is turned back on when the run ends, however it ends, unless
it was off before (a host that manages the collector itself keeps its choice).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

COLLECT_EVERY_BATCHES = 10

_lock = threading.Lock()
_holders = 0  # runs inside `paced_collection` now, in this process
_was_enabled = False


class Pacer:
    """Counts a run's written batches and collects fully after every `every`-th."""

    def __init__(self, every: int) -> None:
        if every < 1:
            raise ValueError(f"expected a collection every 1 batch or more, got {every}")
        self.every = every
        self.batches = 0

    def batch_written(self) -> None:
        self.batches += 1
        if self.batches % self.every == 0:
            gc.collect()


@contextmanager
def paced_collection(every: int = COLLECT_EVERY_BATCHES) -> Iterator[Pacer]:
    """The automatic collector off while the block runs (see the module doc); call `batch_written` after
    each batch. Runs that overlap in one process share the switch: it comes back on when the last ends."""
    global _holders, _was_enabled
    pacer = Pacer(every)
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield pacer
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
