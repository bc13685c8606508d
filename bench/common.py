"""What the benchmarks share: child processes that report time and peak memory, PostgreSQL databases."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path

from sandbox.serve import read_urls

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def peak_rss_mb() -> float:
    """Peak resident memory of this process, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(fn: Callable[[], int]) -> dict:
    """Run `fn` (which returns a record count) and report seconds, records and peak memory as a dict."""
    started = time.perf_counter()
    records = fn()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "records": records, "peak_rss_mb": peak_rss_mb()}


def run_child(module: str, args: Sequence[str]) -> dict:
    """Run `python -m module args…` in a fresh process (clean peak memory); its last stdout line is JSON."""
    result = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def emit(payload: dict) -> None:
    print(json.dumps(payload), flush=True)


@contextmanager
def sandbox_process(world: Path, clock: str):
    """The sandbox servers in a child process: yields {name: url}."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox.serve", str(world), "--clock", clock, "--only", "trading_network"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        urls = read_urls(proc.stdout)
        yield urls
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextmanager
def postgres_database(prefix: str = "estatehub_bench"):
    """A fresh PostgreSQL database for one benchmark; dropped afterwards. Yields its SQLAlchemy URL."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'create database "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


def table(headers: list[str], rows: list[list]) -> str:
    """A Markdown table, the form the README takes."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
