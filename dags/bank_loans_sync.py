"""Sync of the banks' loan stages: ICBC, CCB, CMB and the provident-fund centre.

Hourly in business hours (Asia/Shanghai). One task group per bank with its own retries: a bank that
is down fails its own task, never the others'. Every task writes the warehouse, so every task runs in
the `warehouse` pool; each sync brings the warehouse's schema to head itself. Each bank's Connection
`bank_<code>` holds its URL, app id and secret. Emits the `core_bank_loan` Asset for the
reconciliation. Logic lives in `estatehub.banks`.
"""

from __future__ import annotations

from datetime import timedelta

# `@task` from its own module: the DAG processor imports it once, before it forks each parse (decision 0039)
from airflow.providers.standard.decorators.python import python_task as task
from airflow.sdk import CronTriggerTimetable, Param, TaskGroup, dag
from dag_defaults import BANK_CODES, DAG_START_DATE, WAREHOUSE_POOL, default_args, warehouse_asset

LOANS = warehouse_asset("core_bank_loan")


@dag(
    dag_id="bank_loans_sync",
    schedule=CronTriggerTimetable("15 9-18 * * *", timezone="Asia/Shanghai"),
    start_date=DAG_START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["sync", "banks", "loans"],
    default_args=default_args(),
    params={"full": Param(False, type="boolean", description="Fetch every loan again")},
    doc_md=__doc__,
)
def bank_loans_sync():
    for code in BANK_CODES:
        with TaskGroup(group_id=code, tooltip=f"loans of {code}"):

            @task(
                task_id="sync_loans",
                pool=WAREHOUSE_POOL,
                outlets=[LOANS],
                execution_timeout=timedelta(minutes=30),
            )
            def sync_loans(bank: str, params: dict | None = None) -> dict:
                from hooks.banks import BankHook
                from hooks.warehouse import WarehouseHook

                from estatehub.banks.connections import download_folder
                from estatehub.banks.sync import sync_loans as run

                client = BankHook(bank).get_conn(folder=download_folder(bank))
                return run(
                    bank, WarehouseHook().get_conn(), full=bool((params or {}).get("full", False)), client=client
                )

            sync_loans(code)


bank_loans_sync()
