"""The garbage collector during a sync (decision 0040): off while the batches are fetched and written, in
every stream of every source and in the read-ahead thread; a full collection every so many batches, so
cyclic garbage still goes; back on when the run ends, however it ends."""

from __future__ import annotations

import gc
import weakref
from datetime import UTC, datetime, timedelta

import pytest

from estatehub.settings import SyncSettings
from estatehub.sync import collection
from estatehub.sync.collection import COLLECT_EVERY_BATCHES, paced_collection
from tests.support.sources import CASES, Case

T0 = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)


@pytest.fixture(params=sorted(CASES))
def case(request) -> Case:
    return CASES[request.param]


@pytest.fixture(autouse=True)
def collector_on():
    """Each test starts with the collector on, as a process does, and leaves it so."""
    was = gc.isenabled()
    gc.enable()
    yield
    assert collection._holders == 0, "a paced collection was left open"
    if was:
        gc.enable()
    else:
        gc.disable()


def watched_client(case: Case, records: list, seen: list[bool], *, fail_at: int | None = None):
    """The case's client, noting whether the automatic collector is on as each record is fetched."""
    client = case.client(records)
    since = client._since

    def watching(updated_since):
        for n, record in enumerate(since(updated_since)):
            seen.append(gc.isenabled())
            if n == fail_at:
                raise ConnectionError("the source went away mid-run")
            yield record

    client._since = watching
    return client


def test_the_collector_is_off_while_a_stream_runs_and_back_on_after(case, warehouse):
    records = [case.record(n, T0 + timedelta(minutes=n), "v1") for n in range(12)]
    seen: list[bool] = []
    result = case.sync(watched_client(case, records, seen), warehouse, settings=SyncSettings(batch_size=5))
    assert result.loaded == 12
    assert seen and not any(seen), "the automatic collector ran during the fetch (read-ahead thread)"
    assert gc.isenabled(), "the collector stays off after the run"


def test_the_collector_is_back_on_after_a_run_that_failed(case, warehouse):
    records = [case.record(n, T0 + timedelta(minutes=n), "v1") for n in range(12)]
    seen: list[bool] = []
    with pytest.raises(ConnectionError, match="went away"):
        case.sync(watched_client(case, records, seen, fail_at=7), warehouse, settings=SyncSettings(batch_size=5))
    assert seen and not any(seen)
    assert gc.isenabled(), "a failed run left the collector off"


def test_a_full_collection_every_so_many_batches(case, warehouse, monkeypatch):
    collections: list[int] = []
    real_collect = gc.collect
    monkeypatch.setattr(gc, "collect", lambda *args: collections.append(len(collections)) or real_collect(*args))
    batches = 2 * COLLECT_EVERY_BATCHES + 3
    records = [case.record(n, T0 + timedelta(minutes=n), "v1") for n in range(batches)]
    case.sync(case.client(records), warehouse, settings=SyncSettings(batch_size=1))
    assert len(collections) == 2, f"{batches} batches: expected 2 paced collections, got {len(collections)}"


def test_a_host_that_turned_the_collector_off_keeps_it_off(case, warehouse):
    gc.disable()
    case.sync(case.client([case.record(1, T0, "v1")]), warehouse, settings=SyncSettings(batch_size=5))
    assert not gc.isenabled()


def test_cyclic_garbage_goes_at_the_pace_not_before_and_not_never():
    gone: list[int] = []

    def cycle(n: int) -> None:
        node: dict = {}
        node["self"] = node  # unreachable once this returns: only the cycle collector frees it
        holder = type("Holder", (), {})()
        holder.node = node
        node["holder"] = holder
        weakref.finalize(holder, gone.append, n)

    with paced_collection(every=3) as pacer:
        for n in range(3):
            for _ in range(2000):  # far more allocations than the automatic collector's threshold
                cycle(n)
            if n < 2:
                pacer.batch_written()
                assert not gone, "the automatic collector ran inside the paced block"
        pacer.batch_written()
        assert len(gone) == 6000, "the paced collection did not free the cycles of the batches before it"
    assert gc.isenabled()


def test_overlapping_runs_share_the_switch():
    with paced_collection():
        with paced_collection():
            assert not gc.isenabled()
        assert not gc.isenabled(), "the inner run turned the collector on under the outer one"
    assert gc.isenabled()


def test_a_pace_below_one_batch_is_refused():
    with pytest.raises(ValueError, match="every 1 batch or more"), paced_collection(every=0):
        pass


def test_the_ledgers_linking_runs_paced_too(warehouse, monkeypatch):
    from estatehub.ledger import link
    from estatehub.ledger.load import link_codes

    seen: list[tuple[str, bool]] = []
    collections: list[int] = []
    real_collect = gc.collect
    monkeypatch.setattr(gc, "collect", lambda *args: collections.append(1) or real_collect(*args))
    monkeypatch.setattr(
        link, "link_customers", lambda conn, codes, **_: seen.append(("receipts", gc.isenabled())) or (0, 0)
    )
    monkeypatch.setattr(link, "link_invoices_of", lambda conn, codes, **_: seen.append(("invoices", gc.isenabled())))
    codes = [f"C{n:04d}" for n in range(COLLECT_EVERY_BATCHES * 2)]
    link_codes(warehouse, codes, at=T0, chunk=2)  # ten chunks of receipts, then ten of invoices
    assert seen == [("receipts", False)] * COLLECT_EVERY_BATCHES + [("invoices", False)] * COLLECT_EVERY_BATCHES
    assert len(collections) == 2
    assert gc.isenabled()
