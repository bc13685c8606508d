"""The banks' tables, as SQLAlchemy Core objects (made by migration 0004_banks).

    stg_bank_loan                 each loan as last fetched from its bank (typed; borrower ID hashed)
    stg_bank_loan_stage           the stages of each staged loan, in order
    core_bank_loan                each loan with its current stage and its link to a contract: by the
                                  contract number the bank reported, else by the borrower's ID hash and
                                  the unit of the property address (`link_basis`); unlinked loans stay
    core_bank_loan_stage          the full stage history of each loan
    etl_bank_statement_file       the registry of statement files: name, checksum, bank, account, period,
                                  rows, totals, status (loaded, replaced, quarantined, superseded)
    etl_bank_statement_event      the audit trail: every delivery of a file and what became of it
    core_bank_statement_line      every statement line once (by its line key); a line a corrected file
                                  dropped is kept, marked not current, with the file that dropped it
    core_bank_account             the developer's collection accounts each bank lists: supervised (for
                                  which pre-sale permit, key-supervision amount) or general (0015)
    core_bank_supervision         each bank's supervision records: refund approvals and releases (拨付)
                                  with the amounts the rule allowed and required to stay (0015)

Money in integer fen; times UTC; business dates as dates. Borrowers' ID numbers only as keyed hash and
masked form.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from estatehub.warehouse.types import Money, SurrogateKey, UtcDateTime

metadata = MetaData()

LINK_BASES = ("contract_no", "buyer_id_unit", "unlinked")
FILE_STATUSES = ("loaded", "replaced", "quarantined", "superseded")
FILE_EVENTS = ("loaded", "duplicate", "replaced", "quarantined", "superseded")


def _loan_columns() -> list[Column]:
    return [
        Column("loan_type", String, nullable=False),
        Column("stage", String, nullable=False),
        Column("reported_contract_no", String),
        Column("borrower_name", String, nullable=False),
        Column("borrower_id_type", String, nullable=False),
        Column("borrower_id_hash", String, nullable=False),
        Column("borrower_id_masked", String, nullable=False),
        Column("property_address", String),
        Column("branch", String),
        Column("applied_fen", Money),
        Column("approved_fen", Money),
        Column("disbursed_fen", Money),
        Column("guarantee_fen", Money),  # 按揭保证金 held back from the disbursement (0015)
        Column("guarantee_released_on", Date),  # the day the bank paid the deposit out; null while held (0018)
        Column("linked_loan_no", String),  # 组合贷: the other part of the same mortgage (0015)
        Column("applied_on", Date),
        Column("approved_on", Date),
        Column("disbursed_on", Date),
        Column("updated_at", UtcDateTime, nullable=False),
    ]


stg_bank_loan = Table(
    "stg_bank_loan",
    metadata,
    Column("bank", String, nullable=False),
    Column("loan_no", String, nullable=False),
    *_loan_columns(),
    Column("payload_hash", String, nullable=False),
    Column("batch_id", String, nullable=False),
    Column("run_id", String, nullable=False),
    Column("loaded_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("bank", "loan_no", name="pk_stg_bank_loan"),
    Index("ix_stg_bank_loan_batch_id", "batch_id"),
)

stg_bank_loan_stage = Table(
    "stg_bank_loan_stage",
    metadata,
    Column("bank", String, nullable=False),
    Column("loan_no", String, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("stage", String, nullable=False),
    Column("entered_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("bank", "loan_no", "seq", name="pk_stg_bank_loan_stage"),
)

core_bank_loan = Table(
    "core_bank_loan",
    metadata,
    Column("bank", String, nullable=False),
    Column("loan_no", String, nullable=False),
    Column("contract_no", String),
    Column("house_id", String),
    Column("link_basis", String, nullable=False),
    *_loan_columns(),
    PrimaryKeyConstraint("bank", "loan_no", name="pk_core_bank_loan"),
    CheckConstraint("link_basis in ('contract_no', 'buyer_id_unit', 'unlinked')", name="ck_core_bank_loan_link_basis"),
    Index("ix_core_bank_loan_contract_no", "contract_no"),
    Index("ix_core_bank_loan_link_basis", "link_basis"),
)

core_bank_loan_stage = Table(
    "core_bank_loan_stage",
    metadata,
    Column("bank", String, nullable=False),
    Column("loan_no", String, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("stage", String, nullable=False),
    Column("entered_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("bank", "loan_no", "seq", name="pk_core_bank_loan_stage"),
)

etl_bank_statement_file = Table(
    "etl_bank_statement_file",
    metadata,
    Column("file_id", SurrogateKey, primary_key=True, autoincrement=True),
    Column("bank", String, nullable=False),
    Column("account_no", String),
    Column("file_name", String, nullable=False),
    Column("sha256", String, nullable=False, unique=True),
    Column("layout", String),
    Column("period_start_on", Date),
    Column("period_end_on", Date),
    Column("version", Integer),
    Column("line_count", Integer, nullable=False),
    Column("quarantined_count", Integer, nullable=False),
    Column("credit_count", Integer, nullable=False),
    Column("debit_count", Integer, nullable=False),
    Column("credit_fen", Money, nullable=False),
    Column("debit_fen", Money, nullable=False),
    Column("status", String, nullable=False),
    Column("origin", String, nullable=False),
    Column("reason", Text),
    Column("run_id", String, nullable=False),
    Column("loaded_at", UtcDateTime, nullable=False),
    Column("replaced_by_file_id", BigInteger),
    Column("replaced_at", UtcDateTime),
    CheckConstraint(
        "status in ('loaded', 'replaced', 'quarantined', 'superseded')", name="ck_etl_bank_statement_file_status"
    ),
    Index("ix_etl_bank_statement_file_period", "bank", "account_no", "period_start_on", "period_end_on"),
    Index("ix_etl_bank_statement_file_name", "bank", "file_name"),
)

etl_bank_statement_event = Table(
    "etl_bank_statement_event",
    metadata,
    Column("event_id", SurrogateKey, primary_key=True, autoincrement=True),
    Column("file_id", BigInteger),
    Column("bank", String, nullable=False),
    Column("file_name", String, nullable=False),
    Column("sha256", String, nullable=False),
    Column("event", String, nullable=False),
    Column("detail", Text),
    Column("run_id", String, nullable=False),
    Column("event_at", UtcDateTime, nullable=False),
    CheckConstraint(
        "event in ('loaded', 'duplicate', 'replaced', 'quarantined', 'superseded')",
        name="ck_etl_bank_statement_event_event",
    ),
    Index("ix_etl_bank_statement_event_file_id", "file_id"),
)

core_bank_statement_line = Table(
    "core_bank_statement_line",
    metadata,
    Column("line_key", String, primary_key=True),
    Column("bank", String, nullable=False),
    Column("account_no", String),
    Column("booked_on", Date, nullable=False),
    Column("booked_time", String),
    Column("value_on", Date),
    Column("direction", String, nullable=False),
    Column("amount_fen", Money, nullable=False),
    Column("balance_fen", Money),
    Column("currency", String, nullable=False),
    Column("counterparty_name", String),
    Column("counterparty_account", String),  # masked (connectors.identity.mask_account)
    Column("counterparty_bank", String),
    Column("summary", String),
    Column("memo", Text),
    Column("serial", String),
    Column("channel", String),
    Column("layout", String, nullable=False),
    Column("file_id", BigInteger, nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("first_file_id", BigInteger, nullable=False),
    Column("is_current", Boolean, nullable=False),
    Column("removed_by_file_id", BigInteger),
    Column("loaded_at", UtcDateTime, nullable=False),
    Column("counterparty_account_hash", String),  # keyed hash of the full number (0006)
    CheckConstraint("direction in ('in', 'out')", name="ck_core_bank_statement_line_direction"),
    Index("ix_core_bank_statement_line_account_booked_on", "account_no", "booked_on"),
    Index("ix_core_bank_statement_line_file_id", "file_id"),
)

ACCOUNT_TYPES = ("supervised", "general")
SUPERVISION_TYPES = ("refund_approval", "release")

core_bank_account = Table(
    "core_bank_account",
    metadata,
    Column("bank", String, nullable=False),
    Column("account_no", String, nullable=False),
    Column("account_type", String, nullable=False),
    Column("account_name", String),
    Column("permit_no", String),
    Column("project_name", String),
    Column("building", String),
    Column("key_supervision_fen", Money),
    Column("listed_at", UtcDateTime, nullable=False),
    Column("payload_hash", String, nullable=False),
    Column("batch_id", String, nullable=False),
    Column("run_id", String, nullable=False),
    Column("loaded_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("bank", "account_no", name="pk_core_bank_account"),
    CheckConstraint("account_type in ('supervised', 'general')", name="ck_core_bank_account_account_type"),
    Index("ix_core_bank_account_permit_no", "permit_no"),
)

core_bank_supervision = Table(
    "core_bank_supervision",
    metadata,
    Column("bank", String, nullable=False),
    Column("record_no", String, nullable=False),
    Column("record_type", String, nullable=False),
    Column("account_no", String, nullable=False),
    Column("counter_account_no", String),
    Column("permit_no", String),
    Column("contract_no", String),
    Column("milestone", String),
    Column("amount_fen", Money, nullable=False),
    Column("allowed_fen", Money),
    Column("retained_fen", Money),
    Column("approved_at", UtcDateTime, nullable=False),
    Column("approved_on", Date, nullable=False),
    Column("payload_hash", String, nullable=False),
    Column("batch_id", String, nullable=False),
    Column("run_id", String, nullable=False),
    Column("loaded_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("bank", "record_no", name="pk_core_bank_supervision"),
    CheckConstraint("record_type in ('refund_approval', 'release')", name="ck_core_bank_supervision_record_type"),
    Index("ix_core_bank_supervision_account", "account_no", "approved_on"),
    Index("ix_core_bank_supervision_contract_no", "contract_no"),
)
