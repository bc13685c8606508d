"""Every command-line call that does not run Airflow starts without importing it (issue 13): the help,
the warehouse, contract and quarantine commands, the watch-file check and a real sync against the
sandbox's trading network. `python -X importtime` lists every module a process imports; no line may
name `airflow` (Airflow is imported only by `estatehub demo`, by the DAGs, and by `policy check`,
which sends mail through the SMTP provider's hook, docs/decisions/0009)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from sandbox.serve import DEFAULT_ACCOUNT, DEFAULT_PASSWORD

# `import time: self [us] | cumulative | imported package`, the package indented by its depth
AIRFLOW_IMPORT = re.compile(r"^import time:.*\|\s+(airflow(\.\S+)?)\s*$", re.MULTILINE)


def airflow_imports(args: list[str], env: dict[str, str]) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "estatehub", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"estatehub {' '.join(args)}: {result.stderr[-2000:]}"
    assert "import time:" in result.stderr, "-X importtime lists the imports"
    return [match.group(1) for match in AIRFLOW_IMPORT.finditer(result.stderr)]


@pytest.fixture
def cli_env(tmp_path, tn_server) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW_CONN_", "AIRFLOW__"))}
    env["AIRFLOW_HOME"] = str(tmp_path / "airflow")  # no airflow.cfg: Connections come from the environment
    env["ESTATEHUB_HOME"] = str(tmp_path / "home")
    env["AIRFLOW_CONN_TRADING_NETWORK"] = json.dumps(
        {"conn_type": "http", "host": tn_server.url, "login": DEFAULT_ACCOUNT, "password": DEFAULT_PASSWORD}
    )
    return env


def test_commands_that_do_not_run_airflow_never_import_it(cli_env, tmp_path):
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    calls = [
        ["--help"],
        ["sync", "trading-network", "--help"],
        ["warehouse", "upgrade", "--url", url],
        ["sync", "trading-network", "--warehouse-url", url],
        ["contracts", "in-state", "--state", "已签", "--on", "2026-03-31", "--url", url],
        ["quarantine", "list", "--url", url],
        ["policy", "validate"],
    ]
    imported = {" ".join(args): airflow_imports(args, cli_env) for args in calls}
    assert imported == {call: [] for call in imported}


def test_the_check_sees_an_airflow_import(cli_env):
    """The check itself: a call that does import Airflow (the demo's help builds on it) is seen."""
    env = cli_env | {"PYTHONSTARTUP": ""}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import airflow.sdk"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert AIRFLOW_IMPORT.search(result.stderr), "the pattern finds an airflow import in -X importtime output"
