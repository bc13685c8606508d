"""The polite fetcher of the real estate bureau's website.

    client = BureauClient(allowed_hosts=["zjj.sz.gov.cn"], user_agent="estatehub-policy-monitor/1.0 (...)")
    fetched = client.fetch(url, etag=previous_etag, last_modified=previous_last_modified)
    if fetched.not_modified: ...            # 304: nothing to read
    elif fetched.gone: ...                  # 404 / 410
    else: text, codec = decode_html(fetched.content, fetched.content_type)

Polite means: a user agent that says who we are, at most one request per `min_interval` seconds to a
host (retries included), conditional GETs (If-None-Match / If-Modified-Since), a timeout on every
request, a size limit counted while the body streams and a deadline for the whole body (both of the
shared session), and only the allowed hosts: a URL outside them is refused before any request,
and redirects are followed by hand, each hop checked, never to another host. Retries and back-off
are those of the shared `connectors.http.HttpSession`. Explicit arguments only: it never reads the
environment (no proxy variables or .netrc either; pass `proxies` when the site is behind one).
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from connectors.bureau.errors import (
    ERROR_KINDS,
    FatalHTTPError,
    HostNotAllowed,
    UnexpectedResponse,
)
from connectors.bureau.records import Fetched
from connectors.http import BodyLimits, HttpSession, RetryPolicy, safe_url

log = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_BODY_DEADLINE = 120.0
DEFAULT_RETRY = RetryPolicy(max_attempts=3, backoff_initial=2.0, backoff_max=30.0)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def host_key(url: str) -> tuple[str, int | None]:
    """(host, port) of a URL, port None when it is the scheme's default."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is not None and port == _DEFAULT_PORTS.get(parts.scheme):
        port = None
    return host, port


class HostPolicy:
    """Which URLs may be fetched: http(s) on the allowed hosts.

    An entry `host` allows that host on any port; `host:port` only on that port.
    """

    def __init__(self, allowed_hosts: Iterable[str]) -> None:
        self.entries: set[tuple[str, int | None]] = set()
        self.any_port: set[str] = set()
        for entry in allowed_hosts:
            text = entry.strip().lower()
            if not text:
                continue
            host, port = host_key(text if "://" in text else f"http://{text}")
            if ":" in text.split("://")[-1] and port is not None:
                self.entries.add((host, port))
            else:
                self.any_port.add(host)
        if not self.entries and not self.any_port:
            raise ValueError("expected at least one allowed host (the bureau site's own host)")

    def allows(self, url: str) -> bool:
        if urlsplit(url).scheme not in _DEFAULT_PORTS:
            return False
        host, port = host_key(url)
        return host in self.any_port or (host, port) in self.entries or (port is None and (host, None) in self.entries)

    def describe(self) -> str:
        shown = sorted(self.any_port) + sorted(f"{h}:{p}" if p else h for h, p in self.entries)
        return ", ".join(shown)


