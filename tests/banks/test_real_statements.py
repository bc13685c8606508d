# ruff: noqa: E501 - the expected rows are a table, one row a line
"""Every real export in tests/banks/fixtures/real_statements, row by row.

The expected values below were written down by reading the files (see the fixtures' README and
NOTICE): date, time, direction, amount, balance, counterparty, memo fields and serial of each row;
preambles, blank lines, totals lines and disclaimers are not rows. The ICBC exports carry totals lines
whose figures the publisher anonymised (1,234.56 / 9,876.54): the parser reads every row and then
reports the mismatch, naming the file and the difference.
"""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.banks.errors import TotalsMismatch
from connectors.banks.records import StatementLine
from connectors.banks.statements import StatementReader

FIXTURES = Path(__file__).parent / "fixtures" / "real_statements"
IN, OUT = "in", "out"


def D(text: str | None) -> Decimal | None:  # noqa: N802 - reads like the numbers in the files
    return None if text is None else Decimal(text)


# (line, booked_on, time, direction, amount, balance, counterparty name, counterparty account, summary, memo)
ABC = [
    (2, "2024-01-01", "12:34:56", IN, "10000.00", "11000.00", "哈哈", None, "转存", "转账"),
    (3, "2024-01-02", "13:23:24", OUT, "10.00", "11000.00", "微信支付北京一卡通", None, "财付通",
     "UA01234123412341234微信支付-北京一卡通"),
    (4, "2024-01-03", None, OUT, "12345.89", "1943.12", None, "12341234123412341", "正常还款", None),
    (5, "2024-01-04", None, IN, "0.01", "123.35", None, None, "结息", "个人活期结息"),
    (6, "2024-01-04", None, IN, "0.00", "123.35", None, None, "利息税", "个人活期结息"),
]  # fmt: skip
ABC_SERIALS = ["369396693", "369333999", "111222333", "0000000000", "0000000000"]
ABC_CHANNELS = ["超级网银", "电子商务", None, None, None]

BOC = [
    (3, "2025-08-22", "17:57:17", OUT, "71.89", "3240.28", "张三", "6226******5669", "无卡支付", None),
    (4, "2025-08-22", "12:24:20", OUT, "326.00", "3312.17", "支付宝-李四", "Z200******010N", "网上快捷支付", "支付宝-李四"),
    (5, "2025-08-22", "12:23:04", IN, "50.00", "3638.17", "支付宝-李四", "8000******1303", "网上快捷退款", "支付宝-李四"),
    (6, "2025-08-22", "12:22:50", OUT, "50.00", "3588.17", "支付宝-李四", "Z200******010N", "网上快捷支付", "支付宝-李四"),
    (7, "2025-08-19", "10:52:29", OUT, "60.00", "3638.17", "支付宝-郑六", "Z200******010N", "网上快捷支付", "支付宝-郑六"),
    (8, "2025-08-14", "13:43:29", OUT, "206.80", "3698.17", "张三", "6222******4664", "无卡支付", None),
    (9, "2025-08-14", "13:43:07", OUT, "68.14", "3904.97", "张三", "6225******4294", "无卡支付", None),
    (10, "2025-08-12", "16:49:29", OUT, "2600.00", "3973.11", "上海十企业管理顾问有限公司", "3101******6787",
     "跨行转账", "数据有限公司"),
    (11, "2025-08-09", "18:35:45", OUT, "13.50", "6573.11", "支付宝", "Z200******010N", "网上快捷支付", "支付宝"),
    (12, "2025-08-07", "08:07:59", OUT, "15.48", "6586.61", "支付宝-李一", "4888******N", "网上快捷支付", "支付宝-李一"),
    (13, "2025-08-06", "19:06:14", OUT, "16.00", "6602.09", "支付宝-朱二慈", "4888******N", "网上快捷支付",
     "支付宝-朱二慈"),
    (14, "2025-08-05", "16:00:44", IN, "5771.00", "6618.09", "美金数据有限公司", "4520******1924", "工资", None),
    (15, "2025-08-04", "16:11:00", OUT, "2769.59", "847.09", "张三", "6226******5669", "无卡支付", None),
    (16, "2025-08-04", "16:10:21", IN, "3000.00", "3616.68", "支付宝-张三", "2088******0156", "网上快捷提现",
     "支付宝-张三-张三支付宝余额提现-张三"),
    (17, "2025-08-03", "16:46:40", OUT, "196.90", "616.68", "支付宝-朱十琦", "Z200******010N", "网上快捷支付",
     "支付宝-朱十琦"),
    (18, "2025-08-01", "08:57:22", OUT, "3000.00", "813.58", "张林", "6205******2260", "无卡支付", None),
    (19, "2025-08-01", "08:57:00", IN, "1000.00", "3813.58", "张三", "6222******0258", "银联入账", "转账"),
]  # fmt: skip

