"""The command line's ledger commands: `python -m estatehub sync ledger [--full]`.

`add_ledger_commands(sync_subparsers)` adds them to the `sync` command (estatehub/cli.py calls it).
They run the same code as the Airflow task; the output is counts, never names or amounts per person.
"""

from __future__ import annotations

import argparse
import json


def add_ledger_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add `ledger` to the subcommands of `sync`."""
    ledger = subparsers.add_parser(
        "ledger", help="vouchers, receipts, refunds and invoices from the finance ERP (finance_ledger Connection)"
    )
    ledger.add_argument("--full", action="store_true", help="full refresh instead of incremental")
    ledger.add_argument("--warehouse-url", help="warehouse SQLAlchemy URL (default: the 'warehouse' Connection)")
    ledger.set_defaults(func=cmd_sync_ledger)


def cmd_sync_ledger(args: argparse.Namespace) -> int:
    from estatehub.connections import FINANCE_LEDGER_CONN_ID, get_connection, resolve_warehouse
    from estatehub.errors import UsageError
    from estatehub.ledger.connection import ledger_client
    from estatehub.ledger.sync import sync_ledger

    conn = get_connection(FINANCE_LEDGER_CONN_ID)
    if conn is None:
        raise UsageError(
            "no 'finance_ledger' Connection: set AIRFLOW_CONN_FINANCE_LEDGER, e.g. "
            "'http://USER:PASSWORD@host:port?acct_id=DATACENTRE' (README, section Connections)"
        )
    warehouse = resolve_warehouse(args.warehouse_url)
    with ledger_client(conn) as client:
        result = sync_ledger(client, warehouse, full=args.full)
    print(json.dumps(result.as_dict(), ensure_ascii=False, default=str))
    return 0
