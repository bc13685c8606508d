"""The tables every source shares, as SQLAlchemy Core objects: runs, sync state, raw records, quarantine.

Each source keeps its own tables beside its code (`estatehub/<source>/tables.py`, each with its own
`MetaData`); `estatehub.schema.all_metadata()` lists them all.

The schema itself is made by the migrations (`estatehub/warehouse/migrations/versions/`); these
objects mirror the head revision, and `tests/warehouse/test_migrations.py` checks that they match.
No database schemas: a layer prefix on each name (`etl_`, `raw_`, `stg_`, `core_`, later `mart_`)
keeps SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from estatehub.warehouse.types import Payload, SurrogateKey, UtcDateTime

metadata = MetaData()

# -- etl: the loading machinery ------------------------------------------------------------------

etl_meta = Table(
    "etl_meta",
    metadata,
    Column("meta_key", String, primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

etl_sync_state = Table(
    "etl_sync_state",
    metadata,
    Column("source", String, nullable=False),
    Column("stream", String, nullable=False),
    Column("cursor_at", UtcDateTime),
    Column("run_id", String, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("source", "stream", name="pk_etl_sync_state"),
)

etl_run = Table(
    "etl_run",
    metadata,
    Column("run_id", String, primary_key=True),
    Column("source", String, nullable=False),
    Column("stream", String, nullable=False),
    Column("mode", String, nullable=False),
    Column("since_at", UtcDateTime),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("status", String, nullable=False),
    Column("fetched", BigInteger, nullable=False),
    Column("loaded", BigInteger, nullable=False),
    Column("quarantined", BigInteger, nullable=False),
    Column("message", Text),
    CheckConstraint("mode in ('full', 'incremental')", name="ck_etl_run_mode"),
    CheckConstraint("status in ('running', 'succeeded', 'failed', 'abandoned')", name="ck_etl_run_status"),
    Index("ix_etl_run_source_stream_started_at", "source", "stream", "started_at"),
)

raw_record = Table(
    "raw_record",
    metadata,
    Column("raw_record_id", SurrogateKey, primary_key=True, autoincrement=True),
    Column("source", String, nullable=False),
    Column("entity", String, nullable=False),
    Column("record_key", String),
    Column("run_id", String, nullable=False),
    Column("fetched_at", UtcDateTime, nullable=False),
    Column("payload_hash", String, nullable=False),
    Column("payload", Payload),
    Column("is_quarantined", Boolean, nullable=False),
    UniqueConstraint("source", "entity", "payload_hash", name="uq_raw_record_payload_hash"),
    Index("ix_raw_record_record_key", "source", "entity", "record_key"),
    Index("ix_raw_record_source_fetched_at", "source", "fetched_at"),  # 0014: a source's newest record
)

etl_quarantine = Table(
    "etl_quarantine",
    metadata,
    Column("quarantine_id", SurrogateKey, primary_key=True, autoincrement=True),
    Column("source", String, nullable=False),
    Column("entity", String, nullable=False),
    Column("record_key", String),
    Column("record_updated_at", UtcDateTime),
    Column("reason", Text, nullable=False),
    Column("payload", Payload),
    Column("payload_hash", String, nullable=False),
    Column("first_run_id", String, nullable=False),
    Column("last_run_id", String, nullable=False),
    Column("first_seen_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("seen_count", Integer, nullable=False),
    Column("resolved_at", UtcDateTime),
    Column("dismissed_at", UtcDateTime),  # a person looked at it and let it go: no longer fetched again
    Column("dismissed_by", String),
    Column("dismiss_note", Text),
    UniqueConstraint("source", "entity", "payload_hash", name="uq_etl_quarantine_payload_hash"),
    Index("ix_etl_quarantine_record_key", "source", "entity", "record_key"),
)

etl_lock = Table(
    "etl_lock",
    metadata,
    Column("source", String, nullable=False),
    Column("stream", String, nullable=False),
    Column("run_id", String, nullable=False),
    Column("host", String, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("acquired_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("source", "stream", name="pk_etl_lock"),
)