class Pacer:
    """At most one request per `min_interval` seconds to each host."""

    def __init__(
        self,
        min_interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if min_interval < 0:
            raise ValueError(f"min_interval must be zero or more seconds, got {min_interval}")
        self.min_interval = min_interval
        self._clock = clock
        self._sleep = sleep
        self._last: dict[tuple[str, int | None], float] = {}
        self._lock = threading.Lock()

    def wait(self, url: str) -> float:
        """Sleep until the host may be asked again; returns the seconds slept."""
        key = host_key(url)
        with self._lock:
            now = self._clock()
            last = self._last.get(key)
            wait = 0.0 if last is None else max(0.0, last + self.min_interval - now)
            self._last[key] = now + wait
        if wait > 0:
            self._sleep(wait)
        return wait


class _PoliteSession(requests.Session):
    """A `requests.Session` that never follows redirects by itself, refuses other hosts, paces each
    request, and keeps the last answer's headers. (The size limit is the `HttpSession`'s: it refuses
    a body announced above it and cuts off one that passes it while streaming.)"""

    def __init__(
        self,
        *,
        user_agent: str,
        hosts: HostPolicy,
        pacer: Pacer,
        proxies: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        # no proxy variables, .netrc or CA bundles from the environment: only what the caller passes
        self.trust_env = False
        if proxies:
            self.proxies.update(proxies)
        self.headers.update(
            {
                "User-Agent": user_agent,
                "Accept": "text/html,application/xhtml+xml,application/pdf,application/octet-stream;q=0.9,*/*;q=0.8",
                "Accept-Language": "zh-CN,zh;q=0.9",
            }
        )
        self.hosts = hosts
        self.pacer = pacer
        self.last_response: requests.Response | None = None

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        return None  # redirects are followed by `BureauClient.fetch`, one checked hop at a time

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        text_url = url.decode() if isinstance(url, bytes) else url
        if not self.hosts.allows(text_url):
            raise HostNotAllowed(
                f"expected a URL on the allowed hosts ({self.hosts.describe()}), got {safe_url(text_url)}; "
                "add the host to allowed_hosts in the watch file if it is really the bureau's",
                url=safe_url(text_url),
            )
        self.pacer.wait(text_url)
        response = super().request(method, url, *args, **kwargs)
        self.last_response = response
        return response


class BureauClient:
    """Fetches pages and attachments of the bureau site; see the module docstring."""

    def __init__(
        self,
        *,
        allowed_hosts: Iterable[str],
        user_agent: str,
        min_interval: float = 1.0,
        timeout: float | tuple[float, float] = 20.0,
        retry: RetryPolicy | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        body_deadline: float = DEFAULT_BODY_DEADLINE,
        max_redirects: int = 3,
        proxies: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not user_agent.strip():
            raise ValueError("expected a user agent that names estatehub and a contact, got an empty one")
        self.hosts = HostPolicy(allowed_hosts)
        self.max_redirects = max_redirects
        self._clock = clock
        self._session = _PoliteSession(
            user_agent=user_agent,
            hosts=self.hosts,
            pacer=Pacer(min_interval, clock=clock, sleep=sleep),
            proxies=proxies,
        )
        self._http = HttpSession(
            timeout=timeout,
            retry=retry or DEFAULT_RETRY,
            body=BodyLimits(max_bytes=max_bytes, deadline=body_deadline),
            session=self._session,
            errors=ERROR_KINDS,
            sleep=sleep,
        )
        self._workdir = tempfile.TemporaryDirectory(prefix="estatehub-bureau-")
        self._body = Path(self._workdir.name) / "body"
        self.max_bytes = max_bytes

    def close(self) -> None:
        self._http.close()
        self._session.close()
        self._workdir.cleanup()

    def __enter__(self) -> BureauClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def allows(self, url: str) -> bool:
        return self.hosts.allows(url)

    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        """GET `url` (conditionally when validators are given), following redirects inside the allowed hosts.

        Returns 200, 304 or 404/410 as a `Fetched`; raises a `BureauError` for anything else.
        """
        started = self._clock()
        current = url
        for hop in range(self.max_redirects + 1):
            headers = {}
            if hop == 0 and etag:
                headers["If-None-Match"] = etag
            if hop == 0 and last_modified:
                headers["If-Modified-Since"] = last_modified
            try:
                path = self._http.download("GET", current, self._body, headers=headers)
            except FatalHTTPError as exc:
                answer = exc.response
                if exc.status == 304:
                    return self._answer(url, current, 304, answer, started, etag=etag, last_modified=last_modified)
                if exc.status in (404, 410):
                    return self._answer(url, current, exc.status, answer, started)
                if exc.status in REDIRECT_STATUSES and answer is not None:
                    current = self._follow(current, answer.headers.get("Location"), exc.status)
                    continue
                raise
            try:
                content = path.read_bytes()
            finally:
                path.unlink(missing_ok=True)
            return self._answer(url, current, 200, self._session.last_response, started, content=content)
        raise UnexpectedResponse(
            f"expected a page within {self.max_redirects} redirects, got more; the address may loop",
            method="GET",
            url=safe_url(url),
        )

    def _follow(self, current: str, location: str | None, status: int) -> str:
        if not location:
            raise UnexpectedResponse(
                f"expected a Location header with the {status} redirect, got none",
                method="GET",
                url=safe_url(current),
                status=status,
            )
        target = urljoin(current, location)
        if not self.hosts.allows(target):
            raise HostNotAllowed(
                f"expected redirects to stay on the allowed hosts ({self.hosts.describe()}), got a {status} "
                f"to {safe_url(target)}; it was not followed",
                method="GET",
                url=safe_url(current),
                status=status,
            )
        log.info("following a %d redirect from %s to %s", status, safe_url(current), safe_url(target))
        return target

    def _answer(
        self,
        url: str,
        final_url: str,
        status: int,
        response: requests.Response | None,
        started: float,
        *,
        content: bytes = b"",
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Fetched:
        headers = response.headers if response is not None else {}
        elapsed_ms = int((self._clock() - started) * 1000)
        log.debug("GET %s -> %d (%d bytes, %d ms)", safe_url(final_url), status, len(content), elapsed_ms)
        return Fetched(
            url=url,
            final_url=final_url,
            status=status,
            content=content,
            content_type=headers.get("Content-Type"),
            etag=headers.get("ETag") or etag,
            last_modified=headers.get("Last-Modified") or last_modified,
            elapsed_ms=max(elapsed_ms, 0),
        )
