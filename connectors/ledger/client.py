"""The finance ERP client (Kingdee K/3 Cloud Web API): session, bill queries, keyset paging.

    with LedgerClient(base_url, account, password, acct_id=...) as client:
        for item in client.iter_vouchers(modified_since=watermark - look_back):
            ...  # VoucherLine, or QuarantineItem for a row that cannot be read

Session: `ValidateUser` answers `LoginResultType` 1 and sets the `kdservice-sessionid` cookie, which
the underlying `requests.Session` sends from then on. A query answered "会话信息已丢失" (MsgCode 1) —
the session expired — logs in again and repeats the query once; a session lost again at once is an
`AuthError`.

Paging: K/3 pages by `StartRow`/`Limit`, which skips rows when rows change between two pages. The
client pages by key instead: each page asks for `<row id> > <last id>` ordered by the row id, with
`StartRow` 0, so a row that changes mid-listing is never skipped (it comes again in the next run,
whose `modified_since` window includes its new modification time). Rows whose id was already seen
(a page that repeats a row) are dropped. A page with unreadable rows is asked for again (up to
`refetch_bad_pages` times) before its bad rows are quarantined: a garbled answer is usually transient.

Incremental: `modified_since` (inclusive, aware datetime) filters on `FModifyDate`; the caller owns the
watermark and the look-back window. Every call has a timeout; retries follow `connectors.http`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import requests

from connectors.http import HttpSession, RetryPolicy
from connectors.ledger import errors
from connectors.ledger.parse import FIELDS, ID_FIELD, INVOICE, RECEIPT, REFUND, VOUCHER, parse_row
from connectors.ledger.records import Invoice, QuarantineItem, Receipt, Refund, VoucherLine

log = logging.getLogger(__name__)

LOGIN_PATH = "/k3cloud/Kingdee.BOS.WebApi.ServicesStub.AuthService.ValidateUser.common.kdsvc"
QUERY_PATH = "/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.ExecuteBillQuery.common.kdsvc"
SESSION_LOST = 1
MAX_PAGE = 10_000
BEIJING = timezone(timedelta(hours=8), "CST")


def _error_detail(response: requests.Response) -> tuple[int | str | None, str | None]:
    try:
        body = response.json()
    except ValueError:
        return None, None
    status = _response_status(body)
    if status is None:
        return None, None
    messages = [str(e.get("Message")) for e in status.get("Errors") or [] if isinstance(e, dict)]
    return status.get("MsgCode"), "; ".join(messages) or None


def _response_status(body: Any) -> dict | None:
    """K/3's error object `[[{"Result": {"ResponseStatus": {...}}}]]` (or unwrapped), else None."""
    node = body
    while isinstance(node, list) and len(node) == 1:
        node = node[0]
    if isinstance(node, dict):
        status = (node.get("Result") or {}).get("ResponseStatus") if isinstance(node.get("Result"), dict) else None
        status = status or node.get("ResponseStatus")
        if isinstance(status, dict) and status.get("IsSuccess") is False:
            return status
    return None


