"""The reconciliations' tables (migration 0012_reconciliation).

rec_run          one row per run: the period, the day it is judged as of, the quality check it
                 passed (or was blocked by), when, how it ended
rec_match        the matches of the latest run of each reconciliation over each period: tier or
                 rule, amounts and deltas, text score, confidence (one row per link of a group)
rec_break        every break ever found, by its stable key, with its status: open, acknowledged
                 (who, note) or resolved (how; `data_changed` when it closed by itself)
rec_receivable   the receivables mart: each payment-plan line with what was received against it,
                 its state and its ageing bucket, as of the latest run (the one source of
                 receivables for every report)
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    false,
)

from estatehub.warehouse.types import Money, UtcDateTime

metadata = MetaData()

RUN_STATUSES = ("running", "succeeded", "failed", "blocked")
BREAK_STATUSES = ("open", "acknowledged", "resolved")
# how old open breaks are, as the finance report and the supervisors' page both group them (days)
BREAK_AGE_BUCKETS = (("0-30", 0, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, None))


def break_age_bucket(days: int | None) -> str:
    """The bucket of a break `days` old (a break not yet due, or undated, counts as new)."""
    age = max(days or 0, 0)
    return next(name for name, low, high in BREAK_AGE_BUCKETS if age >= low and (high is None or age <= high))


rec_run = Table(
    "rec_run",
    metadata,
    Column("run_id", String, primary_key=True),
    Column("date_from", Date, nullable=False),
    Column("date_to", Date, nullable=False),
    Column("as_of_on", Date, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("status", String, nullable=False),
    Column("quality_check_id", String),
    Column("reconciliations", String, nullable=False),  # which ran, comma-separated, in order
    Column("message", Text),
    CheckConstraint("status in ('running', 'succeeded', 'failed', 'blocked')", name="ck_rec_run_status"),
    Index("ix_rec_run_started_at", "started_at"),
)

rec_match = Table(
    "rec_match",
    metadata,
    Column("reconciliation", String, nullable=False),
    Column("date_from", Date, nullable=False),
    Column("date_to", Date, nullable=False),
    Column("run_id", String, nullable=False),
    Column("match_id", String, nullable=False),
    Column("tier", Integer, nullable=False),
    Column("tier_name", String, nullable=False),
    Column("rule", String),
    Column("left_id", String, nullable=False),
    Column("right_id", String, nullable=False),
    Column("left_amount_fen", Money, nullable=False),
    Column("right_amount_fen", Money, nullable=False),
    Column("amount_delta_fen", Money, nullable=False),
    Column("date_delta_days", Integer, nullable=False),
    Column("text_score", Float),
    Column("confidence", Float, nullable=False),
    PrimaryKeyConstraint("reconciliation", "date_from", "date_to", "left_id", "right_id", name="pk_rec_match"),
)

rec_break = Table(
    "rec_break",
    metadata,
    Column("break_key", String, primary_key=True),
    Column("reconciliation", String, nullable=False),
    Column("reason", String, nullable=False),
    Column("rule", String),
    Column("subject", String),  # what a person looks up: a contract, an account, a receipt
    Column("party_masked", String),  # the buyer or payer, masked
    Column("kind", String),  # the payment kind concerned (首付, 按揭, ...), where there is one
    Column("left_ids", Text, nullable=False),  # JSON list
    Column("right_ids", Text, nullable=False),
    Column("amount_fen", Money, nullable=False),
    Column("left_amount_fen", Money, nullable=False),
    Column("right_amount_fen", Money, nullable=False),
    Column("first_on", Date),
    Column("due_on", Date),
    Column("age_days", Integer),
    Column("detail", Text, nullable=False),
    Column("status", String, nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("changed_on", Date, nullable=False),
    Column("who", String),
    Column("note", Text),
    Column("how", String),
    Column("first_run_id", String, nullable=False),
    Column("last_run_id", String, nullable=False),
    CheckConstraint("status in ('open', 'acknowledged', 'resolved')", name="ck_rec_break_status"),
    Index("ix_rec_break_reconciliation_status", "reconciliation", "status"),
)

rec_receivable = Table(
    "rec_receivable",
    metadata,
    Column("contract_no", String, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String, nullable=False),
    Column("due_on", Date),
    Column("amount_fen", Money, nullable=False),
    Column("received_fen", Money, nullable=False),
    Column("outstanding_fen", Money, nullable=False),  # negative: overpaid
    Column("state", String, nullable=False),  # paid, overpaid, part_paid, due, overdue, not_due
    Column("days_overdue", Integer),
    Column("ageing", String, nullable=False),  # not_due, 1-30, 31-60, 61-90, over_90, settled
    Column("house_id", String),
    Column("project_code", String),
    Column("buyer_masked", String),
    Column("is_contract_live", Boolean, nullable=False),
    # a fee collected for others at handover (契税, 维修基金, 登记费: the city's schedule, decision 0036), not the
    # price: on no plan of the network, paid only by fee receipts, left out of the KPIs' receivables
    Column("is_fee", Boolean, nullable=False, server_default=false()),
    Column("as_of_on", Date, nullable=False),
    Column("run_id", String, nullable=False),
    PrimaryKeyConstraint("contract_no", "seq", name="pk_rec_receivable"),
    Index("ix_rec_receivable_state", "state"),
)
