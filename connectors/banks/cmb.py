"""CMB (招商银行): signed loan-progress API with offsets, English stage codes and ISO times; statements
as GBK CSV.

    GET /cmb/api/mortgage/v2/applications?since=<iso>&offset=0&limit=50
      → {"success": true, "errorCode": null, "errorMsg": null, "data": [...], "hasMore": true}
    GET /cmb/api/statement/v1/files?from=yyyy-MM-dd&to=yyyy-MM-dd → {"success": true, "data": [...]}
    GET /cmb/api/statement/v1/files/{name}; GET /cmb/api/statement/v1/export?from=&to=

An application: `applicationId, houseContractNo, applicant {name, certType, certNo}, property {address},
productType, branch, amounts {applied, approved, disbursed}, stage, timeline [{stage, at}], updatedAt`.
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
from connectors.banks.parsing import LoanReader
from connectors.banks.records import LOAN_COMMERCIAL, StatementFile

ERROR_DETAIL = envelope_detail("errorCode", "errorMsg")
STAGE_CODES = {
    "COLLECTED": "资料收齐",
    "SUBMITTED": "已递交",
    "APPROVED": "已审批",
    "REJECTED": "拒贷",
    "CONTRACT_SIGNED": "已签借款合同",
    "MORTGAGE_REGISTERED": "抵押(预告)登记",
    "DISBURSED": "已放款",
    "WITHDRAWN": "已撤销",
}
CERT_TYPES = {"ID_CARD": "身份证", "PASSPORT": "护照", "USCC": "统一社会信用代码"}


def parse_loan(application: Any) -> LoanItem:
    payload = application if isinstance(application, dict) else {"application": application}
    reader = LoanReader("cmb", payload)
    get = payload.get
    applicant = get("applicant") if isinstance(get("applicant"), dict) else {}
    amounts = get("amounts") if isinstance(get("amounts"), dict) else {}
    place = get("property") if isinstance(get("property"), dict) else {}
    timeline = get("timeline")
    if not isinstance(timeline, list):
        reader.problem("timeline: expected a list of stages")
        timeline = []
    events = []
    for index, entry in enumerate(timeline):
        entry = entry if isinstance(entry, dict) else {}
        events.append(
            (
                reader.stage(f"timeline[{index}].stage", entry.get("stage"), STAGE_CODES),
                reader.moment(f"timeline[{index}].at", entry.get("at")),
            )
        )
    id_type = CERT_TYPES.get(applicant.get("certType"))
    if id_type is None:
        reader.problem(f"applicant.certType: expected ID_CARD, PASSPORT or USCC, got {applicant.get('certType')!r}")
    return reader.finish(
        loan_no=reader.text("applicationId", get("applicationId")),
        loan_type=LOAN_COMMERCIAL,
        stage=reader.stage("stage", get("stage"), STAGE_CODES),
        events=events,
        contract_no=reader.text("houseContractNo", get("houseContractNo"), required=False),
        borrower_name=reader.text("applicant.name", applicant.get("name")),
        borrower_id_type=id_type,
        borrower_id_number=reader.identifier(id_type, applicant.get("certNo")),
        property_address=reader.text("property.address", place.get("address"), required=False),
        branch=reader.text("branch", get("branch"), required=False),
        applied=reader.yuan("amounts.applied", amounts.get("applied")),
        approved=reader.yuan("amounts.approved", amounts.get("approved")),
        disbursed=reader.yuan("amounts.disbursed", amounts.get("disbursed")),
        guarantee=reader.yuan("amounts.guarantee", amounts.get("guarantee")),
        guarantee_released_at=reader.moment("guaranteeReleasedAt", get("guaranteeReleasedAt"), required=False),
        linked_loan_no=reader.text("relatedApplicationId", get("relatedApplicationId"), required=False),
        updated_at=reader.moment("updatedAt", get("updatedAt")),
    )


class CmbClient(BankClient):
    code = "cmb"

    def __init__(self, base_url: str, *, app_id: str, secret: str, page_size: int = 50, **options: Any) -> None:
        super().__init__(SignedApi(base_url, app_id=app_id, secret=secret, error_detail=ERROR_DETAIL, **options))
        self.page_size = page_size

    @staticmethod
    def _data(body: Any, url: str) -> Any:
        if not isinstance(body, dict):
            raise shape_error("a JSON object", url)
        check_envelope(body.get("success") is True, body, body.get("errorCode"), body.get("errorMsg"), url)
        return body

    accounts_path = "/cmb/api/account/v1/accounts"

    def unwrap(self, body: Any, url: str) -> Any:
        return self._data(body, url).get("data")

    def iter_loans(self, updated_since: datetime | None = None) -> Iterator[LoanItem]:
        path = "/cmb/api/mortgage/v2/applications"
        url = self.api.url(path)
        params: dict[str, Any] = {"limit": self.page_size}
        if updated_since is not None:
            params["since"] = updated_since.isoformat()

        def fetch(token: str | None) -> tuple[list[Any], str | None]:
            offset = int(token or 0)
            body = self._data(self.api.request_json("GET", path, params={**params, "offset": offset}), url)
            data = body.get("data")
            if not isinstance(data, list):
                raise shape_error("a list in data", url)
            return data, str(offset + len(data)) if body.get("hasMore") and data else None

        yield from paged(fetch, parse_loan, page_keys, url)

    def list_statement_files(self, date_from: date, date_to: date) -> list[StatementFile]:
        path = "/cmb/api/statement/v1/files"
        url = self.api.url(path)
        params = {"from": date_from.isoformat(), "to": date_to.isoformat()}
        data = self._data(self.api.request_json("GET", path, params=params), url).get("data")
        if not isinstance(data, list):
            raise shape_error("a list in data", url)
        out = []
        for item in data:
            try:
                day = date.fromisoformat(item["date"])
                out.append(
                    StatementFile(
                        "cmb",
                        item["account"],
                        item["name"],
                        day,
                        day,
                        int(item.get("version") or 1),
                        published_at=datetime.fromisoformat(item["publishedAt"]),
                    )
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise errors.UnexpectedResponse(
                    f"expected each listed file to have name, account, date and publishedAt, got {item!r}", url=url
                ) from exc
        return out

    def statement_request(self, file: StatementFile) -> tuple[str, dict[str, str] | None]:
        return f"/cmb/api/statement/v1/files/{quote(file.file_name, safe='')}", None

    def download_period(self, date_from: date, date_to: date, folder: Path) -> Path:
        name = f"CMB_period_{date_from:%Y%m%d}_{date_to:%Y%m%d}.csv"
        params = {"from": date_from.isoformat(), "to": date_to.isoformat()}
        return self.save("/cmb/api/statement/v1/export", folder, name, params=params)
