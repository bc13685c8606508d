"""Errors of the finance ledger connector: the shared tree of `connectors.errors`, under one root.

LedgerError                     root; also a `connectors.errors.ConnectorError`
├── AuthError                   login refused (LoginResultType ≠ 1), or a fresh session lost at once
├── RetriableError              5xx, timeouts, broken bodies after the retry budget
│   └── RateLimited             429 after the retry budget
├── FatalHTTPError              4xx other than 401/403/429
└── UnexpectedResponse          a 2xx answer that breaks the API's contract (not rows, not an error)
    ├── QueryError              the ERP refused the query (unknown form or field, bad filter)
    └── PaginationError         a listing that stops advancing
"""

from __future__ import annotations

from connectors import errors as base


class LedgerError(base.ConnectorError):
    """Anything that went wrong talking to the finance ERP."""


class AuthError(LedgerError, base.AuthError):
    """The ERP refused the account, or lost a session it had just opened."""


class RetriableError(LedgerError, base.RetriableError):
    """The ERP kept failing transiently until the retries ran out."""


class RateLimited(RetriableError, base.RateLimited):
    """The ERP (or its gateway) kept answering 429 until the retries ran out."""


class FatalHTTPError(LedgerError, base.FatalHTTPError):
    """The ERP refused the request as sent; retrying cannot help."""


class UnexpectedResponse(LedgerError, base.UnexpectedResponse):
    """A successful answer whose shape is not what the ERP's Web API returns."""


class QueryError(UnexpectedResponse):
    """The ERP answered a query with its error object (unknown form or field key, bad filter string)."""


class PaginationError(UnexpectedResponse, base.PaginationError):
    """A listing whose pages stop advancing (every row of a page unreadable, again and again)."""


ERROR_KINDS = base.ErrorKinds(
    auth=AuthError,
    retriable=RetriableError,
    rate_limited=RateLimited,
    fatal=FatalHTTPError,
    unexpected=UnexpectedResponse,
)
