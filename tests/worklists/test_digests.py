"""The daily digests as people receive them: through a real SMTP server, one message per person in
their language with only their items and the workbook of their lists; masked; recorded as sent; the
HTML rendered in headless Chromium. And the assignees file: a mistake names its place."""

from __future__ import annotations

import json
from datetime import date
from email import policy
from email.parser import BytesParser
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from estatehub.cli import main
from estatehub.health.tables import etl_report_sent
from estatehub.mail import SmtpSender, SmtpSettings
from estatehub.reports.i18n import DIGEST_LABELS, LIST_NAMES
from estatehub.worklists import (
    AssigneesError,
    NoWorkLists,
    build_digests,
    build_work_lists,
    load_assignees,
    run_daily,
    send_digests,
    write_digests,
)
from estatehub.worklists.lists import LISTS
from estatehub.worklists.tables import mart_work_item
from sandbox.smtp import MailSink
from tests.conftest import TEST_PII_KEY
from tests.support.browser import assert_page_with_text, needs_chromium, screenshot
from tests.worklists.conftest import AS_OF, ASSIGNEES, CITY


def _received(folder: Path) -> dict[str, object]:
    messages = [BytesParser(policy=policy.default).parsebytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]
    return {m["To"]: m for m in messages}


def _projects(warehouse) -> dict[str, str | None]:
    with warehouse.engine.connect() as conn:
        return {
            row.item_key: row.project_code
            for row in conn.execute(select(mart_work_item.c.item_key, mart_work_item.c.project_code))
        }


def _workbook_keys(attachment) -> dict[str, int]:
    book = openpyxl.load_workbook(BytesIO(attachment.get_content()))
    return {sheet.title: sheet.max_row - 1 for sheet in book.worksheets}


def test_each_person_gets_only_their_items_in_their_language(lists_world, tmp_path):
    build_work_lists(lists_world, AS_OF, city=CITY)
    projects = _projects(lists_world)
    p01 = sum(1 for p in projects.values() if p == "P01")
    p02 = sum(1 for p in projects.values() if p == "P02")
    assert p01 and p02 and None in projects.values(), "the world has items of both projects and of none"
    with MailSink(tmp_path / "mail") as sink:
        sent = send_digests(
            lists_world,
            AS_OF,
            ASSIGNEES,
            send=SmtpSender(SmtpSettings("127.0.0.1", sink.port)).send,
            out=tmp_path / "out",
        )
    assert sent == ["li", "wang", "boss"]
    mail = _received(tmp_path / "mail")
    assert set(mail) == {"li@dev.example", "wang@dev.example", "boss@dev.example"}
    li, wang, boss = mail["li@dev.example"], mail["wang@dev.example"], mail["boss@dev.example"]
    assert li["Subject"].startswith(f"【待办】2026-06-30 李专员：{p01} 项")
    assert wang["Subject"].startswith(f"[Work lists] 2026-06-30 Wang: {p02} items")
    assert boss["Subject"].startswith(f"【待办】2026-06-30 主管：{len(projects)} 项")

    li_html = li.get_body(("html",)).get_content()
    wang_html = wang.get_body(("html",)).get_content()
    assert "<th" in li_html and ">项数</th>" in li_html and "built-in method" not in li_html
    assert "YS2" in li_html and "RG5" not in li_html, "P02's subscription is not the P01 specialist's"
    assert "RG5" in wang_html and "YS2" not in wang_html and "Subscriptions past signing date" in wang_html
    assert "138****5678" in wang_html and "王*明" in wang_html, "whom to call, masked"
    assert "1 day late" in wang_html and "1 days" not in wang_html
    for message in mail.values():
        html = message.get_body(("html",)).get_content()
        text = message.get_body(("plain",)).get_content()
        assert "王小明" not in html + text and "欧阳娜娜" not in html + text and "张三丰" not in html + text

    (li_book,) = list(li.iter_attachments())
    rows = _workbook_keys(li_book)
    assert li_book.get_filename() == "待办清单_2026-06-30.xlsx"
    assert list(rows) == ["汇总"] + [LIST_NAMES["zh-CN"][name] for name in LISTS], "one sheet per list"
    assert sum(rows.values()) - rows["汇总"] == p01
    (boss_book,) = list(boss.iter_attachments())
    assert sum(_workbook_keys(boss_book).values()) - len(LISTS) == len(projects), "a supervisor sees every item"

    with lists_world.engine.connect() as conn:
        recorded = sorted(conn.execute(select(etl_report_sent.c.report, etl_report_sent.c.recipients_count)).all())
    assert recorded == [
        ("digest 2026-06-30 boss (zh-CN)", 1),
        ("digest 2026-06-30 li (zh-CN)", 1),
        ("digest 2026-06-30 wang (en)", 1),
    ]
    assert sorted(p.name for p in (tmp_path / "out").iterdir())[:3] == [
        "digest_2026-06-30_boss.html",
        "digest_2026-06-30_boss.txt",
        "digest_2026-06-30_boss.xlsx",
    ]


