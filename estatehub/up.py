"""`make up`: Airflow standalone over the sandbox, the DAGs unpaused, the simulated clock moving.

Starts the sandbox (as the demo does), points the Connections at it and at a SQLite warehouse in the
data folder, creates the `warehouse` pool and runs `airflow standalone` (api-server and UI at
http://127.0.0.1:8080, scheduler, dag-processor, triggerer) with every DAG unpaused. Once the API
answers it triggers each DAG once (the trading network first), so there are runs and task logs to look
at at any hour; after that the DAGs' own schedules run them. Meanwhile the sandbox's clock moves: it
starts at 09:00 on a business day of the world and runs `speed` times faster than the wall clock
(default 60: one simulated hour a minute), so every run sees new contracts, loans and receipts.
Ctrl-C (or SIGTERM) stops Airflow and the sandbox.

The UI and API need no login: the simple auth manager makes every visitor an admin, and everything
listens on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from estatehub import settings
from estatehub.demo import (
    DEFAULT_LAST_DAY,
    POOLS,
    SandboxProcess,
    airflow_command,
    airflow_env,
    at_sync_hour,
    run_logged,
)

FIRST_DAG = "trading_network_sync"  # the others link what they load to its contracts
DAG_IDS = ("trading_network_sync", "bank_loans_sync", "bank_statements_sync", "ledger_sync", "policy_monitor")


@dataclass(frozen=True)
class UpOptions:
    units: int = 300
    seed: int = 7
    port: int = 8080
    speed: float = 60.0
    home: Path | None = None


class AirflowApi:
    """Airflow 3's REST API (`/api/v2`) with a JWT from the simple auth manager's `/auth/token`
    (POST with user and password, or GET when every visitor is an admin)."""

    def __init__(self, base_url: str, username: str | None = None, password: str | None = None) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        if username is None:
            response = requests.get(f"{base_url}/auth/token", timeout=30)
        else:
            body = {"username": username, "password": password}
            response = requests.post(f"{base_url}/auth/token", json=body, timeout=30)
        response.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def request(
        self, method: str, path: str, body: dict | None = None, *, idempotent: bool = False, **params: Any
    ) -> Any:
        """One call; a read (GET), an idempotent change (PATCH) or a POST the caller makes idempotent is tried
        up to five times when the api-server is slow to answer or fails with a 5xx (a busy standalone on
        SQLite), any other POST once."""
        attempts = 1 if method == "POST" and not idempotent else 5
        for attempt in range(1, attempts + 1):
            try:
                response = self.session.request(
                    method, f"{self.base_url}/api/v2{path}", json=body, params=params, timeout=60
                )
            except (requests.ConnectionError, requests.Timeout):
                if attempt == attempts:
                    raise
                time.sleep(2 * attempt)
                continue
            # a 5xx of a busy standalone on SQLite ("database is locked") is worth the same call again
            if response.status_code < 500 or attempt == attempts:
                break
            time.sleep(2 * attempt)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, **params)

    def dag_ids(self) -> list[str]:
        return sorted(dag["dag_id"] for dag in self.get("/dags", limit=100)["dags"])

    def unpause_and_trigger(self, dag_id: str) -> str:
        """Unpause `dag_id` and start a run now; the run's id."""
        self.request("PATCH", f"/dags/{dag_id}", {"is_paused": False})
        # the run's id is ours, so the POST can be repeated: a repeat of one that did create the run is a 409
        run_id = f"manual__estatehub_up__{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
        try:
            self.request(
                "POST", f"/dags/{dag_id}/dagRuns", {"logical_date": None, "dag_run_id": run_id}, idempotent=True
            )
        except RuntimeError as exc:
            if " 409 " not in str(exc):
                raise
        return run_id

    def dag_runs(self, dag_id: str) -> list[dict]:
        return self.get(f"/dags/{dag_id}/dagRuns", limit=100)["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=100)["task_instances"]


def api_healthy(base_url: str) -> bool:
    try:
        return requests.get(f"{base_url}/api/v2/monitor/health", timeout=5).status_code == 200
    except requests.RequestException:
        return False


class SimulatedClock(threading.Thread):
    """Moves the sandbox's clock: `start` plus `speed` times the wall time gone by, never past `end`."""

    def __init__(self, sandbox: SandboxProcess, start: datetime, end: datetime, speed: float, every: float = 5.0):
        super().__init__(name="simulated-clock", daemon=True)
        self.sandbox, self.start_at, self.end_at, self.speed, self.every = sandbox, start, end, speed, every
        self.started_wall = time.monotonic()
        self.stopped = threading.Event()

    def now(self) -> datetime:
        moved = timedelta(seconds=(time.monotonic() - self.started_wall) * self.speed)
        return min(self.start_at + moved, self.end_at)

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            # the sandbox stopping, or busy: the next tick tries again
            with contextlib.suppress(requests.RequestException):
                self.sandbox.set_clock(self.now())


def process_table() -> list[tuple[int, int, int, str]]:
    """(pid, parent pid, process group, state) of every process, from `ps`."""
    out = subprocess.run(["ps", "-eo", "pid=,ppid=,pgid=,stat="], capture_output=True, text=True, check=False).stdout
    rows = []
    for line in out.splitlines():
        pid, ppid, pgid, stat = line.split(None, 3)
        rows.append((int(pid), int(ppid), int(pgid), stat.strip()))
    return rows


def descendants(pid: int, groups: set[int] | None = None) -> set[int]:
    """Every live process below `pid` (children, their children, ...), and every live process of the
    process groups `groups` (what a process that died first left behind is adopted by init but keeps its
    group). Zombies are left out: they have exited, only their parent's wait is missing."""
    rows = [row for row in process_table() if not row[3].startswith("Z")]
    children: dict[int, list[int]] = {}
    for child, parent, _group, _state in rows:
        children.setdefault(parent, []).append(child)
    found: set[int] = {child for child, _parent, group, _state in rows if groups and group in groups}
    todo = [pid, *found]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    found.discard(os.getpid())
    return found


def signal_all(pids: set[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def stop_tree(proc: subprocess.Popen, timeout: float = 30) -> None:
    """Stop `proc` (standalone) and every process it started: SIGTERM to its process group and to what it
    started in groups of their own (the api-server's workers, the executor's), again to whatever appears
    while they stop (a task the executor was starting), then SIGKILL to whatever is left after `timeout`.

    Standalone runs in a process group of its own, so that Ctrl-C in a terminal reaches this process
    only, which then stops Airflow and the sandbox in order. Orphans are found by process group: a
    worker whose parent died first is adopted by init and is no longer below `proc`."""
    groups = {proc.pid}
    signalled: set[int] = set()
    deadline = time.monotonic() + timeout
    while True:
        live = descendants(proc.pid, groups)
        if proc.poll() is None:
            live.add(proc.pid)
        groups |= {group for pid, _parent, group, _state in process_table() if pid in live}
        if not live:
            break
        if time.monotonic() > deadline:
            signal_all(live, signal.SIGKILL)
            time.sleep(0.5)
            if not descendants(proc.pid, groups) and proc.poll() is not None:
                break
            deadline += 5  # what a SIGKILL did not take yet; the next pass kills it again
            continue
        signal_all(live - signalled, signal.SIGTERM)
        signalled |= live
        time.sleep(0.5)
    proc.wait()


def run_up(options: UpOptions) -> int:
    from estatehub.connections import embedded_pii_key

    home = (options.home or settings.data_dir() / "up").resolve()
    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    pii_key = embedded_pii_key(home / "pii.key").decode()
    print(f"estatehub up: {options.units} units, seed {options.seed}; logs in {logs}", flush=True)
    sandbox = SandboxProcess(options.units, options.seed, logs / "sandbox.log", home / "mail")
    standalone: subprocess.Popen | None = None
    clock: SimulatedClock | None = None
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {signum: signal.signal(signum, on_signal) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        end_on = date.fromisoformat(sandbox.world["end_on"])
        last_day = min(DEFAULT_LAST_DAY, end_on)
        start = datetime.combine(last_day - timedelta(days=2), datetime.min.time(), settings.BUSINESS_TZ)
        start = start.replace(hour=9)
        sandbox.set_clock(start)
        clock = SimulatedClock(sandbox, start, at_sync_hour(end_on), options.speed)
        clock.start()

        base_url = f"http://127.0.0.1:{options.port}"
        env = airflow_env(home, sandbox, home / "warehouse.db", pii_key)
        env.update(
            {
                # standalone starts its components as `airflow ...` by name: the venv's first on the path
                "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(options.port),
                "AIRFLOW__API__BASE_URL": base_url,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            }
        )
        run_logged(airflow_command("db", "migrate"), env, logs / "airflow-db-migrate.log", "airflow db migrate")
        for pool, description in POOLS.items():
            run_logged(airflow_command("pools", "set", pool, "1", description), env, logs / "pool.log", "pools set")
        with open(logs / "standalone.log", "w", encoding="utf-8") as log:
            standalone = subprocess.Popen(
                airflow_command("standalone"), env=env, stdout=log, stderr=subprocess.STDOUT, process_group=0
            )
        deadline = time.monotonic() + 300
        while not api_healthy(base_url):
            if stop.is_set() or standalone.poll() is not None or time.monotonic() > deadline:
                print(f"estatehub up: Airflow did not start; see {logs / 'standalone.log'}", flush=True)
                return 1
            time.sleep(1)
        api = AirflowApi(base_url)
        while set(api.dag_ids()) < set(DAG_IDS):
            if stop.wait(2) or standalone.poll() is not None:
                return 1
        for dag_id in (FIRST_DAG, *(d for d in DAG_IDS if d != FIRST_DAG)):
            api.unpause_and_trigger(dag_id)
            if dag_id == FIRST_DAG:  # contracts first: loans and receipts link to them
                while not stop.is_set() and any(r["state"] in {"queued", "running"} for r in api.dag_runs(dag_id)):
                    stop.wait(2)
        print(f"Airflow at {base_url} (no login: every visitor is an admin, on 127.0.0.1 only)", flush=True)
        print(f"sandbox clock from {start:%Y-%m-%d %H:%M}, {options.speed:g}x; Ctrl-C stops everything", flush=True)
        print("READY", flush=True)
        while not stop.wait(1):
            if standalone.poll() is not None:
                print(f"estatehub up: Airflow stopped; see {logs / 'standalone.log'}", flush=True)
                return 1
        return 0
    finally:
        if clock is not None:
            clock.stopped.set()
        if standalone is not None:
            stop_tree(standalone)
        sandbox.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        print("estatehub up: stopped", flush=True)
