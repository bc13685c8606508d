"""The trading network's tables (made by migration 0002_trading_network), as SQLAlchemy Core objects.

stg_tn_contract, stg_tn_contract_buyer,     each contract as last fetched (typed, current version),
stg_tn_payment_plan, stg_tn_state_change    with its buyers, plan and state changes
core_unit, core_buyer, core_contract, ...   contracts with their units, buyers (keyed hash and
                                            masked ID and phone only), plans, state history
                                            (valid_from / valid_to), handover and registration
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from estatehub.warehouse.types import Area, Money, Share, UtcDateTime

metadata = MetaData()

# -- staging: the trading network, typed, current version per contract -----------------------------
# `batch_id` (on the header and its children, which are always replaced together) is the batch that
# wrote the current version: the core models select a batch's rows by it, through an index.

stg_tn_contract = Table(
    "stg_tn_contract",
    metadata,
    Column("contract_no", String, primary_key=True),
    Column("contract_type", String, nullable=False),
    Column("state", String, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("project_code", String, nullable=False),
    Column("project_name", String, nullable=False),
    Column("house_id", String, nullable=False),
    Column("building", String, nullable=False),
    Column("unit", String, nullable=False),
    Column("floor", Integer, nullable=False),
    Column("room", String, nullable=False),
    Column("permit_no", String),
    Column("usage", String),
    Column("building_area", Area, nullable=False),
    Column("inner_area", Area),
    Column("shared_area", Area),
    Column("unit_price_fen", Money, nullable=False),
    Column("total_price_fen", Money, nullable=False),
    Column("deposit_fen", Money),
    Column("payment_method", String),
    Column("refund_days", Integer),  # the contract's refund term (0009)
    Column("delivery_on", Date),  # the delivery date the contract names (0016)
    Column("registration_days", Integer),  # days to register the property right, as the contract names (0016)
    Column("subscription_no", String),
    Column("previous_contract_no", String),
    Column("planned_signing_on", Date),
    Column("signed_at", UtcDateTime),
    Column("filed_at", UtcDateTime),
    Column("cancelled_at", UtcDateTime),
    Column("cancel_reason_code", String),
    Column("cancel_reason", Text),
    Column("handed_over_on", Date),
    Column("as_built_area", Area),
    Column("area_diff_fen", Money),
    Column("registration_status", String),
    Column("registration_applied_on", Date),
    Column("registered_on", Date),
    Column("certificate_no", String),
    Column("payload_hash", String, nullable=False),
    Column("batch_id", String, nullable=False),
    Column("run_id", String, nullable=False),
    Column("loaded_at", UtcDateTime, nullable=False),
    Index("ix_stg_tn_contract_batch_id", "batch_id"),
    Index("ix_stg_tn_contract_house_id", "house_id"),
)

stg_tn_contract_buyer = Table(
    "stg_tn_contract_buyer",
    metadata,
    Column("contract_no", String, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("id_hash", String, nullable=False),
    Column("id_type", String, nullable=False),
    Column("id_masked", String, nullable=False),
    Column("name", String, nullable=False),
    Column("phone_hash", String),
    Column("phone_masked", String),
    Column("share", Share),
    Column("is_primary", Boolean, nullable=False),
    Column("is_company", Boolean, nullable=False),
    Column("batch_id", String, nullable=False),
    PrimaryKeyConstraint("contract_no", "seq", name="pk_stg_tn_contract_buyer"),
    Index("ix_stg_tn_contract_buyer_id_hash", "id_hash"),
    Index("ix_stg_tn_contract_buyer_batch_id", "batch_id"),
)

stg_tn_payment_plan = Table(
    "stg_tn_payment_plan",
    metadata,
    Column("contract_no", String, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String, nullable=False),
    Column("due_on", Date),
    Column("amount_fen", Money, nullable=False),
    Column("bank", String),
    Column("batch_id", String, nullable=False),
    PrimaryKeyConstraint("contract_no", "seq", name="pk_stg_tn_payment_plan"),
    Index("ix_stg_tn_payment_plan_batch_id", "batch_id"),
)

stg_tn_state_change = Table(
    "stg_tn_state_change",
    metadata,
    Column("contract_no", String, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("state", String, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    Column("reason_code", String),
    Column("reason", Text),
    Column("batch_id", String, nullable=False),
    PrimaryKeyConstraint("contract_no", "seq", name="pk_stg_tn_state_change"),
    Index("ix_stg_tn_state_change_batch_id", "batch_id"),
)

# -- core: contracts, units, buyers and what hangs on a contract -----------------------------------

core_unit = Table(
    "core_unit",
    metadata,
    Column("house_id", String, primary_key=True),
    Column("project_code", String, nullable=False),
    Column("project_name", String, nullable=False),
    Column("building", String, nullable=False),
    Column("unit", String, nullable=False),
    Column("floor", Integer, nullable=False),
    Column("room", String, nullable=False),
    Column("permit_no", String),
    Column("usage", String),
    Column("building_area", Area, nullable=False),
    Column("inner_area", Area),
    Column("shared_area", Area),
)

core_buyer = Table(
    "core_buyer",
    metadata,
    Column("id_hash", String, primary_key=True),
    Column("id_type", String, nullable=False),
    Column("id_masked", String, nullable=False),
    Column("name", String, nullable=False),
    Column("phone_hash", String),
    Column("phone_masked", String),
    Column("is_company", Boolean, nullable=False),
    # the ledger's linker looks buyers up by name (a receipt's customer, payer or payee): decision 0040
    Index("ix_core_buyer_name", "name"),
)

core_contract = Table(
    "core_contract",
    metadata,
    Column("contract_no", String, primary_key=True),
    Column("contract_type", String, nullable=False),
    Column("state", String, nullable=False),
    Column("house_id", String, ForeignKey("core_unit.house_id", name="fk_core_contract_house_id"), nullable=False),
    Column("unit_price_fen", Money, nullable=False),
    Column("total_price_fen", Money, nullable=False),
    Column("deposit_fen", Money),
    Column("payment_method", String),
    Column("refund_days", Integer),  # the contract's refund term (0009)
    Column("delivery_on", Date),  # the delivery date the contract names (0016)
    Column("registration_days", Integer),  # days to register the property right, as the contract names (0016)
    Column("subscription_no", String),
    Column("previous_contract_no", String),
    Column("planned_signing_on", Date),
    Column("signed_at", UtcDateTime),
    Column("filed_at", UtcDateTime),
    Column("cancelled_at", UtcDateTime),
    Column("cancel_reason_code", String),
    Column("cancel_reason", Text),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_core_contract_house_id", "house_id"),
    Index("ix_core_contract_state", "state"),
    # the ledger's linker asks which contracts name a contract as their subscription or previous one: 0021
    Index("ix_core_contract_subscription_no", "subscription_no"),
    Index("ix_core_contract_previous_contract_no", "previous_contract_no"),
)


def _contract_fk(table: str) -> ForeignKey:
    return ForeignKey("core_contract.contract_no", name=f"fk_{table}_contract_no")


core_contract_buyer = Table(
    "core_contract_buyer",
    metadata,
    Column("contract_no", String, _contract_fk("core_contract_buyer"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("id_hash", String, ForeignKey("core_buyer.id_hash", name="fk_core_contract_buyer_id_hash"), nullable=False),
    Column("share", Share),
    Column("is_primary", Boolean, nullable=False),
    PrimaryKeyConstraint("contract_no", "seq", name="pk_core_contract_buyer"),
    Index("ix_core_contract_buyer_id_hash", "id_hash"),
)

core_payment_plan = Table(
    "core_payment_plan",
    metadata,
    Column("contract_no", String, _contract_fk("core_payment_plan"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String, nullable=False),
    Column("due_on", Date),
    Column("amount_fen", Money, nullable=False),
    Column("bank", String),
    PrimaryKeyConstraint("contract_no", "seq", name="pk_core_payment_plan"),
)

core_contract_state_history = Table(
    "core_contract_state_history",
    metadata,
    Column("contract_no", String, _contract_fk("core_contract_state_history"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("state", String, nullable=False),
    Column("valid_from", UtcDateTime, nullable=False),
    Column("valid_to", UtcDateTime),
    Column("reason_code", String),
    Column("reason", Text),
    PrimaryKeyConstraint("contract_no", "seq", name="pk_core_contract_state_history"),
    Index("ix_core_contract_state_history_state", "state", "valid_from"),
)

core_handover = Table(
    "core_handover",
    metadata,
    Column("contract_no", String, _contract_fk("core_handover"), primary_key=True),
    Column("handed_over_on", Date, nullable=False),
    Column("as_built_area", Area, nullable=False),
    Column("area_diff_fen", Money, nullable=False),
)

core_registration = Table(
    "core_registration",
    metadata,
    Column("contract_no", String, _contract_fk("core_registration"), primary_key=True),
    Column("status", String, nullable=False),
    Column("applied_on", Date),
    Column("registered_on", Date),
    Column("certificate_no", String),
)

# -- the building tables (楼盘表): every unit of every permit with its 备案价 and sale state (0017) ----
# keyed by the network's own names (permit number, unit code); `house_id` is the 房屋编号 the contracts
# carry, which joins a unit to `core_unit` and its contracts


def _inventory_unit_columns() -> list[Column]:
    """A building-table row's columns: the same in staging and core (each table gets its own copies)."""
    return [
        Column("permit_no", String, nullable=False),
        Column("unit_code", String, nullable=False),
        Column("project_code", String),
        Column("project_name", String),
        Column("house_id", String),
        Column("realty_unit_no", String),
        Column("building", String, nullable=False),
        Column("unit", String),
        Column("floor", Integer, nullable=False),
        Column("room", String, nullable=False),
        Column("usage", String, nullable=False),
        Column("building_area", Area, nullable=False),
        Column("inner_area", Area),
        Column("record_unit_price_fen", Money),
        Column("record_total_price_fen", Money, nullable=False),
        Column("sale_state", String, nullable=False),
        Column("restriction", String),
        Column("updated_at", UtcDateTime, nullable=False),
    ]


