"""One bad attachment is one recorded, alerted failure of that attachment only (issue 10, item 2).

A loopback site (made here) lists two notices; the first links a good DOCX, an XLSX entity bomb and a
"PDF" that floods a chunked body past the download limit. `policy check` must go on: the good
attachment and the other notice are read, both failures are stored in the warehouse and named in one
alert, the watch is not failed; the next check does not tell the same failures again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import select

from estatehub.policy.check import build_client, run_check
from estatehub.policy.config import parse_config
from estatehub.policy.store import PolicyStore
from estatehub.policy.tables import core_policy_document, etl_policy_attachment_failure, etl_policy_fetch_log
from estatehub.warehouse.migrations import upgrade
from sandbox.bureau.files import CONTENT_TYPES, build_file
from tests.support.bombs import LINES, MB, xlsx_entity_bomb
from tests.support.hostile_site import HostileSite

AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)

LIST = """<html><head><meta charset="utf-8"></head><body><ul class="list">
<li><a href="/content/post_1.html">关于调整不动产登记收费标准的通知</a></li>
<li><a href="/content/post_2.html">关于商品房预售资金监管的通知</a></li>
</ul></body></html>"""

NOTICE_1 = """<html><head><meta charset="utf-8"></head><body><h1>关于调整不动产登记收费标准的通知</h1>
<div class="content"><p>现将收费标准公布如下，自即日起执行。</p></div>
<div class="files"><a href="/files/fees.docx">收费标准.docx</a><a href="/files/table.xlsx">收费明细.xlsx</a>
<a href="/files/scan.pdf">扫描件.pdf</a></div></body></html>"""

NOTICE_2 = """<html><head><meta charset="utf-8"></head><body><h1>关于商品房预售资金监管的通知</h1>
<div class="content"><p>预售资金应当全部存入监管账户。</p></div></body></html>"""


def _config(site: HostileSite):
    return parse_config(
        {
            "site": {
                "base_url": site.url,
                "user_agent": "estatehub-tests/1.0 (+mailto:tests@estatehub.example)",
                "min_interval_seconds": 0,
                "timeout_seconds": 5,
                "retries": 1,
            },
            "limits": {"download_mb": 2},
            "notice": {"title": "h1", "content": "div.content", "attachments": "div.files a"},
            "watches": [{"id": "tzgg", "name": "通知公告", "url": "/list.html", "list": {"item": "ul.list li"}}],
            "alerts": {"recipients": ["supervisor@estatehub.example"], "sender": "estatehub@estatehub.example"},
        }
    )


def _site() -> HostileSite:
    site = HostileSite()
    site.page("/list.html", LIST.encode())
    site.page("/content/post_1.html", NOTICE_1.encode())
    site.page("/content/post_2.html", NOTICE_2.encode())
    site.page("/files/fees.docx", build_file("docx", "附件：收费标准", LINES), CONTENT_TYPES["docx"])
    site.page("/files/table.xlsx", xlsx_entity_bomb(), CONTENT_TYPES["xlsx"])
    site.flood("/files/scan.pdf", total=40 * MB)
    return site


def _body(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def test_a_bad_attachment_is_one_recorded_alerted_failure_and_the_check_goes_on(engine):
    upgrade(engine)
    sent: list[EmailMessage] = []
    with _site() as site:
        config = _config(site)
        with build_client(config, sleep=lambda _s: None) as client:
            result = run_check(config, engine, sent.append, now=AT, client=client)
            watch = result.watches[0]
            assert watch.status == "ok" and watch.baseline, watch.as_dict()
            assert watch.notices_checked == 2 and watch.attachments_checked == 3
            assert watch.attachment_failures == 2 and watch.fetch_errors == 0

            with engine.connect() as conn:
                docs = {row.document_key: row for row in conn.execute(select(core_policy_document))}
                failures = conn.execute(
                    select(etl_policy_attachment_failure).order_by(etl_policy_attachment_failure.c.label)
                ).all()
                outcomes = {
                    row.url.rsplit("/", 1)[-1]: row.outcome for row in conn.execute(select(etl_policy_fetch_log))
                }

            # the good attachment beside the bad ones is read, and so is the other notice
            good = docs["tzgg:content/post_1.html#收费标准"]
            assert "住宅类不动产登记费" in "\n".join(PolicyStore(engine).snapshot_lines(good.snapshot_id))
            assert "tzgg:content/post_2.html" in docs
            assert outcomes["fees.docx"] == "ok" and outcomes["table.xlsx"] == "unreadable"
            assert outcomes["scan.pdf"] == "error"

            # each bad attachment is one failure in the warehouse, with its reason, told once
            assert [(f.label, f.kind) for f in failures] == [
                ("扫描件.pdf", "too_large"),
                ("收费明细.xlsx", "unreadable"),
            ]
            assert "at most 2097152 bytes" in failures[0].reason
            assert "DTD" in failures[1].reason or "Entit" in failures[1].reason
            assert all(f.alerted_at is not None and f.notice_title for f in failures)
            [alert] = [m for m in sent if "附件无法读取" in m["Subject"]]
            assert "附件无法读取 2 个" in alert["Subject"]
            text = _body(alert)
            assert "收费明细.xlsx" in text and "扫描件.pdf" in text and "关于调整不动产登记收费标准的通知" in text
            assert "文件过大" in text and "文件无法读取" in text

            # the next check meets the same files: nothing new to tell, the failures stay open
            again = run_check(config, engine, sent.append, now=AT + timedelta(hours=2), client=client)
            assert again.watches[0].status == "ok" and again.watches[0].attachment_failures == 2
            assert not [s for s in again.alerts if "附件无法读取" in s]
            with engine.connect() as conn:
                rows = conn.execute(select(etl_policy_attachment_failure)).all()
            assert len(rows) == 2 and all(r.resolved_at is None for r in rows)

            # the bad file replaced by a good one: its failure is over
            site.page("/files/table.xlsx", build_file("xlsx", "附件：收费明细", LINES), CONTENT_TYPES["xlsx"])
            run_check(config, engine, sent.append, now=AT + timedelta(hours=4), client=client)
            with engine.connect() as conn:
                resolved = {r.label: r.resolved_at for r in conn.execute(select(etl_policy_attachment_failure))}
            assert resolved["收费明细.xlsx"] is not None and resolved["扫描件.pdf"] is None
