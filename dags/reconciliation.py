"""Daily reconciliation and the finance report.

At 07:00 Asia/Shanghai, and whenever the trading network, a bank and the ledger have all produced new
data since the last run (Assets), the quality gates check each source; then the contracts,
receivables, loans and invoices are reconciled, breaks carried over with their status, and the
finance report goes to each recipient list of `config/reports.yaml` in its language through
`smtp_default`. The 07:00 run covers the business day just closed; a run the Assets trigger covers
today so far. A gate error fails the first task with the reason (the failure notifier tells the
supervisors); a report not out an hour after the run was queued (08:00 for the 07:00 run) is a
Deadline Alert to the supervisors. Logic lives in `estatehub.reconcile` and `estatehub.reports`.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.providers.smtp.notifications.smtp import SmtpNotifier

# `@task` from its own module: the DAG processor imports it once, before it forks each parse (decision 0039)
from airflow.providers.standard.decorators.python import python_task as task
from airflow.sdk import (
    AssetOrTimeSchedule,
    AsyncCallback,
    CronTriggerTimetable,
    DeadlineAlert,
    DeadlineReference,
    Param,
    dag,
)
from dag_defaults import (
    DAG_START_DATE,
    WAREHOUSE_POOL,
    deadline_alerts_enabled,
    default_args,
    supervisors_mail,
    warehouse_asset,
)

CONTRACTS = warehouse_asset("core_contract")
LOANS = warehouse_asset("core_bank_loan")
LINES = warehouse_asset("core_bank_statement_line")
RECEIPTS = warehouse_asset("core_receipt")
BREAKS = warehouse_asset("rec_break")

REPORT_LATE = DeadlineAlert(
    reference=DeadlineReference.DAGRUN_QUEUED_AT,
    interval=timedelta(hours=1),
    callback=AsyncCallback(
        SmtpNotifier,
        kwargs=supervisors_mail(
            "[estatehub] the finance report is late: reconciliation not finished an hour after it started",
            "The reconciliation DAG has not sent the finance report within an hour of its start. "
            "Look at its run in Airflow (quality gates, a sync that failed, the SMTP Connection).",
        ),
    ),
)


@dag(
    dag_id="reconciliation",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 7 * * *", timezone="Asia/Shanghai"),
        assets=(CONTRACTS & (LOANS | LINES) & RECEIPTS),
    ),
    start_date=DAG_START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["reconciliation", "finance", "report"],
    default_args=default_args(),
    # `airflow dags test` of Airflow 3.3.2 fails at the end of a run whose DAG has a Deadline Alert (it
    # looks the alert up by its serialized form instead of its id): the demo, which runs DAGs that way,
    # turns the alert off with ESTATEHUB_DEADLINE_ALERTS=0; the scheduler path keeps it
    deadline=REPORT_LATE if deadline_alerts_enabled() else None,
    params={
        "as_of": Param(None, type=["null", "string"], format="date", description="Business day to reconcile up to"),
        "date_from": Param(None, type=["null", "string"], format="date", description="First day (default: all)"),
    },
    doc_md=__doc__,
)
def reconciliation():
    @task(pool=WAREHOUSE_POOL, outlets=[BREAKS], execution_timeout=timedelta(minutes=40))
    def reconcile(params: dict | None = None, dag_run=None) -> dict:
        from hooks.warehouse import WarehouseHook

        from estatehub.reconcile.run import period_for_run, run_reconciliation

        params = params or {}
        as_of, date_from = period_for_run(
            getattr(dag_run.run_type, "value", dag_run.run_type),
            dag_run.logical_date or dag_run.run_after,  # logical date: the moment the run stands for
            as_of=params.get("as_of"),
            date_from=params.get("date_from"),
        )
        warehouse = WarehouseHook().get_conn()
        warehouse.prepare()
        report = run_reconciliation(warehouse, date_from=date_from, date_to=as_of, as_of=as_of)
        return {"as_of": as_of.isoformat(), "run_id": report.run_id, "summary": report.summary()}

    @task(pool=WAREHOUSE_POOL, execution_timeout=timedelta(minutes=20))
    def send_finance_report(result: dict) -> list[str]:
        from datetime import date

        from hooks.warehouse import WarehouseHook

        from estatehub.connections import SMTP_CONN_ID
        from estatehub.mail import SmtpSender
        from estatehub.reports.finance import load_report_config
        from estatehub.reports.finance import send_finance_report as send

        warehouse = WarehouseHook().get_conn()
        day = date.fromisoformat(result["as_of"])
        return send(warehouse, day, config=load_report_config(), send=SmtpSender(SMTP_CONN_ID).send)

    send_finance_report(reconcile())


reconciliation()
