"""CCB (建设银行): signed loan-progress API over POST with cursors, yuan strings and Chinese statuses;
statements as legacy `.xls`.

    POST /ccb/loan/progress/query {"updatedSince": "yyyy-MM-dd HH:mm:ss", "cursor": null, "limit": 100}
      → {"code": "000000", "msg": "成功", "result": {"items": [...], "nextCursor": "..." | null}}
    POST /ccb/statement/list {"startDate": "yyyyMMdd", "endDate": "yyyyMMdd"} → {"result": {"files": [...]}}
    GET /ccb/statement/download?fileName=...; GET /ccb/statement/export?startDate=&endDate=

An item: `loanNo, buyContractNo (null when the bank did not record it), custName, idType, idNo,
houseAddress, loanKind, orgName, applyAmount, approveAmount, lendAmount, status,
history [{status, time}], updateTime`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from connectors.banks import errors
from connectors.banks.client import BankClient, LoanItem, SignedApi, check_envelope, envelope_detail, shape_error
from connectors.banks.paging import page_keys, paged
from connectors.banks.parsing import BEIJING, LoanReader
from connectors.banks.records import LOAN_COMMERCIAL, StatementFile

ERROR_DETAIL = envelope_detail("code", "msg")
OK = "000000"


def parse_loan(item: Any) -> LoanItem:
    payload = item if isinstance(item, dict) else {"item": item}
    reader = LoanReader("ccb", payload)
    get = payload.get
    history = get("history")
    if not isinstance(history, list):
        reader.problem("history: expected a list of statuses")
        history = []
    events = []
    for index, entry in enumerate(history):
        entry = entry if isinstance(entry, dict) else {}
        events.append(
            (
                reader.stage(f"history[{index}].status", entry.get("status")),
                reader.moment(f"history[{index}].time", entry.get("time")),
            )
        )
    id_type = reader.text("idType", get("idType"))
    return reader.finish(
        loan_no=reader.text("loanNo", get("loanNo")),
        loan_type=LOAN_COMMERCIAL,
        stage=reader.stage("status", get("status")),
        events=events,
        contract_no=reader.text("buyContractNo", get("buyContractNo"), required=False),
        borrower_name=reader.text("custName", get("custName")),
        borrower_id_type=id_type,
        borrower_id_number=reader.identifier(id_type, get("idNo")),
        property_address=reader.text("houseAddress", get("houseAddress"), required=False),
        branch=reader.text("orgName", get("orgName"), required=False),
        applied=reader.yuan("applyAmount", get("applyAmount")),
        approved=reader.yuan("approveAmount", get("approveAmount")),
        disbursed=reader.yuan("lendAmount", get("lendAmount")),
        guarantee=reader.yuan("guaranteeAmount", get("guaranteeAmount")),
        guarantee_released_at=reader.moment("guaranteeReleaseTime", get("guaranteeReleaseTime"), required=False),
        linked_loan_no=reader.text("relatedLoanNo", get("relatedLoanNo"), required=False),
        updated_at=reader.moment("updateTime", get("updateTime")),
    )


class CcbClient(BankClient):
    code = "ccb"

    def __init__(self, base_url: str, *, app_id: str, secret: str, page_size: int = 100, **options: Any) -> None:
        super().__init__(SignedApi(base_url, app_id=app_id, secret=secret, error_detail=ERROR_DETAIL, **options))
        self.page_size = page_size

    def _result(self, body: Any, url: str) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise shape_error("a JSON object", url)
        check_envelope(body.get("code") == OK, body, body.get("code"), body.get("msg"), url)
        result = body.get("result")
        if not isinstance(result, dict):
            raise shape_error("an object in result", url)
        return result

    accounts_path = "/ccb/account/list"

    def unwrap(self, body: Any, url: str) -> Any:
        return self._result(body, url)

    def iter_loans(self, updated_since: datetime | None = None) -> Iterator[LoanItem]:
        path = "/ccb/loan/progress/query"
        url = self.api.url(path)
        since = updated_since.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S") if updated_since else None

        def fetch(cursor: str | None) -> tuple[list[Any], str | None]:
            body = {"updatedSince": since, "cursor": cursor, "limit": self.page_size}
            result = self._result(self.api.request_json("POST", path, json_body=body), url)
            items = result.get("items")
            if not isinstance(items, list):
                raise shape_error("a list in result.items", url)
            return items, result.get("nextCursor")

        yield from paged(fetch, parse_loan, page_keys, url)

    def list_statement_files(self, date_from: date, date_to: date) -> list[StatementFile]:
        path = "/ccb/statement/list"
        url = self.api.url(path)
        body = {"startDate": f"{date_from:%Y%m%d}", "endDate": f"{date_to:%Y%m%d}"}
        result = self._result(self.api.request_json("POST", path, json_body=body), url)
        files = result.get("files")
        if not isinstance(files, list):
            raise shape_error("a list in result.files", url)
        out = []
        for item in files:
            try:
                day = datetime.strptime(item["tranDate"], "%Y%m%d").date()
                published = datetime.strptime(item["publishTime"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
                out.append(
                    StatementFile(
                        "ccb",
                        item["acctNo"],
                        item["fileName"],
                        day,
                        day,
                        int(item.get("version") or 1),
                        published_at=published,
                    )
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise errors.UnexpectedResponse(
                    f"expected each listed file to have fileName, acctNo, tranDate and publishTime, got {item!r}",
                    url=url,
                ) from exc
        return out

    def statement_request(self, file: StatementFile) -> tuple[str, dict[str, str] | None]:
        return "/ccb/statement/download", {"fileName": file.file_name}

    def download_period(self, date_from: date, date_to: date, folder: Path) -> Path:
        name = f"CCB_period_{date_from:%Y%m%d}_{date_to:%Y%m%d}.xls"
        params = {"startDate": f"{date_from:%Y%m%d}", "endDate": f"{date_to:%Y%m%d}"}
        return self.save("/ccb/statement/export", folder, name, params=params)
