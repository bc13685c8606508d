"""What a policy check needs from Airflow Connections, for the DAG task and the command line alike.

- `bureau_site` (optional): the bureau site's base URL (`http://host[:port]`), replacing
  `site.base_url` of the watch file: the sandbox in the demo, a proxy or mirror in production.
- `smtp_default` (required): the SMTP server the alerts go through (`estatehub.mail`, the provider's hook).
- `warehouse`: through `estatehub.connections.resolve_warehouse` (embedded SQLite without it).

The builders take the Connection (`bureau_config`); the DAG's hooks find it through Airflow
(`hooks.bureau.BureauHook`), the command line through `estatehub.connections.get_connection`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from estatehub.connections import (
    BUREAU_SITE_CONN_ID,
    ConnectionConfigError,
    ConnectionLike,
    get_connection,
    http_base_url,
)
from estatehub.policy.check import CheckResult, SendMail, run_check
from estatehub.policy.config import PolicyConfig, load_config

if TYPE_CHECKING:
    from estatehub.mail import SmtpSender
    from estatehub.warehouse.engine import Warehouse

log = logging.getLogger(__name__)


def bureau_base_url(conn: ConnectionLike) -> str:
    """The bureau site's base URL from the `bureau_site` Connection; `ConnectionConfigError` names it."""
    try:
        return http_base_url(conn)
    except ConnectionConfigError as exc:
        raise ConnectionConfigError(f"Connection {BUREAU_SITE_CONN_ID!r}: {exc}") from exc


def bureau_config(conn: ConnectionLike | None, path: str | Path | None = None) -> PolicyConfig:
    """The watch file, its base URL replaced by the `bureau_site` Connection's when there is one."""
    base_url = bureau_base_url(conn) if conn is not None else None
    if base_url:
        log.info("policy monitor: the bureau site is %s (Connection %s)", base_url, BUREAU_SITE_CONN_ID)
    return load_config(path, base_url=base_url)


def watch_config(path: str | Path | None = None) -> PolicyConfig:
    """`bureau_config` with the `bureau_site` Connection the command line finds."""
    return bureau_config(get_connection(BUREAU_SITE_CONN_ID), path)


def smtp_sender() -> SmtpSender:
    """A mail sender for the `smtp_default` Connection the command line finds (`estatehub.mail`)."""
    from estatehub.mail import command_line_sender

    return command_line_sender()


def check_with(config: PolicyConfig, warehouse: Warehouse, send: SendMail) -> CheckResult:
    """One check: the warehouse brought to head first (the policy tables are among its migrations)."""
    warehouse.prepare()
    return run_check(config, warehouse.engine, send)


def check_once(config_path: str | Path | None = None, warehouse_url: str | None = None) -> CheckResult:
    """One check with everything taken from the Connections the command line finds: `policy check`."""
    from estatehub.connections import resolve_warehouse

    config = watch_config(config_path)
    send = smtp_sender()
    return check_with(config, resolve_warehouse(warehouse_url), send.send)
