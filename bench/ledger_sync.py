"""Ledger sync benchmark: 1,000,000 voucher lines through the connector (and into the warehouse).

    python -m bench.ledger_sync [--units 54000] [--page-size 5000] [--db sqlite,postgresql] [--skip-sync]

A world of about 54,000 units books about 1,000,000 voucher lines in the sandbox ledger (v18). The ERP
sandbox serves it from this process; each measurement runs in a fresh child process so its peak memory
is its own:

- floor: fetch and parse every voucher line (`LedgerClient.iter_vouchers`), nothing written (issue 13's floor);
  the table (`bench.table`) adds the floor of every form the sync fetches (`floor-forms`: vouchers, receipts,
  refunds, invoices);
- full sync: every form into a fresh warehouse that already holds the world's contracts (loaded
  first, not measured), receipts linked to them (`estatehub.ledger.sync`);
- memo parsing alone: `parse_memo` over every voucher memo (the parser's own cost).

Also printed: the time to derive the ledger from the world (done once, cached in var/bench).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import time
from pathlib import Path

from bench.common import BENCH_PII_KEY, emit, measure, postgres_database, run_child, table

SEED = 11
CACHE = Path(__file__).resolve().parent.parent / "var" / "bench"


def _client(url: str, page_size: int):
    from connectors.ledger import LedgerClient
    from sandbox.ledger.server import DEFAULT_ACCOUNT, DEFAULT_PASSWORD

    return LedgerClient(url, DEFAULT_ACCOUNT, DEFAULT_PASSWORD, timeout=300, page_size=page_size)


# -- the measured children -------------------------------------------------------------------------


def child_floor(url: str, page_size: int, forms: tuple[str, ...] = ("GL_VOUCHER",)) -> dict:
    """Fetch and parse every row of `forms` (the voucher lines: issue 13's floor; every form: what the sync
    itself fetches and parses), nothing written."""

    def run() -> int:
        with _client(url, page_size) as client:
            return sum(1 for form in forms for _ in client.iter_form(form))

    return measure(run)


def child_memos(ledger_path: str) -> dict:
    from estatehub.memo import parse_memo

    def run() -> int:
        db = sqlite3.connect(f"file:{ledger_path}?mode=ro", uri=True)
        count = 0
        for (memo,) in db.execute("select memo from entries"):
            parse_memo(memo)
            count += 1
        db.close()
        return count

    return measure(run)


def load_contracts(warehouse, world: str) -> None:
    """The trading network's side, as the ledger sync finds it in production (not measured)."""
    from datetime import UTC, datetime

    from connectors.trading_network.parse import parse_contract
    from estatehub.trading_network.load import load_batch
    from sandbox.world import contract_as_of, open_world

    end = datetime(2100, 1, 1, tzinfo=UTC)
    batch: list = []
    with open_world(world) as store:
        for number, doc in enumerate(store.iter_docs()):
            view = contract_as_of(doc, end)
            if view is not None:
                batch.append(parse_contract(view))
            if len(batch) >= 2000:
                with warehouse.begin() as conn:
                    load_batch(conn, warehouse, batch, run_id="bench", batch_id=f"bench:{number}", fetched_at=end)
                batch = []
    if batch:
        with warehouse.begin() as conn:
            load_batch(conn, warehouse, batch, run_id="bench", batch_id="bench:last", fetched_at=end)


def child_sync(url: str, page_size: int, warehouse_url: str, world: str) -> dict:
    from estatehub.ledger.sync import sync_ledger
    from estatehub.settings import SyncSettings
    from estatehub.warehouse.engine import Warehouse

    warehouse = Warehouse.from_url(warehouse_url, pii_key=BENCH_PII_KEY)
    warehouse.prepare()  # migrations are not part of the measured sync
    load_contracts(warehouse, world)

    def run() -> int:
        with _client(url, page_size) as client:
            return sync_ledger(client, warehouse, settings=SyncSettings(batch_size=page_size)).fetched

    return measure(run)


