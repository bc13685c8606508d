"""Throughput of the trading-network sync on synthetic contracts (not part of the test run).

    .venv/bin/python tests/sync/bench_synthetic_sync.py [--contracts 100000] [--db sqlite,postgresql]

For each warehouse: the fake client alone (the fetch cost: generating the records), then a full sync
into a fresh warehouse with writing inline and with the read-ahead thread. The writing cost is the
inline sync minus the fetch. Peak memory is of the whole process (it must not grow with --contracts).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from bench.common import BENCH_PII_KEY
from estatehub.settings import SyncSettings
from estatehub.trading_network.sync import sync_trading_network
from estatehub.warehouse import Warehouse
from tests.support.trading_network_fakes import StreamingFakeClient

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


@contextmanager
def fresh_warehouse(kind: str):
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="estatehub-bench-") as folder:
            yield f"sqlite:///{Path(folder) / 'warehouse.db'}"
        return
    import psycopg

    name = f"estatehub_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--batch-size", type=int, default=SyncSettings().batch_size)
    args = parser.parse_args()
    settings = SyncSettings(batch_size=args.batch_size)

    started = time.perf_counter()
    fetched = sum(1 for _ in StreamingFakeClient(args.contracts).iter_contracts(None))
    fetch_s = time.perf_counter() - started
    print(f"fetch only (fake client): {fetched:,} records in {fetch_s:.1f} s = {fetched / fetch_s:,.0f} records/s")
    print(
        "| warehouse | mode | records | seconds | records/s | writing s (sync - fetch) | writing records/s "
        "| CPU s of this process | peak MiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for kind in args.db.split(","):
        for read_ahead in (False, True):
            with fresh_warehouse(kind) as url:
                warehouse = Warehouse.from_url(url, pii_key=BENCH_PII_KEY)
                warehouse.prepare()
                started, cpu = time.perf_counter(), time.process_time()
                result = sync_trading_network(
                    StreamingFakeClient(args.contracts), warehouse, settings=settings, read_ahead=read_ahead
                )
                seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
                warehouse.dispose()
            writing = seconds - fetch_s
            print(
                f"| {kind} | {'read-ahead' if read_ahead else 'inline'} | {result.fetched:,} | {seconds:.1f} | "
                f"{result.fetched / seconds:,.0f} | {writing:.1f} | {result.fetched / writing:,.0f} | {cpu:.1f} | "
                f"{peak_mib():.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
