"""The ledger in the warehouse (SQLite and PostgreSQL): full and incremental syncs, voided and red items,
receipts linked to the contracts the sandbox's ground truth says they pay."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, event, func, inspect, select, text

from connectors.ledger import LedgerClient
from connectors.trading_network.parse import parse_contract
from estatehub.ledger.link import Linker, _invoices_of, _receipts_of, _refunds_of
from estatehub.ledger.sync import sync_ledger
from estatehub.ledger.tables import (
    core_deposit,
    core_invoice,
    core_receipt,
    core_refund,
    core_voucher,
    core_voucher_line,
)
from estatehub.settings import SyncSettings
from estatehub.trading_network.load import load_batch
from estatehub.warehouse import Warehouse
from sandbox.ledger.server import LedgerServer
from sandbox.world import contract_as_of, open_world

SETTINGS = SyncSettings(batch_size=400)
WORLD_END = datetime(2026, 6, 30, 15, 59, 59, tzinfo=UTC)


def _load_contracts(warehouse: Warehouse, world_path: Path) -> None:
    """The trading network's side: every contract of the world as it stands at the end, into core."""
    with open_world(world_path) as world:
        records = [parse_contract(view) for doc in world.iter_docs() if (view := contract_as_of(doc, WORLD_END))]
    with warehouse.begin() as conn:
        load_batch(conn, warehouse, records, run_id="test-tn", batch_id="test-tn:000001", fetched_at=WORLD_END)


def _snapshot(warehouse: Warehouse) -> dict[str, list]:
    tables = {
        "voucher": (core_voucher, "voucher_id"),
        "line": (core_voucher_line, "entry_id"),
        "receipt": (core_receipt, "bill_id"),
        "refund": (core_refund, "bill_id"),
        "invoice": (core_invoice, "invoice_id"),
        "deposit": (core_deposit, "bill_id"),
    }
    found = {}
    with warehouse.engine.connect() as conn:
        for name, (table, key) in tables.items():
            columns = [c for c in table.columns if c.name != "linked_at"]
            found[name] = [tuple(row) for row in conn.execute(select(*columns).order_by(table.c[key]))]
    return found


def _voided_linked(warehouse: Warehouse) -> int:
    """Voided receipts that are linked (the sync's resolved count leaves them out)."""
    with warehouse.engine.connect() as conn:
        query = select(func.count()).where(core_receipt.c.is_voided, core_receipt.c.contract_no.is_not(None))
        return conn.execute(query).scalar_one()


def _store(ledger_path: Path, sql: str, *params) -> list:  # noqa: ANN002
    db = sqlite3.connect(ledger_path)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


@pytest.fixture
def client(make_client: Callable[..., LedgerClient]) -> LedgerClient:
    return make_client(page_size=500)


def test_a_full_sync_loads_every_row_and_marks_voided_and_reversed_items(
    warehouse: Warehouse, client: LedgerClient, erp: LedgerServer, ledger_path: Path, world_path: Path
) -> None:
    _load_contracts(warehouse, world_path)
    result = sync_ledger(client, warehouse, settings=SETTINGS)
    now = erp._now.isoformat()
    expected_lines = _store(
        ledger_path, "select count(*) from entries e join vouchers v using (voucher_id) where v.created_at <= ?", now
    )[0][0]
    assert result.streams["vouchers"].loaded == expected_lines
    assert result.quarantined == 0
    with warehouse.engine.connect() as conn:
        assert conn.execute(text("select count(*) from core_voucher_line")).scalar_one() == expected_lines
        voided = set(conn.execute(select(core_receipt.c.bill_no).where(core_receipt.c.is_voided)).scalars())
        reversals = dict(
            conn.execute(
                select(core_voucher.c.voucher_id, core_voucher.c.reversed_voucher_id).where(
                    core_voucher.c.reversed_voucher_id.is_not(None)
                )
            ).all()
        )
        reversed_by = dict(
            conn.execute(
                select(core_voucher.c.voucher_id, core_voucher.c.reversed_by_voucher_id).where(
                    core_voucher.c.reversed_by_voucher_id.is_not(None)
                )
            ).all()
        )
        deposits = conn.execute(select(core_deposit.c.customer_code, core_deposit.c.is_converted)).all()
    assert voided == {bill for (bill,) in _store(ledger_path, "select bill_no from receipts where voided_at <= ?", now)}
    truth = {
        json.loads(detail)["red_voucher_id"]: json.loads(detail)["voucher_id"]
        for (detail,) in _store(ledger_path, "select detail from truth where kind = 'red_reversed'")
    }
    assert reversals == {red: original for red, original in truth.items() if red in reversals}
    assert len(reversals) >= len(truth) - 1  # a reversal booked after the clock is not there yet
    assert reversed_by == {original: red for red, original in reversals.items()}
    not_converted = {
        row[0] for row in _store(ledger_path, "select detail from truth where kind = 'deposit_not_converted'")
    }
    assert deposits and not_converted
    assert any(not converted for _, converted in deposits)


