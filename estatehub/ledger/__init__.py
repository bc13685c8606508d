"""The finance ledger in the warehouse: loaders, receipt-to-contract links, the sync and its command.

    from estatehub.ledger.sync import sync_ledger          # what the DAG and `sync ledger` run
    from estatehub.ledger.connection import ledger_client  # the `finance_ledger` Connection → client

Tables: `estatehub.ledger.tables` (migration 0005_ledger); SQL models: `sql/core/core_voucher*.sql`,
`core_receipt.sql`, `core_refund.sql`, `core_invoice.sql`, `core_deposit*.sql`,
`sql/mart/ledger_receipt_links.sql`.
"""
