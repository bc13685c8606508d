"""The statement layouts the parser knows: which header identifies each, and where each field is.

A layout is recognised by its header row: every name in `required` must be among the row's cells
(compared after `cells.header_name`: NFKC, no spaces), none in `forbidden`. A field maps to one or
more header names; the first of them that is present *and not empty* in a row gives the value, so one
layout can cover versions of an export that add or rename a column.

The amount comes one of three ways: `Signed` (one column, `-` for money out), `Split` (a credit and a
debit column, one of them empty or zero), `Marked` (an unsigned amount and a 借/贷 column). A totals
line is recognised by its first non-empty cell (`Totals.labels`); its amounts sit in the columns of
the amounts (`aligned`) or follow a label in the line (`pairs`, `借方金额：1,234.00`).

Real exports (the fixtures in tests/banks/fixtures/real_statements): 工商银行 明细查询 (debit v1/v2
and credit card), 建设银行 交易明细 (.xls), 农业银行, 中国银行, 交通银行, 招商银行 personal exports.
The developer's collection accounts (对公) as the sandbox banks write them: `icbc_corporate` (CSV,
UTF-8, padded), `ccb_corporate` (.xls), `cmb_corporate` (CSV, GBK).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Signed:
    """One amount column; a leading `-` means money out, `+` or no sign money in."""

    column: tuple[str, ...]


@dataclass(frozen=True)
class Split:
    """A credit (money in) and a debit (money out) column; a row fills exactly one of them."""

    credit: tuple[str, ...]
    debit: tuple[str, ...]


@dataclass(frozen=True)
class Marked:
    """An unsigned amount and a column whose text marks the direction (`贷 Cr` / `借 Dr`)."""

    column: tuple[str, ...]
    mark: tuple[str, ...]
    credit_marks: tuple[str, ...] = ("贷", "CR", "收")
    debit_marks: tuple[str, ...] = ("借", "DR", "支", "付")


# a label, an optional colon, the number after it (in the cell or the next one)
COUNT = r"{}[:：]?\s*(\d+)"
AMOUNT = r"{}[:：]?\s*([-+]?[\d,]+(?:\.\d+)?)"


@dataclass(frozen=True)
class Totals:
    """How a totals line reads: `labels` match its first non-empty cell; amounts in the columns named
    by `aligned` (`{"credit": (...), "debit": (...)}`); `pairs` are regular expressions with one group,
    searched in the line's cells joined by spaces, for `credit`, `debit`, `credit_count`, `debit_count`."""

    labels: tuple[str, ...]
    aligned: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    pairs: Mapping[str, str] = field(default_factory=dict)

    def is_totals(self, first_cell: str) -> bool:
        return any(re.match(label, first_cell) for label in self.labels)


@dataclass(frozen=True)
class Layout:
    name: str
    bank: str
    description: str
    required: tuple[str, ...]
    amount: Signed | Split | Marked
    fields: Mapping[str, tuple[str, ...]]
    forbidden: tuple[str, ...] = ()
    totals: Totals | None = None
    # every file of the layout ends with its totals line: a file without one was cut short
    totals_always: bool = True
    trailers: tuple[str, ...] = ()
    currency: str = "CNY"
    # 对手信息 "name account" in one column, split into name and account
    combined_counterparty: bool = False
    # the serial column is unique per account: it alone identifies a line across files
    serial_is_unique: bool = False

    def __post_init__(self) -> None:
        unknown = set(self.fields) - FIELDS
        if unknown:
            raise ValueError(f"layout {self.name}: unknown fields {sorted(unknown)}")
        if "booked_on" not in self.fields:
            raise ValueError(f"layout {self.name}: a layout needs the booked_on column")


FIELDS = frozenset(
    {
        "booked_on",  # the booking date (may carry the time: "2025-01-02 10:15:32")
        "booked_time",
        "value_on",  # the transaction or value date when the layout has it besides the booking date
        "balance",
        "currency",
        "counterparty_name",
        "counterparty_account",
        "counterparty_bank",
        "summary",  # the bank's word for the transaction: 摘要, 交易类型, 交易名称
        "memo",  # the payer's or the bank's free text: 附言, 用途, 客户摘要, 交易场所
        "serial",
        "channel",
        "account_no",  # the account's own number when the rows carry it
    }
)

# lines after the rows that are neither rows nor totals (the parser skips them, and says so)
COMMON_TRAILERS = (
    r"^以上数据",
    r"仅供参考",
    r"^打印(时间|日期|人)",
    r"^说明[:：]",
    r"^温馨提示",
    r"^注[:：]",
)