def test_receipts_are_linked_as_the_ground_truth_says(
    warehouse: Warehouse, client: LedgerClient, ledger_path: Path, world_path: Path
) -> None:
    _load_contracts(warehouse, world_path)
    result = sync_ledger(client, warehouse, settings=SETTINGS)
    truth = {
        bill: house
        for bill, house in _store(ledger_path, "select ref, house_id from links where form = 'AR_RECEIVEBILL'")
    }
    with warehouse.engine.connect() as conn:
        rows = conn.execute(
            select(
                core_receipt.c.bill_no,
                core_receipt.c.house_id,
                core_receipt.c.link_basis,
                core_receipt.c.link_confidence,
            )
        ).all()
    linked = [row for row in rows if row.house_id is not None]
    correct = [row for row in linked if truth.get(row.bill_no) == row.house_id]
    assert len(linked) / len(rows) >= 0.95, f"{len(linked)} of {len(rows)} receipts linked"
    assert len(correct) / len(linked) >= 0.98, f"{len(correct)} of {len(linked)} links right"
    assert result.receipts_resolved == sum(1 for row in linked if row.bill_no in truth) - _voided_linked(warehouse)
    sure = [row for row in linked if row.link_confidence >= 0.95]
    assert sum(truth.get(row.bill_no) == row.house_id for row in sure) / len(sure) >= 0.995
    assert all(row.link_basis for row in linked)


def test_an_incremental_sync_gives_the_warehouse_of_a_full_sync(
    warehouse: Warehouse, client: LedgerClient, erp: LedgerServer, world_path: Path
) -> None:
    _load_contracts(warehouse, world_path)
    erp.set_clock(datetime(2025, 10, 31, 10, 0, tzinfo=UTC))
    first = sync_ledger(client, warehouse, settings=SETTINGS)
    erp.set_clock(datetime(2026, 2, 27, 10, 0, tzinfo=UTC))
    second = sync_ledger(client, warehouse, settings=SETTINGS)
    erp.set_clock(WORLD_END)
    third = sync_ledger(client, warehouse, settings=SETTINGS)
    assert first.streams["vouchers"].mode == "full" and third.streams["vouchers"].mode == "incremental"
    assert third.fetched < first.fetched + second.fetched + third.fetched
    incremental = _snapshot(warehouse)
    again = sync_ledger(client, warehouse, full=True, settings=SETTINGS)
    assert again.streams["receipts"].mode == "full"
    assert _snapshot(warehouse) == incremental


def test_the_sync_survives_faults_and_loads_the_same_rows(
    warehouse: Warehouse, make_client: Callable[..., LedgerClient], erp: LedgerServer, world_path: Path
) -> None:
    _load_contracts(warehouse, world_path)
    erp.faults.replace(
        [
            {"kind": "http_503", "every": 5},
            {"kind": "rate_limit", "every": 7, "retry_after": 0},
            {"kind": "truncate", "every": 6},
            {"kind": "expire_tokens", "every": 9},
            {"kind": "duplicate", "path": "/k3cloud", "every": 4},
            {"kind": "malformed", "every": 8},
        ],
        seed=5,
    )
    result = sync_ledger(make_client(timeout=2.0, page_size=500), warehouse, settings=SETTINGS)
    erp.faults.replace([])
    faulted = _snapshot(warehouse)
    assert result.fetched > 0
    again = sync_ledger(make_client(page_size=500), warehouse, full=True, settings=SETTINGS)
    assert again.quarantined == 0
    assert _snapshot(warehouse) == faulted


