"""ICBC (工商银行): signed loan-progress API with page numbers, amounts in fen; statements as UTF-8 CSV.

    GET /api/icbc/v1/loans?updated_since=yyyyMMddHHmmss&page_no=1&page_size=100
      → {"return_code": "0", "return_msg": "success",
         "data": {"page_no": 1, "page_size": 100, "has_next": true, "records": [...]}}
    GET /api/icbc/v1/statements?date_from=yyyyMMdd&date_to=yyyyMMdd → {"data": {"files": [...]}}
    GET /api/icbc/v1/statements/{file_name}; GET /api/icbc/v1/statements/export?date_from=&date_to=

A record: `loan_no, contract_no ("" when unknown), borrower_name, cert_type (01 身份证, 02 护照,
03 统一社会信用代码), cert_no, house_addr, loan_type, branch_name, apply_amt, approve_amt, loan_amt
(fen or null), stage_code, stage_name, stage_list [{stage_code, stage_name, stage_time}], update_time`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from connectors.banks import errors
from connectors.banks.client import BankClient, LoanItem, SignedApi, check_envelope, envelope_detail, shape_error
from connectors.banks.paging import page_keys, paged
from connectors.banks.parsing import BEIJING, LoanReader
from connectors.banks.records import LOAN_COMMERCIAL, StatementFile

PREFIX = "/api/icbc/v1"
STAGE_CODES = {
    "10": "资料收齐",
    "20": "已递交",
    "30": "已审批",
    "31": "拒贷",
    "40": "已签借款合同",
    "50": "抵押(预告)登记",
    "60": "已放款",
    "90": "已撤销",
}
CERT_TYPES = {"01": "身份证", "02": "护照", "03": "统一社会信用代码"}
ERROR_DETAIL = envelope_detail("return_code", "return_msg")


def parse_loan(record: Any) -> LoanItem:
    payload = record if isinstance(record, dict) else {"record": record}
    reader = LoanReader("icbc", payload)
    get = payload.get
    events = []
    history = get("stage_list")
    if not isinstance(history, list):
        reader.problem("stage_list: expected a list of stages")
        history = []
    for index, entry in enumerate(history):
        entry = entry if isinstance(entry, dict) else {}
        events.append(
            (
                reader.stage(f"stage_list[{index}].stage_code", entry.get("stage_code"), STAGE_CODES),
                reader.moment(f"stage_list[{index}].stage_time", entry.get("stage_time")),
            )
        )
    id_type = CERT_TYPES.get(get("cert_type"))
    if id_type is None:
        reader.problem(f"cert_type: expected 01, 02 or 03, got {get('cert_type')!r}")
    return reader.finish(
        loan_no=reader.text("loan_no", get("loan_no")),
        loan_type=LOAN_COMMERCIAL,
        stage=reader.stage("stage_code", get("stage_code"), STAGE_CODES),
        events=events,
        contract_no=reader.text("contract_no", get("contract_no"), required=False),
        borrower_name=reader.text("borrower_name", get("borrower_name")),
        borrower_id_type=id_type,
        borrower_id_number=reader.identifier(id_type, get("cert_no")),
        property_address=reader.text("house_addr", get("house_addr"), required=False),
        branch=reader.text("branch_name", get("branch_name"), required=False),
        applied=reader.fen("apply_amt", get("apply_amt")),
        approved=reader.fen("approve_amt", get("approve_amt")),
        disbursed=reader.fen("loan_amt", get("loan_amt")),
        guarantee=reader.fen("guarantee_amt", get("guarantee_amt")),
        guarantee_released_at=reader.moment("guarantee_release_time", get("guarantee_release_time"), required=False),
        linked_loan_no=reader.text("related_loan_no", get("related_loan_no"), required=False),
        updated_at=reader.moment("update_time", get("update_time")),
    )


class IcbcClient(BankClient):
    code = "icbc"
    accounts_path = f"{PREFIX}/accounts"

    def __init__(self, base_url: str, *, app_id: str, secret: str, page_size: int = 100, **options: Any) -> None:
        super().__init__(SignedApi(base_url, app_id=app_id, secret=secret, error_detail=ERROR_DETAIL, **options))
        self.page_size = page_size

    def _data(self, body: Any, url: str) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise shape_error("a JSON object", url)
        check_envelope(body.get("return_code") == "0", body, body.get("return_code"), body.get("return_msg"), url)
        data = body.get("data")
        if not isinstance(data, dict):
            raise shape_error("an object in data", url)
        return data

    def unwrap(self, body: Any, url: str) -> Any:
        return self._data(body, url)

    def iter_loans(self, updated_since: datetime | None = None) -> Iterator[LoanItem]:
        url = self.api.url(f"{PREFIX}/loans")
        params: dict[str, Any] = {"page_size": self.page_size}
        if updated_since is not None:
            params["updated_since"] = updated_since.astimezone(BEIJING).strftime("%Y%m%d%H%M%S")

        def fetch(token: str | None) -> tuple[list[Any], str | None]:
            page_no = int(token or 1)
            data = self._data(
                self.api.request_json("GET", f"{PREFIX}/loans", params={**params, "page_no": page_no}), url
            )
            records = data.get("records")
            if not isinstance(records, list):
                raise shape_error("a list in data.records", url)
            return records, str(page_no + 1) if data.get("has_next") else None

        yield from paged(fetch, parse_loan, page_keys, url)

    def list_statement_files(self, date_from: date, date_to: date) -> list[StatementFile]:
        url = self.api.url(f"{PREFIX}/statements")
        params = {"date_from": f"{date_from:%Y%m%d}", "date_to": f"{date_to:%Y%m%d}"}
        data = self._data(self.api.request_json("GET", f"{PREFIX}/statements", params=params), url)
        files = data.get("files")
        if not isinstance(files, list):
            raise shape_error("a list in data.files", url)
        out = []
        for item in files:
            try:
                day = datetime.strptime(item["date"], "%Y%m%d").date()
                published = datetime.strptime(item["published_at"], "%Y%m%d%H%M%S").replace(tzinfo=BEIJING)
                out.append(
                    StatementFile(
                        "icbc",
                        item["account_no"],
                        item["file_name"],
                        day,
                        day,
                        int(item.get("version") or 1),
                        published_at=published,
                    )
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise errors.UnexpectedResponse(
                    f"expected each listed file to have file_name, account_no, date and published_at, got {item!r}",
                    url=url,
                ) from exc
        return out

    def statement_request(self, file: StatementFile) -> tuple[str, dict[str, str] | None]:
        return f"{PREFIX}/statements/{quote(file.file_name, safe='')}", None

    def download_period(self, date_from: date, date_to: date, folder: Path) -> Path:
        name = f"ICBC_period_{date_from:%Y%m%d}_{date_to:%Y%m%d}.csv"
        params = {"date_from": f"{date_from:%Y%m%d}", "date_to": f"{date_to:%Y%m%d}"}
        return self.save(f"{PREFIX}/statements/export", folder, name, params=params)
