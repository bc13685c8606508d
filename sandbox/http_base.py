"""The common base of the sandbox's loopback HTTP servers (trading network, banks, ledger, bureau).

A `SandboxServer` is a `ThreadingHTTPServer` on 127.0.0.1 (port 0 = any free port) with:

- routing by method and path pattern (`/api/v1/contracts/{contract_no}`) to handlers that take a
  `Request` and return a `Response` (or raise `HttpError`);
- HTTP/1.1 keep-alive: every answer has a `Content-Length` and goes out in one write (TCP_NODELAY);
- JSON helpers (`json_response`, compact UTF-8);
- fault injection (`sandbox.faults`), applied before the handler (errors, 429, sleeps, expired
  tokens) and after it (corrupted records, truncated bodies);
- request counts by route and status, and the control endpoints (loopback clients only; never faulted
  nor counted):
  `GET /_sandbox/stats` (`DELETE` resets), `GET|POST /_sandbox/faults`;
- an access log line per request on the `sandbox.access` logger (DEBUG): server, method, path without the
  query string, status, bytes, milliseconds. Never headers (tokens), query strings or bodies.

A handler exception becomes a 500 and is logged with its traceback. Start a server in a daemon thread
(`start()` / `stop()`, or `with server:`) or in the foreground (`serve_forever()`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import re
import secrets
import socket
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from sandbox.faults import Corrupter, FaultDecision, FaultRuleError, FaultSet, load_rules

log = logging.getLogger(__name__)
access_log = logging.getLogger("sandbox.access")

JSON_TYPE = "application/json; charset=utf-8"
CONTROL_PREFIX = "/_sandbox/"
MAX_BODY = 16 * 1024 * 1024


def json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON (Chinese text as is, not \\u escapes); a lone surrogate, which UTF-8 cannot carry,
    as its escape (`\\ud83c`), as a .NET or Java server writes it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "backslashreplace")


class HttpError(Exception):
    """Raised by a handler to answer with an error: `status`, the API's own `code` and a message."""

    def __init__(self, status: int, code: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Message
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    faults: FaultDecision | None = None
    client: str = "127.0.0.1"

    def json(self) -> Any:
        """The body as JSON; a body that is not JSON is a 400 (code 40000)."""
        try:
            return json.loads(self.body or b"null")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise HttpError(400, 40000, f"请求体不是有效的 JSON: {exc}") from exc

    def bearer_token(self) -> str | None:
        value = self.headers.get("Authorization") or ""
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer":
            return None
        return token.strip() or None

    @property
    def wants_duplicate(self) -> bool:
        """A `duplicate` fault fired on this request (list handlers start their page one record early)."""
        return bool(self.faults and self.faults.duplicate)


@dataclass(slots=True)
class Response:
    """An answer. `payload` is serialised as JSON unless `body` is given.

    `records` is the list of records inside `payload` (a list page) that `malformed` faults may corrupt.
    """

    status: int = 200
    payload: Any = None
    body: bytes | None = None
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    records: list[Any] | None = None

    def encoded(self) -> bytes:
        if self.body is None:
            self.body = json_bytes(self.payload)
        return self.body


def json_response(
    payload: Any,
    status: int = 200,
    *,
    records: list[Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return Response(status=status, payload=payload, records=records, headers=dict(headers or {}))


Handler = Callable[[Request], Response]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    pattern: str
    regex: re.Pattern[str]
    handler: Handler


class Router:
    """Method + path pattern → handler; `{name}` matches one path segment. First match wins."""

    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        regex = re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(pattern)) + "$")
        self._routes.append(Route(method.upper(), pattern, regex, handler))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route and its path parameters; `HttpError` 404 or 405 when there is none."""
        allowed = []
        for route in self._routes:
            found = route.regex.match(path)
            if found is None:
                continue
            if route.method == method:
                return route, {k: unquote(v) for k, v in found.groupdict().items()}
            allowed.append(route.method)
        if allowed:
            raise HttpError(405, 40500, f"{method} 不支持；可用: {', '.join(sorted(set(allowed)))}")
        raise HttpError(404, 40400, "接口不存在")


class RequestStats:
    """Counts of answered requests by route pattern and status, and of faults fired by kind."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: defaultdict[str, Counter[int]] = defaultdict(Counter)
        self._faults: Counter[str] = Counter()

    def count(self, route: str, status: int, fault_kinds: Iterable[str] = ()) -> None:
        with self._lock:
            self._counts[route][status] += 1
            self._faults.update(fault_kinds)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            requests = {r: {str(s): n for s, n in sorted(c.items())} for r, c in sorted(self._counts.items())}
            total = sum(sum(c.values()) for c in self._counts.values())
            return {"total": total, "requests": requests, "faults": dict(sorted(self._faults.items()))}

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._faults.clear()


class TokenStore:
    """Opaque bearer tokens that expire after `ttl` real seconds; `check` says ok, unknown or expired."""

    OK, UNKNOWN, EXPIRED = "ok", "unknown", "expired"

    def __init__(self, ttl: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if ttl <= 0:
            raise ValueError(f"token TTL must be positive seconds; got {ttl}")
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._expires: dict[str, float] = {}

    def issue(self) -> str:
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            if len(self._expires) > 10_000:  # forget tokens long expired
                horizon = now - max(self.ttl, 3600)
                self._expires = {t: e for t, e in self._expires.items() if e > horizon}
            self._expires[token] = now + self.ttl
        return token

    def check(self, token: str | None) -> str:
        if not token:
            return self.UNKNOWN
        with self._lock:
            expires = self._expires.get(token)
        if expires is None:
            return self.UNKNOWN
        return self.OK if self._clock() < expires else self.EXPIRED

    def expire_all(self) -> None:
        now = self._clock()
        with self._lock:
            self._expires = {t: min(e, now) for t, e in self._expires.items()}


@dataclass(slots=True)
class _Outgoing:
    status: int
    content_type: str
    headers: dict[str, str]
    body: bytes
    truncate_keep: float | None = None


class SandboxServer:
    """Base of every sandbox server: subclasses set `name`, add routes in `add_routes`, may override
    `expire_tokens` (for the `expire_tokens` fault), `corrupter` (for `malformed`) and `error_payload`."""

    name = "sandbox"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Any = None,
    ) -> None:
        spec = load_rules(faults)
        self.faults = FaultSet(spec["rules"], seed=spec["seed"], corrupter=self.corrupter())
        self.stats = RequestStats()
        self.router = Router()
        self._stopping = threading.Event()
        self._serving = threading.Event()
        self._thread: threading.Thread | None = None
        self.router.add("GET", "/_sandbox/stats", self._get_stats)
        self.router.add("DELETE", "/_sandbox/stats", self._reset_stats)
        self.router.add("GET", "/_sandbox/faults", self._get_faults)
        self.router.add("POST", "/_sandbox/faults", self._post_faults)
        self.add_routes(self.router)
        self._httpd = _HTTPServer((host, port), _RequestHandler)
        self._httpd.app = self

    # -- for subclasses ---------------------------------------------------------------------------------

    def add_routes(self, router: Router) -> None:
        """Register the server's own routes."""

    def corrupter(self) -> Corrupter | None:
        """How `malformed` corrupts this server's records (None: the fault has no effect)."""
        return None

    def expire_tokens(self) -> None:
        """Make every token issued so far expired (the `expire_tokens` fault)."""

    def error_payload(self, code: int, message: str) -> Any:
        return {"code": code, "message": message, "data": None}

    def error_response(self, error: HttpError) -> Response:
        return json_response(self.error_payload(error.code, error.message), error.status, headers=error.headers)

    def close_resources(self) -> None:
        """Release what the server holds (databases, temp files) after it stopped serving."""

    # -- life cycle -------------------------------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._httpd.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}"

    def start(self) -> SandboxServer:
        """Serve in a daemon thread; returns at once, listening."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve_loop, name=self.name, daemon=True)
            self._serving.set()  # before the thread runs, so an immediate stop() still shuts it down
            self._thread.start()
            log.info("%s listening on %s", self.name, self.url)
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until `shutdown()` or `stop()` is called from another thread."""
        log.info("%s listening on %s", self.name, self.url)
        self._serve_loop()

    def _serve_loop(self) -> None:
        self._serving.set()
        try:
            self._httpd.serve_forever(poll_interval=0.05)
        finally:
            self._serving.clear()

    def shutdown(self) -> None:
        """End the serving loop (from another thread); the socket stays bound until `stop()`."""
        self._stopping.set()
        if self._serving.is_set():
            self._httpd.shutdown()

    def stop(self) -> None:
        """Stop serving, close the socket, open connections and the server's resources. Safe to call twice."""
        self.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._httpd.server_close()
        self._httpd.close_open_connections()
        self.close_resources()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- one request ------------------------------------------------------------------------------------

    def handle(self, request: Request) -> _Outgoing:
        try:
            if request.path.startswith(CONTROL_PREFIX) and not ipaddress.ip_address(request.client).is_loopback:
                raise HttpError(403, 40300, "/_sandbox/ 仅限本机访问")
            route, request.params = self.router.match(request.method, request.path)
            route_name = route.pattern
        except HttpError as exc:
            route, route_name = None, "(unmatched)"
            response = self.error_response(exc)
        decision = self.faults.decide(request.method, request.path)
        request.faults = decision
        if decision is not None:
            if decision.expire_tokens:
                self.expire_tokens()
            if decision.delay:
                self._stopping.wait(decision.delay)
        if decision is not None and decision.reply is not None:
            reply = decision.reply
            response = Response(reply.status, body=reply.body, content_type=reply.content_type)
            response.headers.update(reply.headers)
        elif route is not None:
            response = self._call(route, request)
        if decision is not None and decision.malformed and response.records:
            self.faults.corrupt_records(response.records, decision.malformed, request.path)
        body = self._encode(response, request)
        if not request.path.startswith(CONTROL_PREFIX):
            self.stats.count(route_name, response.status, decision.kinds if decision else ())
        return _Outgoing(
            response.status,
            response.content_type,
            response.headers,
            body,
            decision.truncate_keep if decision else None,
        )

    def _call(self, route: Route, request: Request) -> Response:
        try:
            return route.handler(request)
        except HttpError as exc:
            return self.error_response(exc)
        except Exception:
            log.exception("%s: handler of %s %s failed", self.name, request.method, request.path)
            return self.error_response(HttpError(500, 50000, "系统内部错误"))

    def _encode(self, response: Response, request: Request) -> bytes:
        try:
            return response.encoded()
        except (TypeError, ValueError):
            log.exception("%s: answer to %s %s is not JSON", self.name, request.method, request.path)
            error = self.error_response(HttpError(500, 50000, "系统内部错误"))
            response.status, response.content_type, response.headers = 500, error.content_type, {}
            return error.encoded()

    # -- control endpoints ------------------------------------------------------------------------------

    def _get_stats(self, request: Request) -> Response:
        return json_response(self.stats.snapshot())

    def _reset_stats(self, request: Request) -> Response:
        self.stats.reset()
        return json_response(self.stats.snapshot())

    def _get_faults(self, request: Request) -> Response:
        return json_response(self.faults.describe())

    def _post_faults(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("rules"), list):
            raise HttpError(400, 40000, 'expected {"rules": [...], "seed": n}')
        try:
            spec = load_rules(body)
            self.faults.replace(spec["rules"], seed=spec["seed"])
        except FaultRuleError as exc:
            raise HttpError(400, 40000, str(exc)) from exc
        log.info("%s: %d fault rules set", self.name, len(spec["rules"]))
        return json_response(self.faults.describe())


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    app: SandboxServer

    def server_activate(self) -> None:
        self.open_connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().server_activate()

    def close_open_connections(self) -> None:
        """End kept-alive connections, so no request is served after `stop()`."""
        with self.connections_lock:
            connections = list(self.open_connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "estatehub-sandbox/1"
    sys_version = ""
    timeout = 300  # seconds an idle kept-alive connection holds its thread
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.open_connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.open_connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def do_GET(self) -> None:  # noqa: N802 - the names http.server dispatches to
        self._serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _serve(self) -> None:
        started = time.perf_counter()
        app = self.server.app
        url = urlsplit(self.path)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            out = _Outgoing(400, JSON_TYPE, {}, json_bytes(app.error_payload(40000, "Content-Length 无效")))
        else:
            body = self.rfile.read(length) if length else b""
            request = Request(
                method=self.command,
                path=url.path,
                query=dict(reversed(parse_qsl(url.query, keep_blank_values=True))),
                headers=self.headers,
                body=body,
                client=str(self.client_address[0]),
            )
            try:
                out = app.handle(request)
            except Exception:
                log.exception("%s: %s %s failed outside its handler", app.name, self.command, url.path)
                payload = app.error_payload(50000, "系统内部错误")
                out = _Outgoing(500, JSON_TYPE, {}, json_bytes(payload))
        sent = self._write(out)
        access_log.debug(
            "%s %s %s %d %d %.1fms",
            app.name,
            self.command,
            url.path,
            out.status,
            sent,
            (time.perf_counter() - started) * 1000,
        )

    def _write(self, out: _Outgoing) -> int:
        reason = HTTPStatus(out.status).phrase if out.status in HTTPStatus._value2member_map_ else ""
        lines = [
            f"HTTP/1.1 {out.status} {reason}",
            f"Server: {self.server_version}",
            f"Date: {self.date_time_string()}",
            f"Content-Type: {out.content_type}",
            f"Content-Length: {len(out.body)}",
        ]
        lines.extend(f"{k}: {v}" for k, v in out.headers.items())
        body = out.body
        if out.truncate_keep is not None:
            body = body[: int(len(body) * out.truncate_keep)]
            self.close_connection = True
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        try:
            self.wfile.write(head + body)
            self.wfile.flush()
            if out.truncate_keep is not None:
                self.connection.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            log.debug("%s: client went away before the answer", self.server.app.name)
            self.close_connection = True
            return 0
        return len(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        log.debug("%s: " + format, self.server.app.name, *args)
