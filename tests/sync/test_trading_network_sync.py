from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

import estatehub.trading_network.load as loader
from estatehub.settings import SyncSettings
from estatehub.sync.errors import QuarantineThresholdExceeded
from estatehub.trading_network import tables as tn_tables
from estatehub.trading_network.load import load_batch
from estatehub.trading_network.sync import sync_trading_network
from estatehub.warehouse import tables
from estatehub.warehouse.etl import read_cursor
from tests.support.snapshot import snapshot, stored_texts
from tests.support.trading_network_fakes import (
    BASE_AT,
    FakeTradingNetworkClient,
    bad_record,
    person_id_number,
    person_phone,
    synthetic_contract,
    world_at,
)

SMALL = SyncSettings(
    page_size=7, batch_size=7, look_back=timedelta(hours=1), quarantine_threshold=0.5, quarantine_min_records=20
)
NOW = BASE_AT + timedelta(days=120)


def count(warehouse, table, *where) -> int:
    with warehouse.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def run_row(warehouse, run_id):
    with warehouse.engine.connect() as conn:
        return conn.execute(select(tables.etl_run).where(tables.etl_run.c.run_id == run_id)).one()


def raw_content(warehouse) -> set[tuple]:
    r = tables.raw_record.c
    with warehouse.engine.connect() as conn:
        rows = conn.execute(select(r.source, r.entity, r.record_key, r.payload_hash, r.payload, r.is_quarantined))
        return {(row[0], row[1], row[2], row[3], repr(row[4]), row[5]) for row in rows}


def test_full_sync_loads_every_contract_into_raw_staging_and_core(warehouse):
    contracts = world_at(40, NOW)
    result = sync_trading_network(FakeTradingNetworkClient(contracts), warehouse, settings=SMALL)

    assert (result.mode, result.since, result.fetched, result.loaded, result.quarantined) == ("full", None, 40, 40, 0)
    assert result.batches == 6
    assert result.cursor == max(c.updated_at for c in contracts)
    assert read_cursor(warehouse.engine, "trading_network", "contracts") == result.cursor
    assert count(warehouse, tables.raw_record) == 40
    assert count(warehouse, tn_tables.stg_tn_contract) == 40
    assert count(warehouse, tn_tables.core_contract) == 40
    assert count(warehouse, tn_tables.core_contract_state_history) == sum(len(c.history) for c in contracts)
    assert count(warehouse, tn_tables.core_payment_plan) == sum(len(c.payment_plan) for c in contracts)
    assert count(warehouse, tn_tables.core_handover) == sum(c.handover is not None for c in contracts)
    # contracts 1, 14 and 27 replace 0, 13 and 26 on the same house
    assert count(warehouse, tn_tables.core_unit) == len({c.house.house_id for c in contracts}) == 37
    run = run_row(warehouse, result.run_id)
    assert (run.status, run.mode, run.fetched, run.loaded, run.quarantined) == ("succeeded", "full", 40, 40, 0)
    assert run.finished_at is not None


def test_core_contract_holds_money_in_fen_and_history_with_validity_intervals(warehouse):
    contract = synthetic_contract(5, NOW)
    sync_trading_network(FakeTradingNetworkClient([contract]), warehouse, settings=SMALL)
    with warehouse.engine.connect() as conn:
        row = conn.execute(select(tn_tables.core_contract)).one()
        history = conn.execute(
            select(tn_tables.core_contract_state_history).order_by(tn_tables.core_contract_state_history.c.seq)
        ).all()
        buyer = conn.execute(select(tn_tables.core_buyer)).one()
    assert row.total_price_fen == int(contract.total_price * 100)
    assert row.signed_at == contract.signed_at and row.signed_at.tzinfo == UTC
    assert [(h.state, h.valid_from) for h in history] == [(c.state, c.at) for c in contract.history]
    assert [h.valid_to for h in history] == [c.at for c in contract.history[1:]] + [None]
    assert buyer.id_masked == person_id_number(5)[:3] + "*" * 11 + person_id_number(5)[-4:]
    assert buyer.phone_masked == "139****0005"


