"""The command line reads `AIRFLOW_CONN_<ID>` exactly as Airflow does, and starts without importing Airflow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from estatehub.connections import ConnectionConfigError, get_connection, parse_env_connection

PROJECT_ROOT = Path(__file__).resolve().parent.parent

VALUES = [
    "http://dev-sandbox:sandbox-only-password@127.0.0.1:8081?timeout=10&page_size=50",
    "https://ACCOUNT:P%40ss%2Fword@gateway.example.gov.cn:443",
    "postgresql://estatehub:secret@db:5432/estatehub",
    "postgres://u@h/db?__extra__=%7B%22pii_key%22%3A+%22k%22%7D",
    "smtp://user:pass@smtp.example.com:587",
    "smtp://127.0.0.1:1025",
    "http://https%3A%2F%2Ferp.example.com%2Fk3cloud",
    "generic-type://host",
    "sqlite://%2Ftmp%2Fwarehouse.db",
    "http://user@host/path/with%20space?x=1&x=2&empty=",
    json.dumps({"conn_type": "sqlite", "host": "/tmp/w.db", "extra": {"pii_key": "k" * 32}}),
    json.dumps({"conn_type": "postgresql", "host": "db", "port": "5432", "schema": "estatehub", "login": "e"}),
    json.dumps({"conn_type": "http", "host": "https://api.bank.example", "login": "APP", "password": "SECRET"}),
]


@pytest.mark.parametrize("value", VALUES)
def test_an_environment_connection_reads_as_airflow_reads_it(value, monkeypatch):
    from airflow.sdk.definitions.connection import Connection

    theirs = Connection.from_json(value, conn_id="x") if value.startswith("{") else Connection.from_uri(value, "x")
    ours = parse_env_connection("x", value)
    for name in ("conn_type", "host", "login", "password", "port", "schema"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.extra_dejson == theirs.extra_dejson


def test_get_connection_takes_the_environment_first(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_FINANCE_LEDGER", "http://u:p@erp.example.com:8080/k3cloud")
    conn = get_connection("finance_ledger")
    assert (conn.host, conn.port, conn.schema, conn.login, conn.password) == (
        "erp.example.com",
        8080,
        "k3cloud",
        "u",
        "p",
    )


def test_a_connection_that_is_neither_json_nor_a_uri_is_a_clear_error(monkeypatch):
    with pytest.raises(ConnectionConfigError, match="expected JSON or a URI"):
        parse_env_connection("warehouse", "not a connection")
    with pytest.raises(ConnectionConfigError, match="bad JSON"):
        parse_env_connection("warehouse", "{not json")


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["import-statement", "--help"],
        ["warehouse", "upgrade"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_a_command_that_runs_no_dag_does_not_import_airflow(argv, tmp_path):
    code = (
        "import sys\n"
        "from estatehub.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('AIRFLOW' if any(m == 'airflow' or m.startswith('airflow.') for m in sys.modules) else 'CLEAN')\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "ESTATEHUB_HOME": str(tmp_path / "var"),
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.strip().splitlines()[-1] == "CLEAN", result.stdout + result.stderr