ICBC_MINGXI = Layout(
    name="icbc_mingxi",
    bank="icbc",
    description="工商银行 明细查询文件下载 (debit v1, v2 and credit card)",
    required=("交易日期", "摘要", "记账金额(收入)", "记账金额(支出)", "记账币种", "余额", "对方户名"),
    amount=Split(credit=("记账金额(收入)",), debit=("记账金额(支出)",)),
    fields={
        "booked_on": ("记账日期", "交易日期"),
        "value_on": ("交易日期",),
        "balance": ("余额",),
        "currency": ("记账币种",),
        "counterparty_name": ("对方户名",),
        "counterparty_account": ("对方账户",),
        "summary": ("摘要",),
        "memo": ("交易详情", "交易场所"),
    },
    totals=Totals(
        labels=(r"^人民币合计", r"^合计", r"^[\u4e00-\u9fff]{1,3}合计"),
        aligned={"credit": ("记账金额(收入)",), "debit": ("记账金额(支出)",)},
    ),
    trailers=COMMON_TRAILERS,
)

CCB_JIAOYIMINGXI = Layout(
    name="ccb_jiaoyimingxi",
    bank="ccb",
    description="建设银行 交易明细 (.xls, personal)",
    required=("记账日", "交易日期", "交易时间", "支出", "收入", "账户余额", "摘要", "对方户名"),
    amount=Split(credit=("收入",), debit=("支出",)),
    fields={
        "booked_on": ("记账日",),
        "value_on": ("交易日期",),
        "booked_time": ("交易时间",),
        "balance": ("账户余额",),
        "currency": ("币种",),
        "counterparty_name": ("对方户名",),
        "counterparty_account": ("对方账号",),
        "summary": ("摘要",),
        "memo": ("交易地点",),
    },
    totals_always=False,  # the personal export has a totals line only in some versions (see the real fixture)
    totals=Totals(labels=(r"^合计",), aligned={"credit": ("收入",), "debit": ("支出",)}),
    trailers=COMMON_TRAILERS,
)

ABC_MINGXI = Layout(
    name="abc_mingxi",
    bank="abc",
    description="农业银行 交易明细 (personal)",
    required=("交易日期", "交易时间", "交易摘要", "交易金额", "本次余额", "对手信息"),
    amount=Signed(("交易金额",)),
    fields={
        "booked_on": ("交易日期",),
        "booked_time": ("交易时间",),
        "balance": ("本次余额",),
        "counterparty_name": ("对手信息",),
        "summary": ("交易摘要",),
        "memo": ("交易附言",),
        "serial": ("日志号",),
        "channel": ("交易渠道",),
    },
    combined_counterparty=True,
    trailers=COMMON_TRAILERS,
)

BOC_MINGXI = Layout(
    name="boc_mingxi",
    bank="boc",
    description="中国银行 交易流水明细单 (personal)",
    required=("记账日期", "记账时间", "币别", "金额", "余额", "交易名称", "对方账户名"),
    amount=Signed(("金额",)),
    fields={
        "booked_on": ("记账日期",),
        "booked_time": ("记账时间",),
        "balance": ("余额",),
        "currency": ("币别",),
        "counterparty_name": ("对方账户名",),
        "counterparty_account": ("对方卡号/账号",),
        "counterparty_bank": ("对方开户行",),
        "summary": ("交易名称",),
        "memo": ("附言",),
        "channel": ("渠道",),
        "account_no": ("借记卡号",),
    },
    trailers=COMMON_TRAILERS,
)

BOCOM_MINGXI = Layout(
    name="bocom_mingxi",
    bank="bocom",
    description="交通银行 交易明细 (personal)",
    required=("交易日期", "交易时间", "交易类型", "借贷", "交易金额", "余额", "对方户名"),
    amount=Marked(("交易金额",), ("借贷",)),
    fields={
        "booked_on": ("交易日期",),
        "booked_time": ("交易时间",),
        "balance": ("余额",),
        "counterparty_name": ("对方户名",),
        "counterparty_account": ("对方账号",),
        "summary": ("交易类型",),
        "memo": ("摘要",),
        "channel": ("交易地点",),
    },
    trailers=COMMON_TRAILERS,
)

CMB_MINGXI = Layout(
    name="cmb_mingxi",
    bank="cmb",
    description="招商银行 交易明细 (personal)",
    required=("记账日期", "货币", "交易金额", "联机余额", "交易摘要", "对手信息"),
    amount=Signed(("交易金额",)),
    fields={
        "booked_on": ("记账日期",),
        "balance": ("联机余额",),
        "currency": ("货币",),
        "counterparty_name": ("对手信息",),
        "summary": ("交易摘要",),
        "memo": ("客户摘要",),
    },
    combined_counterparty=True,
    trailers=COMMON_TRAILERS,
)

# -- the developer's collection accounts (对公), as the sandbox banks write them ---------------------