def test_the_same_batch_loaded_twice_gives_the_same_warehouse(warehouse):
    contracts = world_at(30, NOW)
    records = [*contracts, bad_record("YS-BAD-1", NOW)]
    at = datetime(2026, 4, 1, tzinfo=UTC)
    with warehouse.begin() as conn:
        load_batch(conn, warehouse, records, run_id="r1", batch_id="r1:1", fetched_at=at)
    first, raw_first = snapshot(warehouse.engine), raw_content(warehouse)
    with warehouse.begin() as conn:
        counts = load_batch(conn, warehouse, records, run_id="r2", batch_id="r2:1", fetched_at=at)
    assert counts.loaded == 30 and counts.quarantined == 1
    assert snapshot(warehouse.engine) == first
    assert raw_content(warehouse) == raw_first
    assert count(warehouse, tables.raw_record) == 31
    with warehouse.engine.connect() as conn:
        assert conn.execute(select(tables.etl_quarantine.c.seen_count)).scalar_one() == 2


def test_increments_with_look_back_give_the_warehouse_of_one_full_sync(warehouse, make_warehouse):
    syncs_at = [
        BASE_AT + timedelta(days=d, hours=h) for d, h in ((0, 3), (1, 5), (2, 2), (9, 0), (30, 0), (75, 0), (130, 0))
    ]
    clients = []
    for at in syncs_at:
        client = FakeTradingNetworkClient(world_at(60, at))
        clients.append(client)
        cursor_before = read_cursor(warehouse.engine, "trading_network", "contracts")
        result = sync_trading_network(client, warehouse, settings=SMALL)
        if cursor_before is None:
            assert client.calls == [None] and result.mode == "full"
        else:
            assert client.calls == [cursor_before - SMALL.look_back] and result.mode == "incremental"

    full = make_warehouse()
    sync_trading_network(FakeTradingNetworkClient(world_at(60, syncs_at[-1])), full, settings=SMALL)

    incremental, once = snapshot(warehouse.engine), snapshot(full.engine)
    assert set(incremental) == set(once) and len(incremental["core_contract"]) == 60
    for table in once:
        assert incremental[table] == once[table], table


def test_a_batch_failing_midway_rolls_back_its_rows_and_cursor_together(warehouse, monkeypatch):
    contracts = sorted(world_at(20, NOW), key=lambda c: (c.updated_at, c.contract_no))
    real_build_core = loader.build_core
    calls = []

    def build_core_failing_in_the_second_batch(conn, batch_id, **options):
        calls.append(batch_id)
        real_build_core(conn, batch_id, **options)
        if len(calls) == 2:
            raise RuntimeError("disk full (simulated) after staging and core of batch 2")

    monkeypatch.setattr(loader, "build_core", build_core_failing_in_the_second_batch)
    with pytest.raises(RuntimeError, match="disk full"):
        sync_trading_network(FakeTradingNetworkClient(contracts), warehouse, settings=SMALL, run_id="run-1")

    first_batch = contracts[:7]
    assert read_cursor(warehouse.engine, "trading_network", "contracts") == first_batch[-1].updated_at
    with warehouse.engine.connect() as conn:
        staged = set(conn.execute(select(tn_tables.stg_tn_contract.c.contract_no)).scalars())
        core = set(conn.execute(select(tn_tables.core_contract.c.contract_no)).scalars())
    assert staged == core == {c.contract_no for c in first_batch}
    assert count(warehouse, tables.raw_record) == 7
    run = run_row(warehouse, "run-1")
    assert (run.status, run.fetched, run.loaded) == ("failed", 7, 7)
    assert "disk full" in run.message


def test_a_rerun_after_a_failed_sync_gives_the_warehouse_of_a_clean_run(warehouse, make_warehouse):
    records = [*world_at(45, NOW), bad_record("YS-BAD-1", NOW - timedelta(days=3))]
    failing = FakeTradingNetworkClient(records, fail_after=17)
    with pytest.raises(ConnectionError):
        sync_trading_network(failing, warehouse, settings=SMALL, run_id="killed")
    assert run_row(warehouse, "killed").status == "failed"
    result = sync_trading_network(FakeTradingNetworkClient(records), warehouse, settings=SMALL)
    assert result.mode == "incremental"

    clean = make_warehouse()
    sync_trading_network(FakeTradingNetworkClient(records), clean, settings=SMALL)
    assert snapshot(warehouse.engine) == snapshot(clean.engine)
    assert raw_content(warehouse) == raw_content(clean)


