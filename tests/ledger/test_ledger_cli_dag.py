"""`sync ledger` on the command line, and the ledger DAG's schedule, pool and Assets."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from estatehub.ledger.cli import add_ledger_commands
from sandbox.ledger.server import DEFAULT_ACCOUNT, DEFAULT_PASSWORD, LedgerServer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="estatehub")
    commands = parser.add_subparsers(dest="command", required=True)
    sync = commands.add_parser("sync")
    add_ledger_commands(sync.add_subparsers(dest="sync_command", required=True))
    return parser


def test_sync_ledger_without_a_connection_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from estatehub.errors import UsageError

    monkeypatch.delenv("AIRFLOW_CONN_FINANCE_LEDGER", raising=False)
    args = _parser().parse_args(["sync", "ledger", "--full"])
    assert args.full is True
    with pytest.raises(UsageError, match="AIRFLOW_CONN_FINANCE_LEDGER"):
        args.func(args)


def test_sync_ledger_loads_the_sandbox_ledger_through_the_connection(
    erp: LedgerServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    host, port = erp.address
    monkeypatch.setenv(
        "AIRFLOW_CONN_FINANCE_LEDGER", f"http://{DEFAULT_ACCOUNT}:{DEFAULT_PASSWORD}@{host}:{port}?page_size=1000"
    )  # noqa: E501
    monkeypatch.setenv("ESTATEHUB_HOME", str(tmp_path))
    args = _parser().parse_args(["sync", "ledger", "--warehouse-url", f"sqlite:///{tmp_path / 'w.db'}"])
    assert args.func(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["fetched"] > 1000 and result["quarantined"] == 0
    assert set(result["streams"]) == {"vouchers", "receipts", "refunds", "invoices"}


def test_the_ledger_dag_runs_hourly_in_business_hours_and_emits_its_assets() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(Path(__file__).resolve().parents[2] / "dags" / "ledger_sync.py"))
    assert bag.import_errors == {}
    dag = bag.dags["ledger_sync"]
    assert dag.timetable.expression == "20 9-18 * * *"
    assert str(dag.timetable.timezone) == "Asia/Shanghai"
    sync = dag.get_task("sync_ledger")
    assert sync.pool == "warehouse"
    assert {asset.uri for asset in sync.outlets} == {
        "estatehub://warehouse/core_receipt",
        "estatehub://warehouse/core_invoice",
    }
    assert dag.task_ids == ["sync_ledger"]  # the sync brings the warehouse to head itself