# -- the driver ------------------------------------------------------------------------------------


def prepare(units: int) -> tuple[Path, Path, float]:
    from sandbox.banks.world import ensure_bank_world
    from sandbox.ledger.book import ensure_ledger
    from sandbox.world import ensure_world

    world = ensure_world(CACHE, units=units, seed=SEED)
    started = time.perf_counter()
    ledger = ensure_ledger(world, seed=SEED, cache_dir=CACHE, bank_world=ensure_bank_world(world))
    return world, ledger, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ledger_sync", description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=54_000, help="world units (54,000: about 1,000,000 lines)")
    parser.add_argument("--page-size", type=int, default=5000, help="rows per ERP page (default 5000)")
    parser.add_argument("--db", default="sqlite", help="warehouses for the full sync: sqlite,postgresql")
    parser.add_argument("--skip-sync", action="store_true", help="only the floor and the memo parser")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        if kind == "floor":
            emit(child_floor(rest[0], int(rest[1])))
        elif kind == "floor-forms":
            from estatehub.ledger.load import STREAMS

            emit(child_floor(rest[0], int(rest[1]), tuple(STREAMS)))
        elif kind == "memos":
            emit(child_memos(rest[0]))
        else:
            emit(child_sync(rest[0], int(rest[1]), rest[2], rest[3]))
        return 0

    from sandbox.ledger.server import LedgerServer

    world, ledger, built = prepare(args.units)
    db = sqlite3.connect(ledger)
    lines = db.execute("select count(*) from entries").fetchone()[0]
    db.close()
    print(f"world {world.name}: {lines:,} voucher lines (ledger derived in {built:.1f} s, 0 when cached)")
    server = LedgerServer(ledger)
    server.start()
    rows = []
    try:
        for name, child in (
            ("floor: fetch + parse", ["floor", server.url, str(args.page_size)]),
            ("memo parser alone", ["memos", str(ledger)]),
        ):
            result = run_child("bench.ledger_sync", ["--child", *child])
            rows.append(_row(name, result))
        if not args.skip_sync:
            for kind in args.db.split(","):
                if kind == "postgresql":
                    with postgres_database("estatehub_bench_ledger") as url:
                        result = run_child(
                            "bench.ledger_sync", ["--child", "sync", server.url, str(args.page_size), url, str(world)]
                        )
                else:
                    target = CACHE / f"ledger-bench-warehouse-{args.units}.db"
                    target.unlink(missing_ok=True)
                    sync_args = ["--child", "sync", server.url, str(args.page_size), f"sqlite:///{target}", str(world)]
                    result = run_child("bench.ledger_sync", sync_args)
                rows.append(_row(f"full sync ({kind})", result, floor=rows[0]))
    finally:
        server.stop()
    headers = ["measurement", "rows", "seconds", "rows/s", "CPU s", "× floor (s)", "× floor (CPU)", "peak MiB", "load"]
    print(table(headers, [row[1:] for row in rows]))
    return 0


def _row(name: str, result: dict, floor: list | None = None) -> list:
    """A row of the table (its first cell: the raw result, for the ratios of the rows after it).

    The load average (1 minute) is read when the measurement ends: the machine is shared, and CPU
    seconds (the child's own, every thread) compare better than wall seconds when it is busy.
    """
    seconds, cpu = result["seconds"], result["cpu_s"]
    ratio = f"{seconds / floor[0]['seconds']:.2f}" if floor else ""
    cpu_ratio = f"{cpu / floor[0]['cpu_s']:.2f}" if floor else ""
    return [
        result,
        name,
        f"{result['records']:,}",
        f"{seconds:.1f}",
        f"{result['records'] / seconds:,.0f}",
        f"{cpu:.1f}",
        ratio,
        cpu_ratio,
        f"{result['peak_rss_mb']:.0f}",
        f"{os.getloadavg()[0]:.2f}",
    ]


if __name__ == "__main__":
    raise SystemExit(main())
