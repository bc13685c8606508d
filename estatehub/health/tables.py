"""The pipeline health tables, as SQLAlchemy Core objects (made by migration 0014_pipeline_health).

etl_health_finding   each staleness finding while it lasts: first and last seen, when the
                     supervisors were told (`alerted_at`), when it ended (`resolved_at`); a finding
                     that comes back after it ended is a new row, and is told again
etl_report_sent      every report the hub sent: which, when, to how many, the file it kept
                     (written by the report senders; read by the supervisors' page)
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text

from estatehub.warehouse.types import SurrogateKey, UtcDateTime

metadata = MetaData()

FINDING_KINDS = ("sync_stale", "no_new_data", "file_late")

etl_health_finding = Table(
    "etl_health_finding",
    metadata,
    Column("finding_id", SurrogateKey, primary_key=True, autoincrement=True),
    Column("finding_key", String(512), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("source", String(128), nullable=False),
    Column("subject", String(256), nullable=False),
    Column("detail", Text, nullable=False),
    Column("last_good_at", UtcDateTime),
    Column("first_seen_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("alerted_at", UtcDateTime),
    Column("resolved_at", UtcDateTime),
    Index("ix_etl_health_finding_key_resolved_at", "finding_key", "resolved_at"),
)

etl_report_sent = Table(
    "etl_report_sent",
    metadata,
    Column("report_sent_id", SurrogateKey, primary_key=True, autoincrement=True),
    Column("report", String(128), nullable=False),
    Column("sent_at", UtcDateTime, nullable=False),
    Column("recipients_count", Integer, nullable=False),
    Column("path", Text),
    Index("ix_etl_report_sent_sent_at", "sent_at"),
)
