"""An Airflow cluster on 127.0.0.1 as production runs it, for the production test.

api-server, scheduler, dag-processor, triggerer and Celery workers, each its own process (in its own
process group, so that stopping it stops what it forked), on a PostgreSQL metadata database, Redis as
the Celery broker and PostgreSQL as its result backend; everything started is stopped by `stop()`,
which the test calls in `finally` and which is registered with `atexit` as well.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from estatehub.demo import airflow_command


class Cluster:
    """The processes of one Airflow deployment; `start_component(name, *args)` runs `airflow <args>`."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: dict[str, subprocess.Popen] = {}
        self._files: list[Any] = []
        atexit.register(self.stop)

    def run(self, name: str, *args: str, timeout: float = 300) -> None:
        """`airflow <args>` to its end (a set-up step); its output in `<logs>/<name>.log`."""
        log_path = self.logs / f"{name}.log"
        with open(log_path, "w", encoding="utf-8") as log:
            result = subprocess.run(
                airflow_command(*args), env=self.env, stdout=log, stderr=subprocess.STDOUT, timeout=timeout, check=False
            )
        if result.returncode != 0:
            raise AssertionError(f"airflow {' '.join(args)} failed:\n{log_path.read_text()[-3000:]}")

    def start_component(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        log = open(self.logs / f"{name}.log", "w", encoding="utf-8")  # noqa: SIM115 - closed in stop()
        self._files.append(log)
        self.procs[name] = subprocess.Popen(
            airflow_command(*args),
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends the workers' children too
        )

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited ({proc.returncode}):\n{self.log_tail(name)}")

    def log_tail(self, name: str, chars: int = 3000) -> str:
        return (self.logs / f"{name}.log").read_text(encoding="utf-8", errors="replace")[-chars:]

    def stop(self) -> None:
        """SIGTERM to every component's process group, SIGKILL to what is left after 20 s."""
        for proc in self.procs.values():
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            _signal_group(proc, signal.SIGKILL)  # also children the leader left behind
            proc.wait()
        self.procs.clear()
        for log in self._files:
            log.close()
        self._files.clear()
        atexit.unregister(self.stop)


def _signal_group(proc: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signum)


def wait_for(what: str, check: Callable[[], Any], timeout: float, cluster: Cluster | None = None) -> Any:
    """Poll `check` every second until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if cluster is not None:
            cluster.check_alive()
        try:
            value = check()
        except (requests.RequestException, KeyError) as exc:
            last_error, value = exc, None
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last error: {last_error})")


def free_redis_db(redis_url: str) -> int:
    """A Redis database number (15 down to 1) that holds no keys: the test's own, flushed afterwards."""
    import redis

    for number in range(15, 0, -1):
        client = redis.Redis.from_url(f"{redis_url}/{number}")
        try:
            if client.dbsize() == 0:
                return number
        finally:
            client.close()
    raise AssertionError("no empty Redis database number (1-15) is free")


def flush_redis_db(redis_url: str, number: int) -> None:
    import redis

    client = redis.Redis.from_url(f"{redis_url}/{number}")
    try:
        client.flushdb()
    finally:
        client.close()


def write_passwords(path: Path, users: dict[str, str]) -> None:
    """The simple auth manager's password file (user → password), instead of generated passwords."""
    path.write_text(json.dumps(users), encoding="utf-8")
