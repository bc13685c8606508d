"""Free text from outside (a ledger memo or remark) can hold an ID number, a phone or a card number: it is
stored redacted, what the memo parser reads from it is kept, and the keyed hash stays for matching
(issue 10, item 3)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from estatehub.ledger import tables as ledger_tables
from estatehub.settings import SyncSettings
from estatehub.warehouse.redact import hash_id_number, hash_phone
from tests.support.snapshot import stored_texts
from tests.support.sources import CASES

ID_NUMBER = "11010519491231002X"
PHONE = "13800138000"
CARD = "6222021234567890128"  # Luhn-valid
AT = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)


def test_ledger_memos_and_remarks_are_stored_redacted_and_still_read(warehouse):
    text = f"收3栋1502房款 付款人张三 身份证{ID_NUMBER} 电话{PHONE} 卡号{CARD}"
    for name in ("ledger_vouchers", "ledger_receipts"):
        case = CASES[name]
        case.sync(case.client([case.record(1, AT, text)]), warehouse, settings=SyncSettings())
    for table, column in (
        (ledger_tables.core_voucher_line, "memo"),
        (ledger_tables.core_receipt, "remark"),
        (ledger_tables.stg_fl_receipt, "remark"),
    ):
        with warehouse.engine.connect() as conn:
            stored, units = conn.execute(select(table.c[column], table.c.memo_units)).one()
        assert ID_NUMBER not in stored and PHONE not in stored and CARD not in stored, (table.name, stored)
        assert "110***********002X" in stored and "138****8000" in stored and "6222***********0128" in stored
        assert hash_id_number(warehouse.hasher, ID_NUMBER) in stored, "the keyed hash stays for matching"
        assert hash_phone(warehouse.hasher, PHONE) in stored
        assert units == "3-?-1502", "the room is read from the memo as the clerk wrote it"
    leaks = [(t, c) for t, c, value in stored_texts(warehouse.engine) if ID_NUMBER in value or CARD in value]
    assert leaks == [], "no table keeps the numbers in full, raw payloads included"
