"""Before it links, the ledger refreshes PostgreSQL's statistics of what the linker reads (decision 0041).

Without them the planner guesses: at 979,309 voucher lines, with autovacuum off, an invoice query of one chunk of
customers (`customer_code IN (…) OR source_bill_no IN (SELECT … FROM core_receipt …)`) was planned as a rescan of
the receipts once per invoice (estimated cost 358 million) and ran for minutes; after `ANALYZE`, 109 ms."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import event, insert, update

from estatehub.ledger import link
from estatehub.ledger.load import link_pending
from estatehub.ledger.tables import core_receipt
from estatehub.warehouse.etl import analyze


def analyzed(warehouse) -> dict[str, bool]:
    with warehouse.engine.connect() as conn:
        rows = conn.exec_driver_sql("select relname, last_analyze is not null from pg_stat_user_tables").all()
    return dict(rows)


def test_linking_refreshes_the_statistics_of_every_table_the_linker_reads(warehouse):
    link_pending(warehouse, at=datetime(2026, 12, 5, tzinfo=UTC))
    if warehouse.dialect == "postgresql":
        found = analyzed(warehouse)
        assert {table.name: found.get(table.name) for table in link.TABLES_READ} == {
            table.name: True for table in link.TABLES_READ
        }


def test_a_link_is_looked_up_by_its_key_whatever_the_statistics_say(warehouse):
    """The statistics are taken before the linking, which then fills `contract_no` in. A lookup of receipts by
    bill number that also asked for `contract_no IS NOT NULL` was planned, on statistics where every receipt had
    none, on `contract_no`'s index: a walk of every linked receipt per lookup (seconds each at 979,309 voucher
    lines, decision 0042). It is planned on the bill number's index."""
    at = datetime(2026, 12, 5, tzinfo=UTC)
    receipts = [
        {
            "bill_id": n,
            "bill_no": f"SKD{n:07d}",
            "receipt_on": date(2026, 1, 1),
            "amount_fen": 100_00,
            "remark": "",
            "is_audited": True,
            "is_voided": False,
            "created_at": at,
            "modified_at": at,
            "contract_no": None,
        }
        for n in range(20_000)
    ]
    with warehouse.begin() as conn:
        conn.execute(insert(core_receipt), receipts)
    analyze(warehouse.engine, [core_receipt])
    with warehouse.begin() as conn:  # the linking's work: (nearly) every receipt linked
        conn.execute(update(core_receipt).where(core_receipt.c.bill_id > 0).values(contract_no="HT1", house_id="H1"))
    wanted = {f"SKD{n:07d}" for n in range(0, 1000, 2)}  # 500: one lookup

    statements: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().lower().startswith("select"):
            statements.append((statement, parameters))

    with warehouse.engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", keep)
        found = link._links_by(conn, core_receipt, core_receipt.c.bill_no, wanted)
        event.remove(conn, "before_cursor_execute", keep)
        assert found == {bill: ("HT1", "H1") for bill in wanted - {"SKD0000000"}}
        assert len(statements) == 1
        if warehouse.dialect == "postgresql":
            statement, parameters = statements[0]
            plan = "\n".join(row[0] for row in conn.exec_driver_sql(f"explain {statement}", parameters))
            assert "ix_core_receipt_contract_no" not in plan, plan
            assert "core_receipt_bill_no_key" in plan, plan