def test_bad_records_are_quarantined_with_reason_and_counted_and_good_ones_loaded(warehouse):
    good = world_at(25, NOW)
    text_body = "<html><body>502 Bad Gateway</body></html>"
    bad = [
        bad_record("YS-BAD-1", NOW),
        bad_record(None, None, reason="expected a JSON object for a contract, got text", payload=text_body),
    ]
    result = sync_trading_network(FakeTradingNetworkClient([*good, *bad]), warehouse, settings=SMALL)

    assert (result.fetched, result.loaded, result.quarantined) == (27, 25, 2)
    assert count(warehouse, tn_tables.core_contract) == 25
    assert count(warehouse, tables.raw_record) == 27
    assert count(warehouse, tables.raw_record, tables.raw_record.c.is_quarantined) == 2
    with warehouse.engine.connect() as conn:
        rows = conn.execute(
            select(
                tables.etl_quarantine.c.record_key,
                tables.etl_quarantine.c.reason,
                tables.etl_quarantine.c.payload,
                tables.etl_quarantine.c.resolved_at,
            ).order_by(tables.etl_quarantine.c.record_key)
        ).all()
    assert [(r.record_key, r.resolved_at) for r in rows] == [("YS-BAD-1", None), (None, None)] or [
        (r.record_key, r.resolved_at) for r in rows
    ] == [(None, None), ("YS-BAD-1", None)]
    assert {r.payload if isinstance(r.payload, str) else "object" for r in rows} == {text_body, "object"}
    assert all(r.reason for r in rows)
    assert run_row(warehouse, result.run_id).quarantined == 2


def test_a_later_good_version_resolves_the_quarantined_record(warehouse):
    contract = synthetic_contract(3, NOW)
    earlier = contract.updated_at - timedelta(days=1)
    sync_trading_network(
        FakeTradingNetworkClient([bad_record(contract.contract_no, earlier)]), warehouse, settings=SMALL
    )
    with warehouse.engine.connect() as conn:
        assert conn.execute(select(tables.etl_quarantine.c.resolved_at)).scalar_one() is None

    sync_trading_network(FakeTradingNetworkClient([contract]), warehouse, settings=SMALL, full=True)
    with warehouse.engine.connect() as conn:
        assert conn.execute(select(tables.etl_quarantine.c.resolved_at)).scalar_one() is not None


def test_a_bad_version_followed_by_a_good_one_in_the_same_batch_is_resolved_at_once(warehouse):
    contract = synthetic_contract(3, NOW)
    records = [bad_record(contract.contract_no, contract.updated_at - timedelta(hours=2)), contract]
    sync_trading_network(FakeTradingNetworkClient(records), warehouse, settings=SMALL)
    with warehouse.engine.connect() as conn:
        assert conn.execute(select(tables.etl_quarantine.c.resolved_at)).scalar_one() is not None


def test_quarantine_threshold_raises_after_committing_the_good_rows(warehouse):
    good = world_at(24, NOW)
    bad = [bad_record(f"YS-BAD-{i}", NOW + timedelta(minutes=i)) for i in range(6)]
    strict = dataclasses.replace(SMALL, quarantine_threshold=0.1, quarantine_min_records=20)
    with pytest.raises(QuarantineThresholdExceeded, match=r"quarantined 6 of 30 records \(20.0%\)") as caught:
        sync_trading_network(FakeTradingNetworkClient([*good, *bad]), warehouse, settings=strict, run_id="too-bad")

    assert caught.value.result.loaded == 24
    assert count(warehouse, tn_tables.core_contract) == 24
    assert count(warehouse, tables.etl_quarantine) == 6
    assert read_cursor(warehouse.engine, "trading_network", "contracts") == NOW + timedelta(minutes=5)
    run = run_row(warehouse, "too-bad")
    assert run.status == "failed" and "threshold" in run.message


