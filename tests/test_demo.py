"""The demo pipeline at small scale, as `make demo` runs it: sandbox, real Airflow (`airflow dags test`),
SQLite warehouse, summary. Slow (about a minute): it starts Airflow for every simulated day."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime

import pytest
from sqlalchemy import create_engine, text

from estatehub.settings import BUSINESS_TZ
from tests.e2e.conftest import visible_contract_numbers

pytestmark = pytest.mark.slow


def test_demo_runs_the_dag_over_simulated_days_and_summarises_the_warehouse(tmp_path):
    home = tmp_path / "demo"
    env = os.environ.copy()
    env["ESTATEHUB_HOME"] = str(tmp_path / "data")
    for name in [key for key in env if key.startswith(("AIRFLOW_CONN_", "AIRFLOW__"))] + ["AIRFLOW_HOME"]:
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-m", "estatehub", "demo", "--units", "150", "--days", "3", "--home", str(home)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    summary = (home / "summary.txt").read_text(encoding="utf-8")
    for heading in ("Contracts by type and state", "Filings overdue", "Quarantined records", "Where things are"):
        assert heading in summary
    assert summary in result.stdout

    engine = create_engine(f"sqlite:///{home / 'warehouse.db'}")
    with engine.connect() as conn:
        runs = conn.execute(
            text("select mode, status from etl_run where source = 'trading_network' order by started_at")
        ).all()
        loaded = set(conn.execute(text("select contract_no from core_contract")).scalars())
        quarantined = set(
            conn.execute(text("select record_key from etl_quarantine where resolved_at is null")).scalars()
        )
    engine.dispose()
    assert [tuple(run) for run in runs] == [
        ("full", "succeeded"),
        ("incremental", "succeeded"),
        ("incremental", "succeeded"),
    ]

    world = next((tmp_path / "data" / "sandbox").glob("world-*.sqlite"))
    visible = visible_contract_numbers(world, datetime(2025, 6, 30, 18, 0, tzinfo=BUSINESS_TZ))
    assert loaded <= visible
    assert visible - loaded <= quarantined, "every contract the network shows is loaded or quarantined"
    day_logs = sorted((home / "logs").glob("dags-test-2*.log"))
    assert len(day_logs) == 3, "one trading-network run a day"
    for log in day_logs:
        assert "sync trading_network/contracts:" in log.read_text(encoding="utf-8"), f"{log.name} holds the task log"
    assert f"{home / 'logs'}/dags-test-*.log" in summary, "the summary says where the task logs are"
    assert "Mortgage pipeline by bank and stage" in summary
    assert "Statement lines loaded" in summary
    assert "Ledger receipts (not voided)" in summary
