"""Sync of the housing trading network: contracts, state changes, cancellations, handovers, registrations,
and the permits' building tables (楼盘表: every unit with its 备案价 and sale state).

Hourly in business hours (Asia/Shanghai). Raw → staging → core in the warehouse; emits the
`core_contract` Asset for the reconciliation DAG and `core_unit_inventory` for the sell-through
(去化率); the sync brings the warehouse's schema to head itself. The two streams are separate tasks
(one failing does not hold the other back), serialised by the warehouse pool. Logic lives in
`estatehub.trading_network.sync` and `estatehub.trading_network.inventory`.
"""

from __future__ import annotations

from datetime import timedelta

# `@task` from its own module: the DAG processor imports it once, before it forks each parse (decision 0039)
from airflow.providers.standard.decorators.python import python_task as task
from airflow.sdk import CronTriggerTimetable, Param, dag
from dag_defaults import DAG_START_DATE, WAREHOUSE_POOL, default_args, warehouse_asset

CONTRACTS = warehouse_asset("core_contract")
INVENTORY = warehouse_asset("core_unit_inventory")


@dag(
    dag_id="trading_network_sync",
    schedule=CronTriggerTimetable("0 9-18 * * *", timezone="Asia/Shanghai"),
    start_date=DAG_START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["sync", "trading_network", "contracts"],
    default_args=default_args(),
    params={"full": Param(False, type="boolean", description="Full refresh: fetch every contract and unit again")},
    doc_md=__doc__,
)
def trading_network_sync():
    @task(pool=WAREHOUSE_POOL, outlets=[CONTRACTS], execution_timeout=timedelta(minutes=50))
    def sync_contracts(params: dict | None = None) -> dict:
        from hooks.trading_network import TradingNetworkHook
        from hooks.warehouse import WarehouseHook

        from estatehub.trading_network.sync import sync_trading_network

        full = bool((params or {}).get("full", False))
        with TradingNetworkHook().get_conn() as client:
            result = sync_trading_network(client, WarehouseHook().get_conn(), full=full)
        return result.as_dict()

    @task(pool=WAREHOUSE_POOL, outlets=[INVENTORY], execution_timeout=timedelta(minutes=50))
    def sync_unit_inventory(params: dict | None = None) -> dict:
        from hooks.trading_network import TradingNetworkHook
        from hooks.warehouse import WarehouseHook

        from estatehub.trading_network.inventory import sync_unit_inventory

        full = bool((params or {}).get("full", False))
        with TradingNetworkHook().get_conn() as client:
            result = sync_unit_inventory(client, WarehouseHook().get_conn(), full=full)
        return result.as_dict()

    sync_contracts()
    sync_unit_inventory()


trading_network_sync()
