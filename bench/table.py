"""One benchmark table: every row measured in the same run, on the same machine, each in its own process.

    python -m bench [--quick] [--contracts 100000] [--ledger-lines 1000000] [--statement-lines 1000000]
                    [--reconcile-lines 1000000] [--db sqlite,postgresql] [--ledger-db sqlite]
                    [--only tn,statements,reconcile,dags,cli,ledger]

Rows, in order (each a fresh child process, so its peak memory is its own):

- trading network, N contracts served by the sandbox in a child process, into a fresh warehouse on
  each database: the fetch-and-parse floor (`bench.trading_network_sync`); estatehub's full sync
  (raw, staging and core with history, hashes, quarantine); its incremental sync after about 1% of
  the contracts changed; dlt's REST API source paging the same endpoint (its own virtual environment,
  `.venv-dlt`, `make bench-dlt-env`; nested raw tables); pandas `json_normalize` + `to_sql` (one
  flat table). Rows written are counted in the database afterwards;
- bank statements: parse, and parse + load into SQLite (`bench.bank_statements`);
- reconciliation and KPIs over one synthetic warehouse (`bench.reconcile.build`): each floor (the
  queries' rows read, nothing computed), the reconciliation's first and second run, the KPI compute;
- each DAG file parsed as the DAG processor parses it (`bench.dag_parse`) against an empty DAG file;
- command-line start: `estatehub --help` and `estatehub quarantine list` (no Airflow) against
  `python -c pass`;
- ledger, last (its full sync is the slowest row): fetch-and-parse floor of the ERP's voucher lines (the
  issue's floor) and of the four forms the sync fetches (vouchers, receipts, refunds, invoices), and the full
  sync, receipts linked (`bench.ledger_sync`).

After the table, the CPU table of the syncs (the trading network's and the ledger's rows, the peers' too): the
CPU time of the measured process (with a sync's read-ahead child), of the sandbox serving it (its own process
for the trading network; the ledger's serves from this driver's threads, whose CPU is this process's own), and
of the PostgreSQL server where it is the warehouse (every `postgres` process /proc shows, the ended backends
too; measured inside the child around the sync alone); their sum over the cores is the least time any overlap of
the work could take here, set against the floor's time. It shows where the rest goes: CPU that a faster
overlap cannot remove, or a core waiting.

`--quick` is the smoke run (2,000 contracts, 20,000 ledger and statement lines, one try each).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from bench.common import run_child, sandbox_process, spent, table
from bench.trading_network_sync import clocks, fresh_warehouse, set_clock, world_for
from estatehub.settings import usable_cores

ROOT = Path(__file__).resolve().parent.parent
DLT_PYTHON = ROOT / ".venv-dlt" / "bin" / "python"
SECTIONS = ("tn", "statements", "reconcile", "dags", "cli", "ledger")  # in the order they run: the slowest last
# bench.ledger_sync: voucher lines a world books per unit, measured on the sandbox's ledger v18 (2026-12-04): 91,000
# units book 1,691,327 lines and 9,100 units 164,432 (91,000 booked 1,005,413 before the ledger's fee and settlement
# lines); the ledger's version changes it, so a run prints the lines it got
LEDGER_LINES_PER_UNIT = 1_691_327 / 91_000
HEADERS = [
    "measurement",
    "system",
    "database",
    "writes",
    "records",
    "s",
    "records/s",
    "compared",
    "rows written",
    "peak MiB",
]

ESTATEHUB_WRITES = "raw + staging + core, history, hashed PII, quarantine"
LAYERS = (("raw_", "raw"), ("stg_", "staging"), ("core_", "core"), ("etl_quarantine", "quarantine"))
LAYER_PREFIXES = [prefix for prefix, _ in LAYERS]


CPU_HEADERS = [
    "measurement",
    "system",
    "database",
    "s",
    "its process CPU s",
    "sandbox CPU s",
    "PostgreSQL CPU s",
    "CPU s in all",
    "in all ÷ cores: the least s",
    "least s ÷ floor s",
    "s over the least",
]


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}" if value < 10 else f"{value:.1f}"


class Table:
    """The rows so far, printed as they come (a long run shows its progress) and whole at the end; and the
    CPU table of the syncs: where each one's CPU time went, and the least time that CPU allows."""

    def __init__(self) -> None:
        self.rows: list[list[str]] = []
        self.cpu_rows: list[list[str]] = []

    def add(
        self,
        measurement: str,
        system: str,
        database: str,
        writes: str,
        result: dict | None,
        *,
        compared: str = "",
        written: str = "",
    ) -> None:
        if result is None:
            row = [measurement, system, database, writes, "", "", "", compared, written, ""]
        else:
            records, seconds = result.get("records"), result["seconds"]
            row = [
                measurement,
                system,
                database,
                writes,
                "" if records is None else f"{records:,}",
                f"{seconds:.3f}" if seconds < 1 else f"{seconds:.2f}" if seconds < 10 else f"{seconds:.1f}",
                f"{records / seconds:,.0f}" if records and seconds else "",
                compared,
                written,
                "" if result.get("peak_rss_mb") is None else f"{result['peak_rss_mb']:.0f}",
            ]
        self.rows.append(row)
        print("  " + " | ".join(row), file=sys.stderr, flush=True)

    def cpu(self, measurement: str, system: str, database: str, result: dict, *, floor: dict | None = None) -> None:
        """A row of the CPU table: the CPU time of the measured process (with a sync's read-ahead child), of the
        sandbox serving it, and of the PostgreSQL server (its warehouse's only); their sum spread over every core
        is the least time any overlap of the work could take on this machine. Where a part was not measured
        (no /proc), it is left out of the sum and shown as —."""
        process, sandbox = result.get("cpu_s"), result.get("sandbox_cpu_s")
        server = result.get("server_cpu_s") if database == "postgresql" else None
        total = sum(part for part in (process, sandbox, server) if part is not None)
        least = total / usable_cores()  # as a sync's read-ahead counts them
        row = [
            measurement,
            system,
            database,
            _seconds(result["seconds"]),
            _seconds(process),
            _seconds(sandbox),
            _seconds(server),
            _seconds(total),
            _seconds(least),
            f"{least / floor['seconds']:.2f}×" if floor else "",
            _seconds(result["seconds"] - least),
        ]
        self.cpu_rows.append(row)

    def render(self) -> str:
        text = table(HEADERS, self.rows)
        if self.cpu_rows:
            text += (
                f"\n\nWhere the syncs' CPU time went ({usable_cores()} cores; the least s: all of it spread over every"
                " core, which no overlap of the work can beat; s over the least: a core waiting):\n\n"
                + table(CPU_HEADERS, self.cpu_rows)
            )
        return text


