"""DAG integrity: every DAG file imports, is cheap to parse, and follows the house rules.

The plugins folder is on the path as Airflow puts it there (pyproject's pytest `pythonpath`);
tests/airflow/test_official_image_layout.py loads the same files without the project on the path.
"""

from __future__ import annotations

import inspect
import re
import time
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parent.parent / "dags"
DAG_FILES = sorted(p for p in DAGS.glob("*.py") if not p.name.startswith("_"))
PARSE_BUDGET_SECONDS = 3.0  # all files
FILE_PARSE_BUDGET_SECONDS = 1.0  # each file (Airflow's own default for a DAG file's parse is 30 s)
OWNER = "customer-service-data"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    from estatehub.demo import POOLS

    bag = DagBag(dag_folder=str(DAGS), known_pools=set(POOLS))
    bag.parse_seconds = time.perf_counter() - started
    return bag


def _dags(dagbag):
    assert dagbag.dags, "no DAGs loaded"
    return sorted(dagbag.dags.items())


def writes_warehouse(task) -> bool:
    """A task writes the warehouse when it opens it (every sync and check does: the hook is the only way in)."""
    return "WarehouseHook" in inspect.getsource(task.python_callable)


def test_dagbag_imports_every_dag_file_without_errors(dagbag):
    assert dagbag.import_errors == {}
    files = {p.stem for p in DAG_FILES}
    assert files, "no DAG files found"
    assert files == set(dagbag.dag_ids), "one DAG per file, file stem = dag_id"


def test_dagbag_parses_within_budget(dagbag):
    assert dagbag.parse_seconds < PARSE_BUDGET_SECONDS
    stats = {Path(stat.file).name: stat.duration.total_seconds() for stat in dagbag.dagbag_stats}
    assert set(stats) == {p.name for p in DAG_FILES}
    slow = {name: seconds for name, seconds in stats.items() if seconds >= FILE_PARSE_BUDGET_SECONDS}
    assert slow == {}, f"DAG files over the {FILE_PARSE_BUDGET_SECONDS} s parse budget: heavy imports at module level?"


def test_every_dag_has_owner_tags_retries_and_no_catchup(dagbag):
    for dag_id, dag in _dags(dagbag):
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.catchup is False, f"{dag_id} must not catch up"
        assert dag.max_active_runs == 1, f"{dag_id} shares warehouse state: max_active_runs=1"
        assert dag.tasks, f"{dag_id} has no tasks"
        for task in dag.tasks:
            assert task.owner == OWNER, f"{dag_id}.{task.task_id} has owner {task.owner!r}"
            assert task.retries >= 2, f"{dag_id}.{task.task_id} needs retries"
            assert task.retry_exponential_backoff, f"{dag_id}.{task.task_id} retries without back-off"
            assert task.on_failure_callback, f"{dag_id}.{task.task_id} tells nobody when it fails"


def test_every_task_that_writes_the_warehouse_runs_in_the_warehouse_pool(dagbag):
    for dag_id, dag in _dags(dagbag):
        for task in dag.tasks:
            assert writes_warehouse(task), f"{dag_id}.{task.task_id}: every task writes the warehouse today"
            assert task.pool == "warehouse", f"{dag_id}.{task.task_id} writes the warehouse from pool {task.pool!r}"


def test_every_pool_a_dag_names_is_one_the_demo_creates(dagbag):
    assert {warning.message for warning in dagbag.dag_warnings} == set()


def test_no_dag_migrates_the_warehouse_in_a_task_of_its_own(dagbag):
    for dag_id, dag in _dags(dagbag):
        assert "upgrade_warehouse" not in dag.task_ids, f"{dag_id}: every sync migrates (Warehouse.prepare) itself"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_a_dag_file_imports_plugins_by_their_own_names_and_reads_no_connection_itself(path):
    source = path.read_text(encoding="utf-8")
    assert not re.findall(r"^\s*(?:from|import)\s+plugins\b", source, re.MULTILINE), (
        f"{path.name}: import plugin modules by their own name (`from hooks.ledger import LedgerHook`): "
        "`plugins.` only resolves with the project root on the path, which the official image does not have"
    )
    assert "get_connection" not in source, f"{path.name}: the hooks read the Connections, not the DAG"


