"""The task defaults every estatehub DAG shares."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from notifiers import notify_supervisors


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
        "on_failure_callback": notify_supervisors(),
    }
