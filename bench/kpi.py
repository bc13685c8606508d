"""KPI benchmark: computing the manager's KPIs against the time to only read their facts.

    python -m bench.kpi [--contracts 100000] [--ledger-lines 1000000] [--db sqlite,postgresql]

The synthetic warehouse of the reconciliation benchmark (`bench.reconcile.build`, in bulk), reconciled
once so that the receivables mart is full. Then, each in a fresh process so that its peak memory is
its own:

- floor: every KPI fact model (`sql/kpi/`) as of the report's day, rows fetched, nothing computed;
- compute: `estatehub.kpi.compute.compute` for a monthly report (four windows and their previous
  ones, every project and product type, the 12-week trend, the snapshots);
- report: the same and the zh-CN email built (three charts, the HTML, the workbook).

Targets (issue 12): within 5× the floor and under 4 GiB.
"""

from __future__ import annotations

import argparse
import sys
import time

from bench.common import emit, measure, run_child
from bench.reconcile import AS_OF, START, _warehouse, build
from bench.trading_network_sync import fresh_warehouse


def child_floor(url: str) -> dict:
    from estatehub.kpi.compute import read_facts

    warehouse = _warehouse(url)

    def read_all() -> int:
        with warehouse.engine.connect() as conn:
            return sum(len(rows) for rows in read_facts(conn, AS_OF).values())

    return measure(read_all)


def child_compute(url: str, *, report: bool) -> dict:
    from estatehub.kpi.compute import compute
    from estatehub.kpi.periods import report_period
    from estatehub.kpi.targets import load_targets
    from estatehub.reports.kpi import build as build_report

    warehouse = _warehouse(url)

    def run() -> int:
        with warehouse.engine.connect() as conn:
            data = compute(conn, report_period("month", AS_OF))
        if report:
            build_report(data, lang="zh-CN", targets=load_targets())
        return sum(len(rows) for rows in data.facts.values())

    return measure(run)


def child_reconcile(url: str) -> dict:
    from estatehub.reconcile.city import CityRules
    from estatehub.reconcile.run import run_reconciliation

    warehouse = _warehouse(url)
    return measure(
        lambda: len(run_reconciliation(warehouse, date_from=START, date_to=AS_OF, city=CityRules()).outcomes)
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.kpi", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    for name in ("_floor", "_compute", "_report", "_reconcile"):
        sub.add_parser(name, help=argparse.SUPPRESS).add_argument("url")
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--ledger-lines", type=int, default=1_000_000)
    parser.add_argument("--db", default="sqlite", help="sqlite, postgresql or both, comma-separated")
    args = parser.parse_args(argv)
    children = {
        "_floor": lambda: child_floor(args.url),
        "_compute": lambda: child_compute(args.url, report=False),
        "_report": lambda: child_compute(args.url, report=True),
        "_reconcile": lambda: child_reconcile(args.url),
    }
    if args.command in children:
        emit(children[args.command]())
        return 0
    print(
        "| warehouse | contracts | ledger lines | facts | floor s | compute s | compute/floor | report s | peak MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for db in args.db.split(","):
        with fresh_warehouse(db) as url:
            started = time.perf_counter()
            counts = build(url, args.contracts, args.ledger_lines)
            run_child("bench.kpi", ["_reconcile", url])
            print(f"(built and reconciled in {time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
            floor = run_child("bench.kpi", ["_floor", url])
            computed = run_child("bench.kpi", ["_compute", url])
            report = run_child("bench.kpi", ["_report", url])
            print(
                f"| {db} | {args.contracts:,} | {counts.get('core_voucher_line', 0):,} | {floor['records']:,} | "
                f"{floor['seconds']:.1f} | {computed['seconds']:.1f} | "
                f"{computed['seconds'] / floor['seconds']:.1f}× | {report['seconds']:.1f} | "
                f"{max(computed['peak_rss_mb'], report['peak_rss_mb']):.0f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
