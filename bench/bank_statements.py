"""Statement parsing throughput and peak memory: 100,000 vs 1,000,000-line files.

    python -m bench.bank_statements [--lines 100000 1000000] [--layouts icbc cmb] [--keep DIR]

For each size and layout, a statement file is written (streamed, in the sandbox's collection-account
layout: ICBC UTF-8 CSV padded with spaces and TABs, CMB GBK CSV), then parsed in a fresh process by
`connectors.banks.statements.StatementReader`, with the totals check at the end. The child reports
seconds, lines and its peak resident memory; the table shows lines/s and the ratio of peak memory at
the largest size to the smallest (target: within 1.5×: the parser streams).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

from bench.common import BENCH_PII_KEY, emit, peak_rss_mb, run_child

START = date(2025, 1, 1)
NAMES = (
    "张三",
    "李四",
    "王五",
    "赵敏",
    "陈志强",
    "刘秀英",
    "深圳市安居物业管理有限公司",
    "中国建设银行股份有限公司深圳市分行",
)
MEMOS = (
    "滨江悦府3栋2单元1502首付款",
    "1-2-803定金",
    "收胡琪1-2-403定金第3笔",
    "个人住房贷款放款 黄晨军 YS2025P02000211",
    "汇划手续费",
)


def synthetic_lines(count: int, seed: int = 1) -> Iterator[dict]:
    """`count` plausible statement lines, about 300 a day, with a running balance."""
    rng = random.Random(seed)
    balance = 500_000_000
    for seq in range(1, count + 1):
        day = START + timedelta(days=seq // 300)
        moment = datetime.combine(day, datetime.min.time()) + timedelta(seconds=9 * 3600 + (seq % 300) * 100)
        credit = rng.random() < 0.85
        amount = rng.randint(100, 500_000_000)
        balance += amount if credit else -amount
        yield {
            "seq": seq,
            "booked_at": moment.isoformat(),
            "direction": "in" if credit else "out",
            "amount_fen": amount,
            "balance_fen": balance,
            "counterparty_name": rng.choice(NAMES),
            "counterparty_account": f"6217{rng.randrange(10**15):015d}",
            "counterparty_bank": "中国银行深圳分行",
            "summary": "转账" if credit else "转账支出",
            "memo": rng.choice(MEMOS),
            "channel": "网上银行",
            "kind": "buyer_payment",
        }


def write_file(folder: Path, bank: str, lines: int) -> Path:
    from sandbox.banks import accounts, files

    account = accounts.ACCOUNTS[bank]
    last = START + timedelta(days=lines // 300)
    path = folder / files.file_name(bank, account, START, last)
    with path.open("wb") as out:
        files.stream_statement(out, bank, account, synthetic_lines(lines), START, last)
    return path


def parse_child(path: str, bank: str) -> None:
    """In the child: parse the file, check its totals, print one JSON line."""
    from connectors.banks.records import StatementLine
    from connectors.banks.statements import StatementReader

    started = time.perf_counter()
    reader = StatementReader(path, bank=bank)
    lines = 0
    for item in reader:
        if isinstance(item, StatementLine):
            lines += 1
    reader.check_totals()
    seconds = time.perf_counter() - started
    emit({"seconds": seconds, "lines": lines, "quarantined": reader.quarantined, "peak_rss_mb": peak_rss_mb()})


def load_child(path: str, bank: str) -> None:
    """In the child: load the file into a fresh SQLite warehouse (registry, lines, totals), print one JSON line."""
    from estatehub.banks.statements import load_statement_file
    from estatehub.warehouse.engine import Warehouse

    with tempfile.TemporaryDirectory(prefix="estatehub-bench-load-") as folder:
        warehouse = Warehouse.from_url(f"sqlite:///{folder}/warehouse.db", pii_key=BENCH_PII_KEY)
        warehouse.prepare()
        started = time.perf_counter()
        result = load_statement_file(warehouse, path, bank=bank, origin="bench")
        seconds = time.perf_counter() - started
        warehouse.dispose()
    emit({"seconds": seconds, "status": str(result.status), "peak_rss_mb": peak_rss_mb()})


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bank_statements", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--layouts", nargs="+", default=["icbc", "cmb"], choices=["icbc", "cmb"])
    parser.add_argument("--keep", type=Path, help="write the files here and keep them (default: a temp folder)")
    parser.add_argument("--load", action="store_true", help="also load each file into a SQLite warehouse")
    parser.add_argument("--child", nargs=2, metavar=("FILE", "BANK"), help=argparse.SUPPRESS)
    parser.add_argument("--load-child", nargs=2, metavar=("FILE", "BANK"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        parse_child(*args.child)
        return 0
    if args.load_child:
        load_child(*args.load_child)
        return 0
    folder = args.keep or Path(tempfile.mkdtemp(prefix="estatehub-bench-statements-"))
    folder.mkdir(parents=True, exist_ok=True)
    print("| layout | lines | file MiB | parse s | lines/s | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    peaks: dict[str, dict[int, float]] = {}
    load_peaks: dict[str, dict[int, float]] = {}
    for bank in args.layouts:
        for count in sorted(args.lines):
            path = write_file(folder, bank, count)
            result = run_child("bench.bank_statements", ["--child", str(path), bank])
            assert result["lines"] == count and result["quarantined"] == 0, result
            peaks.setdefault(bank, {})[count] = result["peak_rss_mb"]
            print(
                f"| {bank}_corporate | {count:,} | {path.stat().st_size / 2**20:,.1f} | {result['seconds']:.1f} | "
                f"{count / result['seconds']:,.0f} | {result['peak_rss_mb']:.1f} |",
                flush=True,
            )
            if args.load:
                loaded = run_child("bench.bank_statements", ["--load-child", str(path), bank])
                load_peaks.setdefault(bank, {})[count] = loaded["peak_rss_mb"]
                print(
                    f"| {bank}_corporate, parse + load into SQLite ({loaded['status']}) | {count:,} | | "
                    f"{loaded['seconds']:.1f} | {count / loaded['seconds']:,.0f} | {loaded['peak_rss_mb']:.1f} |",
                    flush=True,
                )
            if args.keep is None:
                path.unlink()
    smallest, largest = min(args.lines), max(args.lines)
    if smallest != largest:
        for bank, by_size in [*peaks.items(), *((f"{b} load", v) for b, v in load_peaks.items())]:
            ratio = by_size[largest] / by_size[smallest]
            verdict = "within" if ratio <= 1.5 else "OVER"
            print(f"\n{bank}: peak memory at {largest:,} lines is {ratio:.2f}x that at {smallest:,} ({verdict} 1.5x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
