"""Reconciliation benchmark: the whole run against the time to only read its inputs.

    python -m bench.reconcile [--contracts 100000] [--ledger-lines 1000000] [--db sqlite,postgresql]

A synthetic warehouse is built once per size and database (in bulk, not by the syncs: this measures
the reconciliation, not the loading): units, contracts (a fifth of them grown from a subscription, a
few cancelled), payment plans, receipts and refunds each booked to the supervised collection account
(most the same day, a tenth the next) beside the statement line the bank shows, the rest of the
`--ledger-lines` voucher lines costs and payables, disbursed loans, invoices, and statement files
whose lines chain their balances. Then, each in a fresh process so that its peak memory is its own:

- floor: every query the gates and the reconciliations read, rows fetched, nothing computed;
- full: `run_reconciliation` over the whole period (gates, five reconciliations, breaks carried,
  the receivables mart written), then a second run (everything kept: the steady daily case).

Targets (issue 11): within 5× the floor and under 4 GiB.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta

from bench.common import BENCH_PII_KEY, emit, measure, run_child
from bench.trading_network_sync import fresh_warehouse

START = date(2024, 1, 1)
AS_OF = date(2026, 6, 30)
NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)
BATCH = 20_000


def _warehouse(url: str):
    from estatehub.warehouse.engine import Warehouse

    return Warehouse.from_url(url, pii_key=BENCH_PII_KEY)


def build(url: str, contracts: int, ledger_lines: int, seed: int = 7) -> dict:
    """Fill an empty warehouse with a consistent synthetic book; returns the row counts."""
    from sqlalchemy import insert

    from estatehub.banks.tables import (
        core_bank_account,
        core_bank_loan,
        core_bank_statement_line,
        etl_bank_statement_file,
    )
    from estatehub.ledger.tables import core_invoice, core_receipt, core_refund, core_voucher, core_voucher_line
    from estatehub.trading_network.tables import core_contract, core_payment_plan, core_unit

    warehouse = _warehouse(url)
    warehouse.prepare()
    rng = random.Random(seed)
    counts: dict[str, int] = {}
    buffers: dict[object, list[dict]] = {}

    def add(table, row) -> None:
        rows = buffers.setdefault(table, [])
        rows.append(row)
        if len(rows) >= BATCH:
            for parent in (core_unit, core_contract, etl_bank_statement_file, core_voucher):  # parents first
                flush(parent)
            flush(table)

    def flush(table) -> None:
        rows = buffers.get(table) or []
        if rows:
            with warehouse.engine.begin() as conn:
                conn.execute(insert(table), rows)
            counts[table.name] = counts.get(table.name, 0) + len(rows)
            buffers[table] = []

    bill, voucher_id, entry_id, invoice_id = 0, 0, 0, 0
    account = "4000021209200123456"  # the supervised collection account every sale's money lands in
    statement_days: dict[date, list[tuple[str, int, str]]] = {}

    def book(on: date, lines: list[tuple[str, int, int, str | None]], memo: str) -> None:
        """One balanced voucher of `lines` (account, debit, credit, bank account or None)."""
        nonlocal voucher_id, entry_id
        voucher_id += 1
        add(
            core_voucher,
            {
                "voucher_id": voucher_id,
                "voucher_group": "记",
                "voucher_number": voucher_id,
                "year": on.year,
                "period": on.month,
                "voucher_on": on,
                "is_audited": True,
                "is_voided": False,
                "is_reversal": False,
                "created_at": NOW,
                "modified_at": NOW,
            },
        )
        for seq, (acct, debit, credit, bank_account) in enumerate(lines, start=1):
            entry_id += 1
            add(
                core_voucher_line,
                {
                    "entry_id": entry_id,
                    "voucher_id": voucher_id,
                    "seq": seq,
                    "voucher_on": on,
                    "memo": memo,
                    "account_no": acct,
                    "bank_account_no": bank_account,
                    "debit_fen": debit,
                    "credit_fen": credit,
                    "is_voided": False,
                },
            )

    add(
        core_bank_account,
        {
            "bank": "icbc",
            "account_no": account,
            "account_type": "supervised",
            "account_name": "预售资金监管账户",
            "permit_no": "预售许可证2024001",
            "listed_at": NOW,
            "payload_hash": "h",
            "batch_id": "bench",
            "run_id": "bench",
            "loaded_at": NOW,
        },
    )
    for n in range(contracts):
        house = f"H{n:07d}"
        add(
            core_unit,
            {
                "house_id": house,
                "project_code": f"P{n % 40:02d}",
                "project_name": "项目",
                "building": "1栋",
                "unit": "1单元",
                "floor": 1 + n % 30,
                "room": f"{1 + n % 30}0{1 + n % 4}",
                "building_area": 90,
            },
        )
        signed = START + timedelta(days=rng.randrange(0, 850))
        cancelled = rng.random() < 0.03
        total = rng.randrange(150, 900) * 10_000_00
        subscription = f"RG{n:08d}" if rng.random() < 0.2 else None
        row = {
            "contract_no": f"YS{n:08d}",
            "contract_type": "预售",
            "state": "撤销" if cancelled else "已备案",
            "house_id": house,
            "unit_price_fen": total // 90,
            "total_price_fen": total,
            "signed_at": datetime.combine(signed, datetime.min.time(), tzinfo=UTC),
            "filed_at": None
            if cancelled
            else datetime.combine(signed + timedelta(days=5), datetime.min.time(), tzinfo=UTC),
            "cancelled_at": datetime.combine(signed + timedelta(days=40), datetime.min.time(), tzinfo=UTC)
            if cancelled
            else None,
            "subscription_no": subscription,
            "updated_at": NOW,
        }
        add(core_contract, row)
        down, loan = total * 3 // 10, total - total * 3 // 10
        plan = [
            ("定金", signed, 50_000_00),
            ("首付", signed + timedelta(days=15), down - 50_000_00),
            ("按揭", signed + timedelta(days=60), loan),
        ]
        for seq, (kind, due, amount) in enumerate(plan, start=1):
            add(
                core_payment_plan,
                {"contract_no": row["contract_no"], "seq": seq, "kind": kind, "due_on": due, "amount_fen": amount},
            )
        for kind, due, amount in plan:
            if due > AS_OF or rng.random() < 0.02:
                continue  # not yet paid, or overdue
            bill += 1
            paid_on = due + timedelta(days=rng.randrange(-3, 4))
            add(
                core_receipt,
                {
                    "bill_id": bill,
                    "bill_no": f"SKD{bill:09d}",
                    "receipt_on": paid_on,
                    "customer_name": "张三",
                    "amount_fen": amount,
                    "remark": "",
                    "is_audited": True,
                    "is_voided": False,
                    "created_at": NOW,
                    "modified_at": NOW,
                    "payment_kind": kind,
                    "contract_no": row["contract_no"],
                    "house_id": house,
                    "bank_account_no": account,
                },
            )
            invoice_id += 1
            add(
                core_invoice,
                {
                    "invoice_id": invoice_id,
                    "bill_no": f"XSFP{invoice_id:09d}",
                    "invoice_type": "预收款发票",
                    "invoice_no": f"{invoice_id:020d}",
                    "invoice_on": paid_on,
                    "tax_code": "602",
                    "tax_rate": 0,
                    "amount_fen": amount,
                    "tax_fen": 0,
                    "is_red": False,
                    "source_bill_no": f"SKD{bill:09d}",
                    "remark": "",
                    "is_audited": True,
                    "is_voided": False,
                    "created_at": NOW,
                    "modified_at": NOW,
                    "contract_no": row["contract_no"],
                },
            )
            statement_days.setdefault(paid_on, []).append((f"S{bill:010d}", amount, "in"))
            booked_on = paid_on + timedelta(days=1 if rng.random() < 0.1 else 0)  # some booked the next day
            book(booked_on, [("1002.01", amount, 0, account), ("2203", 0, amount, None)], f"收{house}{kind}")
            if kind == "按揭":
                add(
                    core_bank_loan,
                    {
                        "bank": "icbc",
                        "loan_no": f"L{n:08d}",
                        "contract_no": row["contract_no"],
                        "house_id": house,
                        "link_basis": "contract_no",
                        "loan_type": "商贷",
                        "stage": "已放款",
                        "borrower_name": "张三",
                        "borrower_id_type": "身份证",
                        "borrower_id_hash": "h",
                        "borrower_id_masked": "4403***",
                        "disbursed_fen": amount,
                        "disbursed_on": paid_on,
                        "updated_at": NOW,
                    },
                )
        if cancelled and rng.random() < 0.5:
            bill += 1
            refund_on = signed + timedelta(days=50)
            statement_days.setdefault(refund_on, []).append((f"S{bill:010d}", 50_000_00, "out"))
            book(refund_on, [("2203", 50_000_00, 0, None), ("1002.01", 0, 50_000_00, account)], f"退{house}定金")
            add(
                core_refund,
                {
                    "bill_id": bill,
                    "bill_no": f"SKTK{bill:09d}",
                    "refund_on": refund_on,
                    "amount_fen": 50_000_00,
                    "remark": "",
                    "is_audited": True,
                    "is_voided": False,
                    "created_at": NOW,
                    "modified_at": NOW,
                    "contract_no": row["contract_no"],
                },
            )
    while entry_id < ledger_lines:  # the rest of the book: costs and payables, not the collection account
        amount = rng.randrange(1, 10_000_000)
        on = START + timedelta(days=rng.randrange(0, 900))
        book(on, [("6601", amount, 0, None), ("2202", 0, amount, None)], "计提费用")
    balance = 0
    for file_id, day in enumerate(sorted(statement_days), start=1):
        lines = statement_days[day]
        add(
            etl_bank_statement_file,
            {
                "file_id": file_id,
                "bank": "icbc",
                "account_no": account,
                "file_name": f"ICBC_{account}_{day:%Y%m%d}.csv",
                "sha256": f"{file_id:064d}",
                "layout": "icbc",
                "period_start_on": day,
                "period_end_on": day,
                "version": 1,
                "line_count": len(lines),
                "quarantined_count": 0,
                "credit_count": sum(d == "in" for _, _, d in lines),
                "debit_count": sum(d == "out" for _, _, d in lines),
                "credit_fen": sum(a for _, a, d in lines if d == "in"),
                "debit_fen": sum(a for _, a, d in lines if d == "out"),
                "status": "loaded",
                "origin": "sync",
                "run_id": "bench",
                "loaded_at": NOW,
            },
        )
        for line_no, (serial, amount, direction) in enumerate(lines, start=1):
            balance += amount if direction == "in" else -amount
            add(
                core_bank_statement_line,
                {
                    "line_key": serial,
                    "bank": "icbc",
                    "account_no": account,
                    "booked_on": day,
                    "booked_time": "10:00:00",
                    "direction": direction,
                    "amount_fen": amount,
                    "balance_fen": balance,
                    "currency": "CNY",
                    "serial": serial,
                    "layout": "icbc",
                    "file_id": file_id,
                    "line_no": line_no,
                    "first_file_id": file_id,
                    "is_current": True,
                    "loaded_at": NOW,
                },
            )
    for table in (core_unit, core_contract, etl_bank_statement_file, *buffers):
        flush(table)
    warehouse.engine.dispose()
    return counts


def child_floor(url: str) -> dict:
    """Read every input of the gates and the reconciliations, nothing computed."""
    from estatehub.quality.gates import SQL_GATES
    from estatehub.reconcile.checks import PROCEEDS_PURPOSE
    from estatehub.warehouse import sqlfiles

    warehouse = _warehouse(url)
    # every parameter the models take, as the reconciliation binds them (`estatehub.reconcile.checks`)
    params = {"as_of_on": AS_OF, "from_on": START, "to_on": AS_OF, "proceeds_purpose": PROCEEDS_PURPOSE}
    models = [g.model for g in SQL_GATES] + sqlfiles.models("reconcile")

    def read_all() -> int:
        rows = 0
        with warehouse.engine.connect() as conn:
            for model in models:
                wanted = {p: params[p] for p in sqlfiles.parameters(model)}
                for _ in sqlfiles.execute(conn, model, wanted):
                    rows += 1
        return rows

    return measure(read_all)


def child_full(url: str) -> dict:
    from estatehub.reconcile.city import CityRules
    from estatehub.reconcile.run import run_reconciliation

    warehouse = _warehouse(url)

    def run() -> int:
        report = run_reconciliation(warehouse, date_from=START, date_to=AS_OF, city=CityRules())
        return sum(len(o.breaks) for o in report.outcomes.values())

    return measure(run)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reconcile", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    floor = sub.add_parser("_floor", help=argparse.SUPPRESS)
    floor.add_argument("url")
    full = sub.add_parser("_full", help=argparse.SUPPRESS)
    full.add_argument("url")
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--ledger-lines", type=int, default=1_000_000)
    parser.add_argument("--db", default="sqlite", help="sqlite, postgresql or both, comma-separated")
    args = parser.parse_args(argv)
    if args.command == "_floor":
        emit(child_floor(args.url))
        return 0
    if args.command == "_full":
        emit(child_full(args.url))
        return 0
    print(
        "| warehouse | contracts | ledger lines | build s | floor s | full s | full/floor | second run s | breaks |",
        end="",
    )
    print(" peak MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for db in args.db.split(","):
        with fresh_warehouse(db) as url:
            started = time.perf_counter()
            counts = build(url, args.contracts, args.ledger_lines)
            built = time.perf_counter() - started
            floor = run_child("bench.reconcile", ["_floor", url])
            first = run_child("bench.reconcile", ["_full", url])
            second = run_child("bench.reconcile", ["_full", url])
            print(
                f"| {db} | {args.contracts:,} | {counts.get('core_voucher_line', 0):,} | {built:.0f} | "
                f"{floor['seconds']:.1f} | {first['seconds']:.1f} | {first['seconds'] / floor['seconds']:.1f}× | "
                f"{second['seconds']:.1f} | {first['records']:,} | "
                f"{max(first['peak_rss_mb'], second['peak_rss_mb']):.0f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
