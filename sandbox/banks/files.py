"""Statement files and the fund centre's loan list, written the way the real exports look.

- ICBC (`icbc_corporate`): CSV in UTF-8 with a BOM, a preamble, every field padded with spaces and a
  TAB, `-` for an empty amount, thousands separators, a totals line and a counts line.
- CCB (`ccb_corporate`): a legacy Excel 97 `.xls` (BIFF8, written with xlwt): preamble rows with
  full-width spaces in the labels (`账　　号：`), amounts as numbers (0 on the side not used), dates as
  `20250101`, a totals row, a count line and a disclaimer.
- CMB (`cmb_corporate`): CSV in GBK (code page 936): preamble, dates as `20250101`, times as `101532`,
  thousands separators in quoted amounts, and a closing line of counts and totals.
- The fund centre: an `.xlsx` loan list (`公积金贷款业务明细`), one row per loan with its stage dates.

The serials are derived from the line's position in its account, so the same line carries the same
serial in a daily file, a corrected file and a period export.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, BinaryIO

from connectors.banks.records import CREDIT
from connectors.banks.statements.layouts import CCB_CORPORATE_HEADER, CMB_CORPORATE_HEADER, ICBC_CORPORATE_HEADER
from sandbox.banks.accounts import DEVELOPER_NAME

CSV_TYPE = "text/csv; charset=utf-8"
CSV_GBK_TYPE = "text/csv; charset=gbk"
XLS_TYPE = "application/vnd.ms-excel"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXTENSIONS = {"icbc": "csv", "ccb": "xls", "cmb": "csv"}
CONTENT_TYPES = {"icbc": CSV_TYPE, "ccb": XLS_TYPE, "cmb": CSV_GBK_TYPE}


def file_name(bank: str, account_no: str, date_from: date, date_to: date, version: int = 1) -> str:
    """`ICBC_4000021209200123456_20250102.csv`, `..._20250101_20250131.csv` for a period, `_v2` corrected."""
    period = f"{date_from:%Y%m%d}" if date_from == date_to else f"{date_from:%Y%m%d}_{date_to:%Y%m%d}"
    suffix = f"_v{version}" if version > 1 else ""
    return f"{bank.upper()}_{account_no}_{period}{suffix}.{EXTENSIONS[bank]}"


def parse_file_name(name: str) -> tuple[str, str, date, date, int] | None:
    """(bank, account, date_from, date_to, version) of a name `file_name` wrote, else None."""
    stem, _, extension = name.rpartition(".")
    parts = stem.split("_")
    if len(parts) < 3 or extension not in ("csv", "xls"):
        return None
    bank, account = parts[0].lower(), parts[1]
    version = 1
    if parts[-1].startswith("v") and parts[-1][1:].isdigit():
        version = int(parts[-1][1:])
        parts = parts[:-1]
    try:
        days = [datetime.strptime(part, "%Y%m%d").date() for part in parts[2:]]
    except ValueError:
        return None
    if bank not in EXTENSIONS or not 1 <= len(days) <= 2:
        return None
    return bank, account, days[0], days[-1], version


def serial(bank: str, line: dict[str, Any]) -> str:
    booked = datetime.fromisoformat(line["booked_at"])
    seq = line["seq"]
    if bank == "icbc":
        return f"HQH{booked:%y%m%d}{seq:09d}"
    if bank == "ccb":
        return f"{seq % 100000:05d}-{booked:%Y%m%d}{seq:010d}"
    return f"G{booked:%y%m%d}{seq:010d}"


_GBK_SUBSTITUTES = str.maketrans({"\u00a5": "\uffe5", "\u2014": "\u2014"})


def _money(fen: int) -> str:
    return format(Decimal(fen).scaleb(-2), ",.2f")


def _cnaps(bank_name: str | None) -> str:
    if not bank_name:
        return "-"
    return f"{int(hashlib.sha256(bank_name.encode()).hexdigest()[:10], 16) % 10**12:012d}"


def _pad(text: str | None, width: int) -> str:
    """A field as ICBC pads it: the text, spaces up to `width` display columns, then a TAB."""
    value = text if text not in (None, "") else "-"
    shown = sum(2 if ord(ch) > 0x2E7F else 1 for ch in value)
    return value + " " * max(width - shown, 1) + "\t"


def _totals(lines: Sequence[dict[str, Any]]) -> tuple[int, int, int, int]:
    credit = [line["amount_fen"] for line in lines if line["direction"] == CREDIT]
    debit = [line["amount_fen"] for line in lines if line["direction"] != CREDIT]
    return sum(credit), len(credit), sum(debit), len(debit)


def write_statement(
    bank: str, account_no: str, lines: Sequence[dict[str, Any]], date_from: date, date_to: date
) -> bytes:
    """The statement file of `lines` (rows of `BankWorld.statement_lines`) in `bank`'s layout."""
    if bank == "ccb":
        return _ccb(account_no, lines, date_from, date_to)
    out = io.BytesIO()
    stream_statement(out, bank, account_no, lines, date_from, date_to)
    return out.getvalue()


