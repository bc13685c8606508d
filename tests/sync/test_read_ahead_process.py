"""The read-ahead in a forked process (decision 0042): what it hands over, how it fails, how it ends, and what
it must not share with its parent (HTTP connections, database connections, signal handlers)."""

from __future__ import annotations

import dataclasses
import http.server
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

import estatehub.sync.batches as batches_module
from connectors.http import HttpSession
from estatehub import settings
from estatehub.settings import read_ahead_mode
from estatehub.sync.batches import PROCESS, THREAD, ReadAheadError, batches, can_fork
from estatehub.trading_network.sync import sync_trading_network
from tests.support.snapshot import snapshot
from tests.support.trading_network_fakes import FakeTradingNetworkClient, world_at
from tests.sync.test_trading_network_sync import NOW, SMALL

pytestmark = pytest.mark.skipif(not can_fork(), reason="the forked read-ahead is Linux's")


def numbers(count: int, *, fail_at: int | None = None, closed: Path | None = None) -> Iterator[int]:
    try:
        for n in range(count):
            if n == fail_at:
                raise ConnectionError("network went away")
            yield n
    finally:
        if closed is not None:
            closed.write_text(str(os.getpid()))


def stalling(first: int) -> Iterator[int]:
    """`first` records, then a source that hangs (a server that stopped answering)."""
    yield from range(first)
    time.sleep(120)
    yield first


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_batches_are_prepared_in_another_process_in_order(tmp_path, caplog):
    closed = tmp_path / "closed"
    caplog.set_level("INFO", logger="estatehub.sync.batches")
    got = list(batches(numbers(10, closed=closed), 4, lambda b: (os.getpid(), b), read_ahead=PROCESS))
    assert [batch for _, batch in got] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    children = {pid for pid, _ in got}
    assert len(children) == 1 and os.getpid() not in children
    child = children.pop()
    assert f"prepared in process {child}" in caplog.text  # the task's log says where
    assert closed.read_text() == str(child)  # the source was closed, where it was read
    assert gone(child)  # ended and reaped


def test_the_sources_error_reaches_the_caller_as_itself_with_the_childs_traceback(tmp_path):
    closed = tmp_path / "closed"
    with pytest.raises(ConnectionError, match="went away") as caught:
        list(batches(numbers(10, fail_at=6, closed=closed), 4, lambda b: b, read_ahead=PROCESS))
    assert any("raised in the read-ahead process" in note and "numbers" in note for note in caught.value.__notes__)
    assert closed.exists()


class Unpicklable(Exception):
    def __init__(self, message: str, *, handle: object) -> None:
        super().__init__(message)
        self.handle = handle

    def __reduce__(self):
        raise TypeError("cannot pickle this error")


def test_an_error_that_cannot_cross_the_pipe_arrives_as_read_ahead_error_with_its_type_and_text():
    def prepare(batch):
        raise Unpicklable("ledger page 3 refused", handle=threading.Lock())

    with pytest.raises(ReadAheadError, match="Unpicklable: ledger page 3 refused"):
        list(batches(numbers(10), 4, prepare, read_ahead=PROCESS))


def test_a_child_that_dies_without_a_word_is_an_error_not_a_short_run():
    def prepare(batch):
        if batch[0] >= 4:
            os.kill(os.getpid(), signal.SIGKILL)
        return batch

    got = []
    with pytest.raises(ReadAheadError, match="ended before its last batch .*SIGKILL"):
        for batch in batches(numbers(12), 4, prepare, read_ahead=PROCESS):
            got.append(batch)
    assert got == [[0, 1, 2, 3]]


def test_a_caller_that_stops_early_ends_the_child_at_once():
    generator = batches(stalling(10), 10, lambda b: (os.getpid(), b), read_ahead=PROCESS)
    child, first = next(generator)
    assert first == list(range(10))
    started = time.monotonic()
    generator.close()
    assert time.monotonic() - started < 5
    assert gone(child)  # killed and reaped: no zombie left either


def test_the_child_answers_no_signal_handler_of_its_host():
    def host_handler(number, frame):  # an Airflow task runner's, say
        pass

    previous = signal.signal(signal.SIGTERM, host_handler)
    try:
        got = list(batches(numbers(3), 3, lambda b: signal.getsignal(signal.SIGTERM), read_ahead=PROCESS))
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert got == [signal.SIG_DFL]


