"""Generating the world file: determinism, the store's tables, the cache, the command line."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest

from sandbox.world import GENERATOR_VERSION, WorldStoreError, ensure_world, generate_world, open_world, world_digest
from sandbox.world import generate as generate_module
from sandbox.world.__main__ import main as world_command

EXPECTED_COLUMNS = {
    "meta": ["key", "value"],
    "units": [
        "house_id", "project_code", "project_name", "district", "building", "unit", "floor", "room",
        "permit_no", "usage", "building_area", "inner_area", "shared_area", "unit_price", "list_total",
        "orientation", "delivery_on",
    ],
    "contracts": ["contract_no", "house_id", "first_at", "doc"],
    "events": ["contract_no", "at"],
    "ground_truth": ["kind", "contract_no", "house_id", "on_date", "detail"],
}  # fmt: skip


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return generate_world(tmp_path_factory.mktemp("world") / "world.sqlite", units=300, seed=7)


def test_same_seed_gives_identical_tables(world, tmp_path):
    again = generate_world(tmp_path / "again.sqlite", units=300, seed=7)
    assert world_digest(again.path) == world_digest(world.path)


def test_different_seed_gives_a_different_world(world, tmp_path):
    other = generate_world(tmp_path / "other.sqlite", units=300, seed=8)
    assert world_digest(other.path) != world_digest(world.path)


def test_worker_processes_write_the_same_world_as_one_process(tmp_path):
    alone = generate_world(tmp_path / "alone.sqlite", units=1200, seed=3, workers=0)
    with_workers = generate_world(tmp_path / "workers.sqlite", units=1200, seed=3, workers=2)
    assert world_digest(alone.path) == world_digest(with_workers.path)


def test_store_has_exactly_the_agreed_tables_and_columns(world):
    db = sqlite3.connect(world.path)
    tables = {row[0] for row in db.execute("select name from sqlite_master where type = 'table'")}
    assert tables == set(EXPECTED_COLUMNS)
    for table, columns in EXPECTED_COLUMNS.items():
        assert [row[1] for row in db.execute(f"pragma table_info({table})")] == columns
    index_columns = [row[2] for row in db.execute("pragma index_info(events_at)")]
    assert index_columns == ["at", "contract_no"]


def test_meta_names_the_parameters_and_counts(world):
    with open_world(world.path) as store:
        meta = store.meta
        assert meta["seed"] == "7"
        assert meta["units"] == "300"
        assert meta["start_on"] == "2025-01-01"
        assert meta["end_on"] == "2026-06-30"
        assert meta["generator_version"] == GENERATOR_VERSION
        assert int(meta["contracts"]) == store.count("contracts") == world.contracts
        assert int(meta["events"]) == store.count("events")
        assert store.count("units") == 300


def test_start_and_months_set_the_period(tmp_path):
    info = generate_world(tmp_path / "short.sqlite", units=40, seed=1, start_on=date(2026, 3, 1), months=2)
    assert (info.start_on, info.end_on) == (date(2026, 3, 1), date(2026, 4, 30))
    db = sqlite3.connect(info.path)
    first, last = db.execute("select min(at), max(at) from events").fetchone()
    assert first >= "2026-02-28T16:00:00+00:00"
    assert last < "2026-04-30T16:00:00+00:00"


def test_a_failed_generation_leaves_no_file_behind(tmp_path, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(generate_module, "simulate_batch", explode)
    with pytest.raises(RuntimeError, match="simulated crash"):
        generate_world(tmp_path / "world.sqlite", units=50, seed=1)
    assert list(tmp_path.iterdir()) == []


def test_ensure_world_reuses_a_file_with_the_same_parameters(tmp_path, monkeypatch):
    first = ensure_world(tmp_path, units=60, seed=5)
    calls = []
    monkeypatch.setattr(generate_module, "generate_world", lambda *a, **k: calls.append(a))
    assert ensure_world(tmp_path, units=60, seed=5) == first
    assert calls == []


def test_ensure_world_generates_again_when_the_parameters_differ(tmp_path):
    first = ensure_world(tmp_path, units=60, seed=5)
    second = ensure_world(tmp_path, units=60, seed=6)
    assert first != second
    with open_world(second) as store:
        assert store.meta["seed"] == "6"


def test_ensure_world_replaces_a_damaged_file(tmp_path):
    path = ensure_world(tmp_path, units=30, seed=2)
    path.write_bytes(b"not a database")
    assert ensure_world(tmp_path, units=30, seed=2) == path
    with open_world(path) as store:
        assert store.meta["units"] == "30"


def test_command_generate_prints_counts(tmp_path, capsys):
    out = tmp_path / "cli.sqlite"
    assert world_command(["generate", "--units", "40", "--seed", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    with open_world(out) as store:
        assert f"contracts   {store.meta['contracts']}" in printed
    assert "late_filing" in printed


def test_command_without_units_or_inventory_says_what_is_missing(tmp_path, capsys):
    assert world_command(["generate", "--seed", "3", "--out", str(tmp_path / "x.sqlite")]) == 2
    assert "--units" in capsys.readouterr().err


def test_store_reads_units_documents_and_refuses_a_missing_file(world, tmp_path):
    with open_world(world.path) as store:
        units = list(store.iter_units())
        assert len(units) == 300 and units[0]["house_id"] < units[-1]["house_id"]
        assert set(units[0]) == set(EXPECTED_COLUMNS["units"])
        first = next(store.iter_docs())
        assert store.get_doc(first["contract_no"]) == first
        assert store.get_doc("YS2099P99999999") is None
    with pytest.raises(WorldStoreError, match="no world file"):
        open_world(tmp_path / "missing.sqlite")
