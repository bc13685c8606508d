"""DAG integrity: every DAG file imports, is cheap to parse, and follows the house rules."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parent.parent / "dags"
PARSE_BUDGET_SECONDS = 3.0


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    bag = DagBag(dag_folder=str(DAGS))
    bag.parse_seconds = time.perf_counter() - started
    return bag


def test_dagbag_imports_every_dag_file_without_errors(dagbag):
    assert dagbag.import_errors == {}
    files = {p.stem for p in DAGS.glob("*.py") if not p.name.startswith("_")}
    assert files, "no DAG files found"
    assert files == set(dagbag.dag_ids), "one DAG per file, file stem = dag_id"


def test_dagbag_parses_within_budget(dagbag):
    assert dagbag.parse_seconds < PARSE_BUDGET_SECONDS


def test_every_dag_has_owner_tags_retries_and_no_catchup(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.catchup is False, f"{dag_id} must not catch up"
        assert dag.max_active_runs == 1, f"{dag_id} shares warehouse state: max_active_runs=1"
        for task in dag.tasks:
            assert task.owner not in (None, "", "airflow"), f"{dag_id}.{task.task_id} has no owner"
            assert task.retries >= 2, f"{dag_id}.{task.task_id} needs retries"
            assert task.on_failure_callback, f"{dag_id}.{task.task_id} tells nobody when it fails"


def test_trading_network_sync_runs_hourly_in_business_hours_in_shanghai(dagbag):
    dag = dagbag.dags["trading_network_sync"]
    timetable = dag.timetable
    assert timetable.expression == "0 9-18 * * *"
    assert str(timetable.timezone) == "Asia/Shanghai"


def test_trading_network_sync_writes_through_the_warehouse_pool_and_emits_the_contract_asset(dagbag):
    dag = dagbag.dags["trading_network_sync"]
    sync = dag.get_task("sync_contracts")
    assert sync.pool == "warehouse"
    assert [asset.uri for asset in sync.outlets] == ["estatehub://warehouse/core_contract"]
    assert dag.get_task("upgrade_warehouse").downstream_task_ids == {"sync_contracts"}
