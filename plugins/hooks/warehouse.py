"""Hook for the warehouse: owns the `warehouse` Connection (URL and PII hash key)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from estatehub import connections
from hooks.base import ConnectionHook

if TYPE_CHECKING:
    from estatehub.warehouse.engine import Warehouse


def _warehouse(conn: connections.ConnectionLike) -> Warehouse:
    from estatehub.warehouse.engine import Warehouse

    return Warehouse.from_url(connections.warehouse_url(conn), pii_key=connections.warehouse_pii_key(conn))


class WarehouseHook(ConnectionHook):
    """An `estatehub.warehouse.engine.Warehouse` from the `warehouse` Connection
    (`estatehub.connections.warehouse_url` and `warehouse_pii_key`).

    Connection type `sqlite` (host = file path) or `postgres`; extra `{"pii_key": "..."}`. Without a
    `warehouse` Connection, the embedded default (SQLite in the data folder, `resolve_warehouse`).
    Nothing here migrates: every sync brings the schema to head itself (`Warehouse.prepare`).
    """

    conn_name_attr = "warehouse_conn_id"
    default_conn_name = connections.WAREHOUSE_CONN_ID
    conn_type = "postgres"
    hook_name = "estatehub warehouse"
    conn_help = 'type postgres (or sqlite, host = the file), extra {"pii_key": "<at least 32 random characters>"}'

    def __init__(self, warehouse_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.warehouse_conn_id = warehouse_conn_id

    def get_conn(self) -> Warehouse:
        conn = self.optional_connection()
        if conn is None:
            self.log.info("no Connection %r: the embedded default warehouse", self.warehouse_conn_id)
            return connections.resolve_warehouse(conn_id=self.warehouse_conn_id)
        return self.build(_warehouse, conn)
