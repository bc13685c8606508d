"""The housing trading network client (developer side): login, contract listing, detail, export.

Speaks the API of `docs/trading_network_api.md` through the shared `HttpSession` (timeouts,
retries, back-off). Explicit arguments only: it never reads the environment or Airflow.

    client = TradingNetworkClient("https://gateway.example", "dev01", "secret")
    for record in client.iter_contracts(updated_since):   # Contract | QuarantineItem
        ...
"""

from __future__ import annotations

import logging
import os
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from connectors.http import BrokenBody, HttpSession, RetryPolicy, safe_url
from connectors.paging import PageBoundaryDeduplicator, PageTokenPaginator
from connectors.trading_network.errors import (
    ERROR_KINDS,
    AuthError,
    BadRecord,
    ContractNotFound,
    FatalHTTPError,
    PaginationError,
    TradingNetworkError,
    UnexpectedResponse,
)
from connectors.trading_network.inventory import parse_inventory_unit, parse_permit
from connectors.trading_network.parse import BEIJING, describe, parse_contract, to_utc
from connectors.trading_network.records import Contract, InventoryUnit, Permit, QuarantineItem

log = logging.getLogger(__name__)

LOGIN_PATH = "/api/v1/auth/login"
CONTRACTS_PATH = "/api/v1/contracts"
EXPORT_PATH = "/api/v1/contracts/export.xlsx"
PERMITS_PATH = "/api/v1/permits"

MAX_PAGE_SIZE = 500
CODE_OK = 0
CODE_BAD_CREDENTIALS = 40101
CODE_TOKEN_MISSING = 40100
CODE_TOKEN_EXPIRED = 40102
RELOGIN_CODES = frozenset({CODE_TOKEN_MISSING, CODE_TOKEN_EXPIRED})
# log in again this long before the token's announced expiry (at most a tenth of its life), instead
# of waiting for the 401
TOKEN_MARGIN = 60.0

ContractKey = tuple[datetime, str]


def _monotonic() -> float:
    """The clock of token lifetimes (a function, so tests can move it)."""
    return time.monotonic()


@dataclass(frozen=True, slots=True)
class Page:
    """One page of the contract listing: raw items (duplicates of the previous page removed)."""

    number: int
    items: tuple[Any, ...]  # JSON objects as received (or whatever else the server sent)
    duplicates: int
    next_page_token: str | None


