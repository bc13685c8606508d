"""Hook for the housing trading network: owns the `trading_network` Connection, builds the client."""

from __future__ import annotations

from airflow.sdk import BaseHook

from estatehub import connections


class TradingNetworkHook(BaseHook):
    """Builds a `connectors.trading_network.TradingNetworkClient` from an Airflow Connection.

    Connection: host/port (or a full URL in host), login = developer account, password; extra
    `{"timeout": 30, "page_size": 200}`.
    """

    conn_name_attr = "trading_network_conn_id"
    default_conn_name = connections.TRADING_NETWORK_CONN_ID
    conn_type = "http"
    hook_name = "Housing trading network"

    def __init__(self, trading_network_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.trading_network_conn_id = trading_network_conn_id

    def get_conn(self):
        return connections.trading_network_client(self.get_connection(self.trading_network_conn_id))