def beside(read_sandbox_cpu: Callable[[], float | None], run: Callable[[], dict]) -> dict:
    """`run()`'s result with the CPU time the sandbox spent meanwhile (`sandbox_cpu_s`; None where not seen)."""
    before = read_sandbox_cpu()
    result = run()
    after = read_sandbox_cpu()
    return {**result, "sandbox_cpu_s": spent(before, after)}


def own_cpu_seconds() -> float:
    """CPU time of this process alone (the ledger's sandbox serves from its threads while a child syncs)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def ratio(numerator: float, denominator: float, what: str) -> str:
    return f"{numerator / denominator:.2f}× {what}" if denominator else ""


# -- trading network -------------------------------------------------------------------------------


def count_rows(warehouse_url: str, prefixes: Sequence[str]) -> dict[str, int]:
    """Rows per table of a warehouse, for the tables whose name starts with one of `prefixes`."""
    from sqlalchemy import create_engine, func, inspect, select
    from sqlalchemy import table as sql_table

    engine = create_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            names = [name for name in inspect(conn).get_table_names() if name.startswith(tuple(prefixes))]
            return {
                name: conn.execute(select(func.count()).select_from(sql_table(name))).scalar_one() for name in names
            }
    finally:
        engine.dispose()


def estatehub_written(counts: dict[str, int], before: dict[str, int] | None = None) -> str:
    """`1,234 (raw 100 · staging 400 · core 700 · quarantine 34)`: rows per layer (added since `before`)."""
    before = before or {}
    layers = {label: 0 for _, label in LAYERS}
    for name, rows in counts.items():
        for prefix, label in LAYERS:
            if name.startswith(prefix):
                layers[label] += rows - before.get(name, 0)
    parts = " · ".join(f"{label} {rows:,}" for label, rows in layers.items())
    return f"{sum(layers.values()):,} ({parts})"


def peer_written(written: dict[str, int]) -> str:
    tables = "table" if len(written) == 1 else "tables"
    return f"{sum(written.values()):,} in {len(written)} {tables}"


def dlt_credentials(warehouse_url: str) -> str:
    """The same database as dlt's PostgreSQL destination takes it: psycopg2 (no SQLAlchemy driver suffix),
    and a password it insists on (the server trusts loopback and ignores it)."""
    return warehouse_url.replace("postgresql+psycopg://postgres@", "postgresql://postgres:unused@", 1)


def run_dlt(url: str, warehouse_url: str) -> dict:
    from sandbox.serve import DEFAULT_ACCOUNT, DEFAULT_PASSWORD

    with tempfile.TemporaryDirectory(prefix="estatehub-bench-dlt-") as workdir:
        command = [str(DLT_PYTHON), "-m", "bench.peers.dlt_trading_network", url, DEFAULT_ACCOUNT, DEFAULT_PASSWORD]
        command += [dlt_credentials(warehouse_url), workdir]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"dlt failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def bench_trading_network(out: Table, contracts: int, databases: list[str]) -> None:
    world = world_for(max(1, contracts // 2))
    t0, t1, visible, changed = clocks(world)
    label = f"trading network, {visible:,} contracts"
    with sandbox_process(world, t0.isoformat()) as sandbox:
        url = sandbox.urls["trading_network"]
        floor = beside(sandbox.cpu_seconds, lambda: run_child("bench.trading_network_sync", ["_floor", url]))
        out.add(label, "floor: fetch + parse", "—", "nothing", floor)
        out.cpu(label, "floor: fetch + parse", "—", floor, floor=floor)
        for db in databases:
            set_clock(url, t0)
            with fresh_warehouse(db) as warehouse_url:
                full = beside(
                    sandbox.cpu_seconds,
                    lambda warehouse_url=warehouse_url: run_child(
                        "bench.trading_network_sync", ["_sync", url, warehouse_url]
                    ),
                )
                after_full = count_rows(warehouse_url, LAYER_PREFIXES)
                set_clock(url, t1)
                incremental = run_child("bench.trading_network_sync", ["_sync", url, warehouse_url])
                after_incremental = count_rows(warehouse_url, LAYER_PREFIXES)
            set_clock(url, t0)
            if DLT_PYTHON.exists():
                with fresh_warehouse(db) as warehouse_url:
                    dlt = beside(sandbox.cpu_seconds, lambda warehouse_url=warehouse_url: run_dlt(url, warehouse_url))
            else:
                dlt = None
            with fresh_warehouse(db) as warehouse_url:
                pandas = beside(
                    sandbox.cpu_seconds,
                    lambda warehouse_url=warehouse_url: run_child(
                        "bench.peers.pandas_trading_network", [url, warehouse_url]
                    ),
                )
            vs_dlt = "" if dlt is None else " · " + ratio(dlt["seconds"], full["seconds"], "dlt's throughput")
            out.add(
                label,
                "estatehub full sync",
                db,
                ESTATEHUB_WRITES,
                full,
                compared=ratio(full["seconds"], floor["seconds"], "floor") + vs_dlt,
                written=estatehub_written(after_full),
            )
            out.cpu(label, "estatehub full sync", db, full, floor=floor)
            out.add(
                f"… after {changed:,} changed (1%)",
                "estatehub incremental sync",
                db,
                ESTATEHUB_WRITES,
                incremental,
                compared=f"{100 * incremental['seconds'] / full['seconds']:.1f}% of full",
                written=estatehub_written(after_incremental, after_full),
            )
            if dlt is None:
                out.add(label, "dlt: not measured (make bench-dlt-env)", db, "nested raw tables", None)
            else:
                out.add(
                    label,
                    f"dlt {dlt['dlt']} REST API source",
                    db,
                    "nested raw tables, no history",
                    dlt,
                    compared=ratio(dlt["seconds"], floor["seconds"], "floor"),
                    written=peer_written(dlt["written"]),
                )
                out.cpu(label, f"dlt {dlt['dlt']} REST API source", db, dlt, floor=floor)
            out.add(
                label,
                "pandas json_normalize + to_sql",
                db,
                "one flat table, no history",
                pandas,
                compared=ratio(pandas["seconds"], floor["seconds"], "floor"),
                written=peer_written(pandas["written"]),
            )
            out.cpu(label, "pandas json_normalize + to_sql", db, pandas, floor=floor)


# -- ledger, statements ----------------------------------------------------------------------------


def bench_ledger(out: Table, lines: int, databases: list[str]) -> None:
    from bench.ledger_sync import prepare
    from sandbox.ledger.server import LedgerServer

    units = max(50, round(lines / LEDGER_LINES_PER_UNIT))
    page_size = "5000"
    world, ledger, _ = prepare(units)
    server = LedgerServer(ledger)
    server.start()
    try:
        floor = beside(
            own_cpu_seconds, lambda: run_child("bench.ledger_sync", ["--child", "floor", server.url, page_size])
        )
        label = f"ledger, {floor['records']:,} voucher lines"
        out.add(label, "floor: fetch + parse", "—", "nothing", floor)
        out.cpu(label, "floor: fetch + parse", "—", floor, floor=floor)
        # what the sync itself fetches and parses: the voucher lines and the receipts, refunds and invoices
        forms = beside(
            own_cpu_seconds, lambda: run_child("bench.ledger_sync", ["--child", "floor-forms", server.url, page_size])
        )
        out.add(label, "floor: fetch + parse, the four forms", "—", "nothing", forms)
        out.cpu(label, "floor: fetch + parse, the four forms", "—", forms, floor=floor)
        for db in databases:
            with fresh_warehouse(db) as warehouse_url:
                synced = beside(
                    own_cpu_seconds,
                    lambda warehouse_url=warehouse_url: run_child(
                        "bench.ledger_sync", ["--child", "sync", server.url, page_size, warehouse_url, str(world)]
                    ),
                )
                written = estatehub_written(count_rows(warehouse_url, LAYER_PREFIXES))
            out.add(
                label,
                "estatehub full sync, receipts linked",
                db,
                ESTATEHUB_WRITES,
                synced,
                compared=f"{ratio(synced['seconds'], floor['seconds'], 'floor')} · "
                + ratio(synced["seconds"], forms["seconds"], "the four forms' floor"),
                written=written,
            )
            out.cpu(label, "estatehub full sync, receipts linked", db, synced, floor=floor)
    finally:
        server.stop()


def bench_statements(out: Table, lines: int) -> None:
    from bench.bank_statements import write_file

    with tempfile.TemporaryDirectory(prefix="estatehub-bench-statements-") as folder:
        for bank in ("icbc", "cmb"):
            path = write_file(Path(folder), bank, lines)
            label = f"bank statement, {lines:,} lines ({bank}, {path.stat().st_size / 2**20:,.0f} MiB)"
            parsed = run_child("bench.bank_statements", ["--child", str(path), bank])
            parsed["records"] = parsed["lines"]
            out.add(label, "estatehub parse + totals check", "—", "nothing", parsed)
            loaded = run_child("bench.bank_statements", ["--load-child", str(path), bank])
            loaded["records"] = lines
            out.add(
                label,
                f"estatehub parse + load ({loaded['status']})",
                "sqlite",
                "file registry, lines, totals",
                loaded,
                compared=ratio(loaded["seconds"], parsed["seconds"], "parse"),
            )
            path.unlink()


# -- reconciliation and KPIs -----------------------------------------------------------------------


def bench_reconcile(out: Table, contracts: int, ledger_lines: int, databases: list[str]) -> None:
    from bench.reconcile import build

    for db in databases:
        with fresh_warehouse(db) as url:
            counts = build(url, contracts, ledger_lines)
            label = f"reconciliation, {contracts:,} contracts, {counts.get('core_voucher_line', 0):,} ledger lines"
            floor = run_child("bench.reconcile", ["_floor", url])
            out.add(label, "floor: read every input", db, "nothing", floor)
            first = run_child("bench.reconcile", ["_full", url])
            second = run_child("bench.reconcile", ["_full", url])
            for name, result in (("first run", first), ("second run (all kept)", second)):
                out.add(
                    label,
                    f"estatehub reconciliation, {name}",
                    db,
                    "breaks, receivables mart",
                    {**result, "records": None},
                    compared=ratio(result["seconds"], floor["seconds"], "floor"),
                    written=f"{result['records']:,} breaks",
                )
            label = "KPIs, monthly report, same warehouse"
            floor = run_child("bench.kpi", ["_floor", url])
            out.add(label, "floor: read every fact", db, "nothing", floor)
            computed = run_child("bench.kpi", ["_compute", url])
            out.add(
                label,
                "estatehub KPI compute",
                db,
                "nothing (the report's figures)",
                computed,
                compared=ratio(computed["seconds"], floor["seconds"], "floor"),
            )


# -- DAG files and the command line ----------------------------------------------------------------

EMPTY_DAG = """\
from datetime import datetime