class TradingNetworkClient:
    """One logged-in conversation with the trading network.

    `timeout` is seconds for connecting and for each read (or a `(connect, read)` pair); `retry` the
    `RetryPolicy` (default: 5 attempts, 0.5 s doubling to 30 s); `session` an optional
    `requests.Session` to send through (TLS settings, proxies, tests); `sleep` is for tests.
    """

    def __init__(
        self,
        base_url: str,
        account: str,
        password: str,
        *,
        timeout: float | tuple[float, float] = 30.0,
        page_size: int = 200,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}")
        if not account or not password:
            raise ValueError("account and password are required (the login of the trading_network Connection)")
        self.base_url = base_url.rstrip("/")
        self.account = account
        self._password = password
        self.page_size = page_size
        self._http = HttpSession(
            timeout=timeout,
            retry=retry,
            session=session,
            errors=ERROR_KINDS,
            error_detail=_envelope_detail,
            sleep=sleep,
        )
        self._token: str | None = None
        self._token_deadline = 0.0
        self.logins = 0

    def __repr__(self) -> str:
        return f"TradingNetworkClient({self.base_url!r}, account={self.account!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TradingNetworkClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- auth ---------------------------------------------------------------------------------------

    def login(self) -> None:
        """Get a fresh bearer token. Raises `AuthError` when the network refuses the account."""
        url = self._url(LOGIN_PATH)
        try:
            payload = self._http.request_json(
                "POST", url, json_body={"account": self.account, "password": self._password}
            )
            data = self._unwrap(payload, "POST", url)
        except AuthError as exc:
            raise AuthError(
                f"expected the trading network to accept account {self.account!r}, got {_refusal(exc)}; "
                "check the login and password of the trading_network Connection (a refused login is "
                "not retried, so as not to lock the account)",
                method="POST",
                url=exc.url,
                status=exc.status,
                api_code=exc.api_code,
                response=exc.response,
            ) from exc
        token = data.get("token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise UnexpectedResponse(
                f"expected a login answer with data.token, got {describe(data)} in data; "
                "the gateway does not speak the API this connector knows",
                method="POST",
                url=safe_url(url),
            )
        expires_in = data.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else 0.0
        self._token = token
        margin = min(TOKEN_MARGIN, lifetime / 10)
        self._token_deadline = _monotonic() + lifetime - margin if lifetime else float("inf")
        self.logins += 1
        log.info("logged in to the trading network as %s (token valid %s s)", self.account, lifetime or "?")

    def _current_token(self) -> str:
        if self._token is None or _monotonic() >= self._token_deadline:
            self.login()
        assert self._token is not None
        return self._token

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET an authorised path and return `data`; logs in again once on a missing/expired token."""
        url = self._url(path)
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self._current_token()}"}
            try:
                payload = self._http.request_json("GET", url, params=params, headers=headers)
                return self._unwrap(payload, "GET", url)
            except AuthError as exc:
                if exc.api_code in RELOGIN_CODES and attempt == 1:
                    log.info(
                        "the trading network %s the token (code %s); logging in again",
                        "expired" if exc.api_code == CODE_TOKEN_EXPIRED else "did not accept",
                        exc.api_code,
                    )
                    self._token = None
                    continue
                raise AuthError(
                    f"expected the trading network to accept a fresh token, got {_refusal(exc)}; "
                    "check that the trading_network Connection's account may read contracts",
                    method="GET",
                    url=exc.url,
                    status=exc.status,
                    api_code=exc.api_code,
                    response=exc.response,
                ) from exc
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _unwrap(self, payload: Any, method: str, url: str) -> Any:
        """`data` of a `{"code": 0, "data": ...}` envelope; a 401xx code raises `AuthError`."""
        if not isinstance(payload, dict) or "code" not in payload:
            raise UnexpectedResponse(
                f"expected a JSON envelope with code and data, got {describe(payload)}; "
                "the gateway does not speak the API this connector knows",
                method=method,
                url=safe_url(url),
            )
        code = payload.get("code")
        if code == CODE_OK:
            return payload.get("data")
        message = payload.get("message")
        if isinstance(code, int) and 40100 <= code < 40200:
            raise AuthError(
                f"expected code 0, got code {code} ({message})",
                method=method,
                url=safe_url(url),
                status=200,
                api_code=code,
            )
        raise UnexpectedResponse(
            f"expected code 0 in the answer, got code {code} ({message}); "
            "the request was accepted but refused by the application: check its parameters",
            method=method,
            url=safe_url(url),
            status=200,
            api_code=code,
        )

    # -- contracts ----------------------------------------------------------------------------------

    def iter_pages(self, updated_since: datetime | None = None, *, detail: bool = True) -> Iterator[Page]:
        """Pages of the contract listing, `updated_at >= updated_since`, in `(updated_at, contract_no)`
        order. Records repeated from the previous page are removed; memory holds two pages at most.

        Raises `PaginationError` for a repeated page token or a listing that stops advancing.
        """
        params: dict[str, Any] = {"page_size": self.page_size}
        if updated_since is not None:
            params["updated_since"] = _iso_beijing(updated_since)
        if detail:
            params["expand"] = "detail"
        return self._iter_listing(CONTRACTS_PATH, params, _listing_key, "contracts")

    def _iter_listing(self, path: str, params: dict[str, Any], key: Callable[[Any], Any], what: str) -> Iterator[Page]:
        """The pages of one keyset listing (`items`, `next_page_token`): the one paging loop of this
        client. `key` gives a raw item's place in the listing order (None: unknown), to drop the
        records a page repeats from the one before."""
        paginator = PageTokenPaginator(error=PaginationError, url=self._url(path))
        seen: PageBoundaryDeduplicator[Any] = PageBoundaryDeduplicator()
        total = 0
        while not paginator.finished:
            query = dict(params)
            if paginator.token is not None:
                query["page_token"] = paginator.token
            items, next_token = self._page_parts(self._get(path, query), paginator.pages + 1, path, what)
            seen.start_page()
            before = seen.duplicates
            kept = tuple(item for item in items if seen.is_new(key(item)))
            duplicates = seen.duplicates - before
            if duplicates:
                log.info(
                    "page %d repeated %d records of the listing; kept each once",
                    paginator.pages + 1,
                    duplicates,
                )
            paginator.advance(next_token, progressed=seen.page_progressed)
            total += len(kept)
            log.debug("page %d: %d records", paginator.pages, len(kept))
            yield Page(number=paginator.pages, items=kept, duplicates=duplicates, next_page_token=next_token)
        log.info(
            "listed %d %s in %d pages (%d repeated records dropped)",
            total,
            what,
            paginator.pages,
            seen.duplicates,
        )

    def iter_contracts(self, updated_since: datetime | None = None) -> Iterator[Contract | QuarantineItem]:
        """Every contract with `updated_at >= updated_since` (None: all), in full detail, each once per
        page boundary; records that fail validation come as `QuarantineItem`s with their reason."""
        for page in self.iter_pages(updated_since, detail=True):
            for item in page.items:
                yield parse_contract(item)

    def get_contract(self, contract_no: str) -> Contract:
        """One contract in full detail. Raises `ContractNotFound` (404) or `BadRecord` (invalid)."""
        if not contract_no or "/" in contract_no:
            raise ValueError(f"expected a contract number, got {contract_no!r}")
        path = f"{CONTRACTS_PATH}/{quote(contract_no, safe='')}"
        try:
            data = self._get(path)
        except FatalHTTPError as exc:
            if exc.status == 404:
                raise ContractNotFound(
                    f"expected contract {contract_no} on the trading network, got {_refusal(exc)}; "
                    "check the number, or whether a new contract replaced it",
                    method="GET",
                    url=exc.url,
                    status=404,
                    api_code=exc.api_code,
                    response=exc.response,
                ) from exc
            raise
        record = parse_contract(data)
        if isinstance(record, QuarantineItem):
            raise BadRecord(
                f"expected a valid contract, got {record.reason}",
                item=record,
                method="GET",
                url=safe_url(self._url(path)),
            )
        return record

    # -- permits and their building tables ----------------------------------------------------------

    def iter_permits(self) -> Iterator[Permit | QuarantineItem]:
        """Every pre-sale / sale permit the account sees, by number."""
        for page in self._iter_listing(PERMITS_PATH, {"page_size": self.page_size}, _permit_key, "permits"):
            for item in page.items:
                yield parse_permit(item)

    def iter_permit_units(
        self, permit_no: str, updated_since: datetime | None = None
    ) -> Iterator[InventoryUnit | QuarantineItem]:
        """The building table (楼盘表) of one permit: its units with `updated_at >= updated_since`
        (None: all), each once per page boundary; rows that fail validation come as `QuarantineItem`s."""
        if not permit_no or "/" in permit_no:
            raise ValueError(f"expected a permit number, got {permit_no!r}")
        params: dict[str, Any] = {"page_size": self.page_size}
        if updated_since is not None:
            params["updated_since"] = _iso_beijing(updated_since)
        path = f"{PERMITS_PATH}/{quote(permit_no, safe='')}/units"
        for page in self._iter_listing(path, params, _unit_listing_key, f"units of permit {permit_no}"):
            for item in page.items:
                yield parse_inventory_unit(item, permit_no)

    def iter_inventory(self, updated_since: datetime | None = None) -> Iterator[InventoryUnit | QuarantineItem]:
        """The building tables of every permit, permit by permit (`iter_permit_units` of each); a
        permit record that cannot be read is yielded as its `QuarantineItem` and its table skipped."""
        permits = list(self.iter_permits())  # a few hundred at most: listed before the first table
        for permit in permits:
            if isinstance(permit, QuarantineItem):
                yield permit
                continue
            for unit in self.iter_permit_units(permit.permit_no, updated_since):
                if isinstance(unit, InventoryUnit):
                    unit = replace(unit, project_code=permit.project_code, project_name=permit.project_name)
                yield unit

    def download_export(self, updated_since: datetime | None, path: str | os.PathLike[str]) -> Path:
        """Stream the contract-list export (`.xlsx`) to `path`; read it with `read_contract_export`.

        A download cut off or not a zip file is retried like any transient failure.
        """
        params = {} if updated_since is None else {"updated_since": _iso_beijing(updated_since)}
        url = self._url(EXPORT_PATH)
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self._current_token()}"}
            try:
                saved = self._http.download("GET", url, path, params=params, headers=headers, check=_check_xlsx)
            except AuthError as exc:
                if exc.api_code in RELOGIN_CODES and attempt == 1:
                    self._token = None
                    continue
                raise
            log.info("downloaded the contract export (%d bytes)", saved.stat().st_size)
            return saved
        raise AssertionError("unreachable: the second attempt returns or raises")

    # -- helpers ------------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def _page_parts(self, data: Any, number: int, path: str, what: str) -> tuple[list[Any], str | None]:
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise UnexpectedResponse(
                f"expected page {number} of the {what} list as an object with items (a list) and "
                f"next_page_token, got {describe(data)}; "
                "the gateway does not speak the API this connector knows",
                method="GET",
                url=safe_url(self._url(path)),
            )
        return data["items"], data.get("next_page_token")


def _listing_key(item: Any) -> ContractKey | None:
    """`(updated_at, contract_no)` of a raw listing item: its place in the listing order, or None."""
    if not isinstance(item, dict):
        return None
    contract_no = item.get("contract_no")
    if not isinstance(contract_no, str):
        return None
    try:
        return (to_utc(item.get("updated_at")), contract_no)
    except ValueError:
        return None


def _permit_key(item: Any) -> str | None:
    """A raw permit's place in the permit listing (its number), or None."""
    value = item.get("permit_no") if isinstance(item, dict) else None
    return value if isinstance(value, str) else None


