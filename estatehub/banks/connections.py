"""`bank_<code>` Connections → bank clients, for the Airflow tasks and the command line alike.

A bank's Connection: host = the API's base URL (or host and port), login = the app id, password = the
app secret; extra `{"timeout": 30, "page_size": 100}`. The secret never leaves the Connection.
"""

from __future__ import annotations

from pathlib import Path

from connectors.banks import make_client
from connectors.banks.client import BankClient
from estatehub import settings
from estatehub.connections import ConnectionConfigError, ConnectionLike, bank_conn_id, get_connection, http_base_url
from estatehub.dag_settings import BANK_CODES, STATEMENT_BANKS  # noqa: F401 (re-exported)


def conn_id(code: str) -> str:
    return bank_conn_id(code)


def download_folder(code: str) -> Path:
    """Where files of bank `code` are downloaded (statements, the fund centre's loan lists)."""
    return settings.data_dir() / "banks" / code


def bank_client_from(conn: ConnectionLike, code: str, *, folder: Path | None = None) -> BankClient:
    if code not in BANK_CODES:
        raise ConnectionConfigError(f"expected a bank code among {', '.join(BANK_CODES)}, got {code!r}")
    if not conn.login or not conn.password:
        raise ConnectionConfigError(
            f"Connection {conn_id(code)!r} needs login (the app id) and password (the app secret)"
        )
    extra = conn.extra_dejson
    options: dict = {"timeout": float(extra.get("timeout", 30))}
    if extra.get("page_size"):
        options["page_size"] = int(extra["page_size"])
    if "verify_responses" in extra:  # a bank whose API signs no answers: "verify_responses": false
        options["verify_responses"] = str(extra["verify_responses"]).lower() not in ("false", "0", "no")
    if code == "hpf":
        options["folder"] = folder or download_folder(code)
    return make_client(code, http_base_url(conn), app_id=conn.login, secret=conn.password, **options)


def bank_client(code: str, *, folder: Path | None = None) -> BankClient:
    """The client of bank `code` from its `bank_<code>` Connection (Airflow's lookup order)."""
    conn = get_connection(conn_id(code))
    if conn is None:
        raise ConnectionConfigError(
            f"no Connection {conn_id(code)!r}: define it (AIRFLOW_CONN_{conn_id(code).upper()}) with the bank's "
            "URL, app id (login) and secret (password)"
        )
    return bank_client_from(conn, code, folder=folder)
