"""Every table of the warehouse, source by source: the shared loading tables and each source's own.

    for metadata in estatehub.schema.all_metadata(): ...

The migrations make the schema; these `MetaData` objects mirror it (a test checks that together they
cover every table at the head revision, and nothing else).
"""

from __future__ import annotations

from sqlalchemy import MetaData, Table


def all_metadata() -> tuple[MetaData, ...]:
    from estatehub.banks import tables as banks
    from estatehub.health import tables as health
    from estatehub.ledger import tables as ledger
    from estatehub.policy import tables as policy
    from estatehub.quality import tables as quality
    from estatehub.reconcile import tables as reconcile
    from estatehub.trading_network import tables as trading_network
    from estatehub.warehouse import tables as shared
    from estatehub.worklists import tables as worklists

    return (
        shared.metadata,
        trading_network.metadata,
        banks.metadata,
        ledger.metadata,
        policy.metadata,
        quality.metadata,
        reconcile.metadata,
        health.metadata,
        worklists.metadata,
    )


def all_tables() -> dict[str, Table]:
    """{name: table} of every table of the warehouse."""
    return {name: table for metadata in all_metadata() for name, table in metadata.tables.items()}
