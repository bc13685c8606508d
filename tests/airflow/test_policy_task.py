"""The policy_monitor DAG's task, run as Airflow runs its callable, with every input from a Connection:
the bureau site of `bureau_site`, a fresh warehouse of `warehouse` (brought to head by the task, as
there is no migration task any more), the digest through `smtp_default` and the provider's hook."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from estatehub.policy.config import DEFAULT_CONFIG_PATH
from sandbox.bureau import start_bureau_server
from sandbox.smtp import MailSink

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "policy_monitor.py"
ONE_MINUTE = timedelta(minutes=1)


@pytest.fixture
def check_policies():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    return bag.dags["policy_monitor"].get_task("check_policies").python_callable


PII_KEY = "policy-task-pii-key-0123456789abcdefgh"


def _changed_notice(world):
    for change in world.truth:
        calm = not world.incident_at(change.at - ONE_MINUTE) and not world.incident_at(change.at + ONE_MINUTE)
        if change.kind == "changed" and calm:
            return change
    raise LookupError("no changed notice outside incidents")


def test_the_policy_task_checks_the_connections_site_into_a_fresh_warehouse_and_mails_the_digest(
    check_policies, monkeypatch, tmp_path
):
    for name in [name for name in os.environ if name.startswith("AIRFLOW_CONN_")]:
        monkeypatch.delenv(name)
    warehouse = tmp_path / "fresh" / "warehouse.db"
    config = tmp_path / "watches.yaml"
    config.write_text(
        DEFAULT_CONFIG_PATH.read_text(encoding="utf-8").replace("min_interval_seconds: 2.0", "min_interval_seconds: 0"),
        encoding="utf-8",
    )
    bureau = start_bureau_server(seed=7)
    try:
        with MailSink(tmp_path / "mail") as sink:
            monkeypatch.setenv("AIRFLOW_CONN_BUREAU_SITE", bureau.url)
            monkeypatch.setenv(
                "AIRFLOW_CONN_WAREHOUSE",
                json.dumps({"conn_type": "sqlite", "host": str(warehouse), "extra": {"pii_key": PII_KEY}}),
            )
            monkeypatch.setenv(
                "AIRFLOW_CONN_SMTP_DEFAULT", f"smtp://{sink.host}:{sink.port}?disable_ssl=true&disable_tls=true"
            )
            truth = _changed_notice(bureau.world)
            bureau.set_clock(truth.at - ONE_MINUTE)
            baseline = check_policies(params={"config": str(config)})
            bureau.set_clock(truth.at + ONE_MINUTE)
            after = check_policies(params={"config": str(config)})
            mails = sink.messages()
    finally:
        bureau.stop()

    assert [w["baseline"] for w in baseline["watches"]] == [True, True]
    assert after["changes"].get("changed", 0) >= 1
    assert [m["Subject"] for m in mails if "政策变化" in str(m["Subject"])], "the digest went out"
    engine = create_engine(f"sqlite:///{warehouse}")
    with engine.connect() as conn:
        snapshots = conn.execute(text("select count(*) from core_policy_snapshot")).scalar_one()
        fingerprint = conn.execute(
            text("select value from etl_meta where meta_key = 'pii_key_fingerprint'")
        ).scalar_one_or_none()
    engine.dispose()
    assert snapshots > 0
    assert fingerprint, "the task prepared the warehouse (schema at head, PII key recorded)"