BOCOM = [
    (2, "2025-01-01", "00:00:00", IN, "1.23", "1334.63", "应付个人活期储蓄存款利息", "1323132313211331313", "存款利息",
     None),
    (3, "2024-02-02", "13:15:12", OUT, "3.21", "2334.62", "哈哈", "6666666666666666", "信用卡转账还款", None),
    (4, "2024-03-03", "09:20:43", IN, "0.02", "45.67", "应付个人活期储蓄存款利息", "1323132313211331313", "存款利息",
     None),
    (5, "2024-04-04", "11:46:44", IN, "10.00", "184.69", "哈哈", "6666666666666666", "其他交易",
     "银联入账(哈哈/其它)转账"),
    (6, "2024-05-05", "12:48:15", OUT, "10.00", "99.66", "网上国网", "555551312313213123", "异地跨行消费", None),
    (7, "2024-06-06", "11:30:54", OUT, "100.79", "3154.93", "京东肯特瑞基金销售有限公司", "11111111111111", "网上支付",
     "网上支付 基金理财产品申购 订单编号20250123123213213131321313131 肯特瑞小金库网银平台 "
     "交易流水号20250123123213213131321313131"),
]  # fmt: skip

CMB = [
    (2, "2024-01-01", None, IN, "1234.00", "1271.66", "北京住房公积金管理中心", "1111111111", "代发住房公积金",
     "01月01日约定提取"),
    (3, "2024-01-01", None, OUT, "1000.00", "271.66", "张三", "66666666666666", "转账汇款", "转账"),
    (4, "2024-01-27", None, OUT, "3.00", "81.22", "国网电力有限公司", "99999999999999", "一网通支付", "供电"),
    (5, "2024-01-20", None, OUT, "1000.00", "123.45", None, None, "银联ATM取款", "银联 ATM 取款，中国银行"),
    (6, "2024-01-23", None, OUT, "10.14", "1218.24", "抖音电商商家", "888888888", "快捷支付", "抖音支付-抖音电商商家"),
]  # fmt: skip

CCB = [
    (7, "2025-01-01", "18:53:19", OUT, "67.00", "2176.91", "中***融科技有限公司", "20883313166*****0156", "消费",
     "支付宝-支付宝外部商户-中移动金融科技有限公司"),
    (8, "2025-01-02", "19:12:59", OUT, "16.78", "2160.13", "**微超", "2088131*****0121", "消费",
     "支付宝-支付宝外部商户-便民微超"),
    (9, "2025-01-02", "21:43:48", OUT, "20.00", "2140.13", "高***技术有限公司", "20880216448*****0156", "消费",
     "支付宝-支付宝外部商户-高德打车"),
    (10, "2025-01-05", "17:12:28", OUT, "515.02", "1579.11", "中***网络有限公司", "802080*****0015", "无卡自助交易",
     "中国铁路网络有限公司（云闪付APP）"),
    (11, "2025-01-06", "09:36:05", OUT, "18.06", "1561.05", "高***技术有限公司", "20880216448*****0156", "消费",
     "支付宝-支付宝外部商户-高德打车"),
    (12, "2025-01-06", "12:03:39", OUT, "66.40", "1494.65", "**微超", "2088131*****0121", "消费",
     "支付宝-支付宝-消费-便民微超"),
]  # fmt: skip

