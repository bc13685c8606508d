"""The work lists' mart (migration 0016_work_lists).

mart_work_item        every item of every work list as of the latest build: the list (one per
                      process), the item's stable key, project, contract, unit, the masked buyer and
                      phone to call, what it is about, the amount, the deadline and the days left
                      (negative: days late), and the day it was first listed (kept across builds)
mart_work_list_build  one row per build: the day it judged, when it ran, how many items per list
"""

from __future__ import annotations

from sqlalchemy import Column, Date, Index, Integer, MetaData, PrimaryKeyConstraint, String, Table, Text

from estatehub.warehouse.types import Money, UtcDateTime

metadata = MetaData()

mart_work_item = Table(
    "mart_work_item",
    metadata,
    Column("list_name", String, nullable=False),
    Column("item_key", String, nullable=False),
    Column("project_code", String),
    Column("contract_no", String),
    Column("house_id", String),
    Column("buyer_masked", String),
    Column("phone_masked", String),
    Column("what", String),  # the bank and stage, the payment kind, the area difference ...
    Column("amount_fen", Money),
    Column("since_on", Date),  # when the clock started (signing, handover, registration ...)
    Column("deadline_on", Date, nullable=False),
    Column("days_left", Integer, nullable=False),  # deadline_on - as_of_on: negative when late
    Column("detail", Text, nullable=False),
    Column("first_listed_on", Date, nullable=False),
    Column("as_of_on", Date, nullable=False),
    Column("build_id", String, nullable=False),
    PrimaryKeyConstraint("list_name", "item_key", name="pk_mart_work_item"),
    Index("ix_mart_work_item_project_code", "project_code"),
)

mart_work_list_build = Table(
    "mart_work_list_build",
    metadata,
    Column("build_id", String, nullable=False),
    Column("as_of_on", Date, nullable=False),
    Column("built_at", UtcDateTime, nullable=False),
    Column("item_count", Integer, nullable=False),
    Column("counts", Text, nullable=False),  # JSON: list → items
    PrimaryKeyConstraint("build_id", name="pk_mart_work_list_build"),
    Index("ix_mart_work_list_build_as_of_on", "as_of_on", "built_at"),
)
