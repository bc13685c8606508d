"""The demo: the real Airflow DAG against the sandbox, over several simulated days, on the embedded default.

Steps: generate (or reuse) the simulated world; start the sandbox servers in a child process; point
the Connections (`AIRFLOW_CONN_*`) at them and at a SQLite warehouse; `airflow db migrate`; then for
each simulated business day move the sandbox clock to 18:00 and run `airflow dags test
trading_network_sync` (two of the days with faults injected, to show retries and quarantine); after the
first day, import the developer's unit inventory file that the sandbox writes for one project (with
planted differences from the network's building tables) and say where its differences are listed;
finally print a summary read from the warehouse and stop the servers. Everything stays in the demo folder.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from urllib.parse import quote

import requests

from estatehub import settings

DAG_ID = "trading_network_sync"
DEFAULT_LAST_DAY = date(2025, 6, 30)  # in the busy first months of sales
SYNC_HOUR = dtime(18, 0)

# Faults the sync must ride through. The first day's run is the initial load (many pages): the
# network throttles, fails, repeats a record across pages and sends two malformed records, which are
# quarantined. The third day's run meets an expired token and a gateway error.
CONTRACTS_PATH = "/api/v1/contracts"
DEMO_FAULTS = {
    0: [
        {"kind": "rate_limit", "path": CONTRACTS_PATH, "every": 3, "retry_after": 1},
        {"kind": "http_503", "path": CONTRACTS_PATH, "after": 1, "times": 2},
        {"kind": "duplicate", "path": CONTRACTS_PATH},
        {"kind": "malformed", "path": CONTRACTS_PATH, "after": 2, "times": 2, "count": 1},
    ],
    2: [
        {"kind": "expire_tokens", "path": CONTRACTS_PATH, "times": 1},
        {"kind": "http_502", "path": CONTRACTS_PATH, "times": 1},
    ],
}
DEMO_PAGE_SIZE = 50
BANK_CODES = ("icbc", "ccb", "cmb", "hpf")
# on the last days, after the trading network (loans and receipts need contracts to link to): the
# banks, the fund centre and the ledger, then the reconciliation and its finance report
LAST_DAY_DAGS = ("bank_loans_sync", "bank_statements_sync", "ledger_sync")
RECONCILE_DAG = "reconciliation"
RECONCILE_DAYS = 2  # so that breaks are new on the first, aged or closed on the second
# after each reconciliation: the specialists' work lists, and each person's digest mailed
WORK_LISTS_DAG = "work_lists"
# on the last day, after the reconciliation (they read its receivables mart and breaks): the manager's
# KPI report of the week (sent to the sandbox's mail relay), and written as files
REPORT_DAGS = ("kpi_report",)
# every task that writes the warehouse runs in this pool (the bank tasks too: they write what they fetch)
POOLS = {settings.WAREHOUSE_POOL: "serialises warehouse writes"}


@dataclass(frozen=True)
class DemoOptions:
    units: int = 300
    seed: int = 7
    days: int = 5
    last_day: date | None = None
    home: Path | None = None


class DemoError(RuntimeError):
    """A demo step that failed; the message names the step and the log to read."""


def read_ready(lines: Iterable[str]) -> dict[str, str]:
    """The `name=value` lines a serving sandbox prints (`sandbox.serve.world_lines`), up to `READY`.

    Raises `RuntimeError` when the output ends before `READY` (the process stopped)."""
    values: dict[str, str] = {}
    for line in lines:
        line = line.strip()
        if line == "READY":
            return values
        name, _, value = line.partition("=")
        if value:
            values[name] = value
    raise RuntimeError("the sandbox stopped before it was ready")


def serve_command(units: int, seed: int, account: str, password: str, world: Path | None = None) -> list[str]:
    """The arguments of `estatehub sandbox serve` with the demo's account. `--name=value`: a generated
    password may begin with `-`, which as a separate argument reads as an option. `world`: a world file
    to serve (e.g. one generated `--clean`) instead of the one `units` and `seed` name."""
    return [
        "sandbox",
        "serve",
        "--units",
        str(units),
        "--seed",
        str(seed),
        f"--account={account}",
        f"--password={password}",
        *([f"--world={world}"] if world is not None else []),
    ]


class SandboxProcess:
    """`python -m estatehub sandbox serve` as a child process, logged in with the demo's own account; its
    URLs, the world it serves and the banks' credentials read from what it prints (the hub never
    imports the sandbox: it talks to it as to the real systems)."""

    def __init__(
        self, units: int, seed: int, log_path: Path, mail_dir: Path | None = None, world: Path | None = None
    ) -> None:
        self.log_path = log_path
        self.account, self.password = "estatehub-demo", secrets.token_urlsafe(16)
        self._log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "estatehub",
                *serve_command(units, seed, self.account, self.password, world),
                *([f"--mail-dir={mail_dir}"] if mail_dir is not None else []),
            ],
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=os.environ.copy(),
        )
        assert self.proc.stdout is not None
        try:
            ready = read_ready(self.proc.stdout)
        except RuntimeError as exc:
            raise DemoError(f"{exc}; see {log_path}") from exc
        self.urls = {name: value for name, value in ready.items() if value.startswith("http")}
        self.smtp = ready.get("smtp", "")  # smtp://127.0.0.1:PORT, the mail relay keeping .eml files
        self.world_path = ready.get("world", "?")
        self.world = {name.removeprefix("world."): value for name, value in ready.items() if name.startswith("world.")}
        self.credentials = {
            name.removeprefix("credentials."): tuple(value.split(":", 1))
            for name, value in ready.items()
            if name.startswith("credentials.")
        }

    def set_clock(self, when: datetime) -> None:
        """Move every server that follows the world's clock (the bureau's site keeps its own period)."""
        for name in ("trading_network", "ledger", *BANK_CODES):
            response = requests.post(f"{self.urls[name]}/_sandbox/clock", json={"now": when.isoformat()}, timeout=120)
            response.raise_for_status()

    def set_faults(self, rules: dict) -> None:
        response = requests.post(f"{self.urls['trading_network']}/_sandbox/faults", json=rules, timeout=10)
        response.raise_for_status()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._log.close()


def business_days(last_day: date, days: int) -> list[date]:
    return [last_day - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def at_sync_hour(day: date) -> datetime:
    return datetime.combine(day, SYNC_HOUR, tzinfo=settings.BUSINESS_TZ)


def bank_connections(sandbox: SandboxProcess) -> dict[str, str]:
    """`AIRFLOW_CONN_BANK_<CODE>`: each bank's URL with the app id and secret the sandbox gave it."""
    connections = {}
    for code in BANK_CODES:
        app_id, secret = sandbox.credentials[code]
        connections[f"AIRFLOW_CONN_BANK_{code.upper()}"] = json.dumps(
            {"conn_type": "http", "host": sandbox.urls[code], "login": app_id, "password": secret}
        )
    return connections


