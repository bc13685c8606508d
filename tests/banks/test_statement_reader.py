"""The statement reader on the sandbox's collection-account layouts and on broken files."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.banks.errors import TotalsMismatch, UnknownLayout
from connectors.banks.records import QuarantineItem, StatementLine
from connectors.banks.statements import StatementReader, file_quarantine
from connectors.banks.statements.cells import BadCell, clean, parse_amount, parse_date, split_counterparty
from sandbox.banks import accounts, files

DAY = date(2025, 3, 3)


def line(seq: int, direction: str, amount_fen: int, balance_fen: int, *, at: str = "10:15:32", **extra) -> dict:
    row = {
        "seq": seq,
        "booked_at": f"{DAY.isoformat()}T{at}",
        "direction": direction,
        "amount_fen": amount_fen,
        "balance_fen": balance_fen,
        "counterparty_name": "张三",
        "counterparty_account": "6217000011112222333",
        "counterparty_bank": "中国银行深圳分行",
        "summary": "转账",
        "memo": "滨江悦府3栋2单元1502首付款",
        "channel": "网上银行",
        "kind": "buyer_payment",
    }
    row.update(extra)
    return row


LINES = [
    line(1, "in", 115_312_000, 500_000_000),
    line(2, "in", 5_000_000, 505_000_000, at="11:00:00", memo="1-2-803定金"),
    line(
        3,
        "out",
        550,
        504_999_450,
        at="11:01:00",
        counterparty_name=None,
        counterparty_account=None,
        counterparty_bank=None,
        summary="手续费",
        memo="汇划手续费",
    ),
    line(
        4,
        "in",
        123_456_789_012,
        123_961_788_462,
        at="15:30:00",
        counterparty_name="中国建设银行股份有限公司深圳市分行个贷放款专户",
    ),
]


def write(tmp_path: Path, bank: str, lines=LINES) -> Path:
    account = accounts.ACCOUNTS[bank]
    path = tmp_path / files.file_name(bank, account, DAY, DAY)
    path.write_bytes(files.write_statement(bank, account, lines, DAY, DAY))
    return path


@pytest.mark.parametrize("bank", ["icbc", "ccb", "cmb"])
def test_collection_account_layouts_read_back_exactly(tmp_path, bank):
    reader = StatementReader(write(tmp_path, bank), bank=bank)
    items = list(reader)
    assert all(isinstance(item, StatementLine) for item in items)
    reader.check_totals()
    assert reader.layout.name == f"{bank}_corporate"
    assert reader.account_no == accounts.ACCOUNTS[bank]
    assert reader.period == (DAY, DAY)
    assert reader.encoding == {"icbc": "utf-8-sig", "ccb": "utf_16_le", "cmb": "gb18030"}[bank]
    assert [i.amount for i in items] == [
        Decimal("1153120.00"),
        Decimal("50000.00"),
        Decimal("5.50"),
        Decimal("1234567890.12"),
    ]
    assert [i.direction for i in items] == ["in", "in", "out", "in"]
    assert [i.balance for i in items] == [Decimal(r["balance_fen"]).scaleb(-2) for r in LINES]
    assert [i.booked_time for i in items] == [time(10, 15, 32), time(11), time(11, 1), time(15, 30)]
    assert [i.serial for i in items] == [files.serial(bank, r) for r in LINES]
    assert items[0].memo == "滨江悦府3栋2单元1502首付款" and items[0].counterparty_name == "张三"
    assert items[2].counterparty_name is None and items[2].summary == "手续费"
    assert reader.totals.credit_count == 3 and reader.totals.debit_count == 1
    assert all(i.booked_on == DAY for i in items)


def test_cmb_file_is_gbk_and_icbc_fields_are_padded(tmp_path):
    cmb = write(tmp_path, "cmb").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        cmb.decode("utf-8")
    assert "招商银行交易明细" in cmb.decode("gbk") and "账\u3000\u3000号" in cmb.decode("gbk")
    icbc = write(tmp_path, "icbc").read_text(encoding="utf-8-sig")
    assert '"1,153,120.00' in icbc and " \t" in icbc and ",-" in icbc
    assert write(tmp_path, "ccb").read_bytes()[:8] == bytes.fromhex("d0cf11e0a1b11ae1")  # BIFF / OLE2


def test_a_file_of_unknown_layout_is_refused_before_any_line(tmp_path):
    path = tmp_path / "mystery.csv"
    path.write_text("某某银行流水\n日期,金额,备注\n20250101,100.00,x\n", encoding="utf-8")
    reader = StatementReader(path)
    with pytest.raises(UnknownLayout) as caught:
        list(reader)
    assert "mystery.csv" in str(caught.value) and caught.value.file_name == "mystery.csv"
    item = file_quarantine("mystery.csv", str(caught.value))
    assert item.entity == "statement_file" and item.file_name == "mystery.csv" and item.line_no is None


def test_a_file_of_another_bank_names_the_bank_it_looks_like(tmp_path):
    with pytest.raises(UnknownLayout, match="--bank ccb"):
        list(StatementReader(write(tmp_path, "ccb"), bank="icbc"))


def test_an_unreadable_row_is_quarantined_with_file_line_and_reason_and_the_rest_loads(tmp_path):
    path = write(tmp_path, "icbc")
    text = path.read_text(encoding="utf-8-sig").replace("2025-03-03 11:00:00", "2025-02-30 11:00:00")
    path.write_text(text, encoding="utf-8-sig")
    reader = StatementReader(path, bank="icbc")
    items = list(reader)
    bad = [item for item in items if isinstance(item, QuarantineItem)]
    assert len(bad) == 1 and len(items) == 4
    assert bad[0].file_name == path.name and bad[0].line_no == 7
    assert "booked_on" in bad[0].reason and "2025-02-30" in bad[0].reason and path.name in bad[0].reason
    assert "2025-02-30" in bad[0].payload
    with pytest.raises(TotalsMismatch, match="1 rows were quarantined") as caught:
        reader.check_totals()
    assert caught.value.difference("credit") == Decimal("-50000.00")
    assert caught.value.difference("credit_count") == -1


def test_bytes_that_are_not_gbk_quarantine_their_line_only(tmp_path):
    path = write(tmp_path, "cmb")
    lines = path.read_bytes().split(b"\r\n")
    lines[5] = lines[5].replace(b"20250303", b"20250303\xff\xfe", 1)
    path.write_bytes(b"\r\n".join(lines))
    items = list(StatementReader(path, bank="cmb"))
    bad = [item for item in items if isinstance(item, QuarantineItem)]
    assert [item.line_no for item in bad] == [6]
    assert "gb18030" in bad[0].reason
    assert sum(isinstance(item, StatementLine) for item in items) == 3


def test_a_totals_line_that_disagrees_names_the_file_and_the_difference(tmp_path):
    path = write(tmp_path, "icbc")
    text = path.read_text(encoding="utf-8-sig").replace("1,235,771,010.12", "1,235,771,000.12")
    path.write_text(text, encoding="utf-8-sig")
    reader = StatementReader(path)
    list(reader)
    with pytest.raises(TotalsMismatch) as caught:
        reader.check_totals()
    assert caught.value.difference("credit") == Decimal("10.00")
    assert path.name in str(caught.value) and "+10.00" in str(caught.value)


def test_check_totals_needs_the_whole_file_first(tmp_path):
    with pytest.raises(RuntimeError):
        StatementReader(write(tmp_path, "icbc")).check_totals()


def test_equal_lines_of_one_day_get_distinct_keys_stable_across_files(tmp_path):
    first = tmp_path / "a" / "abc.csv"
    first.parent.mkdir()
    first.write_text(
        "交易日期,交易时间,交易摘要,交易金额,本次余额,对手信息\n20250303,,手续费,-5.50,100.00,--\n"
        "20250303,,手续费,-5.50,100.00,--\n",
        encoding="utf-8",
    )
    keys = [item.line_key for item in StatementReader(first)]
    assert len(set(keys)) == 2
    second = tmp_path / "b" / "abc-overlap.csv"
    second.parent.mkdir()
    second.write_text(
        "交易日期,交易时间,交易摘要,交易金额,本次余额,对手信息\n20250302,,结息,+1.00,101.00,--\n"
        "20250303,,手续费,-5.50,100.00,--\n20250303,,手续费,-5.50,100.00,--\n",
        encoding="utf-8",
    )
    again = [item.line_key for item in StatementReader(second)][1:]
    assert again == keys


def test_lines_with_serials_keep_their_key_when_balances_shift(tmp_path):
    one = [item.line_key for item in StatementReader(write(tmp_path, "cmb"), bank="cmb")]
    shifted = [dict(row, balance_fen=row["balance_fen"] + 1) for row in LINES]
    two = [item.line_key for item in StatementReader(write(tmp_path, "cmb", shifted), bank="cmb")]
    assert one == two


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234.56", "1234.56"),
        ("+10000.00", "10000.00"),
        ("-2,600.00", "-2600.00"),
        ("67.0", "67.0"),
        ("¥1,000.00", "1000.00"),
        ("0.01", "0.01"),
    ],
)
def test_amounts_as_banks_write_them(text, expected):
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["12万5千", "1.234", "", "abc", "1,2,3.4.5"])
def test_amounts_that_are_not_amounts(text):
    with pytest.raises(BadCell):
        parse_amount(text)


@pytest.mark.parametrize(
    ("text", "day", "at"),
    [
        ("20250101", date(2025, 1, 1), None),
        ("2025-01-02 10:15:32", date(2025, 1, 2), time(10, 15, 32)),
        ("20250103 101532", date(2025, 1, 3), time(10, 15, 32)),
        ("2025/01/04", date(2025, 1, 4), None),
        ("2025年1月5日", date(2025, 1, 5), None),
    ],
)
def test_dates_as_banks_write_them(text, day, at):
    assert parse_date(text) == (day, at)


def test_placeholders_and_padding_are_nothing():
    assert clean("  -  \t") is None and clean("--") is None and clean("-------------------") is None
    assert clean("------------------- 张三") == "张三"
    assert clean("\u3000人民币\t ") == "人民币"
    assert clean("-2,600.00") == "-2,600.00"


def test_counterparty_text_splits_into_name_and_account():
    assert split_counterparty("北京住房公积金管理中心1111111111") == ("北京住房公积金管理中心", "1111111111")
    assert split_counterparty("张三 66666666666666") == ("张三", "66666666666666")
    assert split_counterparty("12341234123412341") == (None, "12341234123412341")
    assert split_counterparty("微信支付北京一卡通") == ("微信支付北京一卡通", None)
