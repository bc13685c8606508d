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

The bank signs its answers the same way (as real bank gateways do): headers `X-Response-Timestamp`
and `X-Response-Signature`, the HMAC-SHA256 under the app secret of four lines

    200                                    the status code
    6f1c0a3e9b2d4c5f8a7e6d5c4b3a2918       the nonce of the request answered (binds the answer to it)
    1735689600                             the bank's timestamp, Unix seconds
    e3b0c44298fc1c149afbf4c8996fb924...    SHA-256 of the body bytes, hex

`RequestSigner` checks the signature of every answer whose content is used and of a download once its
body is on disk: a 2xx answer with a missing or wrong one raises `ResponseSignatureInvalid`; an error
answer without a good one stays an error, but nothing in it is trusted (a 401's `X-Server-Time` is
followed only when its answer is signed). Answers that are only retried (429,
5xx, which a proxy in front of the bank may give) are not checked. A clock offset learnt from the bank is
accepted up to `MAX_CLOCK_OFFSET_SECONDS` (30 minutes): a larger one is a clock to fix, not to follow.

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
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import requests
from requests.auth import AuthBase

from connectors.banks.errors import ResponseSignatureInvalid

HEADER_APP_ID = "X-App-Id"
HEADER_TIMESTAMP = "X-Timestamp"
HEADER_NONCE = "X-Nonce"
HEADER_SIGNATURE = "X-Signature"
# sent back by the bank with a 40105 answer: its own clock, Unix seconds
HEADER_SERVER_TIME = "X-Server-Time"

HEADER_RESPONSE_TIMESTAMP = "X-Response-Timestamp"
HEADER_RESPONSE_SIGNATURE = "X-Response-Signature"

WINDOW_SECONDS = 300
MAX_CLOCK_OFFSET_SECONDS = 30 * 60
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


def response_string_to_sign(status: int, request_nonce: str, timestamp: str, body: bytes | None) -> str:
    return "\n".join((str(status), request_nonce, timestamp, body_digest(body)))


def response_signature_headers(
    secret: str | bytes, status: int, request_nonce: str, body: bytes | None, *, timestamp: int
) -> dict[str, str]:
    """The headers a bank adds to its answer to the request that carried `request_nonce`."""
    text = response_string_to_sign(status, request_nonce, str(timestamp), body)
    return {HEADER_RESPONSE_TIMESTAMP: str(timestamp), HEADER_RESPONSE_SIGNATURE: sign(secret, text)}


def verify_response(
    secret: str | bytes, status: int, request_nonce: str, headers: Mapping[str, str], body_sha256: str
) -> bool:
    """Whether the answer's signature headers sign `status`, the nonce and a body of this SHA-256."""
    signature, timestamp = headers.get(HEADER_RESPONSE_SIGNATURE), headers.get(HEADER_RESPONSE_TIMESTAMP)
    if not signature or not timestamp:
        return False
    text = "\n".join((str(status), request_nonce, timestamp, body_sha256))
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
        verify_responses: bool = True,
    ) -> None:
        if not app_id or not secret:
            raise ValueError("a request signer needs an app id and a secret")
        self.app_id = app_id
        self._secret = secret
        self._clock = clock
        self._nonce = nonce
        self.verify_responses = verify_responses
        self.offset = 0.0
        self.signed = 0
        self.pending_download: tuple[int, str, Mapping[str, str]] | None = None  # status, nonce, headers

    def __repr__(self) -> str:  # never the secret
        return f"RequestSigner(app_id={self.app_id!r}, offset={self.offset:+.0f}s)"

    def timestamp(self) -> int:
        return int(self._clock() + self.offset)

    def learn_server_time(self, server_time: float) -> float:
        """Align our timestamps with the bank's clock; returns the new offset in seconds. An offset
        beyond `MAX_CLOCK_OFFSET_SECONDS` is refused (`ValueError`): the offset stays as it was."""
        offset = server_time - self._clock()
        if abs(offset) > MAX_CLOCK_OFFSET_SECONDS:
            raise ValueError(
                f"the bank's clock is {offset:+.0f} s off ours, more than the {MAX_CLOCK_OFFSET_SECONDS // 60} "
                "minutes we follow"
            )
        self.offset = offset
        return self.offset

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        parts = urlsplit(request.url or "")
        nonce = self._nonce()
        headers = signature_headers(
            self._secret,
            request.method or "GET",
            parts.path or "/",
            parts.query,
            request.body,
            app_id=self.app_id,
            timestamp=self.timestamp(),
            nonce=nonce,
        )
        request.headers.update(headers)
        if self.verify_responses:
            request.register_hook("response", self._response_hook(nonce))
        self.signed += 1
        return request

    def _response_hook(self, nonce: str) -> Callable[..., requests.Response]:
        def check(response: requests.Response, *args: object, **kwargs: object) -> requests.Response:
            if response.status_code >= 500 or response.status_code == 429:
                return response  # retried, nothing in it is used: a proxy in front of the bank may answer these
            if kwargs.get("stream") and 200 <= response.status_code < 300:
                # a streamed body (a download, or JSON read under the size cap): checked once it is read
                # (`check_download` on disk, `check_body` in memory)
                self.pending_download = (response.status_code, nonce, dict(response.headers))
                return response
            try:
                self.check_response(response.status_code, nonce, response.headers, hashlib.sha256(response.content))
            except ResponseSignatureInvalid:
                if response.status_code < 300:
                    raise
                # an error answer is an error either way (a wrong secret makes every answer fail the check):
                # it is reported, but nothing in it is trusted (`X-Server-Time` above all)
                response.signature_verified = False  # type: ignore[attr-defined]
            else:
                response.signature_verified = True  # type: ignore[attr-defined]
            return response

        return check

    def check_response(self, status: int, nonce: str, headers: Mapping[str, str], digest: Any) -> None:
        """Raise `ResponseSignatureInvalid` unless the answer is signed by the bank (`digest`: of its body)."""
        if not verify_response(self._secret, status, nonce, headers, digest.hexdigest()):
            said = "no signature" if not headers.get(HEADER_RESPONSE_SIGNATURE) else "a signature that does not match"
            raise ResponseSignatureInvalid(
                f"expected the bank's answer (HTTP {status}) to be signed with the app secret, got {said}: "
                "it was altered on the way or does not come from the bank, and nothing in it is used; check the "
                "base URL of the Connection (and any proxy), or the secret if every answer fails",
                status=status,
            )

    def check_body(self, body: bytes) -> None:
        """Check the signature of the last streamed answer against its body, read whole (a JSON answer)."""
        pending, self.pending_download = self.pending_download, None
        if pending is None:
            if self.verify_responses:
                raise ResponseSignatureInvalid("expected the signature of an answer, got no answer to check")
            return
        status, nonce, headers = pending
        self.check_response(status, nonce, headers, hashlib.sha256(body))

    def check_download(self, path: Any) -> None:
        """Check the signature of the last download's answer against the file it was saved to."""
        pending, self.pending_download = self.pending_download, None
        if pending is None:
            if self.verify_responses:
                raise ResponseSignatureInvalid("expected the signature of a download, got no answer to check")
            return
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        status, nonce, headers = pending
        self.check_response(status, nonce, headers, digest)