def test_a_person_with_nothing_to_do_is_told_so(lists_world):
    build_work_lists(lists_world, AS_OF, city=CITY)
    from dataclasses import replace

    idle = replace(ASSIGNEES.people[0], id="idle", projects=frozenset({"P99"}))
    digests = build_digests(lists_world, AS_OF, replace(ASSIGNEES, people=(idle,)))
    _, report = digests["idle"]
    assert report.subject == "【待办】2026-06-30 李专员：今日无待办事项"
    assert "今日没有需要跟进的事项" in report.html


def test_no_digest_of_a_day_the_lists_were_not_built_for(lists_world):
    with pytest.raises(NoWorkLists, match="never built"):
        build_digests(lists_world, AS_OF, ASSIGNEES)
    build_work_lists(lists_world, date(2026, 6, 29), city=CITY)
    with pytest.raises(NoWorkLists, match="last built as of 2026-06-29"):
        build_digests(lists_world, AS_OF, ASSIGNEES)


def test_run_daily_builds_as_of_the_reconciled_day_and_writes_the_digests(lists_world, tmp_path):
    result = run_daily(lists_world, assignees=ASSIGNEES, city=CITY, out=tmp_path)
    assert result.build.as_of == AS_OF and result.sent == []
    assert len(result.files) == 9 and all(p.exists() for p in result.files)


def test_every_digest_label_and_list_name_exists_in_both_languages():
    assert set(DIGEST_LABELS["zh-CN"]) == set(DIGEST_LABELS["en"])
    for lang in LIST_NAMES:
        assert set(LIST_NAMES[lang]) == set(LISTS), lang


def test_the_shipped_assignees_file_loads():
    people = load_assignees()
    assert {p.role for p in people.people} == {"specialist", "supervisor"}
    assert all(p.projects for p in people.people if p.role == "specialist")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("people: []", "expected a mapping with `people`"),
        ("people:\n  - {id: a, email: a@x, role: specialist}", r"people\[0\]: a specialist needs the projects"),
        ("people:\n  - {id: a, email: a@x, role: boss}", r"people\[0\].role must be one of"),
        ("people:\n  - {id: ../a, email: a@x, role: supervisor}", r"people\[0\].id must be a short name"),
        ("people:\n  - {id: a, email: nobody, role: supervisor}", r"people\[0\].email must be an e-mail"),
        ("people:\n  - {id: a, email: a@x, role: supervisor, language: fr}", r"language must be one of"),
        ("people:\n  - {id: a, email: a@x, role: specialist, projects: [P01]}", "at least one supervisor"),
        (
            "people:\n  - {id: a, email: a@x, role: supervisor}\n  - {id: a, email: b@x, role: supervisor}",
            "given to two persons",
        ),
    ],
)
def test_a_mistake_in_the_assignees_file_names_its_place(tmp_path, text, message):
    path = tmp_path / "assignees.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AssigneesError, match=message):
        load_assignees(path)


@pytest.mark.slow
@needs_chromium
def test_the_digest_renders_in_a_browser(lists_world, tmp_path):
    build_work_lists(lists_world, AS_OF, city=CITY)
    paths = write_digests(build_digests(lists_world, AS_OF, ASSIGNEES), tmp_path)
    html = next(p for p in paths if p.name == "digest_2026-06-30_boss.html")
    shot = screenshot(html.as_uri(), tmp_path / "digest.png", size=(1000, 1600))
    assert_page_with_text(shot, width=1000, height=1600)


def test_the_command_line_builds_the_lists_and_writes_each_person_s_digest(
    lists_world, warehouse_url, tmp_path, capsys, monkeypatch
):
    key_only = {"conn_type": "sqlite", "host": "unused", "extra": {"pii_key": TEST_PII_KEY.decode()}}
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps(key_only))
    with pytest.raises(SystemExit) as exit_:
        main(["report", "digests", "--date", "2026-06-30", "--out", str(tmp_path), "--url", warehouse_url])
    assert exit_.value.code == 2 and "estatehub worklists build --date 2026-06-30" in capsys.readouterr().err
    assert main(["worklists", "build", "--date", "2026-06-30", "--url", warehouse_url]) == 0
    assert "refund_due                 1 (1 late)" in capsys.readouterr().out
    assignees = tmp_path / "assignees.yaml"
    assignees.write_text(
        "people:\n  - {id: zhao, email: zhao@dev.example, role: supervisor, language: en}\n", encoding="utf-8"
    )
    args = ["--date", "2026-06-30", "--out", str(tmp_path / "out"), "--assignees", str(assignees)]
    assert main(["report", "digests", *args, "--url", warehouse_url]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "digest_2026-06-30_zhao.html",
        "digest_2026-06-30_zhao.txt",
        "digest_2026-06-30_zhao.xlsx",
    ]
    assert "Refunds due" in (tmp_path / "out" / "digest_2026-06-30_zhao.html").read_text(encoding="utf-8")
