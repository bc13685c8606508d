"""The HTTP session every connector speaks through: timeouts, retries, back-off, safe logging.

One place decides what is retriable (`RetryPolicy`): 429, 500, 502, 503, 504, connection errors,
timeouts, and bodies that arrive truncated or cannot be decoded. Other 4xx answers are fatal (401 and
403 as `AuthError`). Waits grow exponentially with jitter up to a cap; a `Retry-After` header
(seconds or an HTTP date) is honoured up to its own cap. The attempt budget covers every cause.

Every body is read as a stream under a byte cap and a deadline (`max_body_bytes`, `body_deadline`;
per call for `download`): a `Content-Length` above the cap is refused before the body is read, and a
body without one (chunked, or a server that lies) is cut off as soon as the bytes counted pass the
cap (`BodyTooLarge`, not retried); the count is of decoded bytes, so a gzip bomb stops there too. A
body still arriving when the deadline passes is dropped and the attempt retried like a read timeout.
The deadline is checked as each chunk arrives; the read timeout bounds the wait for one chunk.

Logs name the method, the URL without query string, the status and the attempt; never headers,
tokens or bodies.

A process forked from one that holds sessions (a sync's read-ahead process) starts with their pools
empty: a pooled connection is the parent's (a TLS connection's state cannot be shared, and a response one
process half read would be read by the other), so the child opens its own. The parent's connections stay
open for the parent.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import tempfile
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
import requests.auth

from connectors.errors import ConnectorError, ErrorKinds, RateLimited

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRIABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_MAX_BODY_BYTES = 128 * 1024 * 1024
DEFAULT_BODY_DEADLINE = 600.0
ERROR_BODY_BYTES = 1024 * 1024  # of an error answer, read for its message only
_CHUNK = 1 << 16

# Failures of the transport that a later attempt may not meet. TLS errors are ConnectionErrors in
# requests but are fatal here (a certificate does not fix itself); see `_send`.
_TRANSIENT_EXCEPTIONS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)

ErrorDetail = Callable[[requests.Response], "tuple[int | str | None, str | None]"]


class BrokenBody(Exception):
    """Raised by a body reader when a 2xx body is truncated or undecodable: the attempt is retried."""


class _Oversized(Exception):
    """The body passed the byte cap; `_send` turns it into the connector's `too_large` error."""

    def __init__(self, limit: int, seen: int, *, announced: bool) -> None:
        how = "the server announced" if announced else "the stream had already sent"
        super().__init__(f"expected a body of at most {limit} bytes, {how} {seen}")


@dataclass(frozen=True)
class BodyLimits:
    """How much of one body is read (`max_bytes`, decoded) and for how long (`deadline`, seconds)."""

    max_bytes: int = DEFAULT_MAX_BODY_BYTES
    deadline: float = DEFAULT_BODY_DEADLINE

    def __post_init__(self) -> None:
        if self.max_bytes < 1 or self.deadline <= 0:
            raise ValueError(f"expected a positive byte cap and deadline, got {self.max_bytes} and {self.deadline}")


def iter_body(
    response: requests.Response,
    limits: BodyLimits,
    *,
    clock: Callable[[], float] = time.monotonic,
    chunk_size: int = _CHUNK,
) -> Iterator[bytes]:
    """The chunks of a streamed body, refused or cut off at the byte cap and at the deadline."""
    announced = response.headers.get("Content-Length", "").strip()
    if announced.isdigit() and int(announced) > limits.max_bytes:
        raise _Oversized(limits.max_bytes, int(announced), announced=True)
    started = clock()
    seen = 0
    for chunk in response.iter_content(chunk_size=chunk_size):
        seen += len(chunk)
        if seen > limits.max_bytes:
            raise _Oversized(limits.max_bytes, seen, announced=False)
        if clock() - started > limits.deadline:
            raise BrokenBody(f"was still arriving after the {limits.deadline:g} s body deadline ({seen} bytes)")
        yield chunk


def read_capped(
    response: requests.Response, limits: BodyLimits, *, clock: Callable[[], float] = time.monotonic
) -> bytes:
    """The whole body of a streamed response, under `limits` (see `iter_body`)."""
    return b"".join(iter_body(response, limits, clock=clock))


