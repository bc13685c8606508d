"""Before it links, the ledger refreshes PostgreSQL's statistics of what the linker reads (decision 0041).

Without them the planner guesses: at 979,309 voucher lines, with autovacuum off, an invoice query of one chunk of
customers (`customer_code IN (…) OR source_bill_no IN (SELECT … FROM core_receipt …)`) was planned as a rescan of
the receipts once per invoice (estimated cost 358 million) and ran for minutes; after `ANALYZE`, 109 ms."""

from __future__ import annotations

from datetime import UTC, datetime

from estatehub.ledger import link
from estatehub.ledger.load import link_pending


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
