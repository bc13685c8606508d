"""Hook for the finance ledger (ERP): owns the `finance_ledger` Connection, builds the client."""

from __future__ import annotations

from typing import TYPE_CHECKING

from estatehub.connections import FINANCE_LEDGER_CONN_ID
from hooks.base import ConnectionHook

if TYPE_CHECKING:
    from connectors.ledger import LedgerClient


class LedgerHook(ConnectionHook):
    """A `LedgerClient` from the `finance_ledger` Connection (`estatehub.ledger.connection.ledger_client`).

    Connection: host/port (or a full URL in host), login = the ERP user, password; extra
    `{"acct_id": "<data centre id>", "timeout": 30, "page_size": 2000, "lcid": 2052}`.
    """

    conn_name_attr = "finance_ledger_conn_id"
    default_conn_name = FINANCE_LEDGER_CONN_ID
    conn_type = "http"
    hook_name = "Finance ledger (ERP)"
    conn_help = "host = the ERP's URL, login and password = the ERP user, extra acct_id = the data centre"

    def __init__(self, finance_ledger_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.finance_ledger_conn_id = finance_ledger_conn_id

    def get_conn(self) -> LedgerClient:
        from estatehub.ledger.connection import ledger_client

        return self.build(ledger_client, self.connection())