def test_trading_network_sync_runs_hourly_in_business_hours_in_shanghai(dagbag):
    dag = dagbag.dags["trading_network_sync"]
    timetable = dag.timetable
    assert timetable.expression == "0 9-18 * * *"
    assert str(timetable.timezone) == "Asia/Shanghai"


def test_trading_network_sync_is_one_task_that_emits_the_contract_asset(dagbag):
    dag = dagbag.dags["trading_network_sync"]
    assert dag.task_ids == ["sync_contracts"]
    sync = dag.get_task("sync_contracts")
    assert [asset.uri for asset in sync.outlets] == ["estatehub://warehouse/core_contract"]


def test_each_bank_has_its_own_task_so_a_bank_that_is_down_fails_only_its_own(dagbag):
    loans = dagbag.dags["bank_loans_sync"]
    assert sorted(loans.task_ids) == [f"{code}.sync_loans" for code in ("ccb", "cmb", "hpf", "icbc")]
    statements = dagbag.dags["bank_statements_sync"]
    assert sorted(statements.task_ids) == [f"{code}.sync_statements" for code in ("ccb", "cmb", "icbc")]
    for dag in (loans, statements):
        for task in dag.tasks:
            assert not task.upstream_task_ids, f"{dag.dag_id}.{task.task_id} waits for another task"


def test_the_reconciliation_runs_daily_and_on_new_data_and_alerts_when_the_report_is_late(dagbag):
    from datetime import timedelta

    from airflow.sdk import AssetOrTimeSchedule

    dag = dagbag.dags["reconciliation"]
    assert dag.max_active_runs == 1
    assert isinstance(dag.timetable, AssetOrTimeSchedule)
    cron = dag.timetable.timetable
    assert (cron.expression, str(cron.timezone)) == ("0 7 * * *", "Asia/Shanghai")

    def names(condition) -> set[str]:
        inner = getattr(condition, "objects", None)
        return {condition.name} if inner is None else set().union(*(names(o) for o in inner))

    assert names(dag.timetable.asset_condition) == {
        "core_contract",
        "core_bank_loan",
        "core_bank_statement_line",
        "core_receipt",
    }
    (alert,) = dag.deadline
    assert alert.interval == timedelta(hours=1) and "QueuedAt" in type(alert.reference).__name__
    assert [t.task_id for t in dag.topological_sort()] == ["reconcile", "send_finance_report"]


def test_the_kpi_report_runs_monday_and_the_first_at_eight_in_shanghai(dagbag):
    from datetime import UTC, datetime

    from airflow.timetables.base import TimeRestriction
    from airflow.timetables.trigger import MultipleCronTriggerTimetable

    dag = dagbag.dags["kpi_report"]
    assert dag.task_ids == ["send_kpi_reports"]
    crons = dag.timetable.timetables
    assert sorted(t.expression for t in crons) == ["0 8 * * 1", "0 8 1 * *"]
    assert {str(t.timezone) for t in crons} == {"Asia/Shanghai"}
    scheduler_view = MultipleCronTriggerTimetable(*(t.expression for t in crons), timezone="Asia/Shanghai")
    runs, last = [], None
    for _ in range(6):  # from Friday 2026-05-29, at 08:00 in Shanghai: Monday the 1st once, the Mondays, 07-01
        earliest = datetime(2026, 5, 29, tzinfo=UTC)
        info = scheduler_view.next_dagrun_info(
            last_automated_data_interval=last, restriction=TimeRestriction(earliest=earliest, latest=None, catchup=True)
        )
        runs.append(info.run_after)
        last = info.data_interval
    assert runs == [
        datetime(2026, m, d, 0, 0, tzinfo=UTC) for m, d in ((6, 1), (6, 8), (6, 15), (6, 22), (6, 29), (7, 1))
    ]
