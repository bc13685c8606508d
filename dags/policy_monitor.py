"""Policy monitor: the real estate bureau's website, every 2 hours from 08:00 to 20:00 Beijing time.

Reads the notice lists and notices named in `config/policy_watches.yaml`, keeps normalised
snapshots in the warehouse, and e-mails the supervisors a digest of new, changed and withdrawn
notices and replaced attachments (with topics and urgency), a failure alert after repeated failed
checks, and an alert when the site's markup no longer matches the selectors. A failed fetch does not
fail the task (the monitor counts and alerts on it); a failing warehouse or mail server does, and
the retries send what is still due. Logic lives in `estatehub.policy`.

Connections: `smtp_default` (required), `bureau_site` (optional, replaces the watch file's base
URL), `warehouse`.
"""

from __future__ import annotations

from datetime import timedelta

# `@task` from its own module: the DAG processor imports it once, before it forks each parse (decision 0039)
from airflow.providers.standard.decorators.python import python_task as task
from airflow.sdk import CronTriggerTimetable, Param, dag
from dag_defaults import DAG_START_DATE, WAREHOUSE_POOL, default_args


@dag(
    dag_id="policy_monitor",
    schedule=CronTriggerTimetable("0 8-20/2 * * *", timezone="Asia/Shanghai"),
    start_date=DAG_START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["policy", "bureau", "alerts"],
    default_args=default_args(),
    params={
        "config": Param(
            None,
            type=["null", "string"],
            description="Path of the watch file (default: config/policy_watches.yaml in the project)",
        )
    },
    doc_md=__doc__,
)
def policy_monitor():
    @task(pool=WAREHOUSE_POOL, execution_timeout=timedelta(minutes=30))
    def check_policies(params: dict | None = None) -> dict:
        from hooks.bureau import BureauHook
        from hooks.warehouse import WarehouseHook

        from estatehub.connections import SMTP_CONN_ID
        from estatehub.mail import SmtpSender
        from estatehub.policy.runtime import check_with

        config = BureauHook().watch_config((params or {}).get("config"))
        # the check itself does not migrate: check_with brings the warehouse to head before run_check
        result = check_with(config, WarehouseHook().get_conn(), SmtpSender(SMTP_CONN_ID).send)
        return result.as_dict()

    check_policies()


policy_monitor()
