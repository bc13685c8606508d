"""The quality gates' tables (migration 0011_quality_gates).

etl_quality_run      one row per check: when, as of which business day, passed / warnings / failed
etl_quality_result   one row per finding (and one `row_count` row per core table, the baseline of the
                     next check): gate, subject, severity, message, the observed number
"""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, Date, Index, MetaData, String, Table, Text

from estatehub.warehouse.types import SurrogateKey, UtcDateTime

metadata = MetaData()

SEVERITIES = ("ok", "warning", "error")
RUN_STATUSES = ("passed", "warnings", "failed")

etl_quality_run = Table(
    "etl_quality_run",
    metadata,
    Column("check_id", String, primary_key=True),
    Column("as_of_on", Date, nullable=False),
    Column("checked_at", UtcDateTime, nullable=False),
    Column("status", String, nullable=False),
    Column("errors", BigInteger, nullable=False),
    Column("warnings", BigInteger, nullable=False),
    Column("purpose", String, nullable=False),  # who asked: reconcile, report, a person
    CheckConstraint("status in ('passed', 'warnings', 'failed')", name="ck_etl_quality_run_status"),
    Index("ix_etl_quality_run_checked_at", "checked_at"),
)

etl_quality_result = Table(
    "etl_quality_result",
    metadata,
    Column("result_id", SurrogateKey, primary_key=True, autoincrement=True),
    Column("check_id", String, nullable=False),
    Column("gate", String, nullable=False),
    Column("source", String, nullable=False),
    Column("subject", String, nullable=False),
    Column("severity", String, nullable=False),
    Column("message", Text, nullable=False),
    Column("observed", BigInteger),
    CheckConstraint("severity in ('ok', 'warning', 'error')", name="ck_etl_quality_result_severity"),
    Index("ix_etl_quality_result_check_id", "check_id"),
    Index("ix_etl_quality_result_gate_subject", "gate", "subject"),
)