def test_the_child_dies_with_its_parent(tmp_path):
    """A worker killed with SIGKILL (out of memory, a lost Celery worker) leaves no read-ahead running."""
    pid_file = tmp_path / "child"
    parent = os.fork()
    if parent == 0:  # a sync's process: its read-ahead child reports itself, then the sync hangs
        try:
            for batch in batches(stalling(10), 10, lambda b: os.getpid(), read_ahead=PROCESS):
                pid_file.write_text(str(batch))
                time.sleep(60)
        finally:
            os._exit(0)
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the read-ahead child never reported"
        time.sleep(0.05)
    child = int(pid_file.read_text())
    os.kill(parent, signal.SIGKILL)
    os.waitpid(parent, 0)
    deadline = time.monotonic() + 10
    while not gone(child):
        assert time.monotonic() < deadline, "the read-ahead child outlived its parent"
        time.sleep(0.05)


class _Recorder(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the session pools the connection
    ports: list[int] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        type(self).ports.append(self.client_address[1])
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder() -> Iterator[str]:
    _Recorder.ports = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_the_child_opens_its_own_http_connections_and_leaves_the_parents_open(recorder):
    with HttpSession(timeout=5) as http:
        http.request_json("GET", recorder)  # pooled: the parent's connection
        parents = set(_Recorder.ports)
        list(batches(numbers(3), 1, lambda b: http.request_json("GET", recorder), read_ahead=PROCESS))
        childs = set(_Recorder.ports) - parents
        http.request_json("GET", recorder)  # the parent's pooled connection still works
    assert len(parents) == 1 and len(childs) == 1 and not parents & childs
    assert _Recorder.ports[-1] in parents


def test_the_child_reads_the_warehouse_on_its_own_connection(warehouse):
    """The quarantined records asked for again are listed from the warehouse in the read-ahead
    (`stream._records`): the child connects anew (on PostgreSQL: another server process) and the parent's
    pooled connection stays good; a connection used by two processes would interleave their messages."""
    postgres = warehouse.dialect == "postgresql"
    who = "select pg_backend_pid()" if postgres else "select count(*) from etl_run"
    with warehouse.engine.connect() as conn:  # a connection in the parent's pool
        parents = conn.execute(text(who)).scalar_one()

    def prepare(batch):
        with warehouse.engine.connect() as conn:
            return conn.execute(text(who)).scalar_one(), conn.execute(text("select count(*) from etl_run")).scalar_one()

    got = list(batches(numbers(4), 2, prepare, read_ahead=PROCESS))
    assert [runs for _, runs in got] == [0, 0]
    if postgres:
        assert parents not in {backend for backend, _ in got}
    with warehouse.engine.connect() as conn:
        assert conn.execute(text(who)).scalar_one() == parents


def test_without_fork_the_read_ahead_is_a_thread(monkeypatch):
    monkeypatch.setattr(batches_module, "can_fork", lambda: False)
    got = list(batches(numbers(4), 2, lambda b: (os.getpid(), threading.current_thread().name), read_ahead=PROCESS))
    assert got == [(os.getpid(), "sync-read-ahead")] * 2


def test_a_mode_that_does_not_exist_is_refused(monkeypatch):
    with pytest.raises(ValueError, match="expected read_ahead"):
        list(batches(numbers(4), 2, lambda b: b, read_ahead="fork"))
    monkeypatch.setenv("ESTATEHUB_READ_AHEAD", "fork")
    with pytest.raises(ValueError, match="ESTATEHUB_READ_AHEAD to be one of process, thread, got 'fork'"):
        read_ahead_mode()
    monkeypatch.setenv("ESTATEHUB_READ_AHEAD", "")
    monkeypatch.setattr(settings, "usable_cores", lambda: 2)
    assert read_ahead_mode() == PROCESS


def test_with_one_core_to_run_on_the_read_ahead_is_a_thread_unless_asked(monkeypatch):
    """Two processes taking turns on one core cost 9-16% more time than a thread (decision 0042)."""
    monkeypatch.delenv("ESTATEHUB_READ_AHEAD", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert settings.usable_cores() == 1
    assert read_ahead_mode() == THREAD
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert read_ahead_mode() == PROCESS
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    monkeypatch.setenv("ESTATEHUB_READ_AHEAD", "process")
    assert read_ahead_mode() == PROCESS


@pytest.mark.parametrize("mode", [THREAD, False], ids=["thread", "inline"])
def test_a_sync_read_ahead_in_a_process_loads_what_the_others_load(warehouse, make_warehouse, mode):
    records = world_at(30, NOW)
    sync_trading_network(
        FakeTradingNetworkClient(records), warehouse, settings=dataclasses.replace(SMALL, read_ahead=PROCESS)
    )
    other = make_warehouse()
    settings = dataclasses.replace(SMALL, read_ahead=mode or None)
    sync_trading_network(FakeTradingNetworkClient(records), other, settings=settings, read_ahead=bool(mode))
    assert snapshot(warehouse.engine) == snapshot(other.engine)
