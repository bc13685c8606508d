"""The pipeline_health DAG's task, run as Airflow runs its callable, with every input from a
Connection: the warehouse of `warehouse`, the alert through `smtp_default` and the provider's hook.
Run twice in a row, it tells the supervisors once."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from estatehub.warehouse import Warehouse
from sandbox.smtp import MailSink
from tests.conftest import TEST_PII_KEY
from tests.health.test_supervisors_page import seed

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "pipeline_health.py"


@pytest.fixture
def check_freshness():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    return bag.dags["pipeline_health"].get_task("check_freshness").python_callable


def test_the_health_task_judges_the_connections_warehouse_and_tells_the_supervisors_once(
    check_freshness, monkeypatch, tmp_path
):
    for name in [name for name in os.environ if name.startswith("AIRFLOW_CONN_")]:
        monkeypatch.delenv(name)
    path = tmp_path / "warehouse.db"
    warehouse = Warehouse.from_url(path, pii_key=TEST_PII_KEY)
    warehouse.prepare()
    seed(warehouse, datetime.now(UTC), any_time=True)
    warehouse.dispose()
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAREHOUSE",
        json.dumps({"conn_type": "sqlite", "host": str(path), "extra": {"pii_key": TEST_PII_KEY.decode()}}),
    )
    with MailSink(tmp_path / "mail") as sink:
        monkeypatch.setenv(
            "AIRFLOW_CONN_SMTP_DEFAULT",
            f"smtp://{sink.host}:{sink.port}?disable_ssl=true&disable_tls=true&from_email=estatehub@estatehub.example",
        )
        first = check_freshness(params={"rules": None})
        second = check_freshness(params={"rules": None})
        messages = sink.messages()

    assert first["found"] == first["new"] == first["alerted"] > 0
    assert second == {"found": first["found"], "new": 0, "resolved": 0, "alerted": 0}
    [alert] = messages
    assert alert["From"] == "estatehub@estatehub.example"
    assert "trading_network/contracts" in alert.get_body(("plain",)).get_content()