stg_tn_inventory_unit = Table(
    "stg_tn_inventory_unit",
    metadata,
    *_inventory_unit_columns(),
    Column("payload_hash", String, nullable=False),
    Column("batch_id", String, nullable=False),
    Column("run_id", String, nullable=False),
    Column("loaded_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("permit_no", "unit_code", name="pk_stg_tn_inventory_unit"),
    Index("ix_stg_tn_inventory_unit_batch_id", "batch_id"),
)

core_unit_inventory = Table(
    "core_unit_inventory",
    metadata,
    *_inventory_unit_columns(),
    PrimaryKeyConstraint("permit_no", "unit_code", name="pk_core_unit_inventory"),
    Index("ix_core_unit_inventory_house_id", "house_id"),
    Index("ix_core_unit_inventory_project", "project_code", "usage"),
)

core_unit_inventory_state_history = Table(
    "core_unit_inventory_state_history",
    metadata,
    Column("permit_no", String, nullable=False),
    Column("unit_code", String, nullable=False),
    Column("valid_from", UtcDateTime, nullable=False),
    Column("valid_to", UtcDateTime),
    Column("sale_state", String, nullable=False),
    Column("restriction", String),
    PrimaryKeyConstraint("permit_no", "unit_code", "valid_from", name="pk_core_unit_inventory_state_history"),
    Index("ix_core_unit_inventory_state_history_state", "sale_state", "valid_from"),
)
