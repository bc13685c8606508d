"""Hook for one bank (or the provident-fund centre): owns its `bank_<code>` Connection, builds the client."""

from __future__ import annotations

from typing import TYPE_CHECKING

from estatehub import connections
from hooks.base import ConnectionHook

if TYPE_CHECKING:
    from pathlib import Path

    from connectors.banks.client import BankClient


class BankHook(ConnectionHook):
    """The `BankClient` of bank `code` (`icbc`, `ccb`, `cmb`, `hpf`) from its `bank_<code>` Connection
    (`estatehub.banks.connections.bank_client_from`).

    Connection: host = the API's base URL (or host and port), login = the app id, password = the app
    secret (the HMAC signing key); extra `{"timeout": 30, "page_size": 100}`.
    """

    conn_name_attr = "bank_conn_id"
    default_conn_name = connections.bank_conn_id("icbc")
    conn_type = "http"
    hook_name = "Bank loan and statement API"
    conn_help = "host = the bank API's URL, login = the app id, password = the app secret"

    def __init__(self, code: str, bank_conn_id: str | None = None) -> None:
        super().__init__()
        self.code = code
        self.bank_conn_id = bank_conn_id or connections.bank_conn_id(code)

    def get_conn(self, *, folder: Path | None = None) -> BankClient:
        """The client; `folder` is where the provident-fund centre's loan lists go (default: the data folder)."""
        from estatehub.banks.connections import bank_client_from

        return self.build(bank_client_from, self.connection(), self.code, folder=folder)
