"""Command line of the world generator.

python -m sandbox.world generate --units 300 --seed 7 --out var/world.sqlite [--inventory units.csv]
python -m sandbox.world info var/world.sqlite
"""

from __future__ import annotations

import argparse
import resource
import sys
from datetime import date
from pathlib import Path

from sandbox.world.generate import DEFAULT_MONTHS, DEFAULT_START_ON, WorldInfo, generate_world
from sandbox.world.inventory import InventoryError
from sandbox.world.store import WorldStoreError, open_world


def _print_info(info: WorldInfo) -> None:
    print(f"world       {info.path}")
    print(f"seed        {info.seed}")
    print(f"units       {info.units}")
    print(f"period      {info.start_on} .. {info.end_on} ({info.months} months)")
    print(f"contracts   {info.contracts}")
    print(f"events      {info.events}")
    for kind, count in info.ground_truth.items():
        print(f"truth       {kind:<22} {count}")
    if info.seconds:
        print(f"generated   in {info.seconds:.1f}s ({info.contracts / info.seconds:,.0f} contracts/s)")
        parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
        print(f"peak RSS    {parent} MB (largest worker process {workers} MB)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox.world", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate", help="write a new world file and print its counts")
    generate.add_argument("--units", type=int, help="number of units (with --inventory: first N rows)")
    generate.add_argument("--seed", type=int, required=True, help="the world's seed")
    generate.add_argument("--out", type=Path, required=True, help="world file to write (replaced)")
    generate.add_argument("--inventory", type=Path, help="unit inventory CSV instead of generated units")
    generate.add_argument("--start-on", type=date.fromisoformat, default=DEFAULT_START_ON, help="first day")
    generate.add_argument("--months", type=int, default=DEFAULT_MONTHS, help="length of the simulated period")
    generate.add_argument("--workers", type=int, help="simulation processes (default: by size)")
    generate.add_argument("--clean", action="store_true", help="plant no irregularity (for scoring false alarms)")
    info = commands.add_parser("info", help="print the counts of an existing world file")
    info.add_argument("path", type=Path)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "generate":
            if args.units is None and args.inventory is None:
                print("error: give --units, or --inventory with a unit CSV", file=sys.stderr)
                return 2
            world = generate_world(
                args.out,
                units=args.units,
                seed=args.seed,
                start_on=args.start_on,
                months=args.months,
                inventory_csv=args.inventory,
                workers=args.workers,
                clean=args.clean,
            )
        else:
            with open_world(args.path) as store:
                world = WorldInfo.from_meta(args.path, store.meta)
    except (InventoryError, WorldStoreError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _print_info(world)
    return 0


if __name__ == "__main__":
    sys.exit(main())
