"""The sandbox bureau site: deterministic history, government-style pages, incidents, ground truth."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest
import requests

from sandbox.bureau import BureauWorld, start_bureau_server
from sandbox.bureau.files import CONTENT_TYPES, build_file
from sandbox.bureau.notices import TEMPLATES


@pytest.fixture
def site():
    server = start_bureau_server(seed=7)
    yield server
    server.stop()


def test_the_world_is_the_same_for_the_same_seed_and_differs_for_another():
    one, again, other = BureauWorld.generate(7), BureauWorld.generate(7), BureauWorld.generate(8)
    assert [c.as_dict() for c in one.truth] == [c.as_dict() for c in again.truth]
    assert [c.as_dict() for c in one.truth] != [c.as_dict() for c in other.truth]


@pytest.mark.parametrize("seed", range(12))
def test_every_seed_plants_every_kind_of_change_and_incident(seed):
    world = BureauWorld.generate(seed)
    assert Counter(c.kind for c in world.truth) == {"new": 6, "changed": 7, "attachment_changed": 3, "withdrawn": 2}
    formats = {c.detail.split(":")[0] for c in world.truth if c.kind == "attachment_changed"}
    assert formats == {"pdf", "docx", "xlsx"}
    assert {c.detail.split(":")[0] for c in world.truth if c.kind == "changed"} == {"number", "date", "sentence"}
    assert sorted(i.kind for i in world.incidents) == ["maintenance", "outage", "redesign"]
    for change in world.truth:
        assert change.at.minute != 0, "changes never fall on the hour the monitor checks"
        assert change.at.weekday() < 5 and 9 <= change.at.hour < 18


def test_every_notice_text_can_be_served_in_gbk():
    for template in TEMPLATES:
        text = "\n".join(
            [template.title, *template.paragraphs, *(p for e in template.edits for p in e.changes.values())]
        )
        text.encode("gbk")


def test_list_pages_paginate_with_the_page_count_in_a_script(site):
    first = requests.get(f"{site.url}/xxgk/tzgg/index.html", timeout=10)
    assert first.status_code == 200
    html = first.content.decode("gbk")
    pages = int(re.search(r"createPageHTML\((\d+), 0, \"index\", \"html\"\)", html).group(1))
    assert pages >= 2
    last = requests.get(f"{site.url}/xxgk/tzgg/index_{pages - 1}.html", timeout=10)
    assert last.status_code == 200
    assert requests.get(f"{site.url}/xxgk/tzgg/index_{pages}.html", timeout=10).status_code == 404
    listed = re.findall(r'href="\./content/(post_\d+)\.html"', html + last.content.decode("gbk"))
    assert listed[0] == site.world.listed("tzgg", site.now)[0].notice_id


def test_gbk_pages_name_their_charset_only_in_the_page(site):
    answer = requests.get(f"{site.url}/xxgk/tzgg/index.html", timeout=10)
    assert answer.headers["Content-Type"] == "text/html"
    assert b'charset=gb2312"' in answer.content[:300]
    assert "通知公告" not in answer.text  # requests guesses ISO-8859-1: garbled
    assert "通知公告" in answer.content.decode("gbk")
    utf8 = requests.get(f"{site.url}/xxgk/zcfg/index.html", timeout=10)
    assert utf8.headers["Content-Type"] == "text/html; charset=utf-8" and "政策法规" in utf8.text


def test_notice_pages_carry_the_fields_and_answer_conditional_requests(site):
    state = site.world.listed("zcfg", site.now)[0]
    page = requests.get(site.url + state.path, timeout=10)
    assert state.title in page.text and state.office in page.text
    if state.doc_number:
        assert re.search(r"〔\d{4}〕\d+号", state.doc_number) and state.doc_number in page.text
    etag, modified = page.headers["ETag"], page.headers["Last-Modified"]
    assert requests.get(site.url + state.path, headers={"If-None-Match": etag}, timeout=10).status_code == 304
    assert requests.get(site.url + state.path, headers={"If-Modified-Since": modified}, timeout=10).status_code == 304
    gbk = site.world.listed("tzgg", site.now)[0]
    answer = requests.get(site.url + gbk.path, timeout=10)
    assert "ETag" not in answer.headers and b'<meta charset="gbk">' in answer.content
    assert gbk.title in answer.content.decode("gbk")


def test_the_same_page_twice_differs_only_by_its_noise(site):
    state = site.world.listed("zcfg", site.now)[0]
    one, two = (requests.get(site.url + state.path, timeout=10).text for _ in range(2))
    assert one != two
    for text in (one, two):
        assert re.search(r"浏览次数：\d+", text) and re.search(r"当前时间：\d{4}-\d{2}-\d{2}", text)


def test_attachments_are_served_in_their_formats_with_validators(site):
    world = site.world
    seen = set()
    for channel in ("tzgg", "zcfg"):
        for state in world.listed(channel, site.now):
            for attachment in state.attachments:
                answer = requests.get(site.url + attachment.path, timeout=10)
                assert answer.status_code == 200
                assert answer.headers["Content-Type"] == CONTENT_TYPES[attachment.spec.fmt]
                again = requests.get(
                    site.url + attachment.path, headers={"If-None-Match": answer.headers["ETag"]}, timeout=10
                )
                assert again.status_code == 304
                seen.add(attachment.spec.fmt)
    assert seen == {"pdf", "docx", "xlsx"}


def test_attachment_files_are_byte_for_byte_stable():
    for fmt in ("pdf", "docx", "xlsx"):
        lines = ("标题", "收费项目|收费标准（元）", "住宅|80")
        assert build_file(fmt, "附件", lines) == build_file(fmt, "附件", lines)
        assert build_file(fmt, "附件", lines) != build_file(fmt, "附件", (*lines[:2], "住宅|60"))


def test_incidents_show_as_a_502_a_maintenance_page_with_200_and_a_new_list_markup(site):
    world = site.world
    for incident in world.incidents:
        site.set_clock(incident.start + timedelta(minutes=5))
        answer = requests.get(f"{site.url}/xxgk/zcfg/index.html", timeout=10)
        if incident.kind == "outage":
            assert answer.status_code == 502 and "nginx" in answer.text
        elif incident.kind == "maintenance":
            assert answer.status_code == 200 and "系统维护中" in answer.text
        else:
            assert answer.status_code == 200
            assert "zx_ml_list" not in answer.text and 'class="list-item"' in answer.text
            assert "createPageHTML" not in answer.text and "data-pages=" in answer.text


def test_a_withdrawn_notice_is_gone_from_the_list_and_its_page(site):
    world = site.world
    for change in (c for c in world.truth if c.kind == "withdrawn"):
        site.set_clock(change.at - timedelta(minutes=1))
        assert requests.get(site.url + change.path, timeout=10).status_code == 200
        site.set_clock(change.at + timedelta(minutes=1))
        page = requests.get(site.url + change.path, timeout=10)
        assert page.status_code == 404 or "信息已撤销" in page.text
        assert change.notice_id not in [s.notice_id for s in world.listed(change.channel, site.now)]


def test_the_link_to_the_province_redirects_to_another_host(site):
    answer = requests.get(f"{site.url}/xxgk/zcfg/link/gdzjt_2026_5.html", allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("http://zjt.gd.gov.cn/")


def test_the_clock_and_the_ground_truth_are_sandbox_controls(site):
    moved = requests.post(f"{site.url}/_sandbox/clock", json={"now": "2026-03-20T10:00:00+08:00"}, timeout=10)
    assert moved.json() == {"now": "2026-03-20T10:00:00+08:00"}
    assert requests.get(f"{site.url}/_sandbox/clock", timeout=10).json()["now"] == "2026-03-20T10:00:00+08:00"
    truth = requests.get(f"{site.url}/_sandbox/truth", timeout=10).json()
    assert len(truth["changes"]) == len(site.world.truth) and truth["seed"] == 7
    until = requests.get(f"{site.url}/_sandbox/truth", params={"until": "2026-03-10T00:00:00+08:00"}, timeout=10)
    assert all(c["at"] <= "2026-03-10T00:00:00+08:00" for c in until.json()["changes"])
    bad = requests.post(f"{site.url}/_sandbox/clock", json={"now": "yesterday"}, timeout=10)
    assert bad.status_code == 400
