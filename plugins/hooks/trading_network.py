"""Hook for the housing trading network: owns the `trading_network` Connection, builds the client."""

from __future__ import annotations

from typing import TYPE_CHECKING

from estatehub import connections
from hooks.base import ConnectionHook

if TYPE_CHECKING:
    from connectors.trading_network.client import TradingNetworkClient


class TradingNetworkHook(ConnectionHook):
    """A `TradingNetworkClient` from the `trading_network` Connection (`estatehub.connections.trading_network_client`).

    Connection: host/port (or a full URL in host), login = developer account, password; extra
    `{"timeout": 30, "page_size": 200}`.
    """

    conn_name_attr = "trading_network_conn_id"
    default_conn_name = connections.TRADING_NETWORK_CONN_ID
    conn_type = "http"
    hook_name = "Housing trading network"
    conn_help = "host = the gateway's URL, login and password = the developer account"

    def __init__(self, trading_network_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.trading_network_conn_id = trading_network_conn_id

    def get_conn(self) -> TradingNetworkClient:
        return self.build(connections.trading_network_client, self.connection())