def test_few_bad_records_below_the_minimum_count_do_not_fail_the_run(warehouse):
    records = [*world_at(5, NOW), bad_record("YS-BAD-1", NOW), bad_record("YS-BAD-2", NOW)]
    result = sync_trading_network(FakeTradingNetworkClient(records), warehouse, settings=SMALL)
    assert result.quarantined == 2
    assert run_row(warehouse, result.run_id).status == "succeeded"


def test_an_older_version_never_replaces_a_newer_one(warehouse):
    newest = synthetic_contract(1, NOW)
    older = synthetic_contract(1, newest.history[1].at)
    assert older.updated_at < newest.updated_at and older.state != newest.state
    sync_trading_network(FakeTradingNetworkClient([newest]), warehouse, settings=SMALL)
    before = snapshot(warehouse.engine)
    result = sync_trading_network(FakeTradingNetworkClient([older]), warehouse, settings=SMALL, full=True)
    assert result.loaded == 0
    assert snapshot(warehouse.engine) == before
    with warehouse.engine.connect() as conn:
        assert conn.execute(select(tn_tables.core_contract.c.state)).scalar_one() == newest.state
    assert count(warehouse, tables.raw_record) == 2  # both versions kept as received


def test_a_contract_the_warehouse_cannot_store_exactly_is_quarantined_not_rounded(warehouse):
    contract = synthetic_contract(2, NOW)
    odd = dataclasses.replace(contract, total_price=contract.total_price + Decimal("0.001"))
    result = sync_trading_network(
        FakeTradingNetworkClient([odd, synthetic_contract(3, NOW)]), warehouse, settings=SMALL
    )
    assert (result.loaded, result.quarantined) == (1, 1)
    with warehouse.engine.connect() as conn:
        reason = conn.execute(select(tables.etl_quarantine.c.reason)).scalar_one()
    assert "at most two decimals" in reason and contract.contract_no in reason


@pytest.mark.parametrize("read_ahead", [True, False], ids=["read-ahead", "inline"])
def test_read_ahead_and_inline_batching_load_the_same(warehouse, make_warehouse, read_ahead):
    records = world_at(30, NOW)
    sync_trading_network(FakeTradingNetworkClient(records), warehouse, settings=SMALL, read_ahead=read_ahead)
    other = make_warehouse()
    sync_trading_network(FakeTradingNetworkClient(records), other, settings=SMALL, read_ahead=not read_ahead)
    assert snapshot(warehouse.engine) == snapshot(other.engine)


def test_the_warehouse_holds_no_full_id_number_or_phone_anywhere(warehouse):
    contracts = world_at(30, NOW)
    ids = {b.id_number for c in contracts for b in c.buyers}
    phones = {b.phone for c in contracts for b in c.buyers if b.phone}
    leaked_id, leaked_phone = person_id_number(777), person_phone(777)
    bad = [
        bad_record(
            "YS-BAD-1",
            NOW,
            payload={
                "contract_no": "YS-BAD-1",
                "buyers": [{"证件号码": leaked_id, "联系电话": leaked_phone, "share": "x"}],
            },
        ),
        bad_record(
            None,
            None,
            reason="body is not JSON",
            payload=f'{{"contract_no": "YS-BAD-2", "buyers": [{{"id_number": "{leaked_id}", "phone": "{leaked_phone}"',
        ),
    ]
    sync_trading_network(FakeTradingNetworkClient([*contracts, *bad]), warehouse, settings=SMALL)

    secrets = ids | phones | {leaked_id, leaked_phone}
    assert len(ids) > 30 and phones
    texts = list(stored_texts(warehouse.engine))
    assert len(texts) > 1000
    leaks = [(table, column) for table, column, text in texts for secret in secrets if secret in text]
    assert leaks == []


def test_a_pii_key_different_from_the_warehouse_s_is_refused(warehouse):
    from estatehub.pii import PiiHasher
    from estatehub.warehouse import PiiKeyMismatch, Warehouse

    sync_trading_network(FakeTradingNetworkClient(world_at(3, NOW)), warehouse, settings=SMALL)
    other_key = Warehouse(warehouse.engine, PiiHasher(b"a-different-key-0123456789-xyzwv"))
    with pytest.raises(PiiKeyMismatch):
        sync_trading_network(FakeTradingNetworkClient(world_at(3, NOW)), other_key, settings=SMALL)