def test_linking_asks_the_warehouse_a_few_queries_per_chunk_of_customers_not_some_per_row(
    warehouse: Warehouse, client: LedgerClient, world_path: Path
) -> None:
    """The linker fetches the contracts, names and plans of a chunk's rows at once (`Linker.prefetch`):
    per row lookups made the linking of a million lines most of the sync's time."""
    from sqlalchemy import update

    from estatehub.ledger.load import link_pending

    _load_contracts(warehouse, world_path)
    sync_ledger(client, warehouse, settings=SETTINGS)
    with warehouse.begin() as conn:
        before = {table.name: _links(conn, table) for table in (core_receipt, core_refund, core_invoice)}
        for table in (core_receipt, core_refund, core_invoice):
            conn.execute(update(table).values(linked_at=None))
        rows = sum(conn.execute(select(func.count()).select_from(t)).scalar_one() for t in (core_receipt, core_invoice))
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(warehouse.engine, "before_cursor_execute", count)
    try:
        link_pending(warehouse, at=WORLD_END, chunk=10_000)
    finally:
        event.remove(warehouse.engine, "before_cursor_execute", count)
    with warehouse.engine.connect() as conn:
        after = {table.name: _links(conn, table) for table in (core_receipt, core_refund, core_invoice)}
    assert after == before, "linking again gives the same links"
    # 60 before decision 0038 added one query per chunk (the customer codes namesakes' houses stand for); 61
    # before decision 0040 fetched every name a chunk's rows give at once, not a row's payer when it came up
    assert rows > 1000 and len(statements) <= 52, f"{len(statements)} statements to link {rows} rows"


def test_linking_every_customer_again_relinks_rows_already_linked(
    warehouse: Warehouse, client: LedgerClient, world_path: Path
) -> None:
    """`link_codes(all_customers)` (the scorer's `--relink`: a changed linker over a kept warehouse) links every
    row again; `link_pending` leaves a row linked since it came as it is."""
    from sqlalchemy import update

    from estatehub.ledger.link import all_customers
    from estatehub.ledger.load import link_codes, link_pending

    _load_contracts(warehouse, world_path)
    sync_ledger(client, warehouse, settings=SETTINGS)
    with warehouse.begin() as conn:
        before = _links(conn, core_receipt)
        bill = next(key for key, contract, _ in before if contract is not None)
        conn.execute(update(core_receipt).where(core_receipt.c.bill_id == bill).values(link_basis="stale"))
        everyone = all_customers(conn)
    link_pending(warehouse, at=WORLD_END)
    with warehouse.engine.connect() as conn:
        assert dict((k, b) for k, _, b in _links(conn, core_receipt))[bill] == "stale"
    link_codes(warehouse, everyone, at=WORLD_END)
    with warehouse.engine.connect() as conn:
        assert _links(conn, core_receipt) == before


def _links(conn, table) -> list[tuple]:  # noqa: ANN001
    key = table.c.bill_id if "bill_id" in table.c else table.c.invoice_id
    return [tuple(row) for row in conn.execute(select(key, table.c.contract_no, table.c.link_basis).order_by(key))]


def test_a_customer_who_changed_rooms_has_the_receipts_without_a_unit_linked_to_the_contract_in_force(
    warehouse: Warehouse, client: LedgerClient, ledger_path: Path, world_path: Path
) -> None:
    """换房: finance keeps the customer code, the memos of the first unit and of the new one both name the
    customer, so the code stands for two houses; a receipt whose memo names no unit (a bank's 按揭款) is the
    new contract's, the one of the customer's name in force on its date."""
    _load_contracts(warehouse, world_path)
    sync_ledger(client, warehouse, settings=SETTINGS)
    with open_world(world_path) as world:
        changed = {
            doc["contract_no"]
            for doc in world.iter_docs()
            if doc.get("previous_contract_no")
            and (world.get_doc(doc["previous_contract_no"]) or doc)["house"]["house_id"] != doc["house"]["house_id"]
        }
    truth = dict(_store(ledger_path, "select ref, contract_no from links where form = 'AR_RECEIVEBILL'"))
    with warehouse.engine.connect() as conn:
        rows = conn.execute(
            select(core_receipt.c.bill_no, core_receipt.c.contract_no, core_receipt.c.memo_units).where(
                core_receipt.c.is_voided.is_(False)
            )
        ).all()
    unnamed = [row for row in rows if truth.get(row.bill_no) in changed and not row.memo_units]
    assert unnamed, "the test world has receipts without a unit on the contract after a room change"
    assert [(r.bill_no, r.contract_no) for r in unnamed] == [(r.bill_no, truth[r.bill_no]) for r in unnamed]


