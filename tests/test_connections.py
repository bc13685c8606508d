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


# Every command that runs no DAG, run for real against an empty SQLite warehouse (those that need a
# server or a file are run too: they fail on the missing Connection or file, after their imports; so do
# those that send mail, before the provider's SMTP hook, the one piece of Airflow they use, is loaded).
# `{w}` is the warehouse URL, `{tmp}` the test's folder. `demo` and `up` run Airflow: not here.
RUNS_NO_DAG = [
    "warehouse upgrade --url {w}",
    "quarantine list --url {w}",
    "quarantine dismiss 1 --by bench --note n --url {w}",
    "breaks list --url {w}",
    "breaks ack nokey --note n --url {w}",
    "breaks resolve nokey --how h --url {w}",
    "contracts in-state --state 已签 --on 2026-03-31 --url {w}",
    "quality check --as-of 2026-03-31 --url {w}",
    "reconcile --from 2026-03-01 --to 2026-03-31 --url {w}",
    "worklists build --date 2026-03-31 --url {w}",
    "report finance --date 2026-03-31 --out {tmp} --url {w}",
    "report kpi --month 2026-03 --out {tmp} --url {w}",
    "report digests --date 2026-03-31 --out {tmp} --url {w}",
    "sync trading-network --warehouse-url {w}",
    "sync unit-inventory --warehouse-url {w}",
    "sync ledger --warehouse-url {w}",
    "sync banks --warehouse-url {w}",
    "import-statement {tmp}/missing.csv --bank icbc --warehouse-url {w}",
    "import-inventory {tmp}/missing.csv --warehouse-url {w}",
    "report kpi --month 2026-03 --out {tmp} --send --url {w}",
    "policy validate",
    "policy check --warehouse-url {w}",
    "sandbox generate --units 5 --out {tmp}/world.sqlite",
]
RUNS_AIRFLOW = {"demo", "up"}

# In one fresh interpreter: `--help` of every command, then each command of RUNS_NO_DAG; after each,
# whether Airflow is loaded. Prints the first command that loaded it, or CLEAN.
PROBE = """\
import argparse, shlex, sys
from estatehub.cli import build_parser, main

def leaves(parser, prefix=()):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield prefix
    else:
        for name, sub in subs[0].choices.items():
            yield from leaves(sub, (*prefix, name))

def loaded():
    return any(m == "airflow" or m.startswith("airflow.") for m in sys.modules)

commands = [[*leaf, "--help"] for leaf in leaves(build_parser()) if leaf[0] not in {airflow!r}]
commands += [shlex.split(line) for line in sys.argv[1:]]
print("LEAVES", len(commands) - len(sys.argv[1:]))
for argv in commands:
    try:
        main(argv)
    except SystemExit:
        pass
    if loaded():
        print("AIRFLOW after", " ".join(argv))
        break
else:
    print("CLEAN")
"""


def test_no_command_that_runs_no_dag_imports_airflow(tmp_path):
    """The issue-13 promise: every command-line call that does not run Airflow starts (and runs)
    without importing it — so it starts in a fraction of a second and works where Airflow is absent."""
    warehouse = f"sqlite:///{tmp_path / 'warehouse.db'}"
    runs = [line.format(w=warehouse, tmp=tmp_path) for line in RUNS_NO_DAG]
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "ESTATEHUB_HOME": str(tmp_path / "var"),
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(airflow=RUNS_AIRFLOW), *runs],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = result.stdout.strip().splitlines()
    leaves = int(next(line for line in lines if line.startswith("LEAVES")).split()[1])
    assert leaves >= 20, result.stdout + result.stderr  # every command's parser was walked
    assert lines[-1] == "CLEAN", result.stdout[-3000:] + result.stderr[-3000:]
