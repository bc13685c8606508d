"""Errors of the bank connectors: the shared tree of `connectors.errors`, under one root.

    BankError                       root; also a `connectors.errors.ConnectorError`
    ├── AuthError                   credentials refused (HTTP 401/403)
    │   └── SignatureRejected       the bank refused our signature; `api_code` says why:
    │                               40103 bad signature, 40104 nonce reused, 40105 timestamp outside
    │                               the 5-minute window, 40106 unknown app id
    ├── RetriableError              5xx, timeouts, broken bodies after the retry budget
    │   └── RateLimited             429 after the retry budget
    ├── FatalHTTPError              other 4xx: a request the bank will never accept as sent
    ├── UnexpectedResponse          a 2xx answer that breaks the API contract (envelope code, shape)
    │   └── PaginationError         a listing that repeats a page or stops advancing
    └── StatementError              a statement or loan-list file that cannot be loaded as a whole
        ├── UnknownLayout           no known layout's header in the file's first lines
        └── TotalsMismatch          the rows do not add up to the file's own totals line

Row-level problems of a statement are not errors: they come out as quarantine items.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors import errors as base

# The error codes of the signed loan-progress APIs (every bank of the sandbox, in its own envelope).
SIGNATURE_MISMATCH = 40103
NONCE_REUSED = 40104
TIMESTAMP_OUT_OF_WINDOW = 40105
UNKNOWN_APP_ID = 40106
SIGNATURE_CODES = frozenset({SIGNATURE_MISMATCH, NONCE_REUSED, TIMESTAMP_OUT_OF_WINDOW, UNKNOWN_APP_ID})


class BankError(base.ConnectorError):
    """Anything that went wrong reading a bank or the provident-fund centre."""


class AuthError(BankError, base.AuthError):
    """The bank refused our credentials: check the app id and secret of the `bank_<code>` Connection."""


class SignatureRejected(AuthError):
    """The bank refused the signature of a request; `api_code` is one of the signature codes."""


class RetriableError(BankError, base.RetriableError):
    """The bank kept failing transiently (5xx, timeouts, broken bodies) until the retries ran out."""


class RateLimited(RetriableError, base.RateLimited):
    """The bank kept answering 429 until the retries ran out."""


class FatalHTTPError(BankError, base.FatalHTTPError):
    """The bank refused the request as sent (400, 404, other 4xx); retrying cannot help."""


class UnexpectedResponse(BankError, base.UnexpectedResponse):
    """A successful answer whose envelope or shape is not what the bank's API promises."""


class ResponseSignatureInvalid(UnexpectedResponse):
    """An answer of the bank whose signature is missing or wrong: altered on the way, or not the bank's."""


class PaginationError(UnexpectedResponse, base.PaginationError):
    """A loan listing that handed back a page twice, or stopped advancing."""


class StatementError(BankError):
    """A statement (or loan-list) file that cannot be loaded as a whole; `file_name` names it."""

    def __init__(self, message: str, *, file_name: str | None = None, **summary: Any) -> None:
        super().__init__(message, **summary)
        self.file_name = file_name


class UnknownLayout(StatementError):
    """No known layout's header row among the first lines of the file."""


class UnreadableFile(StatementError):
    """A file whose container cannot be read: a CSV field over the csv module's limit, a broken
    `.xls`/`.xlsx`, bytes that are no table at all."""


class AccountMismatch(StatementError):
    """The account the caller gave (`--account`, a listing) is not the account the file states."""


class MissingTotals(StatementError):
    """A file of a layout that always ends with a totals line ends without one: cut short."""


class TotalsMismatch(StatementError):
    """The parsed rows do not add up to the file's totals line.

    `differences` maps `"credit"` / `"debit"` (amounts) and `"credit_count"` / `"debit_count"` to
    `(rows, totals)` pairs that differ; `difference(name)` is rows minus totals.
    """

    def __init__(
        self,
        message: str,
        *,
        file_name: str,
        totals_line: int,
        differences: dict[str, tuple[Decimal, Decimal]],
    ) -> None:
        super().__init__(message, file_name=file_name)
        self.totals_line = totals_line
        self.differences = differences

    def difference(self, name: str) -> Decimal:
        rows, totals = self.differences[name]
        return rows - totals


ERROR_KINDS = base.ErrorKinds(
    auth=AuthError,
    retriable=RetriableError,
    rate_limited=RateLimited,
    fatal=FatalHTTPError,
    unexpected=UnexpectedResponse,
)
