"""One interface for every bank, and the signed transport the adapters share.

    with make_client("icbc", "https://...", app_id="...", secret="...") as bank:
        for item in bank.iter_loans(updated_since):          # Loan or QuarantineItem
            ...
        for file in bank.list_statement_files(first, last):  # StatementFile
            path = bank.download_statement(file, folder)     # then StatementReader(path, bank="icbc")

`SignedApi` wraps the shared `HttpSession` (timeouts, retries with back-off, Retry-After) around a
`requests.Session` whose auth is a `RequestSigner`, so each attempt is signed afresh. A 401 whose code
says the timestamp is outside the bank's window carries the bank's clock (`X-Server-Time`): the
signer takes the offset and the call is made once more. Other signature codes raise
`SignatureRejected`; a bank that keeps failing raises `RetriableError` after the retry budget, and only
that bank's calls fail.
"""

from __future__ import annotations

import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import requests

from connectors.banks import errors
from connectors.banks.records import CollectionAccount, Loan, QuarantineItem, StatementFile, SupervisionRecord
from connectors.banks.signing import HEADER_SERVER_TIME, RequestSigner
from connectors.banks.supervision import parse_account, parse_supervision
from connectors.files import UnsafeName, check_outside_name, inside, local_name, name_by_content, suffix_of
from connectors.http import HttpSession, RetryPolicy, safe_url

log = logging.getLogger(__name__)

LoanItem = Loan | QuarantineItem
AccountItem = CollectionAccount | QuarantineItem
SupervisionItem = SupervisionRecord | QuarantineItem
# reads (api_code, message) from an error body of the bank's own envelope
EnvelopeReader = Callable[[Any], "tuple[int | str | None, str | None]"]


def envelope_detail(code_key: str, message_key: str) -> Callable[[requests.Response], tuple[Any, Any]]:
    """An `error_detail` for `HttpSession`: the bank's code and message from a JSON error body."""

    def detail(response: requests.Response) -> tuple[Any, Any]:
        try:
            body = json.loads(response.content or b"null")
        except ValueError:
            return None, None
        if not isinstance(body, dict):
            return None, None
        code = body.get(code_key)
        if isinstance(code, str) and code.isdigit():
            code = int(code)
        message = body.get(message_key)
        return code, message if isinstance(message, str) else None

    return detail


