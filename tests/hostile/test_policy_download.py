"""A body without Content-Length is capped while it streams, and a body that never ends has a deadline
(issue 10, item 2): in the shared HTTP session, so the bureau fetcher and every JSON connector get it."""

from __future__ import annotations

import time

import pytest

from connectors.bureau.client import BureauClient
from connectors.bureau.errors import RetriableError, TooLarge
from connectors.errors import BodyTooLarge
from connectors.http import NO_RETRY, BodyLimits, HttpSession
from tests.support.hostile_site import HostileSite

MB = 1024 * 1024
LIMIT = 5 * MB
FLOOD = 60 * MB
# what the kernel may have buffered on loopback once the client stops reading (send and receive
# buffers), well below the 60 MB a client that reads everything takes
WIRE_SLACK = 15 * MB


def _bureau(site: HostileSite, **kwargs) -> BureauClient:
    return BureauClient(
        allowed_hosts=[site.host],
        user_agent="estatehub-tests/1.0 (+mailto:tests@estatehub.example)",
        min_interval=0,
        retry=NO_RETRY,
        sleep=lambda _s: None,
        **kwargs,
    )


def test_a_chunked_attachment_without_length_is_cut_off_at_the_limit_not_downloaded_whole():
    with HostileSite() as site, _bureau(site, max_bytes=LIMIT) as client:
        site.flood("/attachment/big.xlsx", total=FLOOD)
        with pytest.raises(TooLarge, match=f"at most {LIMIT} bytes"):
            client.fetch(site.url + "/attachment/big.xlsx")
        time.sleep(0.5)  # let the server notice the closed connection
        sent = site.sent["/attachment/big.xlsx"]
    assert sent < LIMIT + WIRE_SLACK, f"the server got {sent / MB:.1f} MB onto the wire for a {LIMIT // MB} MB limit"


def test_a_json_answer_without_length_is_cut_off_at_the_session_cap():
    with HostileSite() as site:
        site.flood("/api/contracts", total=FLOOD)
        with HttpSession(retry=NO_RETRY, body=BodyLimits(max_bytes=LIMIT)) as http, pytest.raises(BodyTooLarge):
            http.request_json("GET", site.url + "/api/contracts")
        time.sleep(0.5)
        sent = site.sent["/api/contracts"]
    assert sent < LIMIT + WIRE_SLACK, f"the server got {sent / MB:.1f} MB onto the wire for a {LIMIT // MB} MB cap"


def test_a_body_that_keeps_trickling_is_dropped_at_the_whole_body_deadline():
    with HostileSite() as site, _bureau(site, body_deadline=1.0, timeout=5.0) as client:
        site.trickle("/attachment/slow.pdf", every=0.05, seconds=15)
        started = time.monotonic()
        with pytest.raises(RetriableError, match="body deadline"):
            client.fetch(site.url + "/attachment/slow.pdf")
        elapsed = time.monotonic() - started
    assert elapsed < 4.0, f"the fetch took {elapsed:.1f} s against a 1 s body deadline"
