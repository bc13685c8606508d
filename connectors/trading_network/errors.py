"""Errors of the trading network connector: the shared tree of `connectors.errors`, under one root.

    TradingNetworkError             root; also a `connectors.errors.ConnectorError`
    ├── AuthError                   login refused (40101), or a fresh token refused at once
    ├── RetriableError              5xx, timeouts, broken bodies after the retry budget
    │   └── RateLimited             429 after the retry budget
    ├── FatalHTTPError              400 (bad parameter, 40001 bad page token), other 4xx
    │   └── ContractNotFound        404 on a contract detail
    ├── UnexpectedResponse          a 2xx answer that breaks the API contract (envelope code, shape)
    │   └── PaginationError         a repeated page token, a listing that stops advancing
    ├── BadRecord                   `get_contract` got a contract that fails validation
    └── ExportFormatError           an export file that is not the contract-list layout

Each class is also the matching shared class (`AuthError` is a `connectors.errors.AuthError`), so a
caller may catch by connector or by kind.
"""

from __future__ import annotations

from typing import Any

from connectors import errors as base


class TradingNetworkError(base.ConnectorError):
    """Anything that went wrong talking to the housing trading network."""


class AuthError(TradingNetworkError, base.AuthError):
    """The network refused the account, or refused a token it had just issued."""


class RetriableError(TradingNetworkError, base.RetriableError):
    """The network kept failing transiently (5xx, timeouts, broken bodies) until the retries ran out."""


class RateLimited(RetriableError, base.RateLimited):
    """The network kept answering 429 until the retries ran out."""


class FatalHTTPError(TradingNetworkError, base.FatalHTTPError):
    """The network refused the request as sent (400, 404, other 4xx); retrying cannot help."""


class ContractNotFound(FatalHTTPError):
    """No contract with that number on the network (HTTP 404)."""


class UnexpectedResponse(TradingNetworkError, base.UnexpectedResponse):
    """A successful answer whose envelope or shape is not what the API document promises."""


class PaginationError(UnexpectedResponse, base.PaginationError):
    """The contract listing handed back a page token twice, or stopped advancing."""


class BadRecord(TradingNetworkError):
    """A single contract that fails validation, where the caller asked for that one contract."""

    def __init__(self, message: str, *, item: Any = None, **summary: Any) -> None:
        super().__init__(message, **summary)
        self.item = item  # the QuarantineItem with the reason and the payload


class ExportFormatError(TradingNetworkError):
    """An export file that cannot be read as the contract-list export (no header row, not .xlsx)."""


ERROR_KINDS = base.ErrorKinds(
    auth=AuthError,
    retriable=RetriableError,
    rate_limited=RateLimited,
    fatal=FatalHTTPError,
    unexpected=UnexpectedResponse,
)
