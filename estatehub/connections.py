"""Airflow Connections → estatehub objects, in one place for the hooks and the command line.

Every Connection id estatehub uses is named here (DESIGN.md): `trading_network`, `warehouse`,
`bank_<code>`, `finance_ledger`, `bureau_site`, `smtp_default`.

In an Airflow task the hooks (`plugins/hooks/`) read a Connection through Airflow's own lookup and
hand it to the builders here. The command line reads `AIRFLOW_CONN_<ID>` itself when it is set (a URI
or JSON, parsed as Airflow parses it; a test pins the two together), so that a command that runs no
DAG starts without importing Airflow; only a Connection defined elsewhere (a secrets backend, the
metadata database) makes it ask Airflow (`get_connection`).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from estatehub import settings
from estatehub.dag_settings import SMTP_CONN_ID  # noqa: F401 (re-exported: the DAG files read it at parse time)

TRADING_NETWORK_CONN_ID = "trading_network"
WAREHOUSE_CONN_ID = "warehouse"
FINANCE_LEDGER_CONN_ID = "finance_ledger"
BUREAU_SITE_CONN_ID = "bureau_site"
BANK_CONN_PREFIX = "bank_"


def bank_conn_id(code: str) -> str:
    """`bank_icbc`: the Connection of one bank (or the provident-fund centre, `bank_hpf`)."""
    return f"{BANK_CONN_PREFIX}{code}"


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


@dataclass(frozen=True)
class EnvConnection:
    """A Connection read from `AIRFLOW_CONN_<ID>`: the fields estatehub uses, as Airflow would read them."""

    conn_id: str
    conn_type: str | None = None
    host: str | None = None
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    port: int | None = None
    schema: str | None = None
    extra: str | None = field(default=None, repr=False)

    @property
    def extra_dejson(self) -> dict[str, Any]:
        if not self.extra:
            return {}
        try:
            value = json.loads(self.extra)
        except ValueError as exc:
            raise ConnectionConfigError(f"Connection {self.conn_id!r}: its extra is not JSON ({exc})") from exc
        return value if isinstance(value, dict) else {}


def _conn_type(scheme: str) -> str:
    return "postgres" if scheme == "postgresql" else scheme.replace("-", "_")


def parse_env_connection(conn_id: str, value: str) -> EnvConnection:
    """An `AIRFLOW_CONN_<ID>` value, JSON (`{"conn_type": ...}`) or URI (`scheme://login:password@host:port/
    schema?extra`), read the way Airflow's `Connection.from_json` / `from_uri` read it."""
    text = value.strip()
    if text.startswith("{"):
        try:
            fields = json.loads(text)
        except ValueError as exc:
            raise ConnectionConfigError(f"Connection {conn_id!r}: expected JSON or a URI, got bad JSON: {exc}") from exc
        extra = fields.get("extra")
        if extra is not None and not isinstance(extra, str):
            extra = json.dumps(extra)
        port = fields.get("port")
        try:
            port = int(port) if port else None
        except ValueError as exc:
            raise ConnectionConfigError(f"Connection {conn_id!r}: expected a whole port number, got {port!r}") from exc
        conn_type = fields.get("conn_type")
        return EnvConnection(
            conn_id,
            _conn_type(conn_type) if conn_type else None,
            fields.get("host"),
            fields.get("login"),
            fields.get("password"),
            port,
            fields.get("schema"),
            extra or None,
        )
    schemes = text.count("://")
    if schemes not in (1, 2):
        raise ConnectionConfigError(f"Connection {conn_id!r}: expected JSON or a URI like 'http://host:port'")
    scheme = urlsplit(text).scheme
    with_protocol = schemes == 2
    rest = text.replace(f"{scheme}://", "" if with_protocol else "//")
    if with_protocol and ("@" in rest.split("://", 1)[0] or ":" in rest.split("://", 1)[0]):
        raise ConnectionConfigError(f"Connection {conn_id!r}: the URI's host has a protocol and a login before it")
    parts = urlsplit(rest)
    host = unquote(parts.hostname or "")
    if "/" in host:  # a host that is a path keeps its case and its own slashes
        host = unquote(parts.netloc.rsplit("@", 1)[-1].split(":", 1)[0])
    if host and with_protocol:
        host = f"{parts.scheme}://{host}"
    extra = None
    if parts.query:
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        extra = query["__extra__"] if "__extra__" in query else json.dumps(query)
    try:
        port = parts.port
    except ValueError as exc:
        raise ConnectionConfigError(f"Connection {conn_id!r}: the URI's port is not a number") from exc
    return EnvConnection(
        conn_id,
        _conn_type(scheme),
        host or None,
        unquote(parts.username) if parts.username else parts.username,
        unquote(parts.password) if parts.password else parts.password,
        port,
        unquote(parts.path[1:]) if parts.path[1:] else parts.path[1:],
        extra,
    )


def airflow_is_configured() -> bool:
    """Whether an Airflow installation could hold Connections beyond the environment: a configuration
    file in `$AIRFLOW_HOME` (default `~/airflow`), or settings naming a metadata database or a secrets
    backend."""
    if any(name.startswith(("AIRFLOW__SECRETS__", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")) for name in os.environ):
        return True
    home = Path(os.environ.get("AIRFLOW_HOME") or "~/airflow").expanduser()
    return (home / "airflow.cfg").is_file()


def get_connection(conn_id: str) -> ConnectionLike | None:
    """The Connection `conn_id`: from `AIRFLOW_CONN_<ID>` when set, else from Airflow's lookup (secrets
    backends, the metadata database) where an Airflow installation is configured; None when it is
    defined nowhere."""
    value = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
    if value:
        return parse_env_connection(conn_id, value)
    if not airflow_is_configured():
        return None
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
        page_size=int(extra.get("page_size", settings.TRADING_NETWORK_SYNC.page_size)),
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