class SignedApi:
    """The HTTP side of one bank: base URL, signed requests, retries, clock-skew recovery."""

    def __init__(
        self,
        base_url: str,
        *,
        app_id: str,
        secret: str,
        error_detail: Callable[[requests.Response], tuple[Any, Any]],
        timeout: float | tuple[float, float] = 30.0,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        verify_responses: bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.signer = RequestSigner(app_id, secret, clock=clock, verify_responses=verify_responses)
        session = requests.Session()
        session.auth = self.signer
        session.trust_env = False  # no proxies or .netrc credentials from the environment
        self._session = session
        self.http = HttpSession(
            timeout=timeout,
            retry=retry,
            session=session,
            errors=errors.ERROR_KINDS,
            error_detail=error_detail,
            sleep=sleep,
            clock=clock,
        )

    def close(self) -> None:
        self.http.close()
        self._session.close()

    def url(self, path: str) -> str:
        return self.base_url + path

    def request_json(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json_body: Any = None
    ) -> Any:
        check = self.signer.check_body if self.signer.verify_responses else None
        return self._signed(
            lambda: self.http.request_json(method, self.url(path), params=params, json_body=json_body, check=check)
        )

    def download(self, path: str, target: Path, *, params: Mapping[str, Any] | None = None) -> Path:
        check = self.signer.check_download if self.signer.verify_responses else None
        return self._signed(lambda: self.http.download("GET", self.url(path), target, params=params, check=check))

    def _signed(self, call: Callable[[], Any]) -> Any:
        """Make `call`; after a clock-skew or reused-nonce refusal, once more with a fresh signature."""
        try:
            return call()
        except errors.AuthError as exc:
            if exc.api_code == errors.TIMESTAMP_OUT_OF_WINDOW and self._learn_clock(exc):
                log.warning(
                    "%s: our clock is %+.0f s off the bank's; signing with its time", exc.url, -self.signer.offset
                )
            elif exc.api_code != errors.NONCE_REUSED:
                raise self._rejected(exc) from exc
        try:
            return call()
        except errors.AuthError as exc:
            raise self._rejected(exc) from exc

    def _learn_clock(self, exc: errors.AuthError) -> bool:
        """Follow the bank's clock from a 40105 answer (signed: checked with every answer), within
        `MAX_CLOCK_OFFSET_SECONDS`; False when the answer names no usable time or one too far off."""
        response = exc.response
        if response is not None and getattr(response, "signature_verified", None) is False:
            log.error("%s: the bank's time came in an answer whose signature does not match: not followed", exc.url)
            return False
        text = response.headers.get(HEADER_SERVER_TIME) if response is not None else None
        try:
            server_time = float(text) if text else None
        except ValueError:
            server_time = None
        if server_time is None:
            return False
        try:
            self.signer.learn_server_time(server_time)
        except ValueError as refused:
            log.error("%s: %s: not followed; check the machine's clock (NTP)", exc.url, refused)
            return False
        return True

    @staticmethod
    def _rejected(exc: errors.AuthError) -> errors.AuthError:
        if exc.api_code not in errors.SIGNATURE_CODES:
            return exc
        what = {
            errors.SIGNATURE_MISMATCH: "the signature does not match: check the secret of the Connection",
            errors.NONCE_REUSED: "a nonce was refused as reused twice in a row: check that one client signs each call",
            errors.TIMESTAMP_OUT_OF_WINDOW: "the timestamp is outside the bank's 5-minute window even after "
            "aligning with the bank's clock (followed up to 30 minutes off ours): check the machine's clock (NTP)",
            errors.UNKNOWN_APP_ID: "the bank does not know the app id: check the login of the Connection",
        }[exc.api_code]
        return errors.SignatureRejected(
            f"expected the bank to accept our signed request, got code {exc.api_code}: {what}",
            method=exc.method,
            url=exc.url,
            status=exc.status,
            api_code=exc.api_code,
        )


class BankClient(ABC):
    """What every bank adapter answers. `code` is the bank's code (`icbc`, `ccb`, `cmb`, `hpf`)."""

    code: str = ""
    has_statements = True

    def __init__(self, api: SignedApi) -> None:
        self.api = api

    def close(self) -> None:
        self.api.close()

    def __enter__(self) -> BankClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @abstractmethod
    def iter_loans(self, updated_since: datetime | None = None) -> Iterator[LoanItem]:
        """Every loan updated at or after `updated_since` (aware), as it stands now; bad records as
        quarantine items."""

    @abstractmethod
    def list_statement_files(self, date_from: date, date_to: date) -> list[StatementFile]:
        """The daily statement files published for days in the range (corrected ones as version 2+)."""

    def statement_request(self, file: StatementFile) -> tuple[str, dict[str, str] | None]:
        """The API path and query that download one listed file (adapters with statements override it)."""
        raise errors.FatalHTTPError(f"{self.code} publishes no statement files")

    def download_statement(self, file: StatementFile, folder: Path) -> Path:
        """Download one listed file into `folder`, under a name this side makes (bank, account, period,
        version, content hash: `connectors.files`); returns its path. A listed name that would be a path
        (`../x`, `a/b`, `/x`, `C:x`) is refused with `UnexpectedResponse`, nothing saved."""
        try:
            check_outside_name(file.file_name)
        except UnsafeName as exc:
            raise errors.UnexpectedResponse(
                f"expected the bank to list plain file names, got one that is a path: {exc}",
                url=safe_url(self.api.base_url),
            ) from exc
        path, params = self.statement_request(file)
        account = "".join(char for char in file.account_no if char.isalnum())[-4:]
        stem = local_name(
            self.code,
            account,
            f"{file.period_start:%Y%m%d}",
            f"{file.period_end:%Y%m%d}",
            f"v{file.version}",
            suffix=suffix_of(file.file_name),
        )
        return self.save(path, folder, stem, params=params)

    def save(self, path: str, folder: str | Path, name: str, *, params: Mapping[str, Any] | None = None) -> Path:
        """Download API `path` into `folder` as `name` (a local name) plus its content hash."""
        return name_by_content(self.api.download(path, inside(folder, name), params=params))

    @abstractmethod
    def download_period(self, date_from: date, date_to: date, folder: Path) -> Path:
        """Download one statement covering the whole period (as a clerk exports by hand)."""

    # -- collection accounts and supervision (docs/bank_accounts_api.md) ---------------------------------

    accounts_path: str | None = None  # None: the bank holds no collection account (the fund centre)

    def unwrap(self, body: Any, url: str) -> Any:
        """The data inside the bank's success envelope (each adapter knows its own)."""
        raise NotImplementedError

    def _listed(self, path: str, key: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        url = self.api.url(path)
        data = self.unwrap(self.api.request_json("GET", path, params=params), url)
        items = data.get(key) if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise shape_error(f"a list in data.{key}", url)
        return items

    def iter_accounts(self) -> Iterator[AccountItem]:
        """The developer's collection accounts at this bank: which is supervised, for which pre-sale
        permit, with its key-supervision amount; a record that does not parse as a quarantine item."""
        if self.accounts_path is None:
            return
        for record in self._listed(self.accounts_path, "accounts"):
            yield parse_account(self.code, record)

    def iter_supervision(self, date_from: date, date_to: date) -> Iterator[SupervisionItem]:
        """The bank's supervision records dated in the range: refund approvals and releases (拨付)."""
        if self.accounts_path is None:
            return
        params = {"date_from": f"{date_from:%Y%m%d}", "date_to": f"{date_to:%Y%m%d}"}
        for record in self._listed(self.accounts_path + "/supervision", "records", params):
            yield parse_supervision(self.code, record)

    def describe(self) -> str:
        return f"{self.code} at {safe_url(self.api.base_url)}"


def check_envelope(ok: bool, body: Any, code: Any, message: Any, url: str) -> None:
    if not ok:
        raise errors.UnexpectedResponse(
            f"expected a success envelope, got code {code!r} ({message or 'no message'}); "
            "the bank refused the call in its body: see its message",
            url=safe_url(url),
            api_code=code,
        )


def shape_error(what: str, url: str) -> errors.UnexpectedResponse:
    return errors.UnexpectedResponse(
        f"expected {what} in the bank's answer, got something else; the API may have changed",
        url=safe_url(url),
    )
