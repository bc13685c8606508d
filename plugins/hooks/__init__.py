"""Airflow hooks of estatehub, one per source: each owns its Connection id (all named in
`estatehub.connections`) and hands the Connection to estatehub's builder of the client.

Airflow puts the plugins folder on `sys.path`, so DAGs import these by their own name
(`from hooks.ledger import LedgerHook`), never as `plugins.hooks…`. Mail goes through the SMTP
provider's own hook (`estatehub.mail`, docs/decisions/0009).
"""
