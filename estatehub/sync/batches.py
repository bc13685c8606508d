"""Batches of a record stream, prepared ahead while the caller writes the previous one.

    for prepared in batches(records, 5000, prepare, read_ahead=PROCESS): write(prepared)

Three ways to prepare (decision 0042):

- `PROCESS` (the syncs' default where the platform forks: Linux): a forked child fetches and prepares the
  batches and hands each to the caller pickled through a pipe. Preparing (parsing, typing, redacting,
  hashing) is Python, and so is much of the writing: in one process the two share one interpreter lock
  and take turns, so on two cores the fetch-and-prepare half and the write half each get one. The child
  starts nothing before it is forked (`records` is iterated there only), inherits no connection it may use
  (connection pools are dropped in a forked child: `connectors.http`, `estatehub.warehouse.engine`), runs
  the host's signal handlers no more, and dies with its parent. Its error reaches the caller as the same
  exception (or, when it cannot be pickled, as `ReadAheadError` with its type and text), with the child's
  traceback as a note; a child that ends without a last message (killed, out of memory) is a
  `ReadAheadError`. When the caller stops early, the child is killed: it holds nothing to commit;
- `THREAD`: a thread does the same in the caller's process (where the platform cannot fork);
- inline (`read_ahead=False`): each batch fetched and prepared when the caller asks for it.

At most three batches are in memory: one being written, one handed over, one being prepared.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import gc
import itertools
import logging
import os
import pickle
import queue
import signal
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, TypeVar

from estatehub.settings import READ_AHEAD_MODES
from estatehub.sync.collection import COLLECT_EVERY_BATCHES

log = logging.getLogger(__name__)

T = TypeVar("T")
U = TypeVar("U")

PROCESS, THREAD = READ_AHEAD_MODES  # named where the installations choose (`estatehub.settings`)
READ_AHEAD_JOIN_TIMEOUT_S = 120.0
CHILD_EXIT_WAIT_S = 5.0  # after its last message, how long the child may take to end before it is killed

_BATCH, _ERROR, _DONE = "batch", "error", "done"
_LENGTH = struct.Struct("<Q")  # each message through the pipe: its length, then its pickle
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
PIPE_BYTES = 1 << 20


class ReadAheadError(RuntimeError):
    """The read-ahead process failed in a way its own exception cannot tell (ended without a word, or an
    exception that does not survive pickling)."""


def can_fork() -> bool:
    """Whether `PROCESS` is available here: a Linux `fork` (macOS forks, but its system libraries do not
    survive it; Windows does not fork)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def batches(
    records: Iterable[T], size: int, prepare: Callable[[list[T]], U], *, read_ahead: bool | str = THREAD
) -> Iterator[U]:
    """`prepare(batch)` for each batch of `size` records. With `read_ahead` (`PROCESS`, `THREAD`; True:
    `THREAD`), the records are consumed and `prepare` runs in the child or the thread only, the next batch
    while the caller writes this one; `PROCESS` falls back to `THREAD` where the platform cannot fork."""
    if size < 1:
        raise ValueError(f"expected a batch size of at least 1, got {size}")
    if read_ahead not in (True, False, PROCESS, THREAD):
        raise ValueError(f"expected read_ahead to be {PROCESS!r}, {THREAD!r}, True or False, got {read_ahead!r}")
    if not read_ahead:
        for chunk in _chunks(iter(records), size):
            yield prepare(chunk)
        return
    if read_ahead == PROCESS and can_fork():
        yield from _read_ahead_process(records, size, prepare)
    else:
        yield from _read_ahead_thread(records, size, prepare)


def _chunks(iterator: Iterator[T], size: int) -> Iterator[list[T]]:
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


# -- in a thread -----------------------------------------------------------------------------------


def _read_ahead_thread(records: Iterable[T], size: int, prepare: Callable[[list[T]], U]) -> Iterator[U]:
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
            _close(iterator)

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


def _close(iterator: Iterator[Any]) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


# -- in a forked process ---------------------------------------------------------------------------


