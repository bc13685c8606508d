"""The errors every connector raises, and the classes a connector plugs into the shared HTTP session.

    ConnectorError              root: what was asked (method, URL without query), what came (status)
    ├── AuthError               credentials refused, or a session that cannot be re-established (401, 403)
    ├── RetriableError          transient, raised once the retry budget is spent: 5xx, timeouts,
    │   │                       broken connections, truncated or undecodable bodies
    │   └── RateLimited         429: the server asked us to slow down
    ├── FatalHTTPError          other 4xx, or a request that cannot be sent at all (bad URL, TLS)
    ├── UnexpectedResponse      a 2xx answer that is not what the API promises (envelope code, shape)
    │   └── PaginationError     a listing that repeats a page token or stops advancing
    └── BodyTooLarge            a body above the byte cap (announced or counted while streaming): not retried

Each connector subclasses the tree once under its own root (`TradingNetworkError`, ...), so a caller
can catch "anything from the trading network" or "anything retriable from any connector".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ConnectorError(Exception):
    """Root of every connector error; carries a summary of the request and of the response.

    `url` never has a query string or credentials; `response` (a `requests.Response`, body already
    read) is kept for code that needs the API's own error code, and never shown in the message.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        url: str | None = None,
        status: int | None = None,
        attempts: int | None = None,
        api_code: int | str | None = None,
        response: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url
        self.status = status
        self.attempts = attempts
        self.api_code = api_code
        self.response = response

    def __str__(self) -> str:
        summary = " ".join(part for part in (self.method, self.url) if part)
        if self.status is not None:
            summary = f"{summary} -> HTTP {self.status}".strip()
        if self.attempts is not None and self.attempts > 1:
            summary = f"{summary}, {self.attempts} attempts".strip(", ")
        return f"{self.message} [{summary}]" if summary else self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # keyword-only fields survive pickling (Airflow and multiprocessing move errors between processes)
        state = dict(self.__dict__)
        state["response"] = None
        return (self.__class__, (self.message,), state)


class AuthError(ConnectorError):
    """The server refused our credentials (or a fresh login did not help): fix the Connection."""


class RetriableError(ConnectorError):
    """A transient failure that outlived the retry budget; running the task again later may succeed."""


class RateLimited(RetriableError):
    """HTTP 429 until the retry budget was spent; `retry_after` is the server's last wish in seconds."""

    retry_after: float | None = None


class FatalHTTPError(ConnectorError):
    """A request the server will never accept as sent (4xx other than 401/403/429): not retried."""


class UnexpectedResponse(ConnectorError):
    """A successful HTTP answer whose content breaks the API's contract."""


class PaginationError(UnexpectedResponse):
    """A paginated listing that repeats a page token or stops advancing: following it would loop."""


class BodyTooLarge(ConnectorError):
    """A body above the session's byte cap: refused when announced, cut off while streaming; not retried."""


@dataclass(frozen=True)
class ErrorKinds:
    """The classes a connector's `HttpSession` raises: its own subclasses of the shared tree."""

    auth: type[AuthError] = AuthError
    retriable: type[RetriableError] = RetriableError
    rate_limited: type[RateLimited] = RateLimited
    fatal: type[FatalHTTPError] = FatalHTTPError
    unexpected: type[UnexpectedResponse] = UnexpectedResponse
    too_large: type[BodyTooLarge] = BodyTooLarge