LOOKUPS = {
    # the houses the buyers of a chunk's names hold (decision 0040)
    "buyers by name": (lambda linker: linker._fetch_names(["张三", "李四"]), "core_buyer", {"ix_core_buyer_name"}),
    # the contracts that name a chunk's contracts as their subscription or previous one (decision 0046)
    "successors": (
        lambda linker: linker._successors_start(["XS2025P0001", "RG2025P0002"]),
        "core_contract",
        {"ix_core_contract_subscription_no", "ix_core_contract_previous_contract_no"},
    ),
    # the rows a chunk of customer codes links, None for the rows without one (decision 0046)
    "receipts of customers": (
        lambda linker: _receipts_of(linker.conn, ["KH1", "KH2", None]),
        "core_receipt",
        {"ix_core_receipt_customer_code"},
    ),
    "refunds of customers": (
        lambda linker: _refunds_of(linker.conn, ["KH1", "KH2", None]),
        "core_refund",
        {"ix_core_refund_customer_code"},
    ),
    "invoices of customers": (
        lambda linker: _invoices_of(linker.conn, ["KH1", "KH2", None]),
        "core_invoice",
        {"ix_core_invoice_customer_code", "ix_core_invoice_source_bill_no"},
    ),
    # the customer codes that stand for a house and a name in the links held (decision 0046)
    "claims": (
        lambda linker: linker._fetch_claims({("H1", "张三"), ("H2", "张三")}),
        "core_receipt",
        {"ix_core_receipt_house_id"},
    ),
}


@pytest.mark.parametrize("lookup", list(LOOKUPS))
def test_the_linkers_lookups_use_an_index(warehouse: Warehouse, lookup: str) -> None:
    """The linker's lookups by a chunk's names, contracts and houses (`Linker`) are answered by an index, not by
    reading the whole table once per question, which made the linking grow with the square of the world
    (decisions 0040, 0046): the plan of the statement each sends reads no part of its table but by an index's
    condition. PostgreSQL plans a scan of a small table whatever its indexes: there the test forbids the scan,
    to see that the query can use the index."""
    ask, table, indexes = LOOKUPS[lookup]
    assert indexes <= {index["name"] for index in inspect(warehouse.engine).get_indexes(table)}
    asked: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        asked.append((statement, parameters))

    with warehouse.engine.begin() as conn:
        event.listen(conn, "before_cursor_execute", keep)
        ask(Linker(conn, {}))
        event.remove(conn, "before_cursor_execute", keep)
        ((statement, parameters),) = [(sql, values) for sql, values in asked if table in sql]
        scans, searched = _reads_of(conn, statement, parameters, table)
    assert not scans, f"{table} read whole: {scans}"
    assert indexes <= searched, f"searched by {searched}, not by {indexes - searched}"


def _reads_of(conn: Connection, statement: str, parameters: object, table: str) -> tuple[list[str], set[str]]:
    """How the database's plan of `statement` reads `table`: its steps that read it whole (or by an index with no
    condition), and the indexes it searches by a condition (on PostgreSQL, a bitmap heap scan reads the rows its
    bitmap index scans found)."""
    if conn.dialect.name == "sqlite":
        details = [str(row[-1]) for row in conn.exec_driver_sql(f"explain query plan {statement}", parameters)]
        scans = [detail for detail in details if re.search(rf"\bSCAN {table}\b", detail)]
        found = (re.match(rf"SEARCH {table} USING (?:COVERING )?INDEX (\w+) \(\w+=\?\)", d) for d in details)
        return scans, {match.group(1) for match in found if match}
    conn.exec_driver_sql("set local enable_seqscan = off")
    (plan,) = conn.exec_driver_sql(f"explain (format json) {statement}", parameters).scalar_one()
    nodes, scans, searched = [plan["Plan"]], [], set()
    while nodes:
        node = nodes.pop()
        nodes.extend(node.get("Plans", ()))
        if node.get("Index Name") and node.get("Index Cond"):
            searched.add(node["Index Name"])
        elif node.get("Relation Name") == table and node["Node Type"] in ("Seq Scan", "Index Scan", "Index Only Scan"):
            scans.append(f"{node['Node Type']} {node.get('Index Name', '')}".strip())
    return scans, searched
