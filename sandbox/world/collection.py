"""The one chart of the developer's collection accounts, which the banks' and the ledger's faces share.

Each pre-sale permit (预售许可证) has its supervised account (预售资金监管账户) at one bank: every buyer
payment and every loan disbursement (commercial or provident fund) for a unit of the permit lands
there, and refunds to buyers leave from there (with the bank's approval). Each bank also holds the
developer's general account (一般户) for what is not sale proceeds: releases (拨付) from the supervised
accounts, fees collected for others (维修基金, 契税, 登记费), other payers, bank fees.

Account numbers are derived from the permit number (year, district, sequence), so they are the same
for every face and every run, and distinct for distinct permits. The ledger books each account to a
sub-account of 银行存款 (`ledger_code`) whose bank account number is the statement's.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

STATEMENT_BANKS = ("icbc", "ccb", "cmb")
BANK_NAMES = {"icbc": "工商银行", "ccb": "建设银行", "cmb": "招商银行"}
BRANCH_NAMES = {"icbc": "工商银行深圳南山支行", "ccb": "建设银行深圳分行营业部", "cmb": "招商银行深圳科技园支行"}
GENERAL_ACCOUNTS = {
    "icbc": "4000021209200123456",
    "ccb": "44250100000800001234",
    "cmb": "755912345610801",
}
# a supervised account number: the bank's prefix, then 2 digits of the permit's year, 1 of its
# district, 3 of its sequence and a trailing 1 (the sandbox's own scheme; real numbers are the bank's)
_SUPERVISED_PREFIX = {"icbc": "400002120930", "ccb": "4425010000090", "cmb": "75591234"}
_DISTRICTS = ("南山", "福田", "罗湖", "宝安", "龙华", "龙岗", "光明", "坪山")
_PERMIT = re.compile(r"（(\d{4})）(\D+?)(\d{1,3})号")

GENERAL, SUPERVISED = "general", "supervised"
REFUND_FEE_FEN = 550  # the transfer fee of a refund, charged to the general account of the paying bank
MONTHLY_FEE_FEN = 10_000  # account management fee of a general account, on the month's last day


@dataclass(frozen=True, slots=True)
class CollectionAccount:
    account_no: str
    bank: str  # icbc, ccb, cmb
    kind: str  # supervised, general
    permit_no: str | None
    ledger_code: str  # the ledger's sub-account of 银行存款 (1002)
    ledger_name: str


def _stable_int(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def permit_bank(permit_no: str) -> str:
    """The bank that holds a permit's supervised account."""
    return STATEMENT_BANKS[_stable_int(f"permit-bank:{permit_no}") % len(STATEMENT_BANKS)]


def _permit_digits(permit_no: str) -> str:
    match = _PERMIT.search(permit_no)
    if match is None or match.group(2) not in _DISTRICTS:
        return f"{_stable_int('permit:' + permit_no) % 1_000_000:06d}"  # a permit outside the scheme
    year, district, sequence = match.groups()
    return f"{int(year) % 100:02d}{_DISTRICTS.index(district)}{int(sequence):03d}"


def general_account(bank: str) -> CollectionAccount:
    index = STATEMENT_BANKS.index(bank) + 1
    return CollectionAccount(
        GENERAL_ACCOUNTS[bank], bank, GENERAL, None, f"1002.0{index}", f"{BRANCH_NAMES[bank]}一般户"
    )


def supervised_account(permit_no: str) -> CollectionAccount:
    bank = permit_bank(permit_no)
    digits = _permit_digits(permit_no)
    index = STATEMENT_BANKS.index(bank) + 1
    return CollectionAccount(
        f"{_SUPERVISED_PREFIX[bank]}{digits}1",
        bank,
        SUPERVISED,
        permit_no,
        f"1002.1{index}.{digits}",
        f"{BRANCH_NAMES[bank]}监管户{digits}",
    )


def house_permit(house: dict) -> str:
    """The permit of a unit as the contract document names it (a unit without one: its building)."""
    return house.get("permit_no") or f"无证{house.get('building', '')}"
