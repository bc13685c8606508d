"""The `finance_ledger` Connection → a `LedgerClient` (for the DAG, a hook and the command line alike).

Connection: host/port (or a full URL in host, e.g. `http://erp.example.com`), login = the ERP user,
password; extra `{"acct_id": "<data centre id>", "timeout": 30, "page_size": 2000, "lcid": 2052}`.
"""

from __future__ import annotations

from connectors.ledger import LedgerClient
from estatehub import settings
from estatehub.connections import FINANCE_LEDGER_CONN_ID, ConnectionConfigError, ConnectionLike, http_base_url


def ledger_client(conn: ConnectionLike) -> LedgerClient:
    """A `LedgerClient` from the `finance_ledger` Connection; `ConnectionConfigError` names what is missing."""
    if not conn.login or not conn.password:
        raise ConnectionConfigError(
            f"Connection {FINANCE_LEDGER_CONN_ID!r} needs login and password (the ERP user the sync logs in as)"
        )
    extra = conn.extra_dejson
    return LedgerClient(
        http_base_url(conn),
        conn.login,
        conn.password,
        acct_id=str(extra.get("acct_id", "")),
        lcid=int(extra.get("lcid", 2052)),
        timeout=float(extra.get("timeout", 30)),
        page_size=int(extra.get("page_size", settings.LEDGER_SYNC.page_size)),
    )
