"""Request signing of the banks' loan-progress APIs: HMAC-SHA256 over method, path, query and body.

The string to sign is seven lines joined by `\\n` (no trailing newline):

    GET                                    the method, upper case
    /api/icbc/v1/loans                     the path as sent (percent-encoded, no query)
    page_no=1&updated_since=20250101000000 the query: pairs sorted by name then value, each part
                                           percent-encoded (RFC 3986 unreserved kept), joined by &
    estatehub-icbc                         the app id
    1735689600                             the timestamp: Unix seconds
    6f1c0a3e9b2d4c5f8a7e6d5c4b3a2918       the nonce: 32 hex characters, never used twice
    e3b0c44298fc1c149afbf4c8996fb924...    SHA-256 of the body bytes, hex (of b"" when there is none)

The signature is the lower-case hex HMAC-SHA256 of that string under the app secret. It travels in
headers `X-App-Id`, `X-Timestamp`, `X-Nonce`, `X-Signature`. The bank rejects a bad signature
(40103), a nonce it has seen within the window (40104), a timestamp more than 5 minutes from its own
clock (40105) and an unknown app id (40106).

Client and server share this module: `string_to_sign` and `sign` are the only implementation.
`RequestSigner` plugs into `requests` as an auth object, so every attempt of a retried request is
signed afresh (a new timestamp and nonce), and carries a clock offset learnt from the bank.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import parse_qsl, quote, urlsplit

import requests
from requests.auth import AuthBase

HEADER_APP_ID = "X-App-Id"
HEADER_TIMESTAMP = "X-Timestamp"
HEADER_NONCE = "X-Nonce"
HEADER_SIGNATURE = "X-Signature"
# sent back by the bank with a 40105 answer: its own clock, Unix seconds
HEADER_SERVER_TIME = "X-Server-Time"

WINDOW_SECONDS = 300
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()

QueryPairs = Iterable[tuple[str, str]]


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_query(query: Mapping[str, str] | QueryPairs | str | None) -> str:
    """The query as signed: decoded pairs re-encoded, sorted by name then value, joined by `&`."""
    if not query:
        return ""
    if isinstance(query, str):
        pairs = parse_qsl(query, keep_blank_values=True)
    elif isinstance(query, Mapping):
        pairs = list(query.items())
    else:
        pairs = list(query)
    encoded = sorted((_encode(str(name)), _encode(str(value))) for name, value in pairs)
    return "&".join(f"{name}={value}" for name, value in encoded)


def body_digest(body: bytes | str | None) -> str:
    if not body:
        return EMPTY_BODY_SHA256
    data = body.encode("utf-8") if isinstance(body, str) else body
    return hashlib.sha256(data).hexdigest()


def string_to_sign(
    method: str,
    path: str,
    query: Mapping[str, str] | QueryPairs | str | None,
    body: bytes | str | None,
    *,
    app_id: str,
    timestamp: int,
    nonce: str,
) -> str:
    return "\n".join(
        (
            method.upper(),
            path or "/",
            canonical_query(query),
            app_id,
            str(timestamp),
            nonce,
            body_digest(body),
        )
    )


def sign(secret: str | bytes, text: str) -> str:
    """Lower-case hex HMAC-SHA256 of `text` (UTF-8) under `secret`."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def signature_headers(
    secret: str | bytes,
    method: str,
    path: str,
    query: Mapping[str, str] | QueryPairs | str | None,
    body: bytes | str | None,
    *,
    app_id: str,
    timestamp: int,
    nonce: str,
) -> dict[str, str]:
    text = string_to_sign(method, path, query, body, app_id=app_id, timestamp=timestamp, nonce=nonce)
    return {
        HEADER_APP_ID: app_id,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: sign(secret, text),
    }


def verify(
    secret: str | bytes,
    signature: str,
    method: str,
    path: str,
    query: Mapping[str, str] | QueryPairs | str | None,
    body: bytes | str | None,
    *,
    app_id: str,
    timestamp: int,
    nonce: str,
) -> bool:
    """Whether `signature` is the signature of the request (constant-time comparison)."""
    text = string_to_sign(method, path, query, body, app_id=app_id, timestamp=timestamp, nonce=nonce)
    return hmac.compare_digest(sign(secret, text), signature.strip().lower())


class RequestSigner(AuthBase):
    """Signs each prepared request with a fresh timestamp and nonce.

    Set it as `session.auth` of the `requests.Session` an `HttpSession` wraps: requests calls it for
    every attempt, so a retry never replays a nonce. `offset` (seconds) is added to the local clock:
    the client sets it from the bank's `X-Server-Time` after a 40105 answer.
    """

    def __init__(
        self,
        app_id: str,
        secret: str,
        *,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> None:
        if not app_id or not secret:
            raise ValueError("a request signer needs an app id and a secret")
        self.app_id = app_id
        self._secret = secret
        self._clock = clock
        self._nonce = nonce
        self.offset = 0.0
        self.signed = 0

    def __repr__(self) -> str:  # never the secret
        return f"RequestSigner(app_id={self.app_id!r}, offset={self.offset:+.0f}s)"

    def timestamp(self) -> int:
        return int(self._clock() + self.offset)

    def learn_server_time(self, server_time: float) -> float:
        """Align our timestamps with the bank's clock; returns the new offset in seconds."""
        self.offset = server_time - self._clock()
        return self.offset

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        parts = urlsplit(request.url or "")
        headers = signature_headers(
            self._secret,
            request.method or "GET",
            parts.path or "/",
            parts.query,
            request.body,
            app_id=self.app_id,
            timestamp=self.timestamp(),
            nonce=self._nonce(),
        )
        request.headers.update(headers)
        self.signed += 1
        return request
