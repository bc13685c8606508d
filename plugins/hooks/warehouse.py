"""Hook for the warehouse: owns the `warehouse` Connection (URL and PII hash key)."""

from __future__ import annotations

from airflow.sdk import BaseHook

from estatehub import connections


class WarehouseHook(BaseHook):
    """Builds an `estatehub.warehouse.engine.Warehouse` from the `warehouse` Connection.

    Connection type `sqlite` (host = file path) or `postgres`; extra `{"pii_key": "..."}`.
    Without a `warehouse` Connection the embedded default (SQLite in the data folder) is used.
    """

    conn_name_attr = "warehouse_conn_id"
    default_conn_name = connections.WAREHOUSE_CONN_ID
    conn_type = "postgres"
    hook_name = "estatehub warehouse"

    def __init__(self, warehouse_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.warehouse_conn_id = warehouse_conn_id

    def get_conn(self):
        return connections.resolve_warehouse(conn_id=self.warehouse_conn_id)