from airflow.sdk import DAG

with DAG(dag_id="empty", schedule=None, start_date=datetime(2025, 1, 1)):
    pass
"""
# Airflow's own floor of a DAG with a task, as its documentation writes one: `@task` from `airflow.sdk` imports
# the standard provider's decorator and PythonOperator modules (with `packaging` for its virtualenv operators) in
# the parse's own process. The project's files import the decorator from its module instead, which the processor
# (and `bench.dag_parse`) imports before the parse (decision 0039): they may come in under this floor
ONE_TASK_DAG = """\
from datetime import datetime

from airflow.sdk import dag, task


@dag(dag_id="one_task", schedule=None, start_date=datetime(2025, 1, 1))
def one_task():
    @task
    def nothing() -> None:
        pass

    nothing()


one_task()
"""


def quiet_env(home: Path) -> dict[str, str]:
    """The environment of a child that loads Airflow or the command line: its own homes, no examples,
    and Python's byte-code cache on (a caller's PYTHONDONTWRITEBYTECODE would have the project's modules
    compiled from source on every parse while Airflow's come compiled from its install: decision 0026)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(
        {
            "AIRFLOW_HOME": str(home / "airflow"),
            "ESTATEHUB_HOME": str(home / "var"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "plugins")]),
        }
    )
    return env