ICBC_CREDIT = [
    (8, "2023-04-22", None, OUT, "0.01", "-6086.11", None, None, "银联在线支付", "XX旗舰店"),
    (9, "2023-05-05", None, OUT, "18.00", "-3728.62", None, None, "消费", "财付通-拼多多平台商户"),
    (10, "2023-05-05", None, OUT, "26.00", "-3710.62", None, None, "消费", "支付宝-金拱门(中国)有限公司"),
    (11, "2023-05-04", None, OUT, "12.35", "-3684.62", None, None, "ETC", "广东联合电子收费股份"),
    (12, "2023-05-02", None, OUT, "17.32", "-3648.27", None, None, "消费", "支付宝-北京百度网讯科技有限公司"),
    (13, "2023-04-25", None, IN, "4621.01", "-1971.63", None, None, "人民币自动转帐还款", "XX分行银行卡中心"),
    (14, "2023-04-22", None, OUT, "238.00", "-6324.11", None, None, "消费", "财付通-美团平台商户"),
    (15, "2023-03-20", None, OUT, "22.00", "-16064.73", None, None, "消费", "财付通-餐馆"),
    (16, "2023-03-20", None, OUT, "29.45", "-16042.73", None, None, "********************", "广东联合电子收费股份"),
]  # fmt: skip


def _icbc_debit(account: str | None) -> list[tuple]:
    # the balances are masked (xx,yyyy.zz): no balance
    return [
        (8, "2023-05-02", None, OUT, "13.40", None, "深圳市财付通支付科技有限公司", account, "消费", "广东三元麦当劳食品有"),
        (9, "2023-04-25", None, OUT, "1234.56", None, "张三", account, "自动还款", "广东XX分行银行卡中心"),
        (10, "2023-04-22", None, IN, "1234.56", None, "李四", account, "他行汇入", None),
        (11, "2023-04-20", None, OUT, "1234.56", None, "银联无卡支付业务((特约)掌上生活还款)", account, "银联消费", None),
        (12, "2023-04-14", None, IN, "1234.56", None, "ABC公司", account, "工资", None),
        (13, "2023-04-14", None, OUT, "500.00", None, "王五", account, "网转", "手机银行"),
        (14, "2023-02-28", None, IN, "341.58", None, "支付宝（中国）网络技术有限公司", account, "蚂蚁基金赎回到银行", "支付宝"),
        (15, "2023-02-20", None, OUT, "1234.56", None, "张三", account, "跨行汇款", "手机银行"),
        (16, "2023-02-10", None, IN, "30.00", None, "总行信用卡合伙人", account, "合伙人返现", None),
        (17, "2023-02-09", None, OUT, "24.00", None, "深圳市财付通支付科技有限公司", account, "消费", "财付通-群收款"),
        (18, "2023-02-08", None, IN, "1.04", None, "深圳市财付通支付科技有限公司", account, "退款", "财付通-微信红包"),
    ]  # fmt: skip


EXPECTED = {
    "abc_debit.csv": ("abc_mingxi", "abc", None, ABC),
    "boc_debit.csv": ("boc_mingxi", "boc", "3167", BOC),
    "bocom_debit.csv": ("bocom_mingxi", "bocom", None, BOCOM),
    "cmb_debit.csv": ("cmb_mingxi", "cmb", None, CMB),
    "ccb_jiaoyimingxi.xls": ("ccb_jiaoyimingxi", "ccb", "xxxxx*********xxxx", CCB),
    "icbc_credit_mingxi.csv": ("icbc_mingxi", "icbc", "1234****5678", ICBC_CREDIT),
    "icbc_debit_v1_mingxi.csv": ("icbc_mingxi", "icbc", "1234****9876", _icbc_debit(None)),
    "icbc_debit_v2_mingxi.csv": ("icbc_mingxi", "icbc", "1234****9876", _icbc_debit("1234****9876")),
}
# (rows' credits, totals' credits, rows' debits, totals' debits, totals line) of the anonymised ICBC files
ICBC_TOTALS = {
    "icbc_credit_mingxi.csv": ("4621.01", "1234.56", "363.13", "6543.21", 18),
    "icbc_debit_v1_mingxi.csv": ("2841.74", "1234.56", "4241.08", "9876.54", 20),
    "icbc_debit_v2_mingxi.csv": ("2841.74", "1234.56", "4241.08", "9876.54", 20),
}


def read(name: str) -> tuple[StatementReader, list[StatementLine]]:
    reader = StatementReader(FIXTURES / name)
    items = list(reader)
    lines = [item for item in items if isinstance(item, StatementLine)]
    assert len(lines) == len(items), f"{name}: quarantined {[i for i in items if i not in lines]}"
    return reader, lines