def beijing_text(moment: datetime) -> str:
    """An aware time as the ERP's filters take it: Beijing time, no offset (`2026-03-12 14:03:00`)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware datetime, got {moment!r}")
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


class LedgerClient:
    """One account on one ERP data centre (`acct_id`); explicit arguments, never the environment."""

    def __init__(
        self,
        base_url: str,
        account: str,
        password: str,
        *,
        acct_id: str = "",
        lcid: int = 2052,
        timeout: float | tuple[float, float] = 30.0,
        retry: RetryPolicy | None = None,
        page_size: int = 2000,
        refetch_bad_pages: int = 2,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE}, got {page_size}")
        self.base_url = base_url.rstrip("/")
        self._account = account
        self._password = password
        self.acct_id = acct_id
        self.lcid = lcid
        self.page_size = page_size
        self.refetch_bad_pages = refetch_bad_pages
        self._requests = session or requests.Session()
        self._owns = session is None
        self._http = HttpSession(
            timeout=timeout,
            retry=retry,
            session=self._requests,
            errors=errors.ERROR_KINDS,
            error_detail=_error_detail,
            sleep=sleep,
        )
        self._logged_in = False
        self.logins = 0
        self.pages = 0
        self.refetches = 0

    def close(self) -> None:
        self._http.close()
        if self._owns:
            self._requests.close()

    def __enter__(self) -> LedgerClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LedgerClient({self.base_url!r}, account={self._account!r})"

    # -- session --------------------------------------------------------------------------------

    def login(self) -> None:
        """Open a session (the cookie is kept by the underlying `requests.Session`)."""
        body = {"acctID": self.acct_id, "username": self._account, "password": self._password, "lcid": self.lcid}
        answer = self._http.request_json("POST", self.base_url + LOGIN_PATH, json_body=body)
        if not isinstance(answer, dict) or answer.get("LoginResultType") != 1:
            said = answer.get("Message") if isinstance(answer, dict) else None
            raise errors.AuthError(
                f"expected the ERP to accept account {self._account!r} on data centre {self.acct_id!r}, got "
                f"LoginResultType {answer.get('LoginResultType') if isinstance(answer, dict) else None!r}"
                f"{f' ({said})' if said else ''}; check the login, password and extra acct_id of the "
                "finance_ledger Connection",
                method="POST",
                url=self.base_url + LOGIN_PATH,
            )
        self._logged_in = True
        self.logins += 1
        log.info("logged in to the ERP at %s", self.base_url)

    # -- one query ------------------------------------------------------------------------------

    def query(
        self,
        form_id: str,
        field_keys: Sequence[str],
        *,
        filter_string: str = "",
        order_string: str = "",
        start_row: int = 0,
        limit: int | None = None,
    ) -> list[Any]:
        """One `ExecuteBillQuery` page: the rows as received (lists in field-key order)."""
        if not self._logged_in:
            self.login()
        data = {
            "FormId": form_id,
            "FieldKeys": ",".join(field_keys),
            "FilterString": filter_string,
            "OrderString": order_string,
            "TopRowCount": 0,
            "StartRow": start_row,
            "Limit": limit or self.page_size,
        }
        url = self.base_url + QUERY_PATH
        for attempt in (1, 2):
            answer = self._http.request_json("POST", url, json_body={"data": data})
            status = _response_status(answer)
            if status is None:
                break
            if status.get("MsgCode") == SESSION_LOST:
                if attempt == 2:
                    raise errors.AuthError(
                        "expected a fresh ERP session to be accepted, got 会话信息已丢失 again right after logging "
                        "in; check the ERP's session settings or the account's licence",
                        method="POST",
                        url=url,
                    )
                log.info("ERP session lost; logging in again")
                self._logged_in = False
                self.login()
                continue
            messages = "; ".join(str(e.get("Message")) for e in status.get("Errors") or [] if isinstance(e, dict))
            raise errors.QueryError(
                f"expected rows of form {form_id}, got the ERP's error: {messages or status}; check the form id, "
                "the field keys and the filter string",
                method="POST",
                url=url,
                api_code=status.get("MsgCode"),
            )
        if not isinstance(answer, list) or not all(isinstance(row, list) for row in answer):
            raise errors.UnexpectedResponse(
                f"expected a JSON array of rows for form {form_id}, got {type(answer).__name__}",
                method="POST",
                url=url,
            )
        self.pages += 1
        return answer

    # -- listings -------------------------------------------------------------------------------

    def iter_form(
        self,
        form_id: str,
        *,
        modified_since: datetime | None = None,
        extra_filter: str = "",
    ) -> Iterator[VoucherLine | Receipt | Refund | Invoice | QuarantineItem]:
        """Every row of a form (modified at or after `modified_since`, if given), in id order."""
        keys = FIELDS[form_id]
        id_key = ID_FIELD[form_id]
        conditions = [f"({extra_filter})"] if extra_filter else []
        if modified_since is not None:
            conditions.append(f"FModifyDate >= '{beijing_text(modified_since)}'")
        last = 0
        bad_pages = 0
        while True:
            where = " and ".join([*conditions, f"{id_key} > {last}"])
            rows = self.query(form_id, keys, filter_string=where, order_string=f"{id_key} ASC")
            parsed = [parse_row(form_id, keys, row) for row in rows]
            bad = [item for item in parsed if isinstance(item, QuarantineItem)]
            if bad and bad_pages < self.refetch_bad_pages:
                bad_pages += 1
                self.refetches += 1
                log.warning("%s: %d unreadable rows after id %d; asking for the page again", form_id, len(bad), last)
                continue
            bad_pages = 0
            page_last = last
            for item in parsed:
                if isinstance(item, QuarantineItem):
                    if item.key is not None:  # unreadable even when asked again: past it, for good
                        if int(item.key) <= last:
                            continue
                        page_last = max(page_last, int(item.key))
                    yield item
                    continue
                if item.key <= last:
                    continue  # a row the page before already brought
                page_last = max(page_last, item.key)
                yield item
            if len(rows) < self.page_size:
                return
            if page_last == last:
                raise errors.PaginationError(
                    f"expected page after id {last} of {form_id} to bring rows past it, got {len(rows)} rows none of "
                    "which could be read or all already seen; run the sync again, and report the ERP if it repeats",
                    url=self.base_url + QUERY_PATH,
                )
            last = page_last

    def iter_rows(
        self, form_id: str, ids: Sequence[int], *, chunk: int = 200
    ) -> Iterator[VoucherLine | Receipt | Refund | Invoice | QuarantineItem]:
        """The rows of a form with these ids (a voucher form's entry ids), whatever their modification date,
        `chunk` ids per query."""
        numbers = sorted({int(value) for value in ids})
        if any(number < 0 for number in numbers):
            raise ValueError(f"expected row ids of form {form_id} that are whole numbers of 0 or more")
        id_key = ID_FIELD[form_id]
        for start in range(0, len(numbers), chunk):
            part = numbers[start : start + chunk]
            yield from self.iter_form(form_id, extra_filter=f"{id_key} in ({','.join(map(str, part))})")

    def iter_vouchers(self, modified_since: datetime | None = None) -> Iterator[VoucherLine | QuarantineItem]:
        """Voucher lines (GL_VOUCHER entries), voided and red ones included."""
        return self.iter_form(VOUCHER, modified_since=modified_since)  # type: ignore[return-value]

    def iter_receipts(self, modified_since: datetime | None = None) -> Iterator[Receipt | QuarantineItem]:
        """Receipt bills (AR_RECEIVEBILL)."""
        return self.iter_form(RECEIPT, modified_since=modified_since)  # type: ignore[return-value]

    def iter_refunds(self, modified_since: datetime | None = None) -> Iterator[Refund | QuarantineItem]:
        """Refund bills (AR_REFUNDBILL)."""
        return self.iter_form(REFUND, modified_since=modified_since)  # type: ignore[return-value]

    def iter_invoices(self, modified_since: datetime | None = None) -> Iterator[Invoice | QuarantineItem]:
        """Invoices and receipt slips (IV_SALESOC), red ones included."""
        return self.iter_form(INVOICE, modified_since=modified_since)  # type: ignore[return-value]
