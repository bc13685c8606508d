"""What the stream runner does around the batches, for every stream of every source (SQLite and
PostgreSQL): one run of a stream at a time, killed runs marked abandoned, quarantined records asked for
again until they load or a person dismisses them, a periodic full run."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from estatehub.cli import main
from estatehub.settings import SyncSettings
from estatehub.sync.errors import SyncAlreadyRunning
from estatehub.sync.lock import stream_lock
from estatehub.sync.quarantine import dismiss, list_quarantined
from estatehub.warehouse import Warehouse, tables
from estatehub.warehouse.etl import start_run, utcnow
from tests.conftest import TEST_PII_KEY
from tests.support.sources import CASES, Case

SMALL = SyncSettings(batch_size=7, quarantine_threshold=0.5)
T0 = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)


@pytest.fixture(params=sorted(CASES))
def case(request) -> Case:
    return CASES[request.param]


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def statuses(warehouse) -> dict[str, str]:
    run = tables.etl_run.c
    with warehouse.engine.connect() as conn:
        return dict(conn.execute(select(run.run_id, run.status)).all())


def open_keys(warehouse) -> set[str]:
    return {entry.record_key for entry in list_quarantined(warehouse.engine)}


def test_a_second_sync_of_a_stream_stops_with_a_clear_message_while_the_first_runs(case, warehouse):
    records = [case.record(n, at(n), "v1") for n in range(5)]
    with (
        stream_lock(warehouse, case.source, case.stream, "first-run"),
        pytest.raises(SyncAlreadyRunning, match=f"another sync of {case.source}/{case.stream} is running"),
    ):
        case.sync(case.client(records), warehouse, settings=SMALL, run_id="second-run")
    assert not any(run_id.startswith("second-run") for run_id in statuses(warehouse)), "a refused run records nothing"
    result = case.sync(case.client(records), warehouse, settings=SMALL)
    assert result.loaded == 5, "the lock is released with the first run"


def test_a_second_sync_waits_for_the_lock_when_told_to(case, warehouse):
    records = [case.record(n, at(n), "v1") for n in range(3)]
    waiting = SyncSettings(batch_size=7, lock_wait=timedelta(seconds=30))
    import threading

    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with stream_lock(warehouse, case.source, case.stream, "holder"):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    threading.Timer(1.0, release.set).start()
    result = case.sync(case.client(records), warehouse, settings=waiting)
    holder.join(10)
    assert result.loaded == 3


def test_runs_left_running_by_a_dead_process_are_marked_abandoned_by_the_next_run(case, warehouse):
    start_run(
        warehouse.engine, run_id="killed-long-ago", source=case.source, stream=case.stream, mode="full", since_at=None
    )
    start_run(
        warehouse.engine, run_id="other-stream", source=case.source, stream="elsewhere", mode="full", since_at=None
    )
    result = case.sync(case.client([case.record(1, at(1), "v1")]), warehouse, settings=SMALL, run_id="next")
    runs = statuses(warehouse)
    assert runs["killed-long-ago"] == "abandoned"
    assert runs["other-stream"] == "running", "only the runs of the same stream"
    assert runs[result.run_id] == "succeeded"
    with warehouse.engine.connect() as conn:
        message = conn.execute(
            select(tables.etl_run.c.message).where(tables.etl_run.c.run_id == "killed-long-ago")
        ).scalar_one()
    assert "abandoned" in message and result.run_id in message


def test_on_sqlite_the_lock_of_a_process_that_died_is_taken_over(tmp_path):
    # (on PostgreSQL the advisory lock ends with the session of the process that held it)
    warehouse = Warehouse.from_url(f"sqlite:///{tmp_path / 'w.db'}", pii_key=TEST_PII_KEY)
    warehouse.prepare()
    case = CASES["trading_network"]
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with warehouse.begin() as conn:
        conn.execute(
            tables.etl_lock.insert().values(
                source=case.source,
                stream=case.stream,
                run_id="killed",
                host=__import__("socket").gethostname(),
                pid=int(dead.stdout),
                acquired_at=utcnow(),
            )
        )
    result = case.sync(case.client([case.record(1, at(1), "v1")]), warehouse, settings=SMALL)
    assert result.loaded == 1
    with warehouse.engine.connect() as conn:
        assert conn.execute(select(tables.etl_lock)).all() == [], "released after the run"


def test_quarantined_records_are_asked_for_again_until_they_load(case, warehouse):
    good = [case.record(n, at(n), "v1") for n in range(10)]
    case.sync(case.client([*good, case.bad(50, at(3))]), warehouse, settings=SMALL)
    bad_key = case.key(case.bad(50, at(3)))
    assert open_keys(warehouse) == {bad_key}

    # much later: the record was corrected at the source without a new change time in the listing's window
    later = [case.record(n, at(600 + n), "v2") for n in range(3)]
    fixed = case.record(50, at(3), "fixed")
    client = case.client([*good, *later, fixed])
    client.listed = lambda since: [r for r in client.records if since is None or r is not fixed]
    result = case.sync(client, warehouse, settings=SMALL)
    assert result.mode == "incremental"
    if case.can_refetch:
        assert open_keys(warehouse) == set(), "the corrected record loaded and resolved its quarantine entry"
        assert case.core(warehouse)[bad_key] == "fixed"
    else:
        assert open_keys(warehouse) == {bad_key}, "no detail endpoint: it waits for the full run"
        case.sync(client, warehouse, settings=SMALL, full=True)
        assert open_keys(warehouse) == set()


def test_a_dismissed_record_is_not_asked_for_again(warehouse):
    case = CASES["trading_network"]
    case.sync(case.client([case.record(1, at(1), "v1"), case.bad(2, at(1))]), warehouse, settings=SMALL)
    (entry,) = list_quarantined(warehouse.engine)
    assert dismiss(warehouse.engine, [entry.quarantine_id], by="supervisor 1", note="withdrawn by the network") == [
        entry.quarantine_id
    ]
    client = case.client([case.record(1, at(1), "v1"), case.bad(2, at(1))])
    case.sync(client, warehouse, settings=SMALL)
    assert client.detail_calls == []
    assert list_quarantined(warehouse.engine) == []
    (kept,) = list_quarantined(warehouse.engine, include_closed=True)
    assert kept.dismissed_at is not None


def test_an_incremental_run_becomes_full_when_the_last_full_run_is_too_old(warehouse):
    case = CASES["bank_loans"]
    records = [case.record(n, at(n), "v1") for n in range(3)]
    assert case.sync(case.client(records), warehouse, settings=SMALL).mode == "full"
    assert case.sync(case.client(records), warehouse, settings=SMALL).mode == "incremental"
    weekly_already_due = SyncSettings(batch_size=7, full_every=timedelta(0))
    assert case.sync(case.client(records), warehouse, settings=weekly_already_due).mode == "full"
    never = SyncSettings(batch_size=7, full_every=None)
    assert case.sync(case.client(records), warehouse, settings=never).mode == "incremental"


def test_the_command_line_lists_and_dismisses_quarantined_records(warehouse, warehouse_url, capsys, monkeypatch):
    key = {"pii_key": TEST_PII_KEY.decode()}
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": "unused", "extra": key}))
    case = CASES["trading_network"]
    case.sync(case.client([case.record(1, at(1), "v1"), case.bad(2, at(1))]), warehouse, settings=SMALL)
    assert main(["quarantine", "list", "--url", warehouse_url]) == 0
    out = capsys.readouterr().out
    assert "1 open quarantined records" in out and "trading_network/contract" in out and "garbage" in out
    (entry,) = list_quarantined(warehouse.engine)
    argv = ["quarantine", "dismiss", str(entry.quarantine_id), "--by", "sup1", "--note", "gone", "--url", warehouse_url]
    assert main(argv) == 0
    assert f"dismissed 1: #{entry.quarantine_id}" in capsys.readouterr().out
    assert main(argv) == 1, "dismissing it again dismisses nothing"
    assert "not open" in capsys.readouterr().out