def test_every_real_export_has_an_expectation():
    files = {path.name for path in FIXTURES.iterdir() if path.suffix in (".csv", ".xls")}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_export_is_read_row_by_row(name):
    layout, bank, account, rows = EXPECTED[name]
    reader, lines = read(name)
    assert reader.layout is not None and reader.layout.name == layout
    assert [line.line_no for line in lines] == [row[0] for row in rows]
    for line, (_, booked, at, direction, amount, balance, cp_name, cp_account, summary, memo) in zip(
        lines, rows, strict=True
    ):
        where = f"{name} line {line.line_no}"
        assert line.bank == bank, where
        assert line.booked_on == date.fromisoformat(booked), where
        assert line.booked_time == (time.fromisoformat(at) if at else None), where
        assert line.direction == direction, where
        assert line.amount == Decimal(amount) and isinstance(line.amount, Decimal), where
        assert line.balance == D(balance), where
        assert line.counterparty_name == cp_name, where
        assert line.counterparty_account == cp_account, where
        assert line.summary == summary, where
        assert line.memo == memo, where
        assert line.currency == "CNY", where
        assert line.account_no == account, where


def test_abc_export_keeps_the_log_numbers_and_channels():
    _, lines = read("abc_debit.csv")
    assert [line.serial for line in lines] == ABC_SERIALS
    assert [line.channel for line in lines] == ABC_CHANNELS


def test_boc_export_reads_the_counterparty_bank_and_drops_dash_placeholders():
    _, lines = read("boc_debit.csv")
    by_line = {line.line_no: line for line in lines}
    assert by_line[10].counterparty_bank == "浙江泰隆商业银行"
    assert by_line[14].counterparty_bank == "中国银行上海市十厦支行"
    assert by_line[3].counterparty_bank is None  # "-------------------"
    assert by_line[3].memo is None  # "----------"
    assert by_line[3].channel == "卡组织线上/无卡交易"


def test_ccb_xls_reads_preamble_period_and_skips_the_disclaimer():
    reader, lines = read("ccb_jiaoyimingxi.xls")
    assert reader.kind == "xls"
    assert reader.header_line == 6
    assert reader.period == (date(2025, 1, 1), date(2025, 6, 20))  # from the sheet name
    assert reader.trailer_lines == 1 and reader.totals is None
    assert all(line.value_on == line.booked_on for line in lines)
    reader.check_totals()  # no totals line: nothing to check


@pytest.mark.parametrize("name", sorted(ICBC_TOTALS))
def test_icbc_totals_line_is_recognised_and_its_mismatch_names_file_and_difference(name):
    rows_in, total_in, rows_out, total_out, totals_line = ICBC_TOTALS[name]
    reader, lines = read(name)
    assert reader.totals is not None and reader.totals.line_no == totals_line
    assert reader.totals.credit_total == Decimal(total_in) and reader.totals.debit_total == Decimal(total_out)
    assert sum(line.amount for line in lines if line.direction == IN) == Decimal(rows_in)
    with pytest.raises(TotalsMismatch) as caught:
        reader.check_totals()
    error = caught.value
    assert error.file_name == name and error.totals_line == totals_line
    assert error.difference("credit") == Decimal(rows_in) - Decimal(total_in)
    assert error.difference("debit") == Decimal(rows_out) - Decimal(total_out)
    text = str(error)
    assert name in text
    assert f"{Decimal(rows_in) - Decimal(total_in):+,.2f}" in text
    assert f"{Decimal(rows_out) - Decimal(total_out):+,.2f}" in text


@pytest.mark.parametrize("name", ["abc_debit.csv", "boc_debit.csv", "bocom_debit.csv", "cmb_debit.csv"])
def test_exports_without_totals_line_pass_the_totals_check(name):
    reader, _ = read(name)
    assert reader.totals is None
    reader.check_totals()


def test_every_line_of_a_file_has_its_own_key():
    for name in EXPECTED:
        _, lines = read(name)
        keys = [line.line_key for line in lines]
        assert len(set(keys)) == len(keys), name


def test_reading_a_file_twice_gives_the_same_keys():
    for name in EXPECTED:
        first = [line.line_key for line in read(name)[1]]
        second = [line.line_key for line in read(name)[1]]
        assert first == second, name
