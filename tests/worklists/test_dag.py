"""The work_lists DAG runs after the reconciliation: it is scheduled on the Asset the reconciliation's
task updates, and both its tasks write through the warehouse pool."""

from __future__ import annotations

from pathlib import Path

DAGS = Path(__file__).resolve().parents[2] / "dags"


def test_the_work_lists_follow_the_reconciliation_s_breaks():
    from airflow.dag_processing.dagbag import DagBag

    from estatehub.demo import POOLS

    bag = DagBag(dag_folder=str(DAGS), known_pools=set(POOLS))
    assert bag.import_errors == {}
    reconcile = bag.dags["reconciliation"].get_task("reconcile")
    work_lists = bag.dags["work_lists"]
    updated = {asset.uri for asset in reconcile.outlets}
    awaited = {asset.uri for asset in work_lists.timetable.asset_condition.objects}
    assert awaited == {"estatehub://warehouse/rec_break"} and awaited <= updated
    assert [t.task_id for t in work_lists.topological_sort()] == ["build", "send_digests"]
    assert {t.pool for t in work_lists.tasks} == {"warehouse"}
