"""Sync of the finance ledger: vouchers, receipts, refunds and invoices, each receipt linked to its contract.

Hourly in business hours (Asia/Shanghai), twenty minutes past, after the trading-network sync has had
its turn. Raw → staging → core in the warehouse; emits the `core_receipt` and `core_invoice` Assets for
the reconciliation DAG; the sync brings the warehouse's schema to head itself. Logic lives in
`estatehub.ledger.sync`; the ERP is the `finance_ledger` Connection (`hooks.ledger.LedgerHook`).
"""

from __future__ import annotations

from datetime import timedelta

# `@task` from its own module: the DAG processor imports it once, before it forks each parse (decision 0039)
from airflow.providers.standard.decorators.python import python_task as task
from airflow.sdk import CronTriggerTimetable, Param, dag
from dag_defaults import DAG_START_DATE, WAREHOUSE_POOL, default_args, warehouse_asset

RECEIPTS = warehouse_asset("core_receipt")
INVOICES = warehouse_asset("core_invoice")


@dag(
    dag_id="ledger_sync",
    schedule=CronTriggerTimetable("20 9-18 * * *", timezone="Asia/Shanghai"),
    start_date=DAG_START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["sync", "finance_ledger", "receipts"],
    default_args=default_args(),
    params={"full": Param(False, type="boolean", description="Full refresh: fetch every ledger row again")},
    doc_md=__doc__,
)
def ledger_sync():
    @task(pool=WAREHOUSE_POOL, outlets=[RECEIPTS, INVOICES], execution_timeout=timedelta(minutes=50))
    def sync_ledger(params: dict | None = None) -> dict:
        from hooks.ledger import LedgerHook
        from hooks.warehouse import WarehouseHook

        from estatehub.ledger.sync import sync_ledger as run_sync

        full = bool((params or {}).get("full", False))
        with LedgerHook().get_conn() as client:
            result = run_sync(client, WarehouseHook().get_conn(), full=full)
        return result.as_dict()

    sync_ledger()


ledger_sync()
