"""The manager's KPI report: weekly on Monday 08:00, monthly on the 1st 08:00 (Asia/Shanghai).

A Monday run reports the week just ended (Monday to Sunday), a run on the 1st the month just ended;
a 1st that is a Monday sends both. Each report goes to the KPI recipient lists of
`config/reports.yaml`, each in its language, through `smtp_default`: an HTML email with inline charts
(万元) and the workbook of exact yuan. Started by hand, the run sends the report named by its params
(`kind`, `day`), else the last complete week. It reads the receivables mart the 07:00 reconciliation
built. Logic lives in `estatehub.kpi` and `estatehub.reports.kpi`.
"""

from __future__ import annotations

from datetime import timedelta

# `@task` from its own module: the DAG processor imports it once, before it forks each parse (decision 0039)
from airflow.providers.standard.decorators.python import python_task as task
from airflow.sdk import MultipleCronTriggerTimetable, Param, dag
from dag_defaults import DAG_START_DATE, WAREHOUSE_POOL, default_args


@dag(
    dag_id="kpi_report",
    schedule=MultipleCronTriggerTimetable("0 8 * * 1", "0 8 1 * *", timezone="Asia/Shanghai"),
    start_date=DAG_START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["kpi", "report", "manager"],
    default_args=default_args(),
    params={
        "kind": Param(None, type=["null", "string"], enum=[None, "week", "month"], description="week or month"),
        "day": Param(None, type=["null", "string"], format="date", description="A day of the period to report"),
    },
    doc_md=__doc__,
)
def kpi_report():
    @task(pool=WAREHOUSE_POOL, execution_timeout=timedelta(minutes=30))
    def send_kpi_reports(params: dict | None = None, dag_run=None) -> list[str]:
        from datetime import date

        from hooks.warehouse import WarehouseHook

        from estatehub.connections import SMTP_CONN_ID
        from estatehub.kpi.periods import report_period, reports_due
        from estatehub.mail import SmtpSender
        from estatehub.reports.finance import load_report_config
        from estatehub.reports.kpi import send_kpi_report

        params = params or {}
        if params.get("kind") and params.get("day"):
            due = [(params["kind"], date.fromisoformat(params["day"]))]
        else:
            due = reports_due(dag_run.logical_date or dag_run.run_after)
        warehouse = WarehouseHook().get_conn()
        warehouse.prepare()
        config = load_report_config()
        sent = []
        for kind, day in due:
            period = report_period(kind, day)
            lists = send_kpi_report(warehouse, period, config=config, send=SmtpSender(SMTP_CONN_ID).send)
            sent += [f"{period.label}: {name}" for name in lists]
        return sent

    send_kpi_reports()


kpi_report()
