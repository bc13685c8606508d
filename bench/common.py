"""What the benchmarks share: child processes that report time and peak memory, PostgreSQL databases."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path

BENCH_PII_KEY = b"bench-key-0123456789abcdefghijklmnop"  # a fixed key: figures comparable run to run
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def peak_rss_mb() -> float:
    """Peak resident memory of this process since it started its program, in MiB.

    Linux's `VmHWM`, the high-water mark of this program's own memory. Not `ru_maxrss`: the kernel keeps
    that across `exec`, so a child counts the resident memory of the parent it was forked from (a driver
    holding 200 MiB made every small child report 200 MiB). `ru_maxrss` only where there is no /proc."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time (user + system, every thread) of this process so far, and of the children it has reaped: a
    sync's read-ahead processes (decision 0042)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def children_peak_rss_mb() -> float:
    """The largest peak resident memory of a child this process forked and reaped (a sync's read-ahead
    process), in MiB; 0 without one. A forked child's count starts with the pages it shares with its parent,
    so this added to `peak_rss_mb` is an upper bound of the two together."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def process_cpu_seconds(pid: int, *, reaped: bool = False) -> float | None:
    """CPU time (user + system) of another process so far, from /proc; None where there is no /proc. With
    `reaped`, the CPU time of the children it has waited for is added."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # after the command name: state is field 3; utime, stime, cutime and cstime are fields 14 to 17 (man 5 proc)
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if reaped else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float | None:
    """CPU time so far of the PostgreSQL server on this machine: every process named `postgres` that /proc
    shows (the postmaster, its background processes, the backends), with the backends that have ended
    (their time is added to the postmaster's when it reaps them). None when /proc shows none: a server on
    another host or in a container this process cannot see. It counts whatever the server did for anyone:
    measure on a quiet machine."""
    total, seen = 0.0, False
    try:
        entries = [entry for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    except OSError:
        return None
    for entry in entries:
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            parent_is_postgres = (Path(f"/proc/{parent}") / "comm").read_text().strip() == "postgres"
        except (OSError, ValueError, IndexError):
            continue  # ended while being read
        # the postmaster (its parent is not a postgres) reaps the others: their time once they have ended
        cpu = process_cpu_seconds(int(entry.name), reaped=not parent_is_postgres)
        if cpu is not None:
            total, seen = total + cpu, True
    return total if seen else None


def spent(before: float | None, after: float | None) -> float | None:
    """CPU seconds between two readings of a counter that may not be seen (None: not measured)."""
    return None if before is None or after is None else after - before


def measure(fn: Callable[[], int]) -> dict:
    """Run `fn` (which returns a record count) and report seconds, records, CPU seconds and peak memory, and
    the CPU time the machine's PostgreSQL server spent meanwhile (`server_cpu_s`; None where not seen)."""
    server_started = postgres_cpu_seconds()
    started, cpu_started = time.perf_counter(), cpu_seconds()
    records = fn()
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_started
    server = postgres_cpu_seconds()
    # the process's own peak and its read-ahead child's, added (an upper bound: they share their pages)
    peak = peak_rss_mb() + children_peak_rss_mb()
    return {
        "seconds": seconds,
        "records": records,
        "cpu_s": cpu,
        "peak_rss_mb": peak,
        "server_cpu_s": spent(server_started, server),
    }


def run_child(module: str, args: Sequence[str]) -> dict:
    """Run `python -m module args…` in a fresh process (clean peak memory); its last stdout line is JSON."""
    result = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def emit(payload: dict) -> None:
    print(json.dumps(payload), flush=True)


class SandboxProcess:
    """The sandbox servers running in a child process: their URLs and the CPU time they used."""

    def __init__(self, proc: subprocess.Popen, urls: dict[str, str]) -> None:
        self.proc = proc
        self.urls = urls

    def cpu_seconds(self) -> float | None:
        return process_cpu_seconds(self.proc.pid)


@contextmanager
def sandbox_process(world: Path, clock: str):
    """The trading network of the sandbox in a child process: yields a `SandboxProcess`."""
    from estatehub.demo import read_ready

    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox.serve", str(world), "--clock", clock, "--only", "trading_network"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield SandboxProcess(proc, read_ready(proc.stdout))
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
