"""Who is who at the banks of the sandbox: the developer's collection accounts, branches, bank rules.

The chart of collection accounts is `sandbox.world.collection`, shared with the ledger's face: one
supervised account (预售资金监管账户) per pre-sale permit at one bank, where every buyer payment and
every loan disbursement of the permit's units lands (`CashFlow.account_no` names it), and one
general account (一般户) per bank. `ACCOUNTS` are the general accounts; the supervised ones of a world
are in its bank world's `accounts` table.
"""

from __future__ import annotations

import hashlib

from connectors.banks.records import BANKS, LOAN_COMMERCIAL, LOAN_FUND
from sandbox.world.collection import GENERAL_ACCOUNTS
from sandbox.world.collection import STATEMENT_BANKS as STATEMENT_BANKS

DEVELOPER_NAME = "深圳市滨江置业有限公司"
LOAN_BANKS = ("icbc", "ccb", "cmb", "hpf")
ACCOUNTS = dict(GENERAL_ACCOUNTS)  # the general account (一般户) of each statement bank
ACCOUNT_BANK = {account: bank for bank, account in ACCOUNTS.items()}
OPENING_BALANCE_FEN = {"icbc": 812_345_678, "ccb": 1_204_500_000, "cmb": 356_789_012}  # general accounts

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


def payer_account(name: str, contract_no: str) -> tuple[str, str]:
    """A payer's card number and bank, stable for the same payer of the same contract."""
    number = _stable_int(f"card:{contract_no}:{name}")
    return f"6217{number % 10**15:015d}", PAYER_BANKS[number % len(PAYER_BANKS)]


def bank_name(code: str) -> str:
    return BANKS[code]
