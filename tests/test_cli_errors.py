"""Every error a user or an outside system can cause prints one or two readable lines and exits non-zero;
`--debug` shows the traceback (issue 10, item 12)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import TEST_PII_KEY

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def run_cli(*argv: str, tmp_path: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "ESTATEHUB_HOME": str(tmp_path / "var"),
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    return subprocess.run(
        [sys.executable, "-m", "estatehub", *argv],
        cwd=tmp_path,
        env=base | (env or {}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_readable(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode not in (0, None), result
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip() and " WARNING " not in line]
    lines = [line for line in lines if " ERROR " not in line]  # the log of a failed run, before the error itself
    assert 1 <= len(lines) <= 4, result.stderr  # argparse's usage lines + its error, or our two lines
    for word in words:
        assert word in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("mysql://user@localhost/db", ["SQLite or PostgreSQL", "'mysql'"]),
        ("postgresql://postgres@127.0.0.1:9/x", ["could not be reached", "Connection refused"]),
        ("postgresql://postgres@127.0.0.1:5432/estatehub_no_such_db", ["does not exist"]),
        ("not-a-url://", ["warehouse URL"]),
    ],
    ids=["mysql", "refused port", "missing database", "bad url"],
)
def test_a_warehouse_that_cannot_be_used_is_one_readable_error(url, words, tmp_path):
    assert_readable(run_cli("warehouse", "upgrade", "--url", url, tmp_path=tmp_path), *words)
    debug = run_cli("--debug", "warehouse", "upgrade", "--url", url, tmp_path=tmp_path)
    assert debug.returncode != 0 and "Traceback" in debug.stderr, debug.stderr


def test_a_file_that_is_not_a_database_is_one_readable_error(tmp_path):
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("these are notes, not a database\n" * 100)
    result = run_cli(
        "contracts",
        "in-state",
        "--state",
        "已签",
        "--on",
        "2026-03-31",
        "--url",
        f"sqlite:///{not_a_db}",
        tmp_path=tmp_path,
    )
    assert_readable(result, "not a database")
    debug = run_cli(*result.args[3:], tmp_path=tmp_path, env={"ESTATEHUB_DEBUG": "1"})
    assert debug.returncode != 0 and "Traceback" in debug.stderr, debug.stderr


def test_a_date_out_of_range_is_a_usage_error(tmp_path):
    result = run_cli("contracts", "in-state", "--state", "已签", "--on", "9999-12-31", tmp_path=tmp_path)
    assert result.returncode == 2
    assert_readable(result, "between 1990-01-01 and 2199-12-31")


def test_an_empty_warehouse_answers_with_no_contracts(tmp_path):
    result = run_cli("contracts", "in-state", "--state", "已签", "--on", "2026-03-31", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("0 contracts")


class _Refusing(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the standard library's name
        body = json.dumps({"code": 40101, "message": "账号或密码错误"}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_source_that_refuses_the_login_is_one_readable_error_and_debug_shows_the_traceback(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {
            "AIRFLOW_CONN_TRADING_NETWORK": f"http://acct:wrong@127.0.0.1:{server.server_port}?timeout=5",
            "AIRFLOW_CONN_WAREHOUSE": json.dumps(
                {"conn_type": "sqlite", "host": str(tmp_path / "w.db"), "extra": {"pii_key": TEST_PII_KEY.decode()}}
            ),
        }
        result = run_cli("sync", "trading-network", tmp_path=tmp_path, env=env)
        assert_readable(result, "login")
        assert "wrong" not in result.stderr, "the password is never shown"
        debug = run_cli("--debug", "sync", "trading-network", tmp_path=tmp_path, env=env)
        assert debug.returncode != 0 and "Traceback" in debug.stderr
    finally:
        server.shutdown()


def test_a_source_that_is_down_is_one_readable_error_and_debug_shows_the_traceback(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on: the network is down
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        "AIRFLOW_CONN_TRADING_NETWORK": f"http://acct:secret-pw@127.0.0.1:{port}?timeout=2",
        "AIRFLOW_CONN_WAREHOUSE": json.dumps(
            {"conn_type": "sqlite", "host": str(tmp_path / "w.db"), "extra": {"pii_key": TEST_PII_KEY.decode()}}
        ),
    }
    result = run_cli("sync", "trading-network", tmp_path=tmp_path, env=env)
    assert_readable(result, "broken connection", "run again later")
    assert "secret-pw" not in result.stderr, "the password is never shown"
    debug = run_cli("--debug", "sync", "trading-network", tmp_path=tmp_path, env=env)
    assert debug.returncode != 0 and "Traceback" in debug.stderr
