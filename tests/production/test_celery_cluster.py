"""The production path on real servers: Airflow on CeleryExecutor against PostgreSQL and Redis.

On 127.0.0.1: api-server, scheduler, dag-processor, triggerer and two Celery workers, configured from
deploy/airflow.env, in a throw-away PostgreSQL database (metadata and Celery results), a throw-away
warehouse database and an empty Redis database number. Every DAG is unpaused and triggered through
the REST API (a JWT from the simple auth manager) against the sandbox; the runs must succeed, tasks
must have run on both workers, and the warehouse on PostgreSQL must hold the same core rows as the
SQLite path (the command line's syncs) for the same world and day. Everything started is stopped,
also when the test fails.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from estatehub import settings
from estatehub.demo import DEFAULT_LAST_DAY, SandboxProcess, airflow_env, at_sync_hour
from estatehub.up import AirflowApi
from tests.conftest import TEST_PII_KEY, create_postgres_database, drop_postgres_database
from tests.production.cluster import (
    Cluster,
    flush_redis_db,
    free_redis_db,
    wait_for,
    write_passwords,
)
from tests.support.snapshot import VOLATILE_COLUMNS, snapshot

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEPLOY_ENV = PROJECT_ROOT / "deploy" / "airflow.env"
REDIS_URL = os.environ.get("ESTATEHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379")
UNITS, SEED = 80, 11
FIRST = "trading_network_sync"  # loans, statements and receipts link to the contracts it loads
WORKERS = ("worker-1", "worker-2")
# the policy monitor's tables follow the bureau site's own clock, not the world's day: not compared
COMPARED_PREFIX, NOT_COMPARED = ("core_",), ("core_policy_",)
# ids the warehouse gives statement files as they load: the four banks load in parallel on the workers
# and one after another on the command line, so the numbers differ while the lines are the same
LOAD_ORDER_IDS = {"file_id", "first_file_id", "removed_by_file_id"}


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cluster_env(base: dict[str, str], home: Path, metadata_url: str, redis_db: int, api_port: int) -> dict[str, str]:
    """deploy/airflow.env over the sandbox environment, with this machine's hosts, names and ports."""
    deploy = read_env_file(DEPLOY_ENV)
    local = {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": metadata_url,
        "AIRFLOW__CELERY__BROKER_URL": f"{REDIS_URL}/{redis_db}",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{metadata_url}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
        "AIRFLOW__CORE__DAGS_FOLDER": base["AIRFLOW__CORE__DAGS_FOLDER"],
        "AIRFLOW__CORE__PLUGINS_FOLDER": base["AIRFLOW__CORE__PLUGINS_FOLDER"],
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
    }
    missing = set(local) - set(deploy)
    assert not missing, f"deploy/airflow.env lacks {sorted(missing)}"
    from cryptography.fernet import Fernet

    env = {**base, **deploy, **local}
    env.update(
        {
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            # the scheduler looks for work often: the test waits on it
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        }
    )
    return env


@pytest.fixture
def throwaway_databases():
    """(metadata URL, warehouse URL): two new PostgreSQL databases, dropped afterwards."""
    names = []
    try:
        metadata_name, metadata_url = create_postgres_database()
        names.append(metadata_name)
        warehouse_name, warehouse_url = create_postgres_database()
        names.append(warehouse_name)
        yield metadata_url, warehouse_url
    finally:
        for name in names:
            drop_postgres_database(name)


@pytest.fixture
def redis_db():
    number = free_redis_db(REDIS_URL)
    try:
        yield number
    finally:
        flush_redis_db(REDIS_URL, number)


