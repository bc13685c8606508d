"""A payer's bank account or card number on a statement line is stored masked, with its keyed hash."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, func, select, update

from connectors.identity import mask_account, normalize_account
from estatehub.banks.statements import ACCOUNT, LINE_KEY, LINE_KEYS_KEYED, load_statement_file
from estatehub.banks.tables import core_bank_statement_line
from estatehub.warehouse.migrations import upgrade
from estatehub.warehouse.tables import etl_meta
from tests.banks.test_real_statements import FIXTURES, read


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("6217000011112222333", "6217***********2333"),
        ("6217 0000 1111 2222", "6217********2222"),
        ("1111111111", "******1111"),
        ("6226******5669", "6226******5669"),  # masked by the bank already: kept as it is
        ("1234", "****"),
    ],
)
def test_an_account_number_keeps_only_its_first_and_last_four(number, masked):
    assert mask_account(number) == masked


def test_statement_lines_keep_the_counterparty_account_masked_with_its_keyed_hash(warehouse):
    _, lines = read("bocom_debit.csv")
    full_numbers = {line.counterparty_account for line in lines if line.counterparty_account}
    assert "6666666666666666" in full_numbers

    result = load_statement_file(warehouse, FIXTURES / "bocom_debit.csv", bank="bocom")
    assert result.status == "loaded"
    table = core_bank_statement_line
    with warehouse.engine.connect() as conn:
        stored = conn.execute(select(table.c.counterparty_account, table.c.counterparty_account_hash)).all()
    accounts = [row for row in stored if row.counterparty_account]
    assert len(accounts) == sum(1 for line in lines if line.counterparty_account)
    for account, digest in accounts:
        assert account not in full_numbers and "*" in account
        assert re.fullmatch(r"[0-9a-f]{64}", digest)
    # the same payer on two lines: one hash, the keyed hash of the full number
    expected = warehouse.hasher.hash(ACCOUNT, normalize_account("1323132313211331313"))
    assert sum(1 for _, digest in accounts if digest == expected) == 2


def test_the_migration_masks_the_numbers_an_older_warehouse_stored(engine):
    upgrade(engine, "0004_banks")
    table = core_bank_statement_line
    row = {
        "bank": "icbc",
        "account_no": "6222000000001234",
        "booked_on": date(2026, 3, 1),
        "direction": "in",
        "amount_fen": 100,
        "currency": "CNY",
        "layout": "icbc_mingxi",
        "file_id": 1,
        "line_no": 1,
        "first_file_id": 1,
        "is_current": True,
        "loaded_at": datetime(2026, 3, 1, tzinfo=UTC),
    }
    with engine.begin() as conn:  # the rows name only the columns of 0004_banks
        conn.execute(
            table.insert(),
            [
                {**row, "line_key": "a", "counterparty_account": "6217000011112222333"},
                {**row, "line_key": "b", "counterparty_account": None},
                {**row, "line_key": "c", "counterparty_account": "  "},
            ],
        )
    upgrade(engine)
    with engine.connect() as conn:
        stored = dict(conn.execute(select(table.c.line_key, table.c.counterparty_account)).all())
        hashes = set(conn.execute(select(table.c.counterparty_account_hash)).scalars())
    assert stored == {"a": "6217***********2333", "b": None, "c": None}
    assert hashes == {None}


def test_a_quarantined_statement_row_keeps_no_account_number_id_number_or_phone_in_full(warehouse):
    from connectors.banks.records import QuarantineItem
    from estatehub.banks.statements.quarantine import quarantine_items

    row = (
        "2025-02-30,张三6217000011112222333,6217 0000 1111 2222,6217-0000-1111-2222,ACC44201234567890123456,"
        "13812345678,110101199003074518,20250303,1,234.00"
    )
    reason = "amount: expected a number, got '44201234567890123456'"
    item = QuarantineItem("bank_icbc", "statement_line", None, reason, row, "f.csv", 7)
    (stored,) = quarantine_items(warehouse.hasher, "icbc", [item], "run-1")
    text = str(stored["payload"])
    for full in (
        "6217000011112222333",
        "6217 0000 1111 2222",
        "6217-0000-1111-2222",
        "44201234567890123456",
        "13812345678",
        "110101199003074518",
    ):
        assert full not in text
        assert full not in stored["reason"]
    assert "张三6217***********2333" in text and "6217********2222" in text and "ACC4420" in text
    assert "2025-02-30" in text and "20250303" in text and "1,234.00" in text  # the rest as received
    assert "4420************3456" in stored["reason"]


def test_line_keys_are_stored_keyed_and_plain_keys_of_an_older_warehouse_are_rekeyed(warehouse, tmp_path):
    _, lines = read("bocom_debit.csv")
    plain_keys = {line.line_key for line in lines}
    load_statement_file(warehouse, FIXTURES / "bocom_debit.csv", bank="bocom")
    table = core_bank_statement_line
    with warehouse.engine.connect() as conn:
        stored = set(conn.execute(select(table.c.line_key)).scalars())
    assert stored == {warehouse.hasher.hash(LINE_KEY, key) for key in plain_keys}

    # a warehouse of before 0006 kept the reader's plain keys
    with warehouse.begin() as conn:
        for key in plain_keys:
            keyed = warehouse.hasher.hash(LINE_KEY, key)
            conn.execute(update(table).where(table.c.line_key == keyed).values(line_key=key))
        conn.execute(delete(etl_meta).where(etl_meta.c.meta_key == LINE_KEYS_KEYED))

    # the same lines again, in a corrected file (other bytes): the lines are found under their keys
    corrected = tmp_path / "bocom_debit_v2.csv"
    corrected.write_bytes((FIXTURES / "bocom_debit.csv").read_bytes() + b"\n")
    result = load_statement_file(warehouse, corrected, bank="bocom")
    assert result.status == "loaded", result.reason
    with warehouse.engine.connect() as conn:
        keys = list(conn.execute(select(table.c.line_key)).scalars())
        flag = conn.execute(select(func.count()).where(etl_meta.c.meta_key == LINE_KEYS_KEYED)).scalar_one()
    assert sorted(keys) == sorted(stored), "no line twice, every key keyed"
    assert flag == 1
