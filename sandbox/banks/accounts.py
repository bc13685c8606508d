"""Who is who at the banks of the sandbox: the developer's collection accounts, branches, bank rules.

The developer holds one collection account (对公 收款账户) at each of the three banks. A building's
buyers pay into its supervised account (`house_bank`, by project and building, as presale funds are
supervised per permit); a commercial loan is disbursed into the developer's account at the lending
bank; a provident-fund loan into the building's account.
The ledger's face of the world books receipts to the same accounts (see `collection_account`).
"""

from __future__ import annotations

import hashlib

from connectors.banks.records import BANKS, LOAN_COMMERCIAL, LOAN_FUND

DEVELOPER_NAME = "深圳市滨江置业有限公司"
STATEMENT_BANKS = ("icbc", "ccb", "cmb")
LOAN_BANKS = ("icbc", "ccb", "cmb", "hpf")
ACCOUNTS = {
    "icbc": "4000021209200123456",
    "ccb": "44250100000800001234",
    "cmb": "755912345610801",
}
ACCOUNT_BANK = {account: bank for bank, account in ACCOUNTS.items()}
OPENING_BALANCE_FEN = {"icbc": 812_345_678, "ccb": 1_204_500_000, "cmb": 356_789_012}

# when a bank pays a loan out: after the purchase contract is filed, or after the mortgage
# (pre-)registration; the fund centre always waits for the registration
DISBURSE_AFTER_FILING = "filing"
DISBURSE_AFTER_REGISTRATION = "registration"
DISBURSEMENT_RULES = {
    "icbc": DISBURSE_AFTER_FILING,
    "ccb": DISBURSE_AFTER_REGISTRATION,
    "cmb": DISBURSE_AFTER_FILING,
    "hpf": DISBURSE_AFTER_REGISTRATION,
}
LOAN_TYPE = {"icbc": LOAN_COMMERCIAL, "ccb": LOAN_COMMERCIAL, "cmb": LOAN_COMMERCIAL, "hpf": LOAN_FUND}
BRANCHES = {
    "icbc": ("中国工商银行深圳南山支行", "中国工商银行深圳福田支行", "中国工商银行深圳科技园支行"),
    "ccb": ("中国建设银行深圳分行营业部", "中国建设银行深圳南山支行", "中国建设银行深圳宝安支行"),
    "cmb": ("招商银行深圳分行营业部", "招商银行深圳科技园支行", "招商银行深圳车公庙支行"),
    "hpf": (
        "深圳市住房公积金管理中心南山管理部",
        "深圳市住房公积金管理中心福田管理部",
        "深圳市住房公积金管理中心罗湖管理部",
    ),
}
# the account a loan disbursement comes from, as the receiving statement names it
LENDER_ACCOUNTS = {
    "icbc": ("中国工商银行股份有限公司深圳分行个人贷款专户", "4000020129000088888"),
    "ccb": ("中国建设银行股份有限公司深圳市分行个贷放款专户", "44201501100059000001"),
    "cmb": ("招商银行股份有限公司深圳分行零售贷款放款户", "755900012310666"),
    "hpf": ("深圳市住房公积金管理中心", "44201501100052500588"),
}
PAYER_BANKS = (
    "中国银行深圳分行",
    "中国农业银行深圳分行",
    "平安银行深圳分行",
    "中国工商银行深圳分行",
    "中国建设银行深圳分行",
    "招商银行深圳分行",
    "交通银行深圳分行",
    "中信银行深圳分行",
)
# how much of a bank's loan records carry the purchase contract number (the rest: buyer ID + address)
CONTRACT_NO_SHOWN = {"icbc": 1.0, "ccb": 0.92, "cmb": 1.0, "hpf": 0.0}


def _stable_int(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def house_bank(house: dict, project_code: str) -> str:
    """The bank of the supervised account (预售资金监管账户) a building's buyers pay into."""
    key = f"project-bank:{project_code}:{house.get('building', '')}"
    return STATEMENT_BANKS[_stable_int(key) % len(STATEMENT_BANKS)]


def collection_account(house: dict, project_code: str, kind: str, loan_bank: str | None = None) -> tuple[str, str]:
    """(bank code, account number) that receives (or, for 退款, pays) a flow of `kind` for a house.

    `kind` is a cash-flow kind of `sandbox.ledger.cash` (定金 首付 分期 一次性 补差 诚意金 按揭 公积金
    退款); `loan_bank` the lending bank's code for 按揭. The ledger books to the same account.
    """
    bank = loan_bank if kind == "按揭" and loan_bank in ACCOUNTS else house_bank(house, project_code)
    return bank, ACCOUNTS[bank]


def payer_account(name: str, contract_no: str) -> tuple[str, str]:
    """A payer's card number and bank, stable for the same payer of the same contract."""
    number = _stable_int(f"card:{contract_no}:{name}")
    return f"6217{number % 10**15:015d}", PAYER_BANKS[number % len(PAYER_BANKS)]


def bank_name(code: str) -> str:
    return BANKS[code]
