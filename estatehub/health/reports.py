"""Every report the hub sends is recorded, for the supervisors' page ("the last reports sent").

    record_report_sent(warehouse, "kpi_weekly", recipients=3, path="var/reports/kpi-2026-W49.html")

The report senders (KPI, reconciliation, digests) call it once the SMTP server took the message.
"""

from __future__ import annotations

from datetime import UTC, datetime

from estatehub.health.tables import etl_report_sent
from estatehub.warehouse.engine import Warehouse


def record_report_sent(
    warehouse: Warehouse, report: str, *, recipients: int, path: str | None = None, sent_at: datetime | None = None
) -> None:
    """One row of `etl_report_sent`: which report, when (now by default), to how many, the file kept."""
    if not report:
        raise ValueError("expected the report's name (e.g. kpi_weekly), got an empty one")
    if recipients < 0:
        raise ValueError(f"expected a number of recipients of 0 or more, got {recipients}")
    with warehouse.begin() as conn:
        conn.execute(
            etl_report_sent.insert().values(
                report=report, sent_at=sent_at or datetime.now(UTC), recipients_count=recipients, path=path
            )
        )
