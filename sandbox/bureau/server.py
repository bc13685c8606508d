"""The real estate bureau's website on loopback: the world of `sandbox.bureau.world` at a simulated clock.

    /                                       home page
    /xxgk/<channel>/index.html, index_N.html   notice lists (通知公告 tzgg in GBK, 政策法规 zcfg in UTF-8)
    /xxgk/<channel>/content/post_N.html        notice pages (once withdrawn: 404, or a 200 "信息已撤销" page)
    /xxgk/zcfg/link/<name>.html                a link to the province's site: 302 to another host
    /attachment/<N>/<file>.(pdf|docx|xlsx)      attachments

The GBK pages say their charset only in a meta tag (`Content-Type: text/html`, no charset), as many
government servers do; the list declares gb2312 while the bytes are GBK. Notice pages answer
conditional GETs: the UTF-8 channel with a weak ETag and Last-Modified, the GBK channel with
Last-Modified only; attachments with a strong ETag and Last-Modified. List pages have no validators.
During an outage every page is a 502 from nginx; during maintenance every page is a 200 that says
系统维护中. After the redesign the lists have another markup.

Sandbox-only control, never faulted: `GET|POST /_sandbox/clock` (`{"now": iso}`), `GET /_sandbox/truth`
(the ground truth; `?until=iso` limits it to changes up to then), and the `/_sandbox/faults` and
`/_sandbox/stats` of every sandbox server.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from sandbox.bureau import render
from sandbox.bureau.files import CONTENT_TYPES, build_file
from sandbox.bureau.world import CHANNELS, DEFAULT_DAYS, PERIOD_START, BureauWorld, NoticeState
from sandbox.http_base import HttpError, Request, Response, Router, SandboxServer, json_response
from sandbox.world.clock import BUSINESS_TZ

PAGE_SIZE = 6
DEFAULT_EXTERNAL_SITE = "http://zjt.gd.gov.cn"
_PAGE_RE = re.compile(r"^index(?:_(\d+))?\.html$")
_CHARSETS = {"tzgg": ("gb2312", "gbk"), "zcfg": ("utf-8", "utf-8")}  # (list page, notice page)


def parse_clock(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise HttpError(400, 40000, f"expected an ISO time like 2026-03-02T10:00:00+08:00, got {text!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=BUSINESS_TZ)


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


class BureauServer(SandboxServer):
    """`BureauServer(seed=7).start()`: the bureau site at the simulated clock (default: the period start)."""

    name = "bureau"

    def __init__(
        self,
        *,
        seed: int,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: datetime | None = None,
        faults: Any = None,
        start: datetime = PERIOD_START,
        days: int = DEFAULT_DAYS,
        external_site: str = DEFAULT_EXTERNAL_SITE,
    ) -> None:
        self.world = BureauWorld.generate(seed, start=start, days=days)
        self.external_site = external_site.rstrip("/")
        self._clock_lock = threading.Lock()
        self._now = self._aware(clock) if clock else self.world.start
        self._visits = 0
        super().__init__(host=host, port=port, faults=faults)

    @staticmethod
    def _aware(moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError(f"expected a timezone-aware clock, got the naive {moment.isoformat()}")
        return moment.astimezone(BUSINESS_TZ)

    # -- the clock ---------------------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        with self._clock_lock:
            return self._now

    def set_clock(self, moment: datetime) -> None:
        with self._clock_lock:
            self._now = self._aware(moment)

    def _noise(self, related_from: list[NoticeState] | None = None) -> render.Noise:
        with self._clock_lock:
            self._visits += 1
            visits, now = self._visits, self._now
        related: tuple[tuple[str, str], ...] = ()
        if related_from:
            start = visits % len(related_from)
            picked = (related_from[(start + i) % len(related_from)] for i in range(min(3, len(related_from))))
            related = tuple((state.title, state.path) for state in picked)
        return render.Noise(visits=visits, now=now + timedelta(seconds=visits % 3600), related=related)

    # -- routes ------------------------------------------------------------------------------------------

    def add_routes(self, router: Router) -> None:
        router.add("GET", "/", self._site(self.home))
        router.add("GET", "/robots.txt", self.robots)
        router.add("GET", "/xxgk/{channel}/{page}", self._site(self.list_page))
        router.add("GET", "/xxgk/{channel}/content/{page}", self._site(self.notice_page))
        router.add("GET", "/xxgk/zcfg/link/{name}", self._site(self.external_link))
        router.add("GET", "/attachment/{number}/{file}", self._site(self.attachment))
        router.add("GET", "/_sandbox/clock", self.get_clock)
        router.add("POST", "/_sandbox/clock", self.post_clock)
        router.add("GET", "/_sandbox/truth", self.get_truth)

    def _site(self, handler):
        """The handler, unless an outage (502) or maintenance (200 '系统维护中') covers the clock."""

        def guarded(request: Request) -> Response:
            incident = self.world.incident_at(self.now)
            if incident is not None and incident.kind == "outage":
                return _html(render.bad_gateway_page(), status=502)
            if incident is not None and incident.kind == "maintenance":
                return _html(render.maintenance_page(incident.end.astimezone(BUSINESS_TZ) if incident.end else None))
            return handler(request)

        return guarded

    def error_response(self, error: HttpError) -> Response:
        if error.status == 404:
            return _html(render.not_found_page(), status=404, headers=error.headers)
        if error.status == 400:  # only the control endpoints refuse a request body
            return json_response(self.error_payload(error.code, error.message), 400, headers=error.headers)
        page = f"<html><body><h1>{error.status}</h1><p>{error.message}</p></body></html>"
        return _html(page, status=error.status, headers=error.headers)

    def home(self, request: Request) -> Response:
        return _html(render.home_page(self._noise()))

    def robots(self, request: Request) -> Response:
        return Response(200, body=b"User-agent: *\nDisallow: /_sandbox/\n", content_type="text/plain")

    def list_page(self, request: Request) -> Response:
        channel = request.params["channel"]
        found = _PAGE_RE.match(request.params["page"])
        if channel not in CHANNELS or found is None:
            raise HttpError(404, 40400, "not found")
        now = self.now
        entries = render.list_entries(channel, self.world.listed(channel, now))
        pages = max(1, math.ceil(len(entries) / PAGE_SIZE))
        page = int(found.group(1) or 0)
        if page >= pages:
            raise HttpError(404, 40400, "not found")
        list_charset, _ = _CHARSETS[channel]
        html = render.list_page(
            channel,
            entries[page * PAGE_SIZE : (page + 1) * PAGE_SIZE],
            page=page,
            pages=pages,
            redesigned=self.world.redesigned_at(now),
            charset=list_charset,
            noise=self._noise(),
        )
        return _html(html, charset=list_charset, headers={"Cache-Control": "no-cache"})

    def notice_page(self, request: Request) -> Response:
        channel = request.params["channel"]
        notice_id = request.params["page"].removesuffix(".html")
        now = self.now
        state = self.world.notice_at(notice_id, now)
        if state is None and self.world.soft_withdrawn(notice_id, now):
            return _html(render.withdrawn_page())
        if channel not in CHANNELS or state is None or state.channel != channel:
            raise HttpError(404, 40400, "not found")
        _, charset = _CHARSETS[channel]
        headers = {"Last-Modified": http_date(state.version_at)}
        if charset == "utf-8":
            version = f"{state.notice_id}@{state.version_at.isoformat()}"
            headers["ETag"] = 'W/"' + hashlib.sha1(version.encode()).hexdigest()[:16] + '"'
        if _not_modified(request, headers):
            return Response(304, body=b"", content_type="text/html", headers=headers)
        related = [s for s in self.world.listed(channel, now) if s.notice_id != notice_id]
        html = render.notice_page(state, charset=charset, noise=self._noise(related))
        return _html(html, charset=charset, headers=headers)

    def external_link(self, request: Request) -> Response:
        target = f"{self.external_site}/zwgk/tzgg/content/post_4853712.html"
        body = f'<html><body>页面已迁移至 <a href="{target}">{target}</a></body></html>'.encode()
        return Response(302, body=body, content_type="text/html; charset=utf-8", headers={"Location": target})

    def attachment(self, request: Request) -> Response:
        path = f"/attachment/{request.params['number']}/{request.params['file']}"
        found = self.world.attachment_at(path, self.now)
        if found is None:
            raise HttpError(404, 40400, "not found")
        _, attachment = found
        data = build_file(attachment.spec.fmt, attachment.label, tuple(attachment.lines()))
        headers = {
            "ETag": '"' + hashlib.sha1(data).hexdigest() + '"',
            "Last-Modified": http_date(attachment.version_at),
            "Content-Disposition": f'attachment; filename="{attachment.filename}"',
        }
        if _not_modified(request, headers):
            return Response(304, body=b"", content_type=CONTENT_TYPES[attachment.spec.fmt], headers=headers)
        return Response(200, body=data, content_type=CONTENT_TYPES[attachment.spec.fmt], headers=headers)

    # -- sandbox control ---------------------------------------------------------------------------------

    def get_clock(self, request: Request) -> Response:
        return json_response({"now": self.now.isoformat()})

    def post_clock(self, request: Request) -> Response:
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("now"), str):
            raise HttpError(400, 40000, 'expected {"now": "2026-03-02T10:00:00+08:00"}')
        self.set_clock(parse_clock(body["now"]))
        return json_response({"now": self.now.isoformat()})

    def get_truth(self, request: Request) -> Response:
        until = parse_clock(request.query["until"]) if "until" in request.query else None
        changes = self.world.truth_until(until) if until else self.world.truth
        return json_response(
            {
                "seed": self.world.seed,
                "start": self.world.start.isoformat(),
                "end": self.world.end.isoformat(),
                "changes": [change.as_dict() for change in changes],
                "incidents": [incident.as_dict() for incident in self.world.incidents],
            }
        )


def _html(page: str, *, status: int = 200, charset: str = "utf-8", headers: dict[str, str] | None = None) -> Response:
    if charset == "utf-8":
        return Response(
            status, body=page.encode("utf-8"), content_type="text/html; charset=utf-8", headers=dict(headers or {})
        )
    # the GBK pages name their charset only in the page (gb2312 is declared where GBK bytes are sent)
    return Response(status, body=page.encode("gbk"), content_type="text/html", headers=dict(headers or {}))


def _not_modified(request: Request, headers: dict[str, str]) -> bool:
    """True when the request's validators (If-None-Match first, else If-Modified-Since) still hold."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match and "ETag" in headers:
        wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return headers["ETag"].removeprefix("W/") in wanted or "*" in wanted
    if_modified_since = request.headers.get("If-Modified-Since")
    if if_modified_since and "Last-Modified" in headers:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False
        return parsedate_to_datetime(headers["Last-Modified"]) <= since
    return False


def start_bureau_server(
    *,
    seed: int,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: datetime | None = None,
    faults: Any = None,
    external_site: str = DEFAULT_EXTERNAL_SITE,
) -> BureauServer:
    """Start the bureau site in a daemon thread; `.url`, `.stop()`, `.set_clock(moment)`, `.world`."""
    server = BureauServer(seed=seed, host=host, port=port, clock=clock, faults=faults, external_site=external_site)
    return server.start()