def _read_ahead_process(records: Iterable[T], size: int, prepare: Callable[[list[T]], U]) -> Iterator[U]:
    read_end, write_end = os.pipe()
    parent = os.getpid()
    for stream in (sys.stdout, sys.stderr):  # what the parent wrote is not written again by the child
        if stream is not None:
            stream.flush()
    _widen(write_end)
    pid = os.fork()
    if pid == 0:  # the child: never returns
        status = 1
        try:
            os.close(read_end)
            _become_read_ahead_child(parent)
            with open(write_end, "wb") as out:
                _produce(out, records, size, prepare)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    log.info("read-ahead: the batches are fetched and prepared in process %d", pid)
    done = False
    try:
        with open(read_end, "rb") as source:
            while True:
                kind, value = _receive(source, pid)
                if kind == _BATCH:
                    yield value
                elif kind == _ERROR:
                    raise _child_error(*value)
                else:
                    done = True
                    return
    finally:
        _end_child(pid, wait=CHILD_EXIT_WAIT_S if done else 0.0)


def _widen(pipe: int) -> None:
    """A pipe of 1 MiB (Linux's default is 64 KiB): a batch of many MiB crosses in fewer turns."""
    # not Linux, or above the system's limit: the default size works too
    with contextlib.suppress(AttributeError, OSError):
        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _become_read_ahead_child(parent: int) -> None:
    """What the child does first: the host's signal handlers are the parent's business (the child ends by
    SIGTERM or SIGINT as any process does), and it dies with its parent (Linux `PR_SET_PDEATHSIG`)."""
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, signal.SIG_DFL)
    with contextlib.suppress(AttributeError, OSError):  # no prctl: the pipe ends it at its next batch
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the death signal was set
        os._exit(1)


def _produce(out: IO[bytes], records: Iterable[T], size: int, prepare: Callable[[list[T]], U]) -> None:
    """Prepare and send every batch, then `_DONE`; or the error that stopped it. Stops quietly when the
    parent no longer reads. The collector is paced by batches here too (the parent turned it off before
    the fork: `estatehub.sync.collection`)."""
    iterator = iter(records)
    try:
        try:
            for sent, chunk in enumerate(_chunks(iterator, size), start=1):
                if not _send(out, (_BATCH, prepare(chunk))):
                    return
                if not gc.isenabled() and sent % COLLECT_EVERY_BATCHES == 0:
                    gc.collect()
            message: tuple[str, Any] = (_DONE, None)
        except BaseException as exc:  # the source's, or a batch that cannot be pickled
            message = (_ERROR, _error_message(exc))
        _send(out, message)
    finally:
        _close(iterator)


def _send(out: IO[bytes], message: tuple[str, Any]) -> bool:
    """Write one message; False when the parent has closed its end."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        out.write(_LENGTH.pack(len(data)))
        out.write(data)
        out.flush()
    except BrokenPipeError:
        return False
    return True


def _receive(source: IO[bytes], pid: int) -> tuple[str, Any]:
    header = source.read(_LENGTH.size)
    data = source.read(_LENGTH.unpack(header)[0]) if len(header) == _LENGTH.size else b""
    if not data:
        raise ReadAheadError(f"the read-ahead process ended before its last batch ({_status(pid)})")
    return pickle.loads(data)


def _error_message(exc: BaseException | None) -> tuple[bytes | None, str, str, str]:
    """An error as the child sends it: the exception pickled (None when it cannot be), its type, its text
    and the child's traceback."""
    try:
        pickled: bytes | None = pickle.dumps(exc, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        pickled = None
    return pickled, type(exc).__qualname__, str(exc), "".join(traceback.format_exception(exc))


def _child_error(pickled: bytes | None, kind: str, text: str, trace: str) -> BaseException:
    error: BaseException | None = None
    if pickled is not None:
        try:
            error = pickle.loads(pickled)
        except Exception:
            error = None
    if error is None:
        error = ReadAheadError(f"{kind}: {text}")
    error.add_note(f"raised in the read-ahead process:\n{trace.rstrip()}")
    return error


def _reap(pid: int, within: float) -> int | None:
    """Wait up to `within` seconds for the child to end, and reap it: its wait status, None while it runs
    (`ChildProcessError` when it was reaped already)."""
    deadline = time.monotonic() + within
    while True:
        reaped, status = os.waitpid(pid, os.WNOHANG)
        if reaped:
            return status
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.01)


def _status(pid: int) -> str:
    """How the child ended, for a message: it closed the pipe, so it ends in a moment if it has not."""
    try:
        status = _reap(pid, 1.0)
    except ChildProcessError:
        return "already reaped"
    if status is None:
        return "still running"
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.WEXITSTATUS(status)}"


def _end_child(pid: int, *, wait: float) -> None:
    """Reap the child: after its last message it may take `wait` seconds to end, else it is killed."""
    try:
        if _reap(pid, wait) is not None:
            return
    except ChildProcessError:  # reaped already (`_status`)
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
