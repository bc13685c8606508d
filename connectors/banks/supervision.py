"""A bank's collection accounts and supervision records (docs/bank_accounts_api.md), parsed.

Every bank of the sandbox answers the same JSON shape inside its own envelope; a record that does not
parse becomes a `QuarantineItem` with every reason, never an exception that ends the listing.
"""

from __future__ import annotations

from typing import Any

from connectors.banks.parsing import LoanReader
from connectors.banks.records import (
    ACCOUNT_SUPERVISED,
    ACCOUNT_TYPES,
    RECORD_TYPES,
    CollectionAccount,
    QuarantineItem,
    SupervisionRecord,
)


def _reader(bank: str, record: Any) -> tuple[LoanReader, dict[str, Any]]:
    payload = record if isinstance(record, dict) else {"record": record}
    return LoanReader(bank, payload), payload


def _quarantine(bank: str, entity: str, key: str | None, reader: LoanReader) -> QuarantineItem:
    return QuarantineItem(
        source=f"bank_{bank}", entity=entity, key=key, reason="; ".join(reader.problems), payload=reader.payload
    )


def parse_account(bank: str, record: Any) -> CollectionAccount | QuarantineItem:
    reader, payload = _reader(bank, record)
    get = payload.get
    number = reader.text("account_no", get("account_no"))
    kind = ACCOUNT_TYPES.get(get("account_type"))
    if kind is None:
        reader.problem(f"account_type: expected 监管户 or 一般户, got {get('account_type')!r}")
    permit = reader.text("permit_no", get("permit_no"), required=kind == ACCOUNT_SUPERVISED)
    key = get("key_supervision_amount")
    amount = reader.yuan("key_supervision_amount", key) if key is not None else None
    if kind == ACCOUNT_SUPERVISED and amount is None:
        reader.problem("key_supervision_amount: expected the key-supervision amount of a supervised account")
    if reader.problems or number is None or kind is None:
        return _quarantine(bank, "account", number, reader)
    return CollectionAccount(
        bank=bank,
        account_no=number,
        account_type=kind,
        account_name=reader.text("account_name", get("account_name"), required=False),
        permit_no=permit,
        project_name=reader.text("project_name", get("project_name"), required=False),
        building=reader.text("building", get("building"), required=False),
        key_supervision_amount=amount,
        payload=payload,
    )


def parse_supervision(bank: str, record: Any) -> SupervisionRecord | QuarantineItem:
    reader, payload = _reader(bank, record)
    get = payload.get
    number = reader.text("record_no", get("record_no"))
    kind = RECORD_TYPES.get(get("record_type"))
    if kind is None:
        reader.problem(f"record_type: expected 退款审批 or 监管资金拨付, got {get('record_type')!r}")
    account = reader.text("account_no", get("account_no"))
    amount = reader.yuan("amount", get("amount"))
    if amount is None and not reader.problems:
        reader.problem("amount: expected an amount, got null")
    approved_at = reader.moment("approved_at", get("approved_at"))

    def optional_yuan(name: str):  # noqa: ANN202 - local reader
        value = get(name)
        return reader.yuan(name, value) if value is not None else None

    allowed, retained = optional_yuan("allowed_amount"), optional_yuan("retained_amount")
    if reader.problems or number is None or kind is None or account is None or amount is None or approved_at is None:
        return _quarantine(bank, "supervision", number, reader)
    return SupervisionRecord(
        bank=bank,
        record_no=number,
        record_type=kind,
        account_no=account,
        counter_account_no=reader.text("counter_account_no", get("counter_account_no"), required=False),
        permit_no=reader.text("permit_no", get("permit_no"), required=False),
        contract_no=reader.text("contract_no", get("contract_no"), required=False),
        milestone=reader.text("milestone", get("milestone"), required=False),
        amount=amount,
        allowed_amount=allowed,
        retained_amount=retained,
        approved_at=approved_at,
        payload=payload,
    )