def warehouse_connection(warehouse: Path | str, pii_key: str) -> str:
    """`AIRFLOW_CONN_WAREHOUSE` as JSON: a SQLite file (a path) or any SQLAlchemy URL (a string with
    `://`, e.g. PostgreSQL), with the PII key."""
    if isinstance(warehouse, str) and "://" in warehouse:
        return json.dumps({"conn_type": "postgres", "extra": {"url": warehouse, "pii_key": pii_key}})
    return json.dumps({"conn_type": "sqlite", "host": str(warehouse), "extra": {"pii_key": pii_key}})


def airflow_env(home: Path, sandbox: SandboxProcess, warehouse: Path | str, pii_key: str) -> dict[str, str]:
    """Environment of the Airflow commands: SQLite metadata in the demo folder, the Connections; the
    warehouse a SQLite file (a path) or a SQLAlchemy URL (`warehouse_connection`). The production
    test and `make up` start from the same environment and add their own settings.

    As in the official image, nothing puts the project root on the path: estatehub is installed (`pip
    install -e .`), and Airflow puts the plugins folder on the path itself (the DAGs import `hooks`,
    `dag_defaults` by their own names)."""
    root = settings.PROJECT_ROOT
    urls = sandbox.urls
    login = f"{quote(sandbox.account, safe='')}:{quote(sandbox.password, safe='')}"
    trading_network = urls["trading_network"].replace("http://", f"http://{login}@")
    env = os.environ.copy()
    env.update(
        {
            "AIRFLOW_HOME": str(home / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(root / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Shanghai",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "airflow" / "logs"),
            "AIRFLOW_CONN_TRADING_NETWORK": f"{trading_network}?timeout=10&page_size={DEMO_PAGE_SIZE}",
            "AIRFLOW_CONN_WAREHOUSE": warehouse_connection(warehouse, pii_key),
            # the sandbox's mail relay (plain SMTP on loopback): failure mails and the finance report
            # (without it, a local relay that nothing may listen on: a failure mail is then only logged)
            "AIRFLOW_CONN_SMTP_DEFAULT": f"{sandbox.smtp or 'smtp://127.0.0.1:1025'}?disable_ssl=true&disable_tls=true",
            "ESTATEHUB_HOME": str(home),
            # `airflow dags test` (3.3.2) cannot finish a run of a DAG with a Deadline Alert (dags/reconciliation.py)
            "ESTATEHUB_DEADLINE_ALERTS": "0",
            "AIRFLOW_CONN_FINANCE_LEDGER": json.dumps(
                {"conn_type": "http", "host": urls["ledger"], "login": sandbox.account, "password": sandbox.password}
            ),
            # the policy monitor reads the sandbox's bureau site instead of the watch file's real one
            "AIRFLOW_CONN_BUREAU_SITE": json.dumps({"conn_type": "http", "host": urls["bureau"]}),
            **bank_connections(sandbox),
        }
    )
    return env


def run_logged(command: list[str], env: dict[str, str], log_path: Path, step: str) -> None:
    with open(log_path, "w", encoding="utf-8") as log_file:
        result = subprocess.run(command, env=env, stdout=log_file, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        raise DemoError(f"{step} failed (exit {result.returncode}); see {log_path}")


def import_developer_inventory(sandbox: SandboxProcess, env: dict[str, str], home: Path, when: datetime) -> Path:
    """The developer's 一房一价 table of one project, written by the sandbox from the world at `when` with
    a few planted differences (a unit repriced, a unit held back, a parking space missing), imported
    and checked against the building tables the sync just loaded; returns the log listing them."""
    path = home / "inventory" / "一房一价.csv"
    logs = home / "logs"
    run_logged(
        [sys.executable, "-m", "estatehub", "sandbox", "inventory-file", "--world", sandbox.world_path]
        + ["--at", when.isoformat(), "--out", str(path)],
        env,
        logs / "sandbox-inventory-file.log",
        "estatehub sandbox inventory-file",
    )
    listed = logs / "import-inventory.log"
    run_logged(
        [sys.executable, "-m", "estatehub", "import-inventory", str(path)], env, listed, "estatehub import-inventory"
    )
    return listed


def airflow_command(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "airflow"), *args]


def run_demo(options: DemoOptions) -> int:
    from estatehub.connections import embedded_pii_key
    from estatehub.demo_summary import (
        count_runs,
        print_bank_lines,
        print_reconciliation_line,
        print_run_line,
        write_summary,
    )

    started = time.monotonic()
    home = (options.home or settings.data_dir() / "demo").resolve()
    if home.exists():
        shutil.rmtree(home)
    logs = home / "logs"
    logs.mkdir(parents=True)
    warehouse_path = home / "warehouse.db"
    pii_key = embedded_pii_key(home / "pii.key").decode()

    print(f"estatehub demo: {options.units} units, seed {options.seed}, {options.days} simulated days")
    mail_dir, reports_dir = home / "mail", home / "reports"
    sandbox = SandboxProcess(options.units, options.seed, logs / "sandbox.log", mail_dir)
    try:
        world = sandbox.world
        last_day = options.last_day or min(DEFAULT_LAST_DAY, date.fromisoformat(world["end_on"]))
        days = business_days(last_day, options.days)
        print(
            f"world: {sandbox.world_path} ({world['contracts']} contracts over {world['start_on']}..{world['end_on']})"
        )
        print(f"sandbox: trading network at {sandbox.urls['trading_network']}")
        env = airflow_env(home, sandbox, warehouse_path, pii_key)
        run_logged(airflow_command("db", "migrate"), env, logs / "airflow-db-migrate.log", "airflow db migrate")
        for pool, description in POOLS.items():
            run_logged(
                airflow_command("pools", "set", pool, "1", description), env, logs / f"pool-{pool}.log", "pools set"
            )
        from sqlalchemy import create_engine

        engine = create_engine(f"sqlite:///{warehouse_path}")
        for index, day in enumerate(days):
            when = at_sync_hour(day)
            sandbox.set_clock(when)
            faults = DEMO_FAULTS.get(index, [])
            sandbox.set_faults({"rules": faults})
            log_path = logs / f"dags-test-{day.isoformat()}.log"
            runs_before = count_runs(engine)
            run_logged(
                airflow_command("dags", "test", DAG_ID, when.isoformat()),
                env,
                log_path,
                f"airflow dags test {DAG_ID} {when.isoformat()}",
            )
            if count_runs(engine) != runs_before + 1:
                raise DemoError(f"the DAG run of {day} did not record a sync run; see {log_path}")
            print_run_line(engine, day, faults=sorted({rule["kind"] for rule in faults}))
            if index == 0:
                listed = import_developer_inventory(sandbox, env, home, when)
                print(f"developer inventory (一房一价) imported; its differences from the network's listed in {listed}")
            if index >= len(days) - RECONCILE_DAYS:
                sandbox.set_faults({"rules": []})
                for dag_id in (*LAST_DAY_DAGS, RECONCILE_DAG, WORK_LISTS_DAG):
                    log_path = logs / f"dags-test-{dag_id}-{day.isoformat()}.log"
                    run_logged(airflow_command("dags", "test", dag_id, when.isoformat()), env, log_path, dag_id)
                run_logged(
                    [sys.executable, "-m", "estatehub", "report", "finance", "--date", day.isoformat()]
                    + ["--out", str(reports_dir)],
                    env,
                    logs / f"report-finance-{day.isoformat()}.log",
                    "estatehub report finance",
                )
                run_logged(
                    [sys.executable, "-m", "estatehub", "report", "digests", "--date", day.isoformat()]
                    + ["--out", str(reports_dir)],
                    env,
                    logs / f"report-digests-{day.isoformat()}.log",
                    "estatehub report digests",
                )
                print_reconciliation_line(engine, day)
        when = at_sync_hour(last_day)
        for dag_id in REPORT_DAGS:
            log_path = logs / f"dags-test-{dag_id}-{last_day.isoformat()}.log"
            run_logged(airflow_command("dags", "test", dag_id, when.isoformat()), env, log_path, dag_id)
        week_end = last_day - timedelta(days=(last_day.weekday() + 1) % 7)  # the last Sunday: a whole week
        run_logged(
            [sys.executable, "-m", "estatehub", "report", "kpi", "--week", week_end.isoformat()]
            + ["--out", str(reports_dir)],
            env,
            logs / f"report-kpi-{week_end.isoformat()}.log",
            "estatehub report kpi",
        )
        print(f"KPI report of the week to {week_end}: mailed by the kpi_report DAG, files in {reports_dir}")
        sandbox.set_faults({"rules": []})
        print_bank_lines(engine)
        summary_path = home / "summary.txt"
        write_summary(engine, last_day, summary_path, home=home, logs=logs, mail=mail_dir, reports=reports_dir)
        print(summary_path.read_text(encoding="utf-8"))
    finally:
        sandbox.stop()
    print(f"demo finished in {time.monotonic() - started:.0f} s")
    return 0