@dataclass(frozen=True)
class RetryPolicy:
    """What is retried, how often, and how long to wait in between.

    The wait before attempt n+1 is `backoff_initial * backoff_multiplier ** (n - 1)`, capped at
    `backoff_max`, of which a random share up to `jitter` is taken off (0: none, 1: "full jitter").
    A `Retry-After` header replaces that wait, capped at `retry_after_max`.
    """

    max_attempts: int = 5
    backoff_initial: float = 0.5
    backoff_multiplier: float = 2.0
    backoff_max: float = 30.0
    jitter: float = 0.5
    retry_after_max: float = 120.0
    retriable_statuses: frozenset[int] = RETRIABLE_STATUSES

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"jitter is a share of the wait between 0 and 1, got {self.jitter}")
        if min(self.backoff_initial, self.backoff_max, self.retry_after_max) < 0:
            raise ValueError("waits cannot be negative")

    def is_retriable_status(self, status: int) -> bool:
        return status in self.retriable_statuses

    def backoff(self, attempt: int, draw: float = 1.0) -> float:
        """The wait after failed attempt `attempt` (1-based); `draw` is a random number in [0, 1)."""
        exponent = min(attempt - 1, 64)  # beyond this the cap wins anyway; keeps the power finite
        wait = min(self.backoff_max, self.backoff_initial * self.backoff_multiplier**exponent)
        return wait * (1.0 - self.jitter * draw)

    def wait(self, attempt: int, retry_after: float | None, draw: float = 1.0) -> float:
        """The wait before the next attempt: the server's `Retry-After` (capped) when it sent one."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_max)
        return self.backoff(attempt, draw)


NO_RETRY = RetryPolicy(max_attempts=1)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP date); None when absent or bad."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        log.warning("ignoring a Retry-After header that is neither seconds nor an HTTP date")
        return None
    return max(when.timestamp() - now, 0.0)


def safe_url(url: str) -> str:
    """The URL without query string, fragment or credentials: what logs and error messages may show."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _status_text(response: requests.Response) -> str:
    return f"HTTP {response.status_code} {response.reason or ''}".strip()


@dataclass
class _Failure:
    """One failed attempt that may be retried."""

    kind: type[ConnectorError]
    problem: str
    status: int | None = None
    retry_after: float | None = None
    cause: BaseException | None = None
    response: requests.Response | None = None
    api_code: int | str | None = None


_SESSIONS: weakref.WeakSet[HttpSession] = weakref.WeakSet()  # every live one, for a forked child


def _forget_inherited_connections() -> None:
    """In a forked child: every session's pools emptied. Closing the child's copies of the sockets (no
    shutdown) leaves the connections open for the parent."""
    for session in list(_SESSIONS):
        session._session.close()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_inherited_connections)


