"""Sync of the finance ledger: vouchers, receipts, refunds and invoices, each receipt linked to its contract.

Hourly in business hours (Asia/Shanghai), twenty minutes past, after the trading-network sync has had
its turn. Raw → staging → core in the warehouse; emits the `core_receipt` and `core_invoice` Assets for
the reconciliation DAG. Logic lives in `estatehub.ledger.sync`; the ERP is the `finance_ledger`
Connection.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset, CronTriggerTimetable, Param, dag, task

from estatehub import settings
from plugins.dag_defaults import default_args

RECEIPTS = Asset(name="core_receipt", uri="estatehub://warehouse/core_receipt", group="warehouse")
INVOICES = Asset(name="core_invoice", uri="estatehub://warehouse/core_invoice", group="warehouse")


@dag(
    dag_id="ledger_sync",
    schedule=CronTriggerTimetable("20 9-18 * * *", timezone="Asia/Shanghai"),
    start_date=settings.DAG_START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["sync", "finance_ledger", "receipts"],
    default_args=default_args(),
    params={"full": Param(False, type="boolean", description="Full refresh: fetch every ledger row again")},
    doc_md=__doc__,
)
def ledger_sync():
    @task(pool=settings.WAREHOUSE_POOL, execution_timeout=timedelta(minutes=10))
    def upgrade_warehouse() -> str:
        from estatehub.warehouse.migrations import current_revision, upgrade
        from plugins.hooks.warehouse import WarehouseHook

        warehouse = WarehouseHook().get_conn()
        upgrade(warehouse.engine)
        return current_revision(warehouse.engine)

    @task(pool=settings.WAREHOUSE_POOL, outlets=[RECEIPTS, INVOICES], execution_timeout=timedelta(minutes=50))
    def sync_ledger(params: dict | None = None) -> dict:
        from airflow.sdk import BaseHook

        from estatehub.ledger.connection import FINANCE_LEDGER_CONN_ID, ledger_client
        from estatehub.ledger.sync import sync_ledger as run_sync
        from plugins.hooks.warehouse import WarehouseHook

        full = bool((params or {}).get("full", False))
        with ledger_client(BaseHook.get_connection(FINANCE_LEDGER_CONN_ID)) as client:
            result = run_sync(client, WarehouseHook().get_conn(), full=full)
        return result.as_dict()

    upgrade_warehouse() >> sync_ledger()


ledger_sync()
