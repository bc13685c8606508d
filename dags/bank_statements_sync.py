"""Sync of the collection-account statements of ICBC, CCB and CMB.

Daily at 06:30 Beijing time (the banks publish yesterday's file at 06:00). One task group per bank
with its own retries: a bank that is down fails its own task, never the others'. Every task writes
the warehouse, so every task runs in the `warehouse` pool; each sync brings the warehouse's schema to
head itself. A file already registered is not fetched again; a corrected file replaces the earlier
one with an audit trail. Emits the `core_bank_statement_line` Asset. Logic lives in
`estatehub.banks.statements`.
"""

from __future__ import annotations

from datetime import timedelta

# `@task` from its own module: the DAG processor imports it once, before it forks each parse (decision 0039)
from airflow.providers.standard.decorators.python import python_task as task
from airflow.sdk import CronTriggerTimetable, TaskGroup, dag
from dag_defaults import DAG_START_DATE, STATEMENT_BANKS, WAREHOUSE_POOL, default_args, warehouse_asset

LINES = warehouse_asset("core_bank_statement_line")


@dag(
    dag_id="bank_statements_sync",
    schedule=CronTriggerTimetable("30 6 * * *", timezone="Asia/Shanghai"),
    start_date=DAG_START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["sync", "banks", "statements"],
    default_args=default_args(retry_delay=timedelta(minutes=5), max_retry_delay=timedelta(minutes=40)),
    doc_md=__doc__,
)
def bank_statements_sync():
    for code in STATEMENT_BANKS:
        with TaskGroup(group_id=code, tooltip=f"statements of {code}"):

            @task(
                task_id="sync_statements",
                pool=WAREHOUSE_POOL,
                outlets=[LINES],
                execution_timeout=timedelta(hours=1),
            )
            def sync_statements(bank: str) -> dict:
                from hooks.banks import BankHook
                from hooks.warehouse import WarehouseHook

                from estatehub.banks.sync import sync_statements as run

                return run(bank, WarehouseHook().get_conn(), client=BankHook(bank).get_conn())

            sync_statements(code)


bank_statements_sync()