class HttpSession:
    """A `requests.Session` with a timeout on every call and one retry policy.

    `timeout` is seconds for both connecting and reading, or a `(connect, read)` pair. `body` caps the
    bytes and the time of every body read (see the module docstring). `errors` are the classes to
    raise (a connector passes its own subclasses); `error_detail` reads the API's own code and message
    from an error response, for messages. `sleep`, `clock` and `rand` are for tests.
    """

    def __init__(
        self,
        *,
        timeout: float | tuple[float, float] = 30.0,
        retry: RetryPolicy | None = None,
        body: BodyLimits | None = None,
        session: requests.Session | None = None,
        errors: ErrorKinds | None = None,
        error_detail: ErrorDetail | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
    ) -> None:
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        if connect <= 0 or read <= 0:
            raise ValueError(f"timeouts must be positive seconds, got connect={connect} read={read}")
        self.timeout = (float(connect), float(read))
        self.retry = retry or RetryPolicy()
        self.body = body or BodyLimits()
        self.errors = errors or ErrorKinds()
        self._owns_session = session is None
        self._session = session or requests.Session()
        self._error_detail = error_detail
        self._sleep = sleep
        self._clock = clock
        self._rand = rand
        _SESSIONS.add(self)

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> HttpSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def request_json(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: requests.auth.AuthBase | None = None,
        check: Callable[[bytes], None] | None = None,
    ) -> Any:
        """Send the request (retrying per policy) and return the decoded JSON body of the 2xx answer.

        `auth` is applied to every attempt afresh (a signature with a new nonce and timestamp each time).
        `check(body)` may refuse the body once it is read, before anything in it is decoded (a bank's
        response signature: the body streams, so a response hook cannot see it).
        """
        merged = {"Accept": "application/json", **(headers or {})}

        def decode(response: requests.Response) -> Any:
            body = read_capped(response, self.body)
            if check is not None:
                check(body)
            return _decode_json(body)

        return self._send(method, url, params, json_body, merged, stream=True, read_body=decode, auth=auth)

    def download(
        self,
        method: str,
        url: str,
        path: str | os.PathLike[str],
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        check: Callable[[Path], None] | None = None,
        chunk_size: int = _CHUNK,
        auth: requests.auth.AuthBase | None = None,
        body: BodyLimits | None = None,
    ) -> Path:
        """Stream a 2xx body to `path` (through a temporary file beside it, renamed when complete).

        `body` replaces the session's byte cap and deadline for this download. `check(temp_path)` may
        raise `BrokenBody` for a file that arrived but is unusable; like a broken stream, that attempt
        is retried from the start.
        """
        limits = body or self.body
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)

        def save(response: requests.Response) -> Path:
            fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
            temp = Path(temp_name)
            try:
                with os.fdopen(fd, "wb") as out:
                    for chunk in iter_body(response, limits, chunk_size=chunk_size):
                        out.write(chunk)
                if check is not None:
                    check(temp)
                temp.replace(target)
            finally:
                temp.unlink(missing_ok=True)
            return target

        return self._send(method, url, params, None, dict(headers or {}), stream=True, read_body=save, auth=auth)

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        headers: Mapping[str, str],
        *,
        stream: bool,
        read_body: Callable[[requests.Response], T],
        auth: requests.auth.AuthBase | None = None,
    ) -> T:
        policy = self.retry
        shown = safe_url(url)
        failure: _Failure | None = None
        for attempt in range(1, policy.max_attempts + 1):
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    headers=headers,
                    timeout=self.timeout,
                    stream=stream,
                    auth=auth,
                )
            except requests.exceptions.SSLError as exc:
                raise self.errors.fatal(
                    f"expected a TLS connection, got a TLS error ({type(exc).__name__}); "
                    "check the server certificate and the base URL of the Connection",
                    method=method,
                    url=shown,
                ) from exc
            except _TRANSIENT_EXCEPTIONS as exc:
                failure = _Failure(self.errors.retriable, _describe_transport(exc), cause=exc)
            except requests.exceptions.RequestException as exc:
                raise self.errors.fatal(
                    f"the request could not be sent ({type(exc).__name__}); check the base URL of the Connection",
                    method=method,
                    url=shown,
                ) from exc
            else:
                try:
                    log.debug(
                        "%s %s -> %s (attempt %d/%d)",
                        method,
                        shown,
                        response.status_code,
                        attempt,
                        policy.max_attempts,
                    )
                    failure = self._judge(method, shown, response)
                    if failure is None:
                        return read_body(response)
                except _Oversized as exc:
                    raise self.errors.too_large(
                        f"{exc}; the body was not read further: raise the byte cap if this answer must be read",
                        method=method,
                        url=shown,
                        status=response.status_code,
                    ) from None
                except (*_TRANSIENT_EXCEPTIONS, BrokenBody) as exc:
                    failure = _Failure(
                        self.errors.retriable,
                        f"a {response.status_code} answer whose body {_describe_body_problem(exc)}",
                        status=response.status_code,
                        cause=exc,
                    )
                finally:
                    response.close()
            if attempt == policy.max_attempts:
                break
            wait = policy.wait(attempt, failure.retry_after, self._rand())
            log.warning(
                "%s %s: %s (attempt %d/%d); retrying in %.2f s",
                method,
                shown,
                failure.problem,
                attempt,
                policy.max_attempts,
                wait,
            )
            self._sleep(wait)
        assert failure is not None  # the loop runs at least once and only breaks after a failure
        raise self._give_up(method, shown, failure, policy.max_attempts) from failure.cause

    def _judge(self, method: str, shown: str, response: requests.Response) -> _Failure | None:
        """None for a 2xx answer; a retriable `_Failure`; or raise the fatal error for this status."""
        status = response.status_code
        if 200 <= status < 300:
            return None
        _preload_error_body(response, self.body)
        code, detail = self._detail(response)
        said = f"{_status_text(response)}" + (f" ({detail})" if detail else "")
        if self.retry.is_retriable_status(status):
            retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock())
            kind = self.errors.rate_limited if status == 429 else self.errors.retriable
            return _Failure(kind, said, status=status, retry_after=retry_after, response=response, api_code=code)
        if status in (401, 403):
            raise self.errors.auth(
                f"expected the server to accept our credentials, got {said}; "
                "check the account and password (or key) of the Connection",
                method=method,
                url=shown,
                status=status,
                api_code=code,
                response=response,
            )
        if 300 <= status < 400:
            problem = f"expected a 2xx answer, got a redirect {said} that was not followed"
        else:
            problem = f"expected a 2xx answer, got {said}"
        raise self.errors.fatal(
            f"{problem}; this request is not retried: fix the request (parameters, identifiers) it names",
            method=method,
            url=shown,
            status=status,
            api_code=code,
            response=response,
        )

    def _detail(self, response: requests.Response) -> tuple[int | str | None, str | None]:
        if self._error_detail is None:
            return None, None
        return self._error_detail(response)

    def _give_up(self, method: str, shown: str, failure: _Failure, attempts: int) -> ConnectorError:
        if attempts > 1:
            message = f"expected a 2xx answer within {attempts} attempts, the last one got {failure.problem}"
        else:
            message = f"expected a 2xx answer, got {failure.problem} (retries are disabled)"
        if issubclass(failure.kind, RateLimited):
            message += "; the server is throttling us: lower the request rate or run again later"
        else:
            message += "; the server or the network is failing: run again later (the task's retries will)"
        error = failure.kind(
            message,
            method=method,
            url=shown,
            status=failure.status,
            attempts=attempts,
            api_code=failure.api_code,
            response=failure.response,
        )
        if isinstance(error, RateLimited):
            error.retry_after = failure.retry_after
        return error


