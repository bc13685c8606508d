"""The demo pipeline at small scale, as `make demo` runs it: sandbox, real Airflow (`airflow dags test`),
SQLite warehouse, summary. Slow (about a minute): it starts Airflow for every simulated day."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from email import message_from_bytes
from email.policy import default

import pytest
from sqlalchemy import create_engine, text

from estatehub.settings import BUSINESS_TZ
from tests.e2e.conftest import visible_contract_numbers
from tests.support.pii_scan import files_under, scan, world_secrets

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One small demo run, shared by the tests of this module: (folder, the command's result)."""
    tmp_path = tmp_path_factory.mktemp("demo-run")
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
    return tmp_path, result


def test_demo_runs_the_dag_over_simulated_days_and_summarises_the_warehouse(demo):
    tmp_path, result = demo
    home = tmp_path / "demo"
    summary = (home / "summary.txt").read_text(encoding="utf-8")
    for heading in ("Contracts by type and state", "Filings overdue", "Quarantined records", "Where things are"):
        assert heading in summary
    assert summary in result.stdout

    engine = create_engine(f"sqlite:///{home / 'warehouse.db'}")
    with engine.connect() as conn:
        runs = conn.execute(
            text(
                "select mode, status from etl_run where source = 'trading_network' and stream = 'contracts' "
                "order by started_at"
            )
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

    world = next(p for p in (tmp_path / "data" / "sandbox").glob("world-*.sqlite") if p.name.count(".") == 1)
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
    assert "Reconciliation breaks" in summary
    reports = sorted(path.name for path in (home / "reports").iterdir())
    assert "finance_2025-06-30_zh-CN.xlsx" in reports and "finance_2025-06-30_en.html" in reports
    assert "digest_2025-06-30_supervisor-1.html" in reports and "digest_2025-06-29_specialist-3.xlsx" in reports
    assert "kpi_week_2025-06-29_zh-CN.html" in reports and "kpi_week_2025-06-29_en_trend.png" in reports, reports
    mails = list((home / "mail").glob("*.eml"))
    subjects = [message_from_bytes(path.read_bytes(), policy=default).get("Subject", "") for path in mails]
    assert len(mails) >= 4 + 2 * 5 + 1, "finance reports to both lists, each person's digest on both days, the KPI"
    assert sum("周报" in subject for subject in subjects) >= 1, subjects


def test_the_demo_imports_the_developer_inventory_and_lists_exactly_the_planted_differences(demo):
    tmp_path, result = demo
    home = tmp_path / "demo"
    listed = home / "logs" / "import-inventory.log"
    assert str(listed) in result.stdout, "the demo says where the differences are listed"
    planted = json.loads((home / "inventory" / "一房一价.csv.planted.json").read_text(encoding="utf-8"))
    assert {"repriced", "held_back", "parking_missing"} <= {p["why"] for p in planted}
    text_listed = listed.read_text(encoding="utf-8")
    assert f"{len(planted)} differences" in text_listed
    for p in planted:
        assert f"  {p['permit_no']} {p['unit_code']}: " in text_listed
    engine = create_engine(f"sqlite:///{home / 'warehouse.db'}")
    with engine.connect() as conn:
        diffs = set(conn.execute(text("select permit_no, unit_code, kind from inventory_diff")).all())
    engine.dispose()
    assert {tuple(d) for d in diffs} == {(p["permit_no"], p["unit_code"], p["kind"]) for p in planted}


def test_nothing_the_demo_leaves_holds_a_full_id_number_phone_or_card_number(demo):
    """Every table of the warehouse, Airflow's database, every log, every downloaded file and every mail."""
    tmp_path, _ = demo
    sandbox = tmp_path / "data" / "sandbox"
    secrets = world_secrets(sandbox)
    kinds = {kind: sum(1 for k in secrets.values() if k == kind) for kind in ("id_number", "phone", "card")}
    assert all(count >= 50 for count in kinds.values()), f"the world has people to look for: {kinds}"
    files = files_under(tmp_path / "demo", tmp_path / "data", skip=(sandbox,))
    names = {path.name for path in files}
    assert {"warehouse.db", "airflow.db"} <= names, "the scan covers the warehouse and Airflow's database"
    assert any(path.suffix in {".csv", ".xls", ".xlsx"} for path in files), "and the files the banks sent"
    leaks = scan(files, secrets)
    assert not leaks, "personal data in clear:\n" + "\n".join(
        f"{leak.path}: {leak.kind} {leak.masked}" for leak in leaks[:30]
    )


def test_make_demo_and_make_up_bring_the_cjk_font_the_kpi_charts_need():
    """The KPI report's charts label in Chinese and refuse to draw boxes without a CJK font (`CjkFontMissing`):
    on a fresh machine `make demo` and `make up` install one first, as `make test` does (`make -n` prints the
    recipe of each target it would run)."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    for target in ("demo", "up"):
        recipe = subprocess.run(["make", "-n", target], cwd=root, capture_output=True, text=True, check=False).stdout
        assert "fonts-wqy-microhei" in recipe, (target, recipe)