def timed_process(command: Sequence[str], env: dict[str, str], cwd: Path) -> dict:
    """Run a command: its wall time and output. No peak memory: the only one a parent can read after the
    end, `ru_maxrss`, counts the memory of the parent it was forked from (`bench.common.peak_rss_mb`)."""
    started = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr.decode()[-3000:]}")
    return {"seconds": seconds, "peak_rss_mb": None, "stdout": result.stdout.decode()}


def best_of(tries: int, run) -> dict:
    """The fastest of `tries` runs (the machine is shared: the least disturbed one)."""
    return min((run() for _ in range(tries)), key=lambda result: result["seconds"])


def bench_dags(out: Table, tries: int) -> None:
    """Each DAG file's parse (what `airflow dags report` calls its duration: the file's imports and DAG
    objects, Airflow already loaded, the Airflow modules the file names pre-imported as the processor
    does) against an empty DAG file's and against a one-`@task` DAG file's (Airflow's own floor of a DAG
    with a task); beside it, the whole process (Python, Airflow's import and the parse), which is what a
    cold DAG processor pays per file."""
    with tempfile.TemporaryDirectory(prefix="estatehub-bench-dags-") as folder:
        home = Path(folder)
        env = quiet_env(home)
        empty, one_task = home / "empty_dag.py", home / "one_task_dag.py"
        empty.write_text(EMPTY_DAG)
        one_task.write_text(ONE_TASK_DAG)
        files = sorted(path for path in (ROOT / "dags").glob("*.py") if not path.name.startswith("_"))

        def parse(path: Path) -> dict:
            process = timed_process([sys.executable, "-m", "bench.dag_parse", str(path)], env, ROOT)
            payload = json.loads(process["stdout"].strip().splitlines()[-1])
            if payload["errors"] or payload["records"] != 1:
                raise RuntimeError(f"{path.name}: expected one DAG and no import error, got {payload}")
            return {**payload, "records": None, "process_s": process["seconds"]}

        for path in (empty, one_task, *files):  # not measured: Airflow writes its configuration, and
            parse(path)  # every module is byte-compiled once, as an installed package is
        baseline = best_of(tries, lambda: parse(empty))
        out.add(
            "DAG file parse", "empty DAG file", "—", "", baseline, compared=f"process {baseline['process_s']:.2f} s"
        )
        floor = best_of(tries, lambda: parse(one_task))
        out.add(
            "DAG file parse",
            "one-@task DAG file (Airflow's floor of a DAG with a task)",
            "—",
            "",
            floor,
            compared=f"{ratio(floor['seconds'], baseline['seconds'], 'empty')}; process {floor['process_s']:.2f} s",
        )
        for path in files:
            result = best_of(tries, lambda path=path: parse(path))
            compared = ratio(result["seconds"], baseline["seconds"], "empty (target < 2×)")
            over_floor = ratio(result["seconds"], floor["seconds"], "one-@task")
            process = ratio(result["process_s"], baseline["process_s"], "empty")
            pre = f"; pre-import {result['pre_import_seconds']:.3f} s" if result["pre_import_seconds"] >= 0.0005 else ""
            out.add(
                "DAG file parse",
                f"dags/{path.name}",
                "—",
                "",
                result,
                compared=f"{compared} · {over_floor}{pre}; process {result['process_s']:.2f} s, {process}",
            )


