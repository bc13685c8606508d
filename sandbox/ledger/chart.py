"""The developer's chart of accounts, bank accounts and the ERP's form ids (Kingdee K/3 Cloud style).

The bank accounts (银行存款 1002) are the collection accounts of `sandbox.world.collection`, the chart
the banks' statements show: 1002.0n the general account (一般户) at bank n, 1002.1n.<permit digits> the
supervised account (监管户) of a permit at bank n. Each ledger account carries its bank account number.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sandbox.world.collection import BANK_NAMES, STATEMENT_BANKS, CollectionAccount, general_account


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


def bank_account(collection: CollectionAccount) -> BankAccount:
    """The ledger's 银行存款 sub-account of a collection account."""
    account = _account(collection.ledger_code, "银行存款", collection.ledger_name)
    return BankAccount(account, BANK_NAMES[collection.bank], collection.account_no)


BANK_ACCOUNTS = tuple(bank_account(general_account(bank)) for bank in STATEMENT_BANKS)  # the general accounts

ADVANCE = _account("2203.01", "预收账款", "预收房款")
CONTRACT_LIABILITY = _account("2204.01", "合同负债", "房款")
SINCERITY = _account("2241.03", "其他应付款", "诚意金")
# fees collected for others (代收代付, sandbox.ledger.fees): other payables until paid over
FEE_PAYABLES = {
    "契税": _account("2241.04", "其他应付款", "代收契税"),
    "维修基金": _account("2241.05", "其他应付款", "代收维修基金"),
    "登记费": _account("2241.06", "其他应付款", "代收登记费"),
}
INTEREST_INCOME = _account("6603.01", "财务费用", "利息收入")
REVENUE = _account("6001", "主营业务收入")
OUTPUT_VAT = _account("2221.01.02", "应交税费", "应交增值税", "销项税额")
OTHER_INCOME = _account("6301", "营业外收入")
BANK_FEES = _account("6603.02", "财务费用", "手续费")

ACCOUNTS = {
    a.number: a
    for a in (
        *(b.account for b in BANK_ACCOUNTS),
        ADVANCE,
        CONTRACT_LIABILITY,
        SINCERITY,
        *FEE_PAYABLES.values(),
        REVENUE,
        OUTPUT_VAT,
        OTHER_INCOME,
        BANK_FEES,
        INTEREST_INCOME,
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
FINAL_TAX_CODE = "5010101000000000000"  # 销售不动产 > 住宅 (the 501 branch of the tax classification codes), 9%
FINAL_TAX_RATE_BP = 900


def advance_account(seed: int, project_code: str) -> Account:
    """预收账款 (2203) or, where the project adopted the new revenue standard, 合同负债 (2204)."""
    return CONTRACT_LIABILITY if random.Random(f"{seed}/ledger/standard/{project_code}").random() < 0.4 else ADVANCE
