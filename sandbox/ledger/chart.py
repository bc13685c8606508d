"""The developer's chart of accounts, bank accounts and the ERP's form ids (Kingdee K/3 Cloud style)."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Account:
    number: str
    name: str
    full_name: str


@dataclass(frozen=True, slots=True)
class BankAccount:
    account: Account
    bank: str  # 建设银行 …, as the trading network names the lending bank
    account_no: str  # the bank account number (fake: starts 99)


def _account(number: str, *names: str) -> Account:
    return Account(number, names[-1], "_".join(names))


BANK_ACCOUNTS = (
    BankAccount(_account("1002.01", "银行存款", "工商银行深圳南山支行"), "工商银行", "9940020209000012345"),
    BankAccount(_account("1002.02", "银行存款", "建设银行深圳福田支行"), "建设银行", "99250100003409876543"),
    BankAccount(_account("1002.03", "银行存款", "招商银行深圳分行营业部"), "招商银行", "995902112310801"),
    BankAccount(_account("1002.04", "银行存款", "平安银行深圳后海支行"), "平安银行", "99012345678901"),
    BankAccount(_account("1002.05", "银行存款", "中国银行深圳罗湖支行"), "中国银行", "997465012345"),
)
BANK_BY_NAME = {account.bank: account for account in BANK_ACCOUNTS}
FUND_ACCOUNT = BANK_BY_NAME["建设银行"]  # the provident-fund centre disburses into the 建行 account

ADVANCE = _account("2203.01", "预收账款", "预收房款")
CONTRACT_LIABILITY = _account("2204.01", "合同负债", "房款")
SINCERITY = _account("2241.03", "其他应付款", "诚意金")
REVENUE = _account("6001", "主营业务收入")
OTHER_INCOME = _account("6301", "营业外收入")
BANK_FEES = _account("6603.02", "财务费用", "手续费")

ACCOUNTS = {
    a.number: a
    for a in (
        *(b.account for b in BANK_ACCOUNTS),
        ADVANCE,
        CONTRACT_LIABILITY,
        SINCERITY,
        REVENUE,
        OTHER_INCOME,
        BANK_FEES,
    )
}

# Form ids of the ERP (K/3 Cloud names)
VOUCHER = "GL_VOUCHER"
RECEIPT = "AR_RECEIVEBILL"
REFUND = "AR_REFUNDBILL"
INVOICE = "IV_SALESOC"
FORMS = (VOUCHER, RECEIPT, REFUND, INVOICE)

# invoice types
RECEIPT_SLIP = "收据"
PRESALE_INVOICE = "预收款发票"
FINAL_INVOICE = "增值税普通发票"
PRESALE_TAX_CODE = "602"  # 销售自行开发的房地产项目预收款: 不征税
FINAL_TAX_CODE = "3010303"  # 销售不动产 (住宅), 9%
FINAL_TAX_RATE_BP = 900


def advance_account(seed: int, project_code: str) -> Account:
    """预收账款 (2203) or, where the project adopted the new revenue standard, 合同负债 (2204)."""
    return CONTRACT_LIABILITY if random.Random(f"{seed}/ledger/standard/{project_code}").random() < 0.4 else ADVANCE


def buyer_account(rng: random.Random) -> BankAccount:
    """The collection account a buyer pays into (most pay into the two main accounts)."""
    return rng.choices(BANK_ACCOUNTS, weights=(30, 30, 20, 12, 8))[0]


def loan_account(bank: str | None) -> BankAccount:
    """Where a lending bank (or the provident-fund centre) disburses."""
    return BANK_BY_NAME.get(bank or "", FUND_ACCOUNT)
