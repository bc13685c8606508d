"""The bureau connector: polite fetching, charsets, and reading pages with selectors."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import responses

from connectors.bureau import (
    BureauClient,
    HostNotAllowed,
    HostPolicy,
    ListSelectors,
    NoticeSelectors,
    decode_html,
    parse_list_page,
    parse_notice_page,
)
from connectors.bureau.client import Pacer
from connectors.bureau.errors import FatalHTTPError, RetriableError, TooLarge
from connectors.http import RetryPolicy

CLASSIC = ListSelectors(item="div.zx_ml_list li", link="a", date="span", page_count_pattern=r"createPageHTML\((\d+)")
NOTICE = NoticeSelectors(
    title="h1.article-title",
    content="div.article-content",
    attachments="div.article-attachments a",
    ignore=(".related", ".article-tools"),
    doc_number_pattern=r"文号\s*([^\s]+〔\d{4}〕\d+号)",
    publish_date_pattern=r"发布日期\s*(\d{4}-\d{2}-\d{2})",
    office_pattern=r"发布机构\s*([^\s]+)",
)
UA = "estatehub-policy-monitor/test (+mailto:cs-data@estatehub.example)"


def _client(*hosts: str, **options) -> BureauClient:
    options.setdefault("min_interval", 0)
    options.setdefault("retry", RetryPolicy(max_attempts=2, backoff_initial=0))
    return BureauClient(allowed_hosts=hosts, user_agent=UA, sleep=lambda _s: None, **options)


@pytest.fixture
def sandbox_client(bureau):
    with _client(urlsplit(bureau.url).netloc) as client:
        yield client


def test_a_gbk_list_page_is_decoded_from_its_meta_tag_and_read_with_the_selectors(bureau, sandbox_client):
    fetched = sandbox_client.fetch(f"{bureau.url}/xxgk/tzgg/index.html")
    text, codec = decode_html(fetched.content, fetched.content_type)
    assert codec == "gb18030"
    page = parse_list_page(text, fetched.final_url, CLASSIC, ["系统维护中"])
    expected = bureau.world.listed("tzgg", bureau.now)
    assert page.missing == () and page.error_page is None
    assert page.page_count >= 2
    assert [item.title for item in page.items] == [s.title for s in expected[: len(page.items)]]
    assert page.items[0].url == bureau.url + expected[0].path
    assert page.items[0].published_on == expected[0].published_at.date()


def test_a_notice_page_gives_title_fields_attachments_and_text_without_the_ignored_elements(bureau, sandbox_client):
    state = next(s for s in bureau.world.listed("tzgg", bureau.now) if s.attachments and s.doc_number)
    fetched = sandbox_client.fetch(bureau.url + state.path)
    text, _ = decode_html(fetched.content, fetched.content_type)
    page = parse_notice_page(text, fetched.final_url, NOTICE)
    assert page.usable
    assert page.title == state.title and page.doc_number == state.doc_number and page.office == state.office
    assert page.published_on == state.published_at.date()
    assert [a.url for a in page.attachments] == [bureau.url + a.path for a in state.attachments]
    assert list(page.lines[: len(state.paragraphs())]) == state.paragraphs()
    joined = "\n".join(page.lines)
    assert "相关阅读" not in joined and "当前时间" not in joined


def test_the_redesigned_list_and_the_maintenance_page_are_told_apart(bureau, sandbox_client):
    world = bureau.world
    redesign = next(i for i in world.incidents if i.kind == "redesign")
    bureau.set_clock(redesign.start + timedelta(minutes=1))
    fetched = sandbox_client.fetch(f"{bureau.url}/xxgk/zcfg/index.html")
    page = parse_list_page(decode_html(fetched.content)[0], fetched.final_url, CLASSIC, ["系统维护中"])
    assert page.items == () and page.error_page is None
    assert page.missing == ("item", "page_count")
    maintenance = next(i for i in world.incidents if i.kind == "maintenance")
    bureau.set_clock(maintenance.start + timedelta(minutes=1))
    fetched = sandbox_client.fetch(f"{bureau.url}/xxgk/zcfg/index.html")
    assert fetched.status == 200
    page = parse_list_page(decode_html(fetched.content)[0], fetched.final_url, CLASSIC, ["系统维护中"])
    assert page.error_page == "系统维护中" and page.missing == ()


def test_conditional_requests_come_back_not_modified(bureau, sandbox_client):
    state = bureau.world.listed("zcfg", bureau.now)[0]
    first = sandbox_client.fetch(bureau.url + state.path)
    assert first.status == 200 and first.etag and first.last_modified
    again = sandbox_client.fetch(bureau.url + state.path, etag=first.etag, last_modified=first.last_modified)
    assert again.not_modified and again.content == b"" and again.etag == first.etag


def test_a_withdrawn_notice_comes_back_gone_not_as_an_error(bureau, sandbox_client):
    change = next(c for c in bureau.world.truth if c.kind == "withdrawn" and "404" in c.detail)
    bureau.set_clock(change.at + timedelta(minutes=1))
    assert sandbox_client.fetch(bureau.url + change.path).gone


def test_a_redirect_to_another_host_is_refused_without_following_it(bureau, sandbox_client):
    with pytest.raises(HostNotAllowed, match="not followed") as raised:
        sandbox_client.fetch(f"{bureau.url}/xxgk/zcfg/link/gdzjt_2026_5.html")
    assert raised.value.status == 302
    assert "zjt.gd.gov.cn" in str(raised.value)


@responses.activate(assert_all_requests_are_fired=True)
def test_a_redirect_inside_the_allowed_hosts_is_followed_hop_by_hop():
    responses.get("http://zjj.sz.gov.cn/old.html", status=301, headers={"Location": "/new.html"})
    responses.get("http://zjj.sz.gov.cn/new.html", body="<html>新</html>", headers={"ETag": '"n1"'})
    with _client("zjj.sz.gov.cn") as client:
        fetched = client.fetch("http://zjj.sz.gov.cn/old.html")
    assert fetched.final_url == "http://zjj.sz.gov.cn/new.html" and fetched.etag == '"n1"'


@responses.activate
def test_a_url_on_another_host_is_refused_before_any_request():
    with _client("zjj.sz.gov.cn") as client, pytest.raises(HostNotAllowed, match="allowed hosts"):
        client.fetch("http://www.example.com/notice.html")
    assert len(responses.calls) == 0


@responses.activate(assert_all_requests_are_fired=True)
def test_every_request_says_who_we_are_and_sends_the_validators():
    responses.get(
        "http://zjj.sz.gov.cn/a.html",
        status=304,
        match=[
            responses.matchers.header_matcher(
                {"User-Agent": UA, "If-None-Match": '"v1"', "If-Modified-Since": "Mon, 02 Mar 2026 02:00:00 GMT"}
            )
        ],
    )
    with _client("zjj.sz.gov.cn") as client:
        fetched = client.fetch(
            "http://zjj.sz.gov.cn/a.html", etag='"v1"', last_modified="Mon, 02 Mar 2026 02:00:00 GMT"
        )
    assert fetched.not_modified


@responses.activate(assert_all_requests_are_fired=True)
def test_a_failing_server_is_retried_then_reported_as_retriable():
    responses.get("http://zjj.sz.gov.cn/a.html", status=503)
    responses.get("http://zjj.sz.gov.cn/a.html", status=503)
    with _client("zjj.sz.gov.cn") as client, pytest.raises(RetriableError, match="2 attempts"):
        client.fetch("http://zjj.sz.gov.cn/a.html")
    assert len(responses.calls) == 2


@responses.activate(assert_all_requests_are_fired=True)
def test_a_request_the_site_rejects_is_fatal_and_not_retried():
    responses.get("http://zjj.sz.gov.cn/a.html", status=400)
    with _client("zjj.sz.gov.cn") as client, pytest.raises(FatalHTTPError):
        client.fetch("http://zjj.sz.gov.cn/a.html")
    assert len(responses.calls) == 1


@responses.activate(assert_all_requests_are_fired=True)
def test_a_body_above_the_size_limit_is_not_downloaded():
    responses.get("http://zjj.sz.gov.cn/big.pdf", body=b"%PDF" + b"0" * 2000)
    with _client("zjj.sz.gov.cn", max_bytes=1000) as client, pytest.raises(TooLarge, match="at most 1000 bytes"):
        client.fetch("http://zjj.sz.gov.cn/big.pdf")


def test_the_pacer_keeps_the_minimum_interval_per_host():
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(2.0, clock=lambda: now[0], sleep=sleep)
    pacer.wait("http://a.example/1")
    pacer.wait("http://a.example/2")
    pacer.wait("http://b.example/1")
    now[0] += 5
    pacer.wait("http://a.example/3")
    assert slept == [2.0]


def test_the_host_policy_matches_hosts_and_ports():
    policy = HostPolicy(["zjj.sz.gov.cn", "127.0.0.1:8080"])
    assert policy.allows("http://zjj.sz.gov.cn/a") and policy.allows("https://zjj.sz.gov.cn:8443/a")
    assert policy.allows("http://127.0.0.1:8080/a")
    assert not policy.allows("http://127.0.0.1:8081/a")
    assert not policy.allows("http://evil.example/zjj.sz.gov.cn")
    assert not policy.allows("ftp://zjj.sz.gov.cn/a")
    with pytest.raises(ValueError, match="at least one allowed host"):
        HostPolicy([])


@pytest.mark.parametrize(
    ("content", "content_type", "codec"),
    [
        ('<meta charset="gbk"><p>限购</p>'.encode("gbk"), "text/html", "gb18030"),
        (
            '<meta http-equiv="Content-Type" content="text/html; charset=gb2312"><p>首付</p>'.encode("gbk"),
            None,
            "gb18030",
        ),
        ("<p>公积金</p>".encode(), "text/html; charset=utf-8", "utf-8"),
        ('<meta charset="gbk"><p>契税</p>'.encode("gbk"), "text/html; charset=ISO-8859-1", "gb18030"),
        ("\ufeff<p>网签</p>".encode(), None, "utf-8"),
        ("<p>交付</p>".encode("gbk"), None, "gb18030"),
    ],
)
def test_pages_are_decoded_whatever_charset_they_use_and_however_they_say_it(content, content_type, codec):
    text, used = decode_html(content, content_type)
    assert used == codec
    assert any(word in text for word in ("限购", "首付", "公积金", "契税", "网签", "交付"))
