"""What every estatehub DAG is built from: the start date, the banks, the task defaults, the warehouse pool and
the warehouse's Assets, the supervisors' e-mail.

A DAG file imports `airflow.sdk` and this module, nothing else, at its top: Airflow parses every DAG
file again and again, so its top-level code must be cheap (Airflow's best practice, "Top level Python
code"; decision 0026). This module imports only `airflow.sdk`, `estatehub.dag_settings` (the
standard library) and `notifiers` (likewise); each task imports what it needs inside its own function.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import Asset
from notifiers import notify_supervisors, supervisors_mail

from estatehub.dag_settings import (
    BANK_CODES,
    DAG_START_DATE,
    STATEMENT_BANKS,
    WAREHOUSE_POOL,
    deadline_alerts_enabled,
)

__all__ = [
    "BANK_CODES",
    "STATEMENT_BANKS",
    "DAG_START_DATE",
    "WAREHOUSE_POOL",
    "deadline_alerts_enabled",
    "default_args",
    "supervisors_mail",
    "warehouse_asset",
]


def default_args(
    *, retry_delay: timedelta = timedelta(minutes=2), max_retry_delay: timedelta = timedelta(minutes=20)
) -> dict[str, Any]:
    """What every estatehub DAG's tasks share: the owner, three retries with exponential back-off, and
    an e-mail to the supervisors when a task fails for good."""
    return {
        "owner": "customer-service-data",
        "retries": 3,
        "retry_delay": retry_delay,
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": max_retry_delay,
        "on_failure_callback": notify_supervisors,
    }


def warehouse_asset(table: str) -> Asset:
    """The Asset of one warehouse table (`core_contract`): what a sync emits and the DAGs after it wait for."""
    return Asset(name=table, uri=f"estatehub://warehouse/{table}", group="warehouse")
