"""Profile one full trading-network sync (pyinstrument): where the client's time goes, for decision records.

    python -m bench.profile_trading_network [--units 10000] [--out FILE]

A world of `units` (10,000: about 18,600 contracts) from the benchmark's cache, served by the sandbox in
a child process; `sync_trading_network` into a fresh SQLite warehouse under the profiler, without the
read-ahead thread (the profiler samples one thread; the sync's work is the same, one batch after the
other). Prints the profile's text (or writes it to FILE).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench.common import BENCH_PII_KEY, sandbox_process
from bench.trading_network_sync import _client, clocks, world_for


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.profile_trading_network", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    from pyinstrument import Profiler

    from estatehub.settings import SyncSettings
    from estatehub.trading_network.sync import sync_trading_network
    from estatehub.warehouse.engine import Warehouse

    world = world_for(args.units)
    t0 = clocks(world)[0]
    with sandbox_process(world, t0.isoformat()) as sandbox, tempfile.TemporaryDirectory() as folder:
        warehouse = Warehouse.from_url(f"sqlite:///{Path(folder) / 'warehouse.db'}", pii_key=BENCH_PII_KEY)
        warehouse.prepare()
        profiler = Profiler(interval=0.002)
        started = time.perf_counter()
        profiler.start()
        with _client(sandbox.urls["trading_network"]) as client:
            result = sync_trading_network(client, warehouse, settings=SyncSettings(), read_ahead=False)
        profiler.stop()
        seconds = time.perf_counter() - started
        warehouse.engine.dispose()
    text = profiler.output_text(unicode=False, color=False)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        print(text)
    print(f"sync: {result.fetched:,} contracts in {seconds:.1f} s (profiled, no read-ahead)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
