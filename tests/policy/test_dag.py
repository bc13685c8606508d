"""The policy_monitor DAG: schedule, tasks, and the house rules (tests/test_dagbag.py checks the rest)."""

from __future__ import annotations

from pathlib import Path

import pytest

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "policy_monitor.py"


@pytest.fixture(scope="module")
def dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    return bag.dags["policy_monitor"]


def test_policy_monitor_runs_every_two_hours_from_8_to_20_in_shanghai(dag):
    assert dag.timetable.expression == "0 8-20/2 * * *"
    assert str(dag.timetable.timezone) == "Asia/Shanghai"
    assert dag.catchup is False and dag.max_active_runs == 1
    assert set(dag.tags) >= {"policy"}


def test_policy_monitor_checks_through_the_pool(dag):
    assert dag.task_ids == ["check_policies"]  # the check brings the warehouse to head itself (check_with)
    for task in dag.tasks:
        assert task.pool == "warehouse"
        assert task.owner == "customer-service-data"
        assert task.retries >= 2 and task.retry_exponential_backoff
        assert task.on_failure_callback


def test_the_dag_file_imports_nothing_heavy_at_parse_time():
    source = DAG_FILE.read_text(encoding="utf-8")
    imports = [line for line in source.split("def policy_monitor", 1)[0].splitlines() if "import " in line]
    assert imports and not any("estatehub.policy" in line or "requests" in line for line in imports)
