"""An ID number, a phone or a card number a payer writes in a statement's memo (or the bank puts in a
counterparty name) is stored redacted, in every column and every table, raw quarantine payloads
included; the room the memo names is still read from what is stored, and the keyed hash stays for
matching (issue 10, item 3, the bank side)."""

from __future__ import annotations

from sqlalchemy import select

from estatehub.banks.statements import load_statement_file
from estatehub.banks.tables import core_bank_statement_line
from estatehub.memo import parse_memo
from estatehub.warehouse.redact import hash_id_number, hash_phone
from tests.hostile.bank_support import line, statement_bytes
from tests.support.snapshot import stored_texts

ID_NUMBER = "11010519491231002X"
PHONE = "13800138000"
CARD = "6222021234567890128"  # Luhn-valid
CARD_GROUPED = "6222 0212 3456 7890 128"
MEMO = f"收3栋2单元1502房款 付款人身份证{ID_NUMBER} 电话{PHONE} 卡号{CARD_GROUPED}"
FULL = (ID_NUMBER, PHONE, CARD, CARD_GROUPED)


def _leaks(warehouse) -> list[tuple[str, str]]:
    return [(table, column) for table, column, value in stored_texts(warehouse.engine) if any(n in value for n in FULL)]


def test_statement_memos_and_names_are_stored_redacted_and_still_read(warehouse, tmp_path):
    path = tmp_path / "icbc.csv"
    lines = [line(1, 100_000, memo=MEMO, counterparty_name=f"张三{PHONE}"), line(2, 200_000, summary=f"卡{CARD}")]
    path.write_bytes(statement_bytes("icbc", lines))
    assert load_statement_file(warehouse, path, bank="icbc").status == "loaded"
    with warehouse.engine.connect() as conn:
        stored = conn.execute(
            select(core_bank_statement_line.c.memo, core_bank_statement_line.c.counterparty_name).order_by(
                core_bank_statement_line.c.line_no
            )
        ).all()
    memo, name = stored[0]
    assert "110***********002X" in memo and "138****8000" in memo and "6222***********0128" in memo
    assert hash_id_number(warehouse.hasher, ID_NUMBER) in memo, "the keyed hash stays for matching"
    assert hash_phone(warehouse.hasher, PHONE) in name
    assert [u.key for u in parse_memo(memo).units] == [u.key for u in parse_memo(MEMO).units] == [("3", "2", "1502")]
    assert _leaks(warehouse) == []


def test_a_quarantined_statement_row_keeps_no_number_in_full(warehouse, tmp_path):
    path = tmp_path / "cmb_debit.csv"  # a layout without a totals line: the good row loads, the bad one waits
    path.write_text(
        "记账日期,货币,交易金额,联机余额,交易摘要,对手信息,客户摘要\n"
        f"2024-01-01,CNY,1234.00,1271.66,转账,张三,{MEMO}\n"
        f"2024-01-02,CNY,NOT-AN-AMOUNT,271.66,转账,李四,{MEMO}\n",
        encoding="utf-8",
    )
    result = load_statement_file(warehouse, path, bank="cmb")
    assert result.status == "loaded" and result.quarantined_rows == 1
    assert _leaks(warehouse) == []


def test_lines_stored_in_clear_before_are_redacted_by_the_next_load(warehouse, tmp_path):
    from sqlalchemy import delete, update

    from estatehub.banks.statements.lines import FREE_TEXT_REDACTED
    from estatehub.warehouse.tables import etl_meta

    first = tmp_path / "first.csv"
    first.write_bytes(statement_bytes("icbc", [line(1, 100_000, memo=MEMO)]))
    assert load_statement_file(warehouse, first, bank="icbc").status == "loaded"
    with warehouse.begin() as conn:  # as a warehouse loaded before this release holds it
        conn.execute(update(core_bank_statement_line).values(memo=MEMO))
        conn.execute(delete(etl_meta).where(etl_meta.c.meta_key == FREE_TEXT_REDACTED))
    assert _leaks(warehouse)
    second = tmp_path / "second.csv"
    second.write_bytes(statement_bytes("icbc", [line(5, 300_000)]))
    assert load_statement_file(warehouse, second, bank="icbc").status == "loaded"
    assert _leaks(warehouse) == []
