"""`estatehub import-inventory FILE`: the developer's 一房一价 table checked against the network's.

    estatehub import-inventory 一房一价-滨江悦府.xlsx [--show 50] [--warehouse-url URL]

Prints what was read, what was quarantined (line and reason) and each difference from the trading
network's building tables as the warehouse holds them (run `estatehub sync unit-inventory` first);
the import and its differences stay in `inventory_import` / `inventory_diff`. Exit code 0 when the
file was imported (differences or not), 2 when it could not be (too big, unreadable, no header).
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

KIND_LABELS = {
    "missing_on_network": "not on the network",
    "missing_in_file": "not in the file",
    "usage": "use differs",
    "building_area": "建筑面积 differs",
    "inner_area": "套内面积 differs",
    "record_unit_price": "备案单价 differs",
    "record_total_price": "备案总价 differs",
}


def cmd_import_inventory(args: argparse.Namespace) -> int:
    from estatehub.connections import resolve_warehouse
    from estatehub.inventory.developer_file import import_inventory_file

    warehouse = resolve_warehouse(args.warehouse_url)
    result = import_inventory_file(warehouse, Path(args.file))
    print(
        f"{result.file_name}: import {result.import_id}: {result.rows} rows, {result.loaded} units read, "
        f"{len(result.quarantined)} quarantined, {len(result.differences)} differences"
    )
    for line_no, reason in result.quarantined[: args.show]:
        print(f"  quarantined line {line_no}: {reason}")
    if result.loaded and not result.network_units:
        print(
            "  the warehouse holds no building table for the file's permits: every unit is 'not on the "
            "network'; run `estatehub sync unit-inventory` first"
        )
    counts = Counter(d.kind for d in result.differences)
    if counts:
        print("  differences: " + ", ".join(f"{KIND_LABELS[k]} {n}" for k, n in sorted(counts.items())))
    for d in result.differences[: args.show]:
        print(
            f"  {d.permit_no} {d.unit_code}: {KIND_LABELS[d.kind]}"
            f" (file {d.file_value or '-'}, network {d.network_value or '-'})"
        )
    if len(result.differences) > args.show:
        print(f"  … {len(result.differences) - args.show} more in inventory_diff (import_id {result.import_id})")
    return 0


def add_inventory_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add `import-inventory` to the top-level `subparsers` of `python -m estatehub`."""
    command = subparsers.add_parser(
        "import-inventory",
        help="import the developer's 一房一价 table (CSV/Excel) and list how it differs from the network's",
        description=(
            "Read the developer's unit inventory file, quarantine the rows that cannot be read, and list "
            "each unit missing on either side or whose price, area or use differs from the trading "
            "network's building tables in the warehouse."
        ),
    )
    command.add_argument("file", help="the 一房一价 table (.csv in UTF-8 or GBK, .xls, .xlsx)")
    command.add_argument("--show", type=int, default=50, help="differences and quarantined rows to print (default 50)")
    command.add_argument("--warehouse-url", help="warehouse SQLAlchemy URL (default: the 'warehouse' Connection)")
    command.set_defaults(func=cmd_import_inventory)