def _unit_listing_key(item: Any) -> tuple[datetime, str] | None:
    """`(updated_at, unit_code)` of a raw building-table row: its place in the listing, or None."""
    if not isinstance(item, dict) or not isinstance(item.get("unit_code"), str):
        return None
    try:
        return (to_utc(item.get("updated_at")), item["unit_code"])
    except ValueError:
        return None


def _envelope_detail(response: requests.Response) -> tuple[int | str | None, str | None]:
    """The `code` and `message` of an error envelope, for error messages (never the body itself)."""
    try:
        body = response.json()
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    code = body.get("code")
    message = body.get("message")
    code = code if isinstance(code, int | str) else None
    text = f"code {code}: {message}" if code is not None and isinstance(message, str) else None
    return code, (text[:200] if text else None)


def _refusal(exc: TradingNetworkError) -> str:
    """`HTTP 401 (code 40101: 账号或密码错误)`: what the network answered, without the body."""
    status = f"HTTP {exc.status}" if exc.status is not None else "a refusal"
    detail = _envelope_detail(exc.response)[1] if exc.response is not None else None
    if detail is None and exc.api_code is not None:
        detail = f"code {exc.api_code}"
    return f"{status} ({detail})" if detail else status


def _check_xlsx(path: Path) -> None:
    if not zipfile.is_zipfile(path):
        raise BrokenBody(f"is not a complete .xlsx (zip) file ({path.stat().st_size} bytes)")


def _iso_beijing(moment: datetime) -> str:
    _require_aware(moment, "updated_since")
    # whole seconds, rounded down: the cursor is inclusive, so asking a little earlier is safe
    return moment.astimezone(BEIJING).replace(microsecond=0).isoformat()


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got the naive {moment.isoformat()}")