def stream_statement(
    out: BinaryIO, bank: str, account_no: str, lines: Iterable[dict[str, Any]], date_from: date, date_to: date
) -> int:
    """Write a CSV statement (ICBC or CMB) line by line into `out`, in constant memory; returns the lines."""
    if bank not in ("icbc", "cmb"):
        raise ValueError(f"only the CSV layouts stream (icbc, cmb); {bank} writes .xls, at most 65,536 rows")
    encoding = "utf-8-sig" if bank == "icbc" else "gbk"
    text = io.TextIOWrapper(out, encoding=encoding, errors="replace", newline="", write_through=False)
    rows = csv.writer(text, lineterminator="\r\n")
    totals = _Totals()
    writer = _icbc_rows if bank == "icbc" else _cmb_rows
    for row in writer(account_no, totals.count(lines), date_from, date_to, totals):
        if bank == "cmb":
            row = [cell.translate(_GBK_SUBSTITUTES) if isinstance(cell, str) else cell for cell in row]
        rows.writerow(row)
    text.flush()
    text.detach()
    return totals.credits + totals.debits


class _Totals:
    """Counts and sums the lines as they stream past, for the totals line at the end."""

    def __init__(self) -> None:
        self.credit = self.debit = self.credits = self.debits = 0

    def count(self, lines: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for line in lines:
            if line["direction"] == CREDIT:
                self.credit += line["amount_fen"]
                self.credits += 1
            else:
                self.debit += line["amount_fen"]
                self.debits += 1
            yield line


def _icbc_rows(
    account_no: str, lines: Iterable[dict[str, Any]], date_from: date, date_to: date, totals: _Totals
) -> Iterator[list[Any]]:
    yield ["中国工商银行 企业网上银行 账户明细查询"]
    yield [f"账号：{account_no}", f"户名：{DEVELOPER_NAME}"]
    yield ["币种：人民币", f"起止日期：{date_from:%Y-%m-%d} 至 {date_to:%Y-%m-%d}"]
    yield []
    yield list(ICBC_CORPORATE_HEADER)
    for line in lines:
        booked = datetime.fromisoformat(line["booked_at"])
        credit = line["direction"] == CREDIT
        amount = _money(line["amount_fen"])
        yield [
            _pad(f"{line['seq']:010d}", 12),
            _pad(account_no, 20),
            _pad(line["counterparty_account"], 20),
            _pad(f"{booked:%Y-%m-%d %H:%M:%S}", 20),
            _pad("贷" if credit else "借", 4),
            _pad(None if credit else amount, 16),
            _pad(amount if credit else None, 16),
            _pad(_cnaps(line["counterparty_bank"]), 12),
            _pad(line["summary"], 10),
            _pad(line["memo"], 40),
            _pad(line["counterparty_name"], 40),
            _pad(_money(line["balance_fen"]), 18),
            _pad(None, 10),
            _pad(serial("icbc", line), 20),
        ]
    yield []
    yield ["合计", "", "", "", "", _pad(_money(totals.debit), 16), _pad(_money(totals.credit), 16)]
    yield [f"借方笔数：{totals.debits}", f"贷方笔数：{totals.credits}"]


def _ccb(account_no: str, lines: Sequence[dict[str, Any]], date_from: date, date_to: date) -> bytes:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet(f"交易明细_{account_no[-4:]}_{date_from:%Y%m%d}_{date_to:%Y%m%d}")
    preamble = [
        ["中国建设银行单位客户账户明细信息"],
        ["账\u3000\u3000号：", account_no, "户\u3000\u3000名：", DEVELOPER_NAME],
        ["币\u3000\u3000种：", "人民币"],
        ["起始日期：", f"{date_from:%Y%m%d}", "终止日期：", f"{date_to:%Y%m%d}"],
        [],
        list(CCB_CORPORATE_HEADER),
    ]
    row_index = 0
    for row in preamble:
        for column, value in enumerate(row):
            sheet.write(row_index, column, value)
        row_index += 1
    for line in lines:
        booked = datetime.fromisoformat(line["booked_at"])
        credit = line["direction"] == CREDIT
        amount = float(Decimal(line["amount_fen"]).scaleb(-2))
        values: list[Any] = [
            f"{booked:%Y%m%d %H:%M:%S}",
            0.0 if credit else amount,
            amount if credit else 0.0,
            float(Decimal(line["balance_fen"]).scaleb(-2)),
            "人民币",
            line["counterparty_name"] or "",
            line["counterparty_account"] or "",
            line["counterparty_bank"] or "",
            f"{booked:%Y%m%d}",
            line["summary"] or "",
            line["memo"] or "",
            serial("ccb", line),
            "",
            "",
            "",
        ]
        for column, value in enumerate(values):
            sheet.write(row_index, column, value)
        row_index += 1
    credit, credits, debit, debits = _totals(lines)
    sheet.write(row_index, 0, "合计")
    sheet.write(row_index, 1, float(Decimal(debit).scaleb(-2)))
    sheet.write(row_index, 2, float(Decimal(credit).scaleb(-2)))
    sheet.write(row_index + 1, 0, f"共 {credits + debits} 笔，借方 {debits} 笔，贷方 {credits} 笔")
    sheet.write(row_index + 2, 0, "以上数据仅供参考，具体内容请以柜台为准")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cmb_rows(
    account_no: str, lines: Iterable[dict[str, Any]], date_from: date, date_to: date, totals: _Totals
) -> Iterator[list[Any]]:
    yield ["招商银行交易明细"]
    yield [f"账\u3000\u3000号：{account_no}", "币\u3000\u3000种：人民币"]
    yield [f"查询日期：{date_from:%Y%m%d}--{date_to:%Y%m%d}"]
    yield list(CMB_CORPORATE_HEADER)
    for line in lines:
        booked = datetime.fromisoformat(line["booked_at"])
        credit = line["direction"] == CREDIT
        amount = _money(line["amount_fen"])
        yield [
            f"{booked:%Y%m%d}",
            f"{booked:%H%M%S}",
            f"{booked:%Y%m%d}",
            "转账" if line["counterparty_name"] else "其他",
            "" if credit else amount,
            amount if credit else "",
            _money(line["balance_fen"]),
            line["summary"] or "",
            serial("cmb", line),
            line["channel"] or "",
            line["memo"] or "",
            f"R{line['seq']:012d}",
            line["counterparty_name"] or "",
            line["counterparty_account"] or "",
            line["counterparty_bank"] or "",
        ]
    yield [
        "借方笔数",
        totals.debits,
        "借方金额",
        _money(totals.debit),
        "贷方笔数",
        totals.credits,
        "贷方金额",
        _money(totals.credit),
    ]


# -- the fund centre's daily loan list ----------------------------------------------------------------

HPF_HEADER = (
    "序号",
    "贷款编号",
    "借款人姓名",
    "证件类型",
    "证件号码",
    "房屋坐落",
    "购房合同编号",
    "贷款类型",
    "受理网点",
    "申请金额（元）",
    "审批金额（元）",
    "放款金额（元）",
    "业务状态",
    "审批结果",
    "收件日期",
    "受理日期",
    "审批日期",
    "签约日期",
    "抵押登记日期",
    "放款日期",
    "撤销日期",
    "最后更新时间",
)
HPF_STAGE_COLUMNS = {
    "资料收齐": "收件日期",
    "已递交": "受理日期",
    "已审批": "审批日期",
    "拒贷": "审批日期",
    "已签借款合同": "签约日期",
    "抵押(预告)登记": "抵押登记日期",
    "已放款": "放款日期",
    "已撤销": "撤销日期",
}
HPF_STATUS = {
    "资料收齐": "已收件",
    "已递交": "已受理",
    "已审批": "审批通过",
    "拒贷": "审批不通过",
    "已签借款合同": "已签订借款合同",
    "抵押(预告)登记": "已办理抵押登记",
    "已放款": "已放款",
    "已撤销": "已撤件",
}


def hpf_file_name(day: date) -> str:
    return f"公积金贷款业务明细_{day:%Y%m%d}.xlsx"


def write_hpf_list(loans: Iterable[dict[str, Any]], day: date) -> bytes:
    """The fund centre's list of the developer's loans as they stood at the end of `day`."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("贷款业务明细")
    sheet.append(["深圳市住房公积金管理中心 个人住房公积金贷款业务明细"])
    sheet.append([f"开发企业：{DEVELOPER_NAME}", f"数据日期：{day:%Y-%m-%d}"])
    sheet.append(list(HPF_HEADER))
    for index, loan in enumerate(loans, start=1):
        dates = {column: "" for column in HPF_STAGE_COLUMNS.values()}
        stages = {event["stage"] for event in loan["events"]}
        for event in loan["events"]:
            dates[HPF_STAGE_COLUMNS[event["stage"]]] = event["at"][:10]

        def amount(fen: int | None) -> float | str:
            return float(Decimal(fen).scaleb(-2)) if fen is not None else ""

        sheet.append(
            [
                index,
                loan["loan_no"],
                loan["borrower_name"],
                loan["borrower_id_type"],
                loan["borrower_id_number"],
                loan["property_address"],
                loan["contract_no"] if loan["shows_contract_no"] else "",
                "组合贷款（公积金部分）" if loan.get("combined") else "个人住房公积金贷款",
                loan["branch"],
                amount(loan["applied_fen"]),
                amount(loan["approved_fen"]),
                amount(loan["disbursed_fen"]),
                HPF_STATUS[loan["stage"]],
                "不通过" if "拒贷" in stages else ("通过" if "已审批" in stages else ""),
                *(dates[column] for column in HPF_HEADER[14:21]),
                loan["updated_at"][:19].replace("T", " "),
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
