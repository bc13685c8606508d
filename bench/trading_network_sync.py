"""Trading-network sync benchmark: throughput, floor, incremental cost and peak memory.

    python -m bench.trading_network_sync [--units 50000] [--db sqlite,postgresql] [--million]

For a world of about 100,000 contracts (50,000 units) served by the sandbox in a child process:

- floor: the time to only fetch and parse the same pages (`iter_contracts`, nothing written);
- full sync: a fresh warehouse, every contract, on SQLite and on PostgreSQL — contracts/s, peak memory;
- incremental sync: the clock moves until about 1% of the contracts have changed, then one sync.

Each measurement runs in a fresh process so its peak memory is its own. `--million` adds a world of
about 1,000,000 contracts (500,000 units) and a full sync on SQLite, for the memory target (peak at
1,000,000 within 1.5× that at 100,000). Targets: full sync within 1.5× the floor; incremental under 5%
of the full sync.

A second table shows where the CPU time went — the measured process and the sandbox serving it — and
that total spread over every core of the machine: no run can be shorter than that, however its work is
overlapped.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import BENCH_PII_KEY, emit, measure, postgres_database, run_child, sandbox_process, table

SEED = 11
PAGE_SIZE = 500
CHANGED_SHARE = 0.01
CACHE = Path(__file__).resolve().parent.parent / "var" / "bench"


def _client(url: str):
    from connectors.trading_network import TradingNetworkClient
    from sandbox.serve import DEFAULT_ACCOUNT, DEFAULT_PASSWORD

    return TradingNetworkClient(url, DEFAULT_ACCOUNT, DEFAULT_PASSWORD, timeout=120, page_size=PAGE_SIZE)


# -- the measured children -------------------------------------------------------------------------


def child_floor(url: str) -> dict:
    def run() -> int:
        with _client(url) as client:
            return sum(1 for _ in client.iter_contracts(None))

    return measure(run)


def child_sync(url: str, warehouse_url: str) -> dict:
    from estatehub.settings import SyncSettings
    from estatehub.trading_network.sync import sync_trading_network
    from estatehub.warehouse.engine import Warehouse

    warehouse = Warehouse.from_url(warehouse_url, pii_key=BENCH_PII_KEY)
    warehouse.prepare()  # migrations are not part of the measured sync
    settings = SyncSettings()  # the client pages by PAGE_SIZE; the sync writes batches of the default size

    def run() -> int:
        with _client(url) as client:
            return sync_trading_network(client, warehouse, settings=settings).fetched

    return measure(run)


# -- the driver ------------------------------------------------------------------------------------


def world_for(units: int) -> Path:
    from sandbox.world import ensure_world

    return ensure_world(CACHE, units=units, seed=SEED)


def clocks(world: Path) -> tuple[datetime, datetime, int, int]:
    """T0, a month before the world's end, and T1, when ~1% of the contracts visible at T0 have changed."""
    db = sqlite3.connect(f"file:{world}?mode=ro", uri=True)
    end_on = db.execute("select value from meta where key = 'end_on'").fetchone()[0]
    t0 = datetime.fromisoformat(end_on).replace(tzinfo=UTC) - timedelta(days=30)
    t0_text = t0.isoformat()
    visible_sql = "select count(distinct contract_no) from events where at <= ?"
    visible = db.execute(visible_sql, (t0_text,)).fetchone()[0]
    target = max(1, round(visible * CHANGED_SHARE))
    changed: set[str] = set()
    t1_text = t0_text
    later = db.execute("select contract_no, at from events where at > ? order by at", (t0_text,))
    for contract_no, at in later:
        if len(changed) >= target and at != t1_text:
            break
        changed.add(contract_no)
        t1_text = at
    db.close()
    return t0, datetime.fromisoformat(t1_text), visible, len(changed)


def set_clock(url: str, when: datetime) -> None:
    import requests

    requests.post(f"{url}/_sandbox/clock", json={"now": when.isoformat()}, timeout=300).raise_for_status()


def bench_scale(units: int, databases: list[str]) -> list[dict]:
    world = world_for(units)
    t0, t1, visible, changed = clocks(world)
    rows = []
    with sandbox_process(world, t0.isoformat()) as sandbox:
        url = sandbox.urls["trading_network"]

        def timed_child(args: list[str]) -> dict:
            """A measured child, with the CPU time the sandbox spent serving it."""
            before = sandbox.cpu_seconds()
            result = run_child("bench.trading_network_sync", args)
            after = sandbox.cpu_seconds()
            result["sandbox_cpu_s"] = None if before is None or after is None else after - before
            return result

        floor = timed_child(["_floor", url])
        for db in databases:
            set_clock(url, t0)
            with fresh_warehouse(db) as warehouse_url:
                full = timed_child(["_sync", url, warehouse_url])
                set_clock(url, t1)
                incremental = timed_child(["_sync", url, warehouse_url])
            rows.append(
                {
                    "db": db,
                    "units": units,
                    "contracts": visible,
                    "floor": floor,
                    "full": full,
                    "incremental": incremental,
                    "changed": changed,
                }
            )
    return rows


