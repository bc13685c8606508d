"""The stream runner's invariants, for every stream of every source (tests/support/sources.py), on SQLite
and PostgreSQL:

- a batch failing midway rolls back its rows and its cursor together;
- an older version of a record never replaces a newer one (across runs and within a batch);
- the look-back re-reads what changed at the cursor without duplicating anything;
- a sync killed with SIGKILL and run again gives the warehouse of one clean run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from estatehub.settings import SyncSettings
from estatehub.warehouse import tables
from estatehub.warehouse.etl import read_cursor
from tests.support.snapshot import snapshot
from tests.support.sources import CASES, Case

SMALL = SyncSettings(batch_size=7, look_back=timedelta(hours=1), quarantine_threshold=0.5)
T0 = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=sorted(CASES))
def case(request) -> Case:
    return CASES[request.param]


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def run_statuses(warehouse, run_id: str) -> list[str]:
    """The status of the run `run_id` (the ledger's runs are one per stream, `<run id>:<stream>`)."""
    run = tables.etl_run.c
    with warehouse.engine.connect() as conn:
        return conn.execute(select(run.status).where(run.run_id.like(f"{run_id}%"))).scalars().all()


def test_a_batch_failing_midway_rolls_back_its_rows_and_its_cursor_together(case, warehouse, monkeypatch):
    records = [case.record(n, at(n), "v1") for n in range(20)]
    real_write = case.stream_class.write
    written = []

    def write_then_fail_in_the_second_batch(self, conn, staged, batch):
        loaded = real_write(self, conn, staged, batch)
        written.append(batch.batch_id)
        if len(written) == 2:
            raise RuntimeError("disk full (simulated) after the second batch's rows were written")
        return loaded

    monkeypatch.setattr(case.stream_class, "write", write_then_fail_in_the_second_batch)
    with pytest.raises(RuntimeError, match="disk full"):
        case.sync(case.client(records), warehouse, settings=SMALL, run_id="failing")

    first_batch = records[:7]
    assert read_cursor(warehouse.engine, case.source, case.stream) == at(6)
    expected = {case.key(r) for r in first_batch}
    assert set(case.staged(warehouse)) == expected
    assert set(case.core(warehouse)) == expected
    with warehouse.engine.connect() as conn:
        raw = conn.execute(select(func.count()).select_from(tables.raw_record)).scalar_one()
    assert raw == 7, "the failed batch's raw records roll back with it"
    assert run_statuses(warehouse, "failing") == ["failed"]


def test_an_older_version_never_replaces_a_newer_one(case, warehouse):
    newer = [case.record(n, at(60 + n), "newer") for n in range(10)]
    case.sync(case.client(newer), warehouse, settings=SMALL)
    older = [case.record(n, at(n), "older") for n in range(10)]
    result = case.sync(case.client(older), warehouse, settings=SMALL, full=True)

    assert result.loaded == 0
    staged = case.staged(warehouse)
    assert {key: label for key, (_, label) in staged.items()} == {case.key(r): "newer" for r in newer}
    assert {key: version for key, (version, _) in staged.items()} == {case.key(r): case.version(r) for r in newer}
    assert case.core(warehouse) == {case.key(r): "newer" for r in newer}


def test_of_two_versions_in_one_batch_the_newer_is_kept_whatever_the_order(case, warehouse):
    records = [case.record(1, at(30), "newer"), case.record(2, at(5), "only"), case.record(1, at(10), "older")]
    client = case.client(records)
    client.records = records  # served in this order: the older version of 1 comes last
    case.sync(client, warehouse, settings=SyncSettings(batch_size=10))
    assert case.core(warehouse) == {case.key(records[0]): "newer", case.key(records[1]): "only"}


def test_the_look_back_re_reads_without_duplicating(case, warehouse, make_warehouse):
    first = [case.record(n, at(n), "v1") for n in range(10)]
    case.sync(case.client(first), warehouse, settings=SMALL)
    cursor = read_cursor(warehouse.engine, case.source, case.stream)
    assert cursor == at(9)

    # after the first run read the source: a record changed at the cursor's own minute, one whose change
    # was committed late with an earlier time (within the look-back), one changed later; record 3 changed
    late = [case.record(10, at(9), "v1"), case.record(12, at(5), "v1"), case.record(11, at(40), "v1")]
    changed = case.record(3, at(9), "v2")
    second = [*first[:3], *first[4:], changed, *late]
    client = case.client(second)
    result = case.sync(client, warehouse, settings=SMALL)

    assert client.calls == [cursor - SMALL.look_back]
    assert (result.mode, result.fetched) == ("incremental", 13)  # everything is within the hour: re-read
    assert case.core(warehouse) == {case.key(r): "v2" if r is changed else "v1" for r in second}
    once = make_warehouse()
    case.sync(case.client(second), once, settings=SMALL)
    assert snapshot(warehouse.engine) == snapshot(once.engine), "re-reading changed nothing but what changed"
    with warehouse.engine.connect() as conn, once.engine.connect() as other:
        count = select(func.count()).select_from(tables.raw_record)
        assert conn.execute(count).scalar_one() == other.execute(count).scalar_one() + 1  # record 3's first version


@pytest.mark.slow
def test_a_sync_killed_with_sigkill_and_run_again_equals_a_clean_run(case, warehouse, warehouse_url, make_warehouse):
    records_count = 60
    killed = subprocess.Popen(
        [sys.executable, "-m", "tests.sync.kill_target", case.name, warehouse_url, str(records_count)],
        cwd=PROJECT_ROOT,
        env=os.environ | {"PYTHONPATH": str(PROJECT_ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    engine = create_engine(warehouse_url)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and killed.poll() is None:
            if read_cursor(engine, case.source, case.stream) is not None and len(case.staged(warehouse)) >= 20:
                break
            time.sleep(0.02)
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)
        assert killed.returncode == -signal.SIGKILL, f"the sync ended before the kill: {killed.stderr.read()[-2000:]}"
        partial = len(case.staged(warehouse))
        assert 0 < partial < records_count, "killed in the middle"
        with engine.connect() as conn:
            statuses = conn.execute(select(tables.etl_run.c.status)).scalars().all()
        assert statuses == ["running"], "the killed run never finished"
    finally:
        engine.dispose()

    from tests.sync.kill_target import records_of

    records = records_of(case, records_count)
    result = case.sync(case.client(records), warehouse, settings=SMALL)
    assert result.mode == "incremental"
    with warehouse.engine.connect() as conn:
        runs = dict(conn.execute(select(tables.etl_run.c.run_id, tables.etl_run.c.status)).all())
    assert sorted(runs.values()) == ["abandoned", "succeeded"], "the re-run marks the killed run abandoned"
    clean = make_warehouse()
    case.sync(case.client(records), clean, settings=SyncSettings(batch_size=1000))
    assert snapshot(warehouse.engine) == snapshot(clean.engine)
    assert set(case.core(warehouse)) == {case.key(r) for r in records}
