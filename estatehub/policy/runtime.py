"""What a policy check needs from Airflow Connections, for the DAG task and the command line alike.

- `bureau_site` (optional): the bureau site's base URL (`http://host[:port]`), replacing
  `site.base_url` of the watch file: the sandbox in the demo, a proxy or mirror in production.
- `smtp_default` (required): the SMTP server the alerts go through (`estatehub.mail`).
- `warehouse`: through `estatehub.connections.resolve_warehouse` (embedded SQLite without it).
"""

from __future__ import annotations

import logging
from pathlib import Path

from estatehub.connections import (
    BUREAU_SITE_CONN_ID,
    SMTP_CONN_ID,
    ConnectionConfigError,
    get_connection,
    http_base_url,
)
from estatehub.mail import SmtpSender, smtp_settings_from_connection
from estatehub.policy.check import CheckResult, run_check
from estatehub.policy.config import PolicyConfig, load_config

log = logging.getLogger(__name__)


def watch_config(path: str | Path | None = None) -> PolicyConfig:
    """The watch file, its base URL replaced by the `bureau_site` Connection when there is one."""
    conn = get_connection(BUREAU_SITE_CONN_ID)
    base_url = http_base_url(conn) if conn is not None else None
    if base_url:
        log.info("policy monitor: the bureau site is %s (Connection %s)", base_url, BUREAU_SITE_CONN_ID)
    return load_config(path, base_url=base_url)


def smtp_sender() -> SmtpSender:
    """A mail sender for the `smtp_default` Connection; `ConnectionConfigError` when it is not set."""
    conn = get_connection(SMTP_CONN_ID)
    if conn is None:
        raise ConnectionConfigError(
            "no 'smtp_default' Connection: set AIRFLOW_CONN_SMTP_DEFAULT, e.g. "
            "'smtp://USER:PASSWORD@smtp.example.com:587' (STARTTLS), or for a local relay "
            "'smtp://127.0.0.1:1025?disable_ssl=true&disable_tls=true'"
        )
    try:
        return SmtpSender(smtp_settings_from_connection(conn))
    except ValueError as exc:
        raise ConnectionConfigError(f"the 'smtp_default' Connection cannot be used: {exc}") from exc


def check_once(config_path: str | Path | None = None, warehouse_url: str | None = None) -> CheckResult:
    """One check with everything taken from the Connections: what `policy check` and the DAG run."""
    from estatehub.connections import resolve_warehouse
    from estatehub.warehouse.migrations import upgrade

    config = watch_config(config_path)
    send = smtp_sender()
    warehouse = resolve_warehouse(warehouse_url)
    upgrade(warehouse.engine)
    return run_check(config, warehouse.engine, send.send)