def bench_cli(out: Table, tries: int) -> None:
    with tempfile.TemporaryDirectory(prefix="estatehub-bench-cli-") as folder:
        home = Path(folder)
        env = quiet_env(home)
        env = {k: v for k, v in env.items() if not k.startswith("AIRFLOW_CONN_")}
        warehouse = f"sqlite:///{home / 'warehouse.db'}"
        estatehub = [sys.executable, "-m", "estatehub"]
        timed_process([*estatehub, "warehouse", "upgrade", "--url", warehouse], env, home)  # not measured
        python = best_of(tries, lambda: timed_process([sys.executable, "-c", "pass"], env, home))
        out.add("command-line start", "python -c pass", "—", "", {**python, "records": None})
        for name, args in (
            ("estatehub --help", ["--help"]),
            ("estatehub quarantine list", ["quarantine", "list", "--url", warehouse]),
        ):
            result = best_of(tries, lambda args=args: timed_process([*estatehub, *args], env, home))
            out.add("command-line start", name, "—", "", {**result, "records": None})


# -- the driver ------------------------------------------------------------------------------------


@contextmanager
def section(name: str) -> Iterator[None]:
    print(f"[{time.strftime('%H:%M:%S')}] {name}…", file=sys.stderr, flush=True)
    yield


def machine(load_at_start: tuple[float, float, float]) -> str:
    """The machine and how busy it was (it may be shared: the load average says how much)."""

    def shown(load: tuple[float, float, float]) -> str:
        return " ".join(f"{value:.2f}" for value in load)

    return (
        f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}; load average "
        f"(1, 5, 15 min) at the start {shown(load_at_start)}, at the end {shown(os.getloadavg())}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the smoke run: small sizes, one try each")
    parser.add_argument("--contracts", type=int, help="trading-network contracts (default 100,000)")
    parser.add_argument("--ledger-lines", type=int, help="ledger voucher lines synced (default 1,000,000)")
    parser.add_argument("--reconcile-lines", type=int, help="ledger lines the reconciliation reads (default 1,000,000)")
    parser.add_argument("--statement-lines", type=int, help="lines per statement file (default 1,000,000)")
    parser.add_argument("--db", default="sqlite,postgresql", help="warehouses, comma-separated")
    parser.add_argument("--ledger-db", help="warehouses of the ledger's full sync (default: --db; the slowest rows)")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"sections, comma-separated: {','.join(SECTIONS)}")
    args = parser.parse_args(argv)
    contracts = args.contracts or (2_000 if args.quick else 100_000)
    ledger_lines = args.ledger_lines or (20_000 if args.quick else 1_000_000)
    reconcile_lines = args.reconcile_lines or (20_000 if args.quick else 1_000_000)
    statement_lines = args.statement_lines or (20_000 if args.quick else 1_000_000)
    tries = 1 if args.quick else 3
    databases = args.db.split(",")
    ledger_databases = args.ledger_db.split(",") if args.ledger_db else databases
    only = args.only.split(",")
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}: expected some of {','.join(SECTIONS)}")

    out = Table()
    started, load_at_start = time.perf_counter(), os.getloadavg()
    if "tn" in only:
        with section(f"trading network, {contracts:,} contracts"):
            bench_trading_network(out, contracts, databases)
    if "statements" in only:
        with section(f"bank statements, {statement_lines:,} lines"):
            bench_statements(out, statement_lines)
    if "reconcile" in only:
        with section("reconciliation and KPIs"):
            bench_reconcile(out, contracts, reconcile_lines, databases)
    if "dags" in only:
        with section("DAG files"):
            bench_dags(out, tries)
    if "cli" in only:
        with section("command line"):
            bench_cli(out, tries)
    if "ledger" in only:
        with section(f"ledger, {ledger_lines:,} lines"):
            bench_ledger(out, ledger_lines, ledger_databases)
    print(out.render())
    print(f"\n{machine(load_at_start)}; the whole run took {time.perf_counter() - started:,.0f} s.")
    print(f"command: python -m bench {' '.join(argv if argv is not None else sys.argv[1:])}".rstrip())
    return 0
