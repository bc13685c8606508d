"""A/B of the trading-network full sync: two source trees, the same sandbox and world, runs alternated.

    python -m bench.trading_network_ab --tree main=/path/to/main --tree branch=. [--units 10000]
           [--tries 3] [--db sqlite|postgresql] [--floor] [--compare]

Each try runs every tree's `bench.trading_network_sync _sync` child (a fresh process, a fresh
warehouse, the tree on PYTHONPATH), in alternating order, against one sandbox serving the world of
`units`; `--floor` adds the fetch-and-parse floor (of the first tree) to each try. Prints each run, then
the fastest of each tree with its client CPU and the sandbox's. `--compare` (SQLite) keeps each tree's
last warehouse and compares them row by row: raw, staging, core and quarantine, without run ids and load
times — what a change to the sync's speed must leave as it was.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import MetaData, create_engine, select

from bench.common import postgres_database, sandbox_process
from bench.trading_network_sync import clocks, set_clock, world_for

COMPARED = ("raw_", "stg_", "core_", "etl_quarantine")
# when and by which run a row was written, and surrogate keys: not what it holds
VOLATILE = frozenset(
    {"batch_id", "run_id", "loaded_at", "fetched_at", "raw_record_id", "quarantine_id", "first_run_id"}
    | {"last_run_id", "first_seen_at", "last_seen_at", "resolved_at", "linked_at", "listed_at"}
)


def child(tree: Path, args: list[str]) -> dict:
    """`bench.trading_network_sync` of one source tree, in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, "-m", "bench.trading_network_sync", *args]
    result = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{tree}: {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def content(path: Path) -> dict[str, list[tuple]]:
    """{table: sorted rows} of the compared tables of a SQLite warehouse, volatile columns left out."""
    engine = create_engine(f"sqlite:///{path}")
    metadata = MetaData()
    metadata.reflect(engine)
    tables = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name.startswith(COMPARED):
                columns = [column for column in table.columns if column.name not in VOLATILE]
                tables[table.name] = sorted(map(tuple, conn.execute(select(*columns))), key=repr)
    engine.dispose()
    return tables


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.trading_network_ab", description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", required=True, help="NAME=PATH of a source tree (two or more)")
    parser.add_argument("--units", type=int, default=10_000, help="units of the world (≈1.9 contracts each)")
    parser.add_argument("--tries", type=int, default=3)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--floor", action="store_true", help="measure the fetch-and-parse floor in each try")
    parser.add_argument("--compare", action="store_true", help="compare the trees' warehouses (SQLite)")
    args = parser.parse_args(argv)
    trees = {name: Path(path).resolve() for name, path in (spec.split("=", 1) for spec in args.tree)}
    first = next(iter(trees.values()))

    world = world_for(args.units)
    t0, _, contracts, _ = clocks(world)
    runs: dict[str, list[dict]] = {name: [] for name in trees}
    floors: list[dict] = []
    with sandbox_process(world, t0.isoformat()) as sandbox, tempfile.TemporaryDirectory() as kept:
        url = sandbox.urls["trading_network"]

        def measured(tree: Path, child_args: list[str]) -> dict:
            before = sandbox.cpu_seconds()
            result = child(tree, child_args)
            result["sandbox_cpu_s"] = (sandbox.cpu_seconds() or 0.0) - (before or 0.0)
            return result

        for attempt in range(args.tries):
            if args.floor:
                floors.append(measured(first, ["_floor", url]))
                print("floor", json.dumps(floors[-1]), flush=True)
            for name in list(trees) if attempt % 2 == 0 else list(trees)[::-1]:
                set_clock(url, t0)
                if args.db == "postgresql":
                    with postgres_database("estatehub_bench_ab") as warehouse_url:
                        runs[name].append(measured(trees[name], ["_sync", url, warehouse_url]))
                else:
                    path = Path(kept) / f"{name}.db"
                    for stale in Path(kept).glob(f"{name}.db*"):
                        stale.unlink()
                    runs[name].append(measured(trees[name], ["_sync", url, f"sqlite:///{path}"]))
                print(name, json.dumps(runs[name][-1]), flush=True)
        compared = {name: content(Path(kept) / f"{name}.db") for name in trees} if args.compare else {}

    print(f"\n{contracts:,} contracts, {args.db}, fastest of {args.tries}:")
    floor = min(floors, key=lambda run: run["seconds"]) if floors else None
    if floor:
        cpu = f"client CPU {floor['cpu_s']:.2f} s, sandbox {floor['sandbox_cpu_s']:.2f} s"
        print(f"floor: {floor['seconds']:.2f} s, {cpu}")
    for name, results in runs.items():
        best = min(results, key=lambda run: run["seconds"])
        every = ", ".join(f"{run['seconds']:.2f}" for run in results)
        ratio = f" ({best['seconds'] / floor['seconds']:.2f}× floor)" if floor else ""
        print(
            f"{name}: {best['seconds']:.2f} s{ratio}, client CPU {best['cpu_s']:.2f} s, sandbox "
            f"{best['sandbox_cpu_s']:.2f} s, peak {best['peak_rss_mb']:.0f} MiB; "
            f"every try: {every} s"
        )
    if compared:
        (base_name, base), *others = compared.items()
        for name, tables in others:
            differing = sorted(table for table in base.keys() | tables.keys() if base.get(table) != tables.get(table))
            rows = sum(map(len, base.values()))
            print(
                f"{name} against {base_name}: "
                + (f"differ in {', '.join(differing)}" if differing else f"the same {rows:,} rows")
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
