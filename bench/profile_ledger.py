"""Profile one full ledger sync (pyinstrument): where the time goes, for decision records.

    python -m bench.profile_ledger [--units 9100] [--db sqlite|postgresql] [--out FILE]

A world of `units` (9,100: about 109,000 voucher lines) from the benchmark's cache, its contracts
loaded first (not profiled), then `sync_ledger` under the profiler; prints the profile's text (or
writes it to FILE) and the floor (fetch and parse the vouchers) measured right after, for the ratio.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.common import BENCH_PII_KEY, postgres_database
from bench.ledger_sync import _client, load_contracts, prepare


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_ledger", description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=9100)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    from pyinstrument import Profiler

    from estatehub.ledger.sync import sync_ledger
    from estatehub.settings import SyncSettings
    from estatehub.warehouse.engine import Warehouse
    from sandbox.ledger.server import LedgerServer

    world, ledger, _ = prepare(args.units)
    server = LedgerServer(ledger)
    server.start()
    try:
        with postgres_database("estatehub_profile_ledger") if args.db == "postgresql" else _sqlite(args.units) as url:
            warehouse = Warehouse.from_url(url, pii_key=BENCH_PII_KEY)
            warehouse.prepare()
            load_contracts(warehouse, str(world))
            profiler = Profiler(interval=0.005)
            started = time.perf_counter()
            profiler.start()
            with _client(server.url, 5000) as client:
                result = sync_ledger(client, warehouse, settings=SyncSettings(batch_size=5000))
            profiler.stop()
            seconds = time.perf_counter() - started
            warehouse.engine.dispose()
        started = time.perf_counter()
        with _client(server.url, 5000) as client:
            vouchers = sum(1 for _ in client.iter_vouchers())
        floor = time.perf_counter() - started
    finally:
        server.stop()
    text = profiler.output_text(unicode=False, color=False)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        print(text)
    print(
        f"sync: {result.fetched:,} rows in {seconds:.1f} s; floor: {vouchers:,} voucher lines in {floor:.1f} s",
        file=sys.stderr,
    )
    return 0


@contextmanager
def _sqlite(units: int) -> Iterator[str]:
    path = Path(f"var/bench/ledger-profile-{units}.db")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    try:
        yield f"sqlite:///{path}"
    finally:
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    raise SystemExit(main())
