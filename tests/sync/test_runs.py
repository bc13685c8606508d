from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from estatehub.settings import SyncSettings
from estatehub.sync.batches import batches
from estatehub.sync.errors import QuarantineThresholdExceeded
from estatehub.sync.runs import SyncResult, check_quarantine_threshold


def numbers(count: int, closed: list[bool], fail_at: int | None = None):
    try:
        for n in range(count):
            if n == fail_at:
                raise ConnectionError("network went away")
            yield n
    finally:
        closed.append(True)


@pytest.mark.parametrize("read_ahead", [True, False])
def test_batches_prepare_every_record_once_in_order(read_ahead):
    closed: list[bool] = []
    got = list(batches(numbers(10, closed), 4, lambda batch: [n * 10 for n in batch], read_ahead=read_ahead))
    assert got == [[0, 10, 20, 30], [40, 50, 60, 70], [80, 90]]
    assert closed == [True]


def test_read_ahead_prepares_in_another_thread_and_passes_its_errors_on():
    threads = set()

    def prepare(batch):
        threads.add(threading.current_thread().name)
        return batch

    closed: list[bool] = []
    with pytest.raises(ConnectionError, match="went away"):
        list(batches(numbers(10, closed, fail_at=6), 4, prepare, read_ahead=True))
    assert threads == {"sync-read-ahead"}
    assert closed == [True]


def test_read_ahead_stops_fetching_when_the_writer_fails():
    closed: list[bool] = []
    produced = []
    generator = batches(numbers(1_000_000, closed), 10, lambda b: produced.append(b) or b, read_ahead=True)
    next(generator)
    generator.close()
    assert closed == [True]
    assert len(produced) <= 3  # one written, one handed over, one being prepared


def result(fetched: int, quarantined: int) -> SyncResult:
    return SyncResult("r", "full", None, fetched, fetched - quarantined, quarantined, None)


def test_quarantine_threshold_counts_the_share_of_bad_records_from_a_minimum_run_size():
    settings = SyncSettings(look_back=timedelta(hours=1), quarantine_threshold=0.05, quarantine_min_records=20)
    check_quarantine_threshold(result(19, 10), settings)  # too few records to judge
    check_quarantine_threshold(result(100, 5), settings)  # exactly at the threshold
    with pytest.raises(QuarantineThresholdExceeded, match="6 of 100 records"):
        check_quarantine_threshold(result(100, 6), settings)
