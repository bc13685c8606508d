"""The banks' commands of `python -m estatehub`, wired in by `add_bank_commands`:

    estatehub sync banks [--bank CODE] [--loans-only | --statements-only] [--full] [--warehouse-url URL]
    estatehub import-statement FILE --bank CODE [--account ACCOUNT] [--warehouse-url URL]

`sync banks` runs the same code as the Airflow tasks, bank by bank: one bank failing is reported and
the others still run (exit code 1 if any failed). `import-statement` loads a file finance downloaded by
hand and prints what it loaded and what it quarantined. Output names counts, files and reasons, never
ID numbers.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from estatehub.dag_settings import BANK_CODES, STATEMENT_BANKS  # not `banks.connections`: the parser stays light

SYNC_HELP = "loans and statements of the banks and the fund centre"


def _warehouse(url: str | None):  # noqa: ANN202 - the warehouse, resolved as the other commands do
    from estatehub.connections import resolve_warehouse

    return resolve_warehouse(url)


def cmd_sync_banks(args: argparse.Namespace) -> int:
    from connectors.errors import ConnectorError
    from estatehub.banks.sync import sync_loans, sync_statements
    from estatehub.connections import ConnectionConfigError
    from estatehub.sync.errors import SyncAlreadyRunning

    warehouse = _warehouse(args.warehouse_url)
    codes = [args.bank] if args.bank else list(BANK_CODES)
    failed = 0
    for code in codes:
        try:
            if not args.statements_only:
                loans = sync_loans(code, warehouse, full=args.full)
                print(
                    f"{code} loans: fetched {loans['fetched']}, loaded {loans['loaded']}, "
                    f"quarantined {loans['quarantined']} ({loans['mode']})"
                )
            if not args.loans_only and code in STATEMENT_BANKS:
                done = sync_statements(code, warehouse)
                print(
                    f"{code} statements: {done['listed']} files listed, {done['loaded']} loaded "
                    f"({done['lines_inserted']} new lines), {done['duplicates']} duplicates, {done['replaced']} "
                    f"replaced, {done['quarantined']} quarantined, {done['rows_quarantined']} rows quarantined"
                )
        except (ConnectorError, ConnectionConfigError) as exc:
            failed += 1
            print(f"{code} FAILED: {exc}")
        except SyncAlreadyRunning as exc:  # this bank is being synced by another run: the others go on
            failed += 1
            print(f"{code} NOT RUN: {exc}")
    return 1 if failed else 0


def cmd_import_statement(args: argparse.Namespace) -> int:
    from estatehub.banks.statements import load_statement_file
    from estatehub.errors import UsageError

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"no statement file at {path}")
    warehouse = _warehouse(args.warehouse_url)
    warehouse.prepare()
    result = load_statement_file(warehouse, path, bank=args.bank, account_no=args.account, origin="manual")
    print(f"{result.file_name}: {result.status}" + (f" (file {result.file_id})" if result.file_id else ""))
    if result.status == "loaded":
        print(
            f"  {result.lines} lines read: {result.inserted} new, {result.kept} already loaded; "
            f"{result.quarantined_rows} rows quarantined"
        )
        if result.replaced_file_ids:
            print(f"  replaces file(s) {result.replaced_file_ids}: {result.dropped} of their lines are not in this one")
    if result.reason:
        print(f"  reason: {result.reason}")
    if result.quarantined_rows:
        _print_quarantined_rows(warehouse, args.bank, result.file_name)
    return 0 if result.status in ("loaded", "duplicate", "superseded") else 1


def _print_quarantined_rows(warehouse, bank: str, file_name: str, limit: int = 20) -> None:  # noqa: ANN001
    """The quarantined rows of file `file_name` exactly (keys `<file name>:<line>`): `%` and `_` in a
    name are plain characters, and a longer name with the same start is another file."""
    from sqlalchemy import select

    from estatehub.warehouse.tables import etl_quarantine

    q = etl_quarantine
    prefix = f"{file_name}:"
    with warehouse.engine.connect() as conn:
        rows = conn.execute(
            select(q.c.record_key, q.c.reason)
            .where(
                q.c.source == f"bank_{bank}",
                q.c.entity == "statement_line",
                q.c.record_key.startswith(prefix, autoescape=True),
            )
            .order_by(q.c.quarantine_id)
        )
        shown = 0
        for key, reason in rows:
            if not key[len(prefix) :].isdigit():  # `a.csv:1.csv:7` is a line of `a.csv:1.csv`
                continue
            print(f"  quarantined: {reason}")
            shown += 1
            if shown >= limit:
                break


def _subparsers_of(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def add_bank_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add `sync banks` (under the existing `sync` command, created if missing) and `import-statement`
    to the top-level `subparsers` of `python -m estatehub`."""
    sync = subparsers.choices.get("sync")
    if sync is None:
        sync = subparsers.add_parser("sync", help="run a sync once (the same code as the Airflow task)")
        sync.add_subparsers(dest="sync_command", required=True, metavar="SOURCE")
    sync_cmds = _subparsers_of(sync)
    assert sync_cmds is not None
    banks = sync_cmds.add_parser("banks", help=SYNC_HELP)
    banks.add_argument("--bank", choices=BANK_CODES, help="one bank only (default: all)")
    which = banks.add_mutually_exclusive_group()
    which.add_argument("--loans-only", action="store_true", help="loan stages only")
    which.add_argument("--statements-only", action="store_true", help="statement files only")
    banks.add_argument("--full", action="store_true", help="fetch every loan again (statements: only new files)")
    banks.add_argument("--warehouse-url", help="warehouse SQLAlchemy URL (default: the 'warehouse' Connection)")
    banks.set_defaults(func=cmd_sync_banks)

    statement = subparsers.add_parser(
        "import-statement", help="load a statement file downloaded by hand; prints what loaded and what not"
    )
    statement.add_argument("file", help="the statement file (.csv, .xls, .xlsx as the bank exports it)")
    statement.add_argument(
        "--bank",
        required=True,
        choices=STATEMENT_BANKS + ("abc", "boc", "bocom"),
        help="the bank whose layout the file is in",
    )
    statement.add_argument("--account", help="the account number, when the file does not carry it")
    statement.add_argument("--warehouse-url", help="warehouse SQLAlchemy URL (default: the 'warehouse' Connection)")
    statement.set_defaults(func=cmd_import_statement)