ICBC_CORPORATE_HEADER = (
    "凭证号",
    "本方账号",
    "对方账号",
    "交易时间",
    "借/贷",
    "借方发生额",
    "贷方发生额",
    "对方行号",
    "摘要",
    "用途",
    "对方单位名称",
    "余额",
    "个性化信息",
    "交易流水号",
)
ICBC_CORPORATE = Layout(
    name="icbc_corporate",
    bank="icbc",
    description="工商银行 企业网上银行 账户明细 (对公, CSV UTF-8)",
    required=("凭证号", "本方账号", "交易时间", "借方发生额", "贷方发生额", "对方单位名称", "交易流水号"),
    amount=Split(credit=("贷方发生额",), debit=("借方发生额",)),
    fields={
        "booked_on": ("交易时间",),
        "balance": ("余额",),
        "counterparty_name": ("对方单位名称",),
        "counterparty_account": ("对方账号",),
        "counterparty_bank": ("对方行号",),
        "summary": ("摘要",),
        "memo": ("用途", "个性化信息"),
        "serial": ("交易流水号",),
        "account_no": ("本方账号",),
    },
    totals=Totals(
        labels=(r"^合计", r"^借方笔数"),
        aligned={"credit": ("贷方发生额",), "debit": ("借方发生额",)},
        pairs={"credit_count": COUNT.format("贷方笔数"), "debit_count": COUNT.format("借方笔数")},
    ),
    trailers=COMMON_TRAILERS,
    serial_is_unique=True,
)

CCB_CORPORATE_HEADER = (
    "交易时间",
    "借方发生额（支取）",
    "贷方发生额（收入）",
    "余额",
    "币种",
    "对方户名",
    "对方账号",
    "对方开户机构",
    "记账日期",
    "摘要",
    "备注",
    "账户明细编号-交易流水号",
    "企业流水号",
    "凭证种类",
    "凭证号",
)
CCB_CORPORATE = Layout(
    name="ccb_corporate",
    bank="ccb",
    description="建设银行 单位客户账户明细 (对公, legacy .xls)",
    required=("交易时间", "借方发生额(支取)", "贷方发生额(收入)", "记账日期", "账户明细编号-交易流水号"),
    amount=Split(credit=("贷方发生额(收入)",), debit=("借方发生额(支取)",)),
    fields={
        "booked_on": ("记账日期",),
        "value_on": ("交易时间",),
        "booked_time": ("交易时间",),
        "balance": ("余额",),
        "currency": ("币种",),
        "counterparty_name": ("对方户名",),
        "counterparty_account": ("对方账号",),
        "counterparty_bank": ("对方开户机构",),
        "summary": ("摘要",),
        "memo": ("备注",),
        "serial": ("账户明细编号-交易流水号",),
    },
    totals=Totals(
        labels=(r"^合计", r"^共\s*\d+\s*笔"),
        aligned={"credit": ("贷方发生额(收入)",), "debit": ("借方发生额(支取)",)},
        pairs={"credit_count": r"贷方\s*(\d+)\s*笔", "debit_count": r"借方\s*(\d+)\s*笔"},
    ),
    trailers=COMMON_TRAILERS,
    serial_is_unique=True,
)

CMB_CORPORATE_HEADER = (
    "交易日",
    "交易时间",
    "起息日",
    "交易类型",
    "借方金额",
    "贷方金额",
    "余额",
    "摘要",
    "流水号",
    "业务名称",
    "用途",
    "业务参考号",
    "收/付方名称",
    "收/付方帐号",
    "收/付方开户行名",
)
CMB_CORPORATE = Layout(
    name="cmb_corporate",
    bank="cmb",
    description="招商银行 企业银行 交易明细 (对公, CSV GBK)",
    required=("交易日", "交易时间", "起息日", "借方金额", "贷方金额", "流水号", "收/付方名称"),
    amount=Split(credit=("贷方金额",), debit=("借方金额",)),
    fields={
        "booked_on": ("交易日",),
        "booked_time": ("交易时间",),
        "value_on": ("起息日",),
        "balance": ("余额",),
        "counterparty_name": ("收/付方名称",),
        "counterparty_account": ("收/付方帐号",),
        "counterparty_bank": ("收/付方开户行名",),
        "summary": ("摘要",),
        "memo": ("用途",),
        "serial": ("流水号",),
        "channel": ("业务名称",),
    },
    totals=Totals(
        labels=(r"^借方笔数", r"^合计"),
        pairs={
            "debit_count": COUNT.format("借方笔数"),
            "debit": AMOUNT.format("借方金额"),
            "credit_count": COUNT.format("贷方笔数"),
            "credit": AMOUNT.format("贷方金额"),
        },
    ),
    trailers=COMMON_TRAILERS,
    serial_is_unique=True,
)

LAYOUTS: tuple[Layout, ...] = (
    ICBC_CORPORATE,
    CCB_CORPORATE,
    CMB_CORPORATE,
    ICBC_MINGXI,
    CCB_JIAOYIMINGXI,
    ABC_MINGXI,
    BOC_MINGXI,
    BOCOM_MINGXI,
    CMB_MINGXI,
)
LAYOUTS_BY_NAME = {layout.name: layout for layout in LAYOUTS}
