"""Typed records of the banks and the provident-fund centre, as the bank connectors yield them.

Money is `Decimal` yuan, times timezone-aware UTC `datetime`, business dates `date` (Asia/Shanghai, as
the banks write them). A borrower's ID number is carried in full only inside a `Loan`, between the
connector and the warehouse loader, which hashes and masks it; `__repr__` never shows it.

`Loan.payload` and `StatementLine.raw` keep what was received (the JSON object, the row's cells), for
the warehouse's raw layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from connectors.records import QuarantineItem  # noqa: F401 - what this connector yields besides its records

# code -> the name the bank goes by; `hpf` is the housing provident fund centre (公积金中心)
BANKS = {
    "icbc": "中国工商银行",
    "ccb": "中国建设银行",
    "cmb": "招商银行",
    "hpf": "住房公积金管理中心",
}
# names a payment plan or a statement may use for a bank
BANK_ALIASES = {
    "icbc": ("中国工商银行", "工商银行", "工行", "ICBC"),
    "ccb": ("中国建设银行", "建设银行", "建行", "CCB"),
    "cmb": ("招商银行", "招行", "CMB"),
    "hpf": ("住房公积金管理中心", "公积金中心", "公积金管理中心", "住房公积金"),
}

STAGE_COLLECTED = "资料收齐"
STAGE_SUBMITTED = "已递交"
STAGE_APPROVED = "已审批"
STAGE_REJECTED = "拒贷"
STAGE_LOAN_SIGNED = "已签借款合同"
STAGE_MORTGAGE_REGISTERED = "抵押(预告)登记"
STAGE_DISBURSED = "已放款"
STAGE_WITHDRAWN = "已撤销"  # the application was withdrawn (the purchase contract was cancelled)
STAGES = (
    STAGE_COLLECTED,
    STAGE_SUBMITTED,
    STAGE_APPROVED,
    STAGE_REJECTED,
    STAGE_LOAN_SIGNED,
    STAGE_MORTGAGE_REGISTERED,
    STAGE_DISBURSED,
    STAGE_WITHDRAWN,
)
# the order of the normal path, for "how far did it get" (拒贷 and 已撤销 end a loan early)
STAGE_ORDER = {stage: index for index, stage in enumerate(STAGES)}
FINAL_STAGES = frozenset({STAGE_REJECTED, STAGE_DISBURSED, STAGE_WITHDRAWN})

LOAN_COMMERCIAL = "商贷"
LOAN_FUND = "公积金"
LOAN_TYPES = (LOAN_COMMERCIAL, LOAN_FUND)

CREDIT = "in"  # money into the account (贷方, 收入)
DEBIT = "out"  # money out of the account (借方, 支出)


def bank_code_for_name(name: str | None) -> str | None:
    """`"建设银行"` → `"ccb"`; None for a bank the connectors do not know (or no name)."""
    if not name:
        return None
    text = name.strip()
    for code, aliases in BANK_ALIASES.items():
        if text in aliases or any(alias in text for alias in aliases if len(alias) > 2):
            return code
    return None


@dataclass(frozen=True, slots=True)
class StageEvent:
    stage: str
    at: datetime  # UTC


@dataclass(frozen=True, slots=True)
class Loan:
    """One loan application at one bank as it stands now, with every stage it went through."""

    bank: str
    loan_no: str
    loan_type: str
    stage: str
    stages: tuple[StageEvent, ...]
    contract_no: str | None
    borrower_name: str
    borrower_id_type: str
    borrower_id_number: str = field(repr=False)
    house_id: str | None
    property_address: str | None
    branch: str | None
    applied_amount: Decimal | None
    approved_amount: Decimal | None
    disbursed_amount: Decimal | None
    applied_on: date | None
    approved_on: date | None
    disbursed_on: date | None
    updated_at: datetime
    payload: dict[str, Any] = field(repr=False, compare=False)
    # 按揭保证金: what the bank held back from the disbursement until the mortgage is registered (the
    # developer received `disbursed_amount - guarantee_amount` first, the rest on the release)
    guarantee_amount: Decimal | None = None
    guarantee_released_at: datetime | None = None  # when the bank paid the deposit out (after registration)
    linked_loan_no: str | None = None  # 组合贷: the other part of the same mortgage (commercial ↔ fund)

    @property
    def is_final(self) -> bool:
        return self.stage in FINAL_STAGES


@dataclass(frozen=True, slots=True)
class StatementFile:
    """A statement file a bank offers for download (or one found in a landing folder)."""

    bank: str
    account_no: str
    file_name: str
    period_start: date
    period_end: date
    version: int = 1
    size: int | None = None
    sha256: str | None = None
    published_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One transaction line of a statement file.

    `amount` is never negative: `direction` (`"in"` / `"out"`) says which way the money went, seen from
    the account holder. `line_key` identifies the line across files (the bank's serial where the layout
    has one, else a fingerprint of the line's fields and its occurrence among equal lines of that day):
    the same line delivered twice, or in an overlapping file, has the same key.
    """

    bank: str
    layout: str
    account_no: str | None
    file_name: str
    line_no: int
    booked_on: date
    value_on: date | None
    booked_time: time | None
    direction: str
    amount: Decimal
    currency: str
    balance: Decimal | None
    counterparty_name: str | None
    counterparty_account: str | None
    counterparty_bank: str | None
    summary: str | None
    memo: str | None
    serial: str | None
    channel: str | None
    line_key: str
    raw: tuple[str, ...] = field(repr=False, compare=False)

    @property
    def signed_amount(self) -> Decimal:
        return self.amount if self.direction == CREDIT else -self.amount


@dataclass(frozen=True, slots=True)
class StatementTotals:
    """What a statement's totals line says (None where it says nothing)."""

    line_no: int
    credit_total: Decimal | None
    debit_total: Decimal | None
    credit_count: int | None = None
    debit_count: int | None = None


ACCOUNT_SUPERVISED = "supervised"  # 预售资金监管账户 (监管户)
ACCOUNT_GENERAL = "general"  # 一般户
ACCOUNT_TYPES = {"监管户": ACCOUNT_SUPERVISED, "一般户": ACCOUNT_GENERAL}
RECORD_REFUND_APPROVAL = "refund_approval"  # 退款审批: the bank's consent before a refund leaves a supervised account
RECORD_RELEASE = "release"  # 监管资金拨付: a release to the general account at a construction milestone
RECORD_TYPES = {"退款审批": RECORD_REFUND_APPROVAL, "监管资金拨付": RECORD_RELEASE}


@dataclass(frozen=True, slots=True)
class CollectionAccount:
    """One of the developer's collection accounts at a bank (docs/bank_accounts_api.md): which kind it is
    and, for a supervised account, the pre-sale permit it supervises and its key-supervision amount."""

    bank: str
    account_no: str
    account_type: str  # supervised | general
    account_name: str | None
    permit_no: str | None
    project_name: str | None
    building: str | None
    key_supervision_amount: Decimal | None  # 重点监管额度, yuan
    payload: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)


@dataclass(frozen=True, slots=True)
class SupervisionRecord:
    """A supervision record of a bank: a refund approval or a release (拨付), with the amounts the rule
    allowed (`allowed_amount`) and required to stay (`retained_amount`) for a release."""

    bank: str
    record_no: str
    record_type: str  # refund_approval | release
    account_no: str
    counter_account_no: str | None
    permit_no: str | None
    contract_no: str | None
    milestone: str | None
    amount: Decimal
    allowed_amount: Decimal | None
    retained_amount: Decimal | None
    approved_at: datetime
    payload: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)
