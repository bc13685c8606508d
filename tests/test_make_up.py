"""`make up` (`estatehub up`): Airflow standalone over the sandbox, a person's view of real runs.

Started as `make up` starts it (a smaller world, a free port); once it says READY, headless Chromium
loads the DAGs page and the log of one trading-network run, both saved as screenshots; then Ctrl-C
(SIGINT) stops it, and nothing of what it started is left running."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is missing: `make test` installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (`make test` installs it)")
    return found


def render(browser: str, url: str, screenshot: Path) -> str:
    """The page's DOM after its scripts ran, and a screenshot of it."""
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1400,1000"]
    common += ["--virtual-time-budget=20000", f"--user-data-dir={screenshot.parent / 'chromium-profile'}"]
    subprocess.run([*common, f"--screenshot={screenshot}", url], capture_output=True, timeout=120, check=False)
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=False)
    return dom.stdout


def test_make_up_shows_runs_and_a_task_log_in_the_browser_and_stops_on_ctrl_c(tmp_path):
    browser = chromium()
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW_CONN_", "AIRFLOW__"))}
    env.pop("AIRFLOW_HOME", None)
    env["ESTATEHUB_HOME"] = str(tmp_path / "data")
    command = [sys.executable, "-m", "estatehub", "up", "--units", "60", "--port", str(port), "--speed", "600"]
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.strip() == "READY":
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 420
        while not ready.wait(1) and proc.poll() is None and time.monotonic() < deadline:
            pass
        reader.join(5)
        assert ready.is_set(), "estatehub up did not get READY:\n" + "".join(lines)[-3000:]
        base_url = f"http://127.0.0.1:{port}"
        assert any(base_url in line and "no login" in line for line in lines), "it says where and how to log in"

        from estatehub.up import AirflowApi

        api = AirflowApi(base_url)
        run = next(r for r in api.dag_runs("trading_network_sync") if r["state"] == "success")
        assert not any(dag["is_paused"] for dag in api.get("/dags")["dags"]), "every DAG is unpaused"

        dags_dom = render(browser, f"{base_url}/dags", tmp_path / "dags.png")
        for dag_id in ("trading_network_sync", "bank_loans_sync", "ledger_sync", "policy_monitor"):
            assert dag_id in dags_dom, f"the DAGs page lists {dag_id}"
        log_url = f"{base_url}/dags/trading_network_sync/runs/{quote(run['dag_run_id'], safe='')}/tasks/sync_contracts"
        log_dom = render(browser, log_url, tmp_path / "log.png")
        assert "sync trading_network/contracts:" in log_dom, "the run's task log shows the sync's summary line"
        assert (tmp_path / "dags.png").stat().st_size > 10_000 and (tmp_path / "log.png").stat().st_size > 10_000
        shots = os.environ.get("ESTATEHUB_SCREENSHOTS")
        if shots:  # to look at them: ESTATEHUB_SCREENSHOTS=/some/folder
            for name in ("dags.png", "log.png"):
                shutil.copy(tmp_path / name, Path(shots) / name)

        started = time.monotonic()
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert proc.wait(timeout=90) == 0, "".join(lines)[-3000:]
        reader.join(10)
        assert "estatehub up: stopped" in "".join(lines)
        assert time.monotonic() - started < 90
        assert not session_members(proc.pid), "nothing it started is left (Airflow, the sandbox)"
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, "the UI's port is closed"
    finally:
        for member in session_members(proc.pid):  # what a failed run left: its own session, started here
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(member.split()[0]), signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def session_members(sid: int) -> list[str]:
    """The live processes of session `sid` (the test starts `estatehub up` as a session of its own), as
    `pid stat command` lines. Zombies are left out: they have exited, and init in a container may be
    slow to reap what it adopted."""
    out = subprocess.run(["ps", "-eo", "pid=,sid=,stat=,args="], capture_output=True, text=True, check=True).stdout
    members = []
    for line in out.splitlines():
        pid, session, stat, args = (line.split(None, 3) + [""])[:4]
        if int(session) == sid and not stat.startswith("Z"):
            members.append(f"{pid} {stat} {args[:200]}")
    return members