@contextmanager
def fresh_warehouse(kind: str) -> Iterator[str]:
    """A fresh, empty warehouse URL of the given kind, removed afterwards."""
    if kind == "postgresql":
        with postgres_database() as url:
            yield url
    else:
        with tempfile.TemporaryDirectory(prefix="estatehub-bench-") as folder:
            yield f"sqlite:///{Path(folder) / 'warehouse.db'}"


def report(rows: list[dict]) -> str:
    lines = []
    for row in rows:
        floor, full, inc = row["floor"], row["full"], row["incremental"]
        lines.append(
            [
                row["db"],
                f"{row['contracts']:,}",
                f"{floor['seconds']:.1f}",
                f"{full['seconds']:.1f}",
                f"{full['records'] / full['seconds']:,.0f}",
                f"{full['seconds'] / floor['seconds']:.2f}×",
                f"{row['changed']:,} ({inc['records']:,} fetched)",
                f"{inc['seconds']:.2f}",
                f"{100 * inc['seconds'] / full['seconds']:.1f}%",
                f"{full['peak_rss_mb']:.0f}",
            ]
        )
    return table(
        [
            "warehouse",
            "contracts",
            "floor s",
            "full sync s",
            "contracts/s",
            "full/floor",
            "changed",
            "incremental s",
            "incr/full",
            "peak MiB (full)",
        ],
        lines,
    )


def cpu_report(rows: list[dict]) -> str:
    """Where the CPU time went: the sync's process, the sandbox serving it, and what that means on this
    machine's cores (a run cannot be shorter than its CPU time spread over every core)."""
    cores = os.cpu_count() or 1
    lines = []
    for row in rows:
        floor, full = row["floor"], row["full"]
        served = full.get("sandbox_cpu_s")
        total = full["cpu_s"] + (served or 0.0)
        lines.append(
            [
                row["db"],
                f"{row['contracts']:,}",
                f"{floor['cpu_s']:.1f}",
                "?" if floor.get("sandbox_cpu_s") is None else f"{floor['sandbox_cpu_s']:.1f}",
                f"{full['cpu_s']:.1f}",
                "?" if served is None else f"{served:.1f}",
                f"{total / cores:.1f} ({total / cores / floor['seconds']:.2f}× floor)",
            ]
        )
    return table(
        [
            "warehouse",
            "contracts",
            "floor: client CPU s",
            "floor: sandbox CPU s",
            "full: client CPU s",
            "full: sandbox CPU s",
            f"full: CPU s / {cores} cores",
        ],
        lines,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.trading_network_sync", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    floor = sub.add_parser("_floor", help=argparse.SUPPRESS)
    floor.add_argument("url")
    sync = sub.add_parser("_sync", help=argparse.SUPPRESS)
    sync.add_argument("url")
    sync.add_argument("warehouse_url")
    parser.add_argument("--units", type=int, default=50_000, help="units (≈2 contracts each)")
    parser.add_argument("--db", default="sqlite,postgresql", help="warehouses to measure, comma-separated")
    parser.add_argument("--million", action="store_true", help="also ~1,000,000 contracts")
    args = parser.parse_args(argv)

    if args.command == "_floor":
        emit(child_floor(args.url))
        return 0
    if args.command == "_sync":
        emit(child_sync(args.url, args.warehouse_url))
        return 0

    rows = bench_scale(args.units, args.db.split(","))
    print(report(rows))
    print()
    print(cpu_report(rows))
    if args.million:
        big = bench_scale(args.units * 10, ["sqlite"])
        print()
        print(report(big))
        print()
        print(cpu_report(big))
        small_peak = next(r for r in rows if r["db"] == "sqlite")["full"]["peak_rss_mb"]
        big_peak = big[0]["full"]["peak_rss_mb"]
        print(
            f"\npeak memory, full sync on SQLite: {small_peak:.0f} MiB at {rows[0]['contracts']:,} "
            f"contracts, {big_peak:.0f} MiB at {big[0]['contracts']:,} contracts: "
            f"{big_peak / small_peak:.2f}× (target ≤ 1.5×)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
