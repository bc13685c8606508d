"""Pipeline health: every hour, is every source as fresh as its schedule allows?

Reads the freshness rules (`config/freshness.yaml`: per source its cadence, business hours in
Beijing time and grace; per daily file its due time) and judges the warehouse by them: each stream's
last successful sync, each source's newest data, each collection account's statement, the fund
centre's loan list. A finding is stored in the warehouse (`etl_health_finding`) and e-mailed to the
supervisors once, when it is new, through `smtp_default`; it closes by itself when the data arrives.
Logic lives in `estatehub.health`.

Connections: `smtp_default` (required), `warehouse`.
"""

from __future__ import annotations

from datetime import timedelta

# `@task` from its own module: the DAG processor imports it once, before it forks each parse (decision 0039)
from airflow.providers.standard.decorators.python import python_task as task
from airflow.sdk import CronTriggerTimetable, Param, dag
from dag_defaults import DAG_START_DATE, WAREHOUSE_POOL, default_args


@dag(
    dag_id="pipeline_health",
    schedule=CronTriggerTimetable("45 * * * *", timezone="Asia/Shanghai"),
    start_date=DAG_START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["health", "alerts", "supervisors"],
    default_args=default_args(),
    params={
        "rules": Param(
            None,
            type=["null", "string"],
            description="Path of the freshness rules (default: config/freshness.yaml in the project)",
        )
    },
    doc_md=__doc__,
)
def pipeline_health():
    @task(pool=WAREHOUSE_POOL, execution_timeout=timedelta(minutes=10))
    def check_freshness(params: dict | None = None) -> dict:
        from hooks.warehouse import WarehouseHook

        from estatehub.connections import SMTP_CONN_ID
        from estatehub.freshness.rules import load_rules
        from estatehub.health.check import check_health
        from estatehub.mail import SmtpSender

        rules = load_rules((params or {}).get("rules"))
        return check_health(WarehouseHook().get_conn(), rules, SmtpSender(SMTP_CONN_ID).send).as_dict()

    check_freshness()


pipeline_health()
