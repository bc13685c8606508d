"""Airflow Connections → estatehub objects, in one place for the hooks and the command line.

A Connection is read through Airflow's own lookup (`airflow.sdk.BaseHook.get_connection`), so the
same `AIRFLOW_CONN_<ID>` variables, secrets backends and UI-defined Connections serve both the
Airflow tasks and `python -m estatehub`. Functions here take the Connection object; they never read
the environment themselves.

Connection ids (DESIGN.md): `trading_network`, `warehouse`, later `bank_<code>`, `finance_ledger`,
`bureau_site`, `smtp_default`.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from estatehub import settings

TRADING_NETWORK_CONN_ID = "trading_network"
WAREHOUSE_CONN_ID = "warehouse"


class ConnectionLike(Protocol):
    conn_type: str | None
    host: str | None
    login: str | None
    password: str | None
    port: int | None
    schema: str | None

    @property
    def extra_dejson(self) -> dict[str, Any]: ...


class ConnectionConfigError(ValueError):
    """A Connection that lacks what estatehub needs; the message says which field and what to set."""


def get_connection(conn_id: str) -> ConnectionLike | None:
    """The Airflow Connection `conn_id`, or None when it is defined nowhere."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None


def http_base_url(conn: ConnectionLike) -> str:
    """`scheme://host[:port][/path]` of an HTTP(S) Connection (scheme from conn_type or extra `scheme`)."""
    if not conn.host:
        raise ConnectionConfigError("the Connection has no host: set it to the server's host name or URL")
    host = conn.host.rstrip("/")
    if "://" in host:
        base = host
    else:
        scheme = conn.extra_dejson.get("scheme") or ("https" if conn.conn_type == "https" else "http")
        base = f"{scheme}://{host}"
        if conn.port:
            base += f":{conn.port}"
    if conn.schema:
        base += "/" + conn.schema.strip("/")
    return base


def trading_network_client(conn: ConnectionLike):
    """A `TradingNetworkClient` from the `trading_network` Connection.

    login/password are the developer account on the network; extra may set `timeout` (seconds) and
    `page_size`.
    """
    from connectors.trading_network.client import TradingNetworkClient

    if not conn.login or not conn.password:
        raise ConnectionConfigError(
            f"Connection {TRADING_NETWORK_CONN_ID!r} needs login and password (the developer account)"
        )
    extra = conn.extra_dejson
    return TradingNetworkClient(
        http_base_url(conn),
        conn.login,
        conn.password,
        timeout=float(extra.get("timeout", 30)),
        page_size=int(extra.get("page_size", settings.SYNC.page_size)),
    )


def warehouse_url(conn: ConnectionLike) -> str:
    """SQLAlchemy URL of the `warehouse` Connection: conn_type `sqlite` (host = file path) or `postgres`."""
    extra = conn.extra_dejson
    if extra.get("url"):
        return str(extra["url"])
    kind = (conn.conn_type or "").lower()
    if kind == "sqlite":
        path = conn.host or conn.schema
        if not path:
            raise ConnectionConfigError("a sqlite warehouse Connection needs host = the database file path")
        return f"sqlite:///{path}"
    if kind in {"postgres", "postgresql"}:
        auth = ""
        if conn.login:
            auth = quote(conn.login, safe="")
            if conn.password:
                auth += ":" + quote(conn.password, safe="")
            auth += "@"
        port = f":{conn.port}" if conn.port else ""
        return f"postgresql+psycopg://{auth}{conn.host or '127.0.0.1'}{port}/{conn.schema or 'estatehub'}"
    raise ConnectionConfigError(
        f"warehouse Connection type {conn.conn_type!r} is not supported: use sqlite or postgres"
    )


def warehouse_pii_key(conn: ConnectionLike | None) -> bytes:
    """The PII hash key: extra `pii_key` of the `warehouse` Connection.

    Without a `warehouse` Connection (the embedded default), a key is created once in the data
    folder (`pii.key`, mode 600) so a one-machine install works out of the box; production sets
    `pii_key` in the Connection.
    """
    if conn is not None:
        key = conn.extra_dejson.get("pii_key")
        if not key:
            raise ConnectionConfigError(
                'Connection \'warehouse\' needs extra {"pii_key": "<at least 32 random characters>"}'
            )
        return str(key).encode()
    return embedded_pii_key()


def embedded_pii_key(path: Path | None = None) -> bytes:
    path = path or settings.data_dir() / "pii.key"
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


def resolve_warehouse(url: str | None = None, conn_id: str = WAREHOUSE_CONN_ID):
    """The `Warehouse` to write to: an explicit URL, else the `warehouse` Connection, else the embedded default."""
    from estatehub.warehouse.engine import Warehouse

    conn = get_connection(conn_id)
    key = warehouse_pii_key(conn)
    if url is None:
        url = warehouse_url(conn) if conn is not None else f"sqlite:///{settings.default_warehouse_path()}"
    return Warehouse.from_url(url, pii_key=key)
