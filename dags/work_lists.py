"""The specialists' and supervisors' work lists, daily after the reconciliation.

Each time the reconciliation has updated its breaks and the receivables mart (the `rec_break` Asset:
its 07:00 run and any run the syncs trigger), the work lists are built as of the day that
reconciliation judged — one list per process, each item with its deadline, days left or late, and
whom to call (masked) — and each person of `config/assignees.yaml` (or the installation's file, the
`assignees` param) receives the digest of their own items through `smtp_default`, in their language,
with the workbook. Logic lives in `estatehub.worklists`.
"""

from __future__ import annotations

from datetime import timedelta

# `@task` from its own module: the DAG processor imports it once, before it forks each parse (decision 0039)
from airflow.providers.standard.decorators.python import python_task as task
from airflow.sdk import Param, dag
from dag_defaults import DAG_START_DATE, WAREHOUSE_POOL, default_args, warehouse_asset

BREAKS = warehouse_asset("rec_break")
WORK_ITEMS = warehouse_asset("mart_work_item")


@dag(
    dag_id="work_lists",
    schedule=[BREAKS],
    start_date=DAG_START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["work-lists", "customer-service", "report"],
    default_args=default_args(),
    params={
        "as_of": Param(
            None, type=["null", "string"], format="date", description="Day to build as of (default: the reconciled day)"
        ),
        "assignees": Param(
            None, type=["null", "string"], description="The installation's assignees file (default: the package's)"
        ),
    },
    doc_md=__doc__,
)
def work_lists():
    @task(pool=WAREHOUSE_POOL, outlets=[WORK_ITEMS], execution_timeout=timedelta(minutes=20))
    def build(params: dict | None = None) -> dict:
        from datetime import date

        from hooks.warehouse import WarehouseHook

        from estatehub.worklists import build_work_lists, latest_reconciled_day

        params = params or {}
        warehouse = WarehouseHook().get_conn()
        warehouse.prepare()
        day = date.fromisoformat(params["as_of"]) if params.get("as_of") else latest_reconciled_day(warehouse)
        report = build_work_lists(warehouse, day)
        return {"as_of": day.isoformat(), "counts": report.counts, "summary": report.summary()}

    @task(pool=WAREHOUSE_POOL, execution_timeout=timedelta(minutes=20))
    def send_digests(result: dict, params: dict | None = None) -> list[str]:
        from datetime import date
        from pathlib import Path

        from hooks.warehouse import WarehouseHook

        from estatehub.connections import SMTP_CONN_ID
        from estatehub.mail import SmtpSender
        from estatehub.worklists import load_assignees
        from estatehub.worklists import send_digests as send

        params = params or {}
        assignees = load_assignees(Path(params["assignees"]) if params.get("assignees") else None)
        warehouse = WarehouseHook().get_conn()
        return send(warehouse, date.fromisoformat(result["as_of"]), assignees, send=SmtpSender(SMTP_CONN_ID).send)

    send_digests(build())


work_lists()