def _preload_error_body(response: requests.Response, limits: BodyLimits) -> None:
    """Read at most `ERROR_BODY_BYTES` of an error answer, so that `response.content` (read by a
    connector's `error_detail`) is never an unbounded read; the rest of the body is dropped."""
    kept = bytearray()
    cap = min(limits.max_bytes, ERROR_BODY_BYTES)
    try:
        for chunk in response.iter_content(chunk_size=_CHUNK):
            kept += chunk[: cap - len(kept)]
            if len(kept) >= cap:
                break
    except _TRANSIENT_EXCEPTIONS:
        pass  # the error answer's body is only read for its message; the status decides what follows
    response._content = bytes(kept)
    response._content_consumed = True


def _decode_json(body: bytes) -> Any:
    if not body:
        raise BrokenBody("is empty, expected JSON")
    try:
        value = json.loads(body)
    except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError
        raise BrokenBody(f"is not complete JSON ({len(body)} bytes, {type(exc).__name__})") from exc
    if b"\\ud" in body or b"\\uD" in body:  # a surrogate written as an escape: maybe half a character
        value = whole_characters(value)
    return value


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def whole_characters(value: Any) -> Any:
    """`value` (decoded JSON) with each half of a character in its texts and keys replaced by U+FFFD.

    JSON may carry a lone UTF-16 surrogate as an escape (`"\\ud83c"`): what a system that cuts text by
    UTF-16 units (.NET, Java) leaves of an emoji at the end of a memo. Python decodes it to a string that no
    UTF-8 encoder, and so no database, hash or log file, accepts; one such memo would stop every run of a
    sync at the same record. It becomes U+FFFD, the character every decoder puts for what it cannot read, as
    NUL does when it is stored (`estatehub.warehouse.redact`); the rest of the record is kept as it came."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [whole_characters(item) for item in value]
    if isinstance(value, dict):
        return {whole_characters(key): whole_characters(item) for key, item in value.items()}
    return value


def _describe_transport(exc: BaseException) -> str:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "no connection within the connect timeout"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "no answer within the read timeout"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "a body cut off in transit"
    if isinstance(exc, requests.exceptions.ConnectionError) and "timed out" in str(exc).lower():
        return "no answer within the read timeout"
    return f"a broken connection ({type(exc).__name__})"


def _describe_body_problem(exc: BaseException) -> str:
    if isinstance(exc, BrokenBody):
        return str(exc)
    if isinstance(exc, requests.exceptions.Timeout | requests.exceptions.ConnectionError):
        return "stalled past the read timeout or the connection broke"
    return "was cut off in transit"