def test_every_dag_runs_on_two_celery_workers_and_matches_the_sqlite_path(
    tmp_path, monkeypatch, throwaway_databases, redis_db
):
    started = time.monotonic()
    metadata_url, warehouse_url = throwaway_databases
    home, logs = tmp_path / "prod", tmp_path / "logs"
    logs.mkdir()
    monkeypatch.setenv("ESTATEHUB_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("ESTATEHUB_READ_AHEAD", "process")  # production's: each sync forks its read-ahead
    for name in [key for key in os.environ if key.startswith(("AIRFLOW_CONN_", "AIRFLOW__"))] + ["AIRFLOW_HOME"]:
        monkeypatch.delenv(name, raising=False)
    pii_key = TEST_PII_KEY.decode()

    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    smtp = Controller(Sink(), hostname="127.0.0.1", port=free_port())
    smtp.start()
    sandbox = SandboxProcess(UNITS, SEED, logs / "sandbox.log")
    cluster: Cluster | None = None
    try:
        last_day = min(DEFAULT_LAST_DAY, date.fromisoformat(sandbox.world["end_on"]))
        sandbox.set_clock(at_sync_hour(last_day))
        api_port = free_port()
        base = airflow_env(home, sandbox, warehouse_url, pii_key)
        base["AIRFLOW_CONN_SMTP_DEFAULT"] = f"smtp://127.0.0.1:{smtp.port}?disable_ssl=true&disable_tls=true"
        env = cluster_env(base, home, metadata_url, redis_db, api_port)
        (home / "airflow").mkdir(parents=True)
        write_passwords(home / "passwords.json", {"admin": "admin-password"})

        cluster = Cluster(env, logs)
        cluster.run("db-migrate", "db", "migrate")
        cluster.run("pool", "pools", "set", settings.WAREHOUSE_POOL, "4", "warehouse writes")
        cluster.start_component("api-server", "api-server")
        cluster.start_component("scheduler", "scheduler")
        cluster.start_component("dag-processor", "dag-processor")
        cluster.start_component("triggerer", "triggerer")
        for name in WORKERS:
            cluster.start_component(
                name,
                "celery",
                "worker",
                "--celery-hostname",
                f"{name}@%h",
                env={"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())},
            )
        base_url = f"http://127.0.0.1:{api_port}"

        def healthy():
            import requests

            return requests.get(f"{base_url}/api/v2/monitor/health", timeout=5).status_code == 200

        wait_for("the api-server", healthy, 120, cluster)
        api = AirflowApi(base_url, "admin", "admin-password")
        dag_files = sorted(p.stem for p in (PROJECT_ROOT / "dags").glob("*.py"))
        dag_ids = wait_for(
            "every DAG parsed",
            lambda: (ids := api.dag_ids()) == dag_files and ids,
            120,
            cluster,
        )
        for name in WORKERS:  # both workers listen before anything is queued
            wait_for(f"{name} ready", lambda name=name: " ready." in cluster.log_tail(name, 100_000), 90, cluster)

        def run_dags(ids):
            for dag_id in ids:
                api.unpause_and_trigger(dag_id)
            for dag_id in ids:
                wait_for(
                    f"the runs of {dag_id}",
                    lambda dag_id=dag_id: all(r["state"] in {"success", "failed"} for r in api.dag_runs(dag_id)),
                    240,
                    cluster,
                )

        run_dags([FIRST])
        run_dags([dag_id for dag_id in dag_ids if dag_id != FIRST])

        def settled() -> bool:
            """No run of any DAG waits or runs: also the runs their Assets triggered meanwhile (the
            reconciliation's breaks start the work lists after the wait above has passed them)."""
            return all(r["state"] in {"success", "failed"} for d in dag_ids for r in api.dag_runs(d))

        for _ in range(2):  # once more after the scheduler has had time to create Asset-triggered runs
            wait_for("every run, Asset-triggered ones too, finished", settled, 240, cluster)
            time.sleep(15)
        wait_for("every run, Asset-triggered ones too, finished", settled, 240, cluster)

        task_instances = []
        for dag_id in dag_ids:
            runs = api.dag_runs(dag_id)
            assert runs, f"{dag_id} has no run"
            for run in runs:
                tis = api.task_instances(dag_id, run["dag_run_id"])
                failed = [ti["task_id"] for ti in tis if ti["state"] != "success"]
                assert run["state"] == "success" and not failed, f"{dag_id} {run['dag_run_id']}: {failed}"
                task_instances += tis
        # which worker ran which task instance: each worker logs the workloads it executes
        ran_on = {
            name: set(
                re.findall(r"Executing workload in Celery: .*?id=UUID\('([0-9a-f-]+)'\)", cluster.log_tail(name, 10**7))
            )
            | set(re.findall(r"Executing workload in Celery: .*?id=([0-9a-f-]{36})", cluster.log_tail(name, 10**7)))
            for name in WORKERS
        }
        assert all(ran_on.values()), f"tasks ran on one worker only: { {k: len(v) for k, v in ran_on.items()} }"
        assert {ti["id"] for ti in task_instances} <= set().union(*ran_on.values()), "every task ran on a worker"
        assert not ran_on[WORKERS[0]] & ran_on[WORKERS[1]], "no task ran twice"
        cluster.stop()

        # the SQLite path: the command line's syncs against the same sandbox, world and day, in the same order
        sqlite_path = tmp_path / "sqlite-warehouse.db"
        cli_env = airflow_env(tmp_path / "cli", sandbox, sqlite_path, pii_key)
        for command in (["trading-network"], ["unit-inventory"], ["banks"], ["ledger"]):
            result = subprocess.run(
                [sys.executable, "-m", "estatehub", "sync", *command],
                env=cli_env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert result.returncode == 0, result.stderr[-2000:]
    finally:
        if cluster is not None:
            cluster.stop()
        sandbox.stop()
        smtp.stop()

    postgres = create_engine(make_url(warehouse_url))
    sqlite = create_engine(f"sqlite:///{sqlite_path}")
    try:
        excluded = VOLATILE_COLUMNS | LOAD_ORDER_IDS
        on_postgres = snapshot(postgres, prefixes=COMPARED_PREFIX, exclude_columns=excluded)
        on_sqlite = snapshot(sqlite, prefixes=COMPARED_PREFIX, exclude_columns=excluded)
    finally:
        postgres.dispose()
        sqlite.dispose()
    compared = sorted(t for t in on_postgres if not t.startswith(NOT_COMPARED))
    for table in ("core_contract", "core_bank_loan", "core_bank_statement_line", "core_receipt"):
        assert on_postgres[table], f"{table} is empty on PostgreSQL"
    differing = [table for table in compared if on_postgres[table] != on_sqlite[table]]
    assert not differing, f"differ between PostgreSQL and SQLite: {differing}"
    print(json.dumps({"seconds": round(time.monotonic() - started), "tables": len(compared)}))
