"""The housing provident fund centre (公积金中心): no loan API, a daily loan list as an Excel file.

    GET /hpf/api/loan-lists?date_from=yyyyMMdd&date_to=yyyyMMdd
      → {"code": 0, "data": [{"file_name": "公积金贷款业务明细_20250102.xlsx", "date", "published_at"}]}
    GET /hpf/api/loan-lists/{file_name} → the .xlsx

The list (`公积金贷款业务明细`, one sheet) has two title lines, then a header row and one row per
loan of the developer's buyers as it stood at the end of the day: 贷款编号, 借款人姓名, 证件类型,
证件号码, 房屋坐落, 购房合同编号 (usually empty: the centre keys loans by borrower and address),
贷款类型, 受理网点, 申请/审批/放款金额（元）, 业务状态, 审批结果 (通过 / 不通过), and the date of each
stage (收件日期 … 撤销日期).
Stages carry dates only: a stage's time is the start of that day in Beijing time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from connectors.banks import errors
from connectors.banks.client import BankClient, LoanItem, SignedApi, check_envelope, envelope_detail, shape_error
from connectors.banks.parsing import BEIJING, LoanReader
from connectors.banks.records import LOAN_FUND, QuarantineItem, StatementFile
from connectors.banks.statements.cells import clean, header_name
from connectors.banks.statements.tabular import open_rows
from connectors.files import UnsafeName, check_outside_name, local_name, suffix_of
from connectors.http import safe_url

ERROR_DETAIL = envelope_detail("code", "message")
REQUIRED = ("贷款编号", "借款人姓名", "证件号码", "业务状态")
STATUSES = {
    "已收件": "资料收齐",
    "已受理": "已递交",
    "审批通过": "已审批",
    "审批不通过": "拒贷",
    "已签订借款合同": "已签借款合同",
    "已办理抵押登记": "抵押(预告)登记",
    "已放款": "已放款",
    "已撤件": "已撤销",
}
STAGE_DATES = (
    ("收件日期", "资料收齐"),
    ("受理日期", "已递交"),
    ("审批日期", None),  # 已审批 or 拒贷: 审批结果 says which
    ("签约日期", "已签借款合同"),
    ("抵押登记日期", "抵押(预告)登记"),
    ("放款日期", "已放款"),
    ("撤销日期", "已撤销"),
)
HEADER_SCAN_ROWS = 20


def _column(header: list[str], name: str) -> int | None:
    target = header_name(name)
    return next((i for i, cell in enumerate(header) if header_name(cell) == target), None)


def read_loan_list(path: str | Path, *, file_name: str | None = None) -> Iterator[LoanItem]:
    """The loans of one daily list; a row that cannot be read comes out as a quarantine item."""
    path = Path(path)
    name = file_name or path.name
    source = open_rows(path, file_name=name)
    try:
        rows = iter(source)
        header: list[str] | None = None
        for line_no, cells in rows:
            names = {header_name(cell) for cell in cells}
            if all(header_name(required) in names for required in REQUIRED):
                header = cells
                break
            if line_no >= HEADER_SCAN_ROWS:
                break
        if header is None:
            raise errors.UnknownLayout(
                f"{name}: expected the header row of the fund centre's loan list ({', '.join(REQUIRED)}) within "
                f"the first {HEADER_SCAN_ROWS} rows, found none; the file is not a 公积金贷款业务明细",
                file_name=name,
            )
        index = {
            cell: _column(header, cell)
            for cell in (
                *REQUIRED,
                *(c for c, _ in STAGE_DATES),
                "证件类型",
                "审批结果",
                "房屋坐落",
                "购房合同编号",
                "受理网点",
                "申请金额（元）",
                "审批金额（元）",
                "放款金额（元）",
                "最后更新时间",
            )
        }
        for line_no, cells in rows:
            if not any(clean(cell) for cell in cells):
                continue
            yield _loan(cells, index, name, line_no)
    finally:
        source.close()


def _loan(cells: list[str], index: dict[str, int | None], file_name: str, line_no: int) -> LoanItem:
    def cell(column: str) -> str | None:
        position = index.get(column)
        return clean(cells[position]) if position is not None and position < len(cells) else None

    payload: dict[str, Any] = {column: cell(column) for column in index}
    payload = {k: v for k, v in payload.items() if v is not None}
    payload["_file"], payload["_line"] = file_name, line_no
    reader = LoanReader("hpf", {**payload})
    status = cell("业务状态")
    stage = reader.stage("业务状态", status, STATUSES)
    events = []
    for column, fixed in STAGE_DATES:
        text = cell(column)
        if text is None:
            continue
        target = fixed or ("拒贷" if cell("审批结果") == "不通过" or stage == "拒贷" else "已审批")
        events.append((target, reader.moment(column, text)))
    id_type = cell("证件类型") or "身份证"
    loan = reader.finish(
        loan_no=reader.text("贷款编号", cell("贷款编号")),
        loan_type=LOAN_FUND,
        stage=stage,
        events=events,
        contract_no=cell("购房合同编号"),
        borrower_name=reader.text("借款人姓名", cell("借款人姓名")),
        borrower_id_type=id_type,
        borrower_id_number=reader.identifier(id_type, cell("证件号码")),
        property_address=cell("房屋坐落"),
        branch=cell("受理网点"),
        applied=reader.yuan("申请金额（元）", cell("申请金额（元）")),
        approved=reader.yuan("审批金额（元）", cell("审批金额（元）")),
        disbursed=reader.yuan("放款金额（元）", cell("放款金额（元）")),
        updated_at=reader.moment("最后更新时间", cell("最后更新时间")),
    )
    if isinstance(loan, QuarantineItem):
        return QuarantineItem(
            loan.source,
            loan.entity,
            loan.key,
            f"{file_name} line {line_no}: {loan.reason}",
            loan.payload,
            file_name=file_name,
            line_no=line_no,
        )
    return loan


class HpfClient(BankClient):
    code = "hpf"
    has_statements = False
    PREFIX = "/hpf/api/loan-lists"

    def __init__(
        self,
        base_url: str,
        *,
        app_id: str,
        secret: str,
        folder: str | Path | None = None,
        page_size: int | None = None,  # the list is one file: no pages (accepted like the other adapters)
        **options: Any,
    ) -> None:
        super().__init__(SignedApi(base_url, app_id=app_id, secret=secret, error_detail=ERROR_DETAIL, **options))
        self.folder = Path(folder) if folder is not None else None

    def list_loan_lists(self, date_from: date, date_to: date) -> list[tuple[str, date, datetime]]:
        """(file name, day, published at) of the lists published for days in the range."""
        url = self.api.url(self.PREFIX)
        params = {"date_from": f"{date_from:%Y%m%d}", "date_to": f"{date_to:%Y%m%d}"}
        body = self.api.request_json("GET", self.PREFIX, params=params)
        if not isinstance(body, dict):
            raise shape_error("a JSON object", url)
        check_envelope(body.get("code") == 0, body, body.get("code"), body.get("message"), url)
        data = body.get("data")
        if not isinstance(data, list):
            raise shape_error("a list in data", url)
        try:
            return [
                (item["file_name"], date.fromisoformat(item["date"]), datetime.fromisoformat(item["published_at"]))
                for item in data
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise shape_error("file_name, date and published_at for each list", url) from exc

    def download_loan_list(self, file_name: str, folder: str | Path, day: date | None = None) -> Path:
        """Download a listed loan list into `folder` under a local name (day, content hash); a listed name
        that would be a path is refused (`UnexpectedResponse`), nothing saved."""
        try:
            check_outside_name(file_name)
        except UnsafeName as exc:
            raise errors.UnexpectedResponse(
                f"expected the fund centre to list plain file names, got one that is a path: {exc}",
                url=safe_url(self.api.base_url),
            ) from exc
        name = local_name("hpf", "loan-list", f"{day:%Y%m%d}" if day else None, suffix=suffix_of(file_name))
        return self.save(f"{self.PREFIX}/{quote(file_name, safe='')}", folder, name)

    def iter_loans(self, updated_since: datetime | None = None) -> Iterator[LoanItem]:
        """The loans of the latest published list, updated at or after `updated_since`."""
        if self.folder is None:
            raise ValueError("HpfClient needs a folder to download the loan lists into")
        first = (updated_since.astimezone(BEIJING).date() - timedelta(days=7)) if updated_since else date(2000, 1, 1)
        lists = self.list_loan_lists(first, date.today() + timedelta(days=1))
        if not lists:
            return
        name, day, _ = max(lists, key=lambda item: item[1])
        path = self.download_loan_list(name, self.folder, day)
        for item in read_loan_list(path):
            if updated_since is None or isinstance(item, QuarantineItem) or item.updated_at >= updated_since:
                yield item

    def list_statement_files(self, date_from: date, date_to: date) -> list[StatementFile]:
        return []

    def download_statement(self, file: StatementFile, folder: Path) -> Path:
        raise errors.FatalHTTPError("the provident-fund centre publishes no statements; it holds no account of ours")

    def download_period(self, date_from: date, date_to: date, folder: Path) -> Path:
        raise errors.FatalHTTPError("the provident-fund centre publishes no statements; it holds no account of ours")
