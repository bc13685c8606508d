"""The check run against the sandbox bureau site, on SQLite and PostgreSQL, with alerts over real SMTP."""

from __future__ import annotations

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select, update

from bench.policy_score import replay_config
from estatehub.mail import MailError, SmtpSender, SmtpSettings
from estatehub.policy.check import run_check
from estatehub.policy.classify import Classification
from estatehub.policy.config import Retention
from estatehub.policy.normalise import TextSnapshot
from estatehub.policy.store import ChangeRow, PolicyStore, SnapshotRow
from estatehub.policy.tables import core_policy_change, core_policy_document, core_policy_snapshot, etl_policy_fetch_log
from sandbox.bureau import start_bureau_server
from sandbox.bureau.notices import TEMPLATES_BY_KEY

from .conftest import Monitor, first_change, path_of, quiet

ONE_MINUTE = timedelta(minutes=1)


def _snapshot_count(monitor: Monitor) -> int:
    with monitor.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(core_policy_snapshot)).scalar_one()


def _redesign(world):
    return next(i for i in world.incidents if i.kind == "redesign")


def test_the_first_check_is_a_baseline_that_records_the_site_and_reports_nothing(monitor):
    world = monitor.bureau.world
    result = monitor.check(world.start + timedelta(hours=8))
    assert [w.baseline for w in result.watches] == [True, True]
    assert result.changes == {}
    assert monitor.mails() == []
    listed = sum(len(world.listed(channel, world.start)) for channel in ("tzgg", "zcfg"))
    notices = [w.notices_checked for w in result.watches]
    assert sum(notices) == listed
    second = monitor.check(world.start + timedelta(hours=8, minutes=5))
    assert [w.baseline for w in second.watches] == [False, False]
    assert second.changes == {}


@pytest.mark.parametrize(
    ("kind", "fmt"),
    [
        ("new", None),
        ("changed", None),
        ("withdrawn", None),
        ("attachment_changed", "pdf"),
        ("attachment_changed", "docx"),
        ("attachment_changed", "xlsx"),
    ],
)
def test_each_kind_of_change_is_found_with_what_was_added_and_removed(monitor, kind, fmt):
    world = monitor.bureau.world
    truth = first_change(world, kind, before_redesign=kind == "new", fmt=fmt)
    monitor.check(truth.at - ONE_MINUTE)
    monitor.check(truth.at + ONE_MINUTE)
    changes = monitor.changes()
    assert [(c.kind, path_of(c)) for c in changes] == [(kind, truth.path)]
    change = changes[0]
    notice = world.notice(truth.notice_id)
    assert change.title == notice.template.title
    if kind == "new":
        assert notice.template.paragraphs[0] in change.added
    elif kind == "changed":
        edit = next(e.edit for e in notice.events if e.kind == "changed" and e.at == truth.at)
        for value in edit.changes.values():
            assert any(value in line for line in change.added), (value, change.added)
        if edit.kind != "sentence":
            assert change.removed, "a changed number or date removes the old sentence"
    elif kind == "withdrawn":
        assert change.removed and not change.added
    else:
        spec = next(a for a in notice.template.attachments if a.replacement)
        assert change.attachment_label.startswith(spec.label.split("：")[0])
        for value in spec.replacement.values():
            assert any(value in line for line in change.added), (value, change.added)
        assert change.removed
    subjects = monitor.subjects()
    assert len(subjects) == 1 and "1 项政策变化" in subjects[0]
    digest = monitor.mails()[0]
    text = digest.get_body(("plain",)).get_content()
    html = digest.get_body(("html",)).get_content()
    assert notice.template.title in text and notice.template.title in html
    assert change.url in text


def test_an_urgent_word_makes_the_change_urgent_and_the_digest_is_sent_once(monitor):
    world = monitor.bureau.world
    high_words = monitor.config.urgency.words["high"]

    def added_sentence(truth):
        notice = world.notice(truth.notice_id)
        edit = next(e.edit for e in notice.events if e.at == truth.at)
        return edit.changes.get("extra", "") if edit else ""

    sentence = next(
        t
        for t in world.truth
        if t.kind == "changed" and any(word in added_sentence(t) for word in high_words) and not world.incident_at(t.at)
    )
    monitor.check(quiet(world, sentence.at - ONE_MINUTE))
    monitor.check(quiet(world, sentence.at + ONE_MINUTE))
    monitor.check(quiet(world, sentence.at + 2 * ONE_MINUTE))
    [change] = monitor.changes()
    assert change.urgency == "high"
    assert any("出现" in reason for reason in change.reasons)
    [digest] = monitor.mails()
    assert "紧急" in str(digest["Subject"])
    text = digest.get_body(("plain",)).get_content()
    assert "【紧急】" in text and "新增：" in text
    assert all(topic in text for topic in change.topics)


def test_noise_on_the_pages_never_counts_as_a_change(monitor):
    world = monitor.bureau.world
    start = world.start + timedelta(hours=8)
    monitor.check(start)
    snapshots = _snapshot_count(monitor)
    for minutes in (3, 7, 11):
        # forget the validators, so that every page is fetched again with new noise
        with monitor.engine.begin() as conn:
            conn.execute(update(core_policy_document).values(etag=None, last_modified=None))
        result = monitor.check(start + timedelta(minutes=minutes))
        assert result.changes == {}
        assert sum(w.not_modified for w in result.watches) == 0
    assert _snapshot_count(monitor) == snapshots
    assert monitor.mails() == []


def test_without_the_ignore_rules_the_same_noise_would_be_reported(bureau, policy_engine, mail_sink):
    from dataclasses import replace

    from .conftest import Monitor

    config = replay_config(bureau.url)
    watches = tuple(replace(w, notice=replace(w.notice, ignore=()), ignore_regexes=()) for w in config.watches)
    naive = Monitor(bureau, policy_engine, mail_sink, replace(config, watches=watches))
    start = bureau.world.start + timedelta(hours=8)
    naive.check(start)
    with policy_engine.begin() as conn:
        conn.execute(update(core_policy_document).values(etag=None, last_modified=None))
    assert naive.check(start + timedelta(minutes=3)).changes["changed"] > 0


def test_an_error_page_with_status_200_is_a_failed_check_and_the_snapshots_stay(monitor):
    world = monitor.bureau.world
    window = next(i for i in world.incidents if i.kind == "maintenance")
    monitor.check(window.start - timedelta(minutes=2))
    snapshots = _snapshot_count(monitor)
    during = monitor.check(window.start + timedelta(minutes=30))
    assert [w.status for w in during.watches] == ["failed", "failed"]
    assert "系统维护中" in during.watches[0].error
    assert during.changes == {}
    assert _snapshot_count(monitor) == snapshots
    after = monitor.check(window.end + ONE_MINUTE)
    assert [w.status for w in after.watches] == ["ok", "ok"]
    real = [t for t in world.truth if window.start - timedelta(minutes=2) < t.at <= window.end + ONE_MINUTE]
    assert sorted((c.kind, path_of(c)) for c in monitor.changes()) == sorted((t.kind, t.path) for t in real)
    assert not any("选择器" in s or "失败" in s for s in monitor.subjects())


def test_the_failure_alert_goes_out_once_after_n_failed_checks_and_recovery_is_told(monitor):
    world = monitor.bureau.world
    outage = next(i for i in world.incidents if i.kind == "outage")
    monitor.check(outage.start - ONE_MINUTE)
    snapshots = _snapshot_count(monitor)
    threshold = monitor.config.alerts.failures_before_alert
    for n in range(1, threshold + 2):
        result = monitor.check(outage.start + timedelta(minutes=30 * n))
        assert result.failed and result.changes == {}
        failure_alerts = [s for s in monitor.subjects() if "抓取连续失败" in s]
        assert len(failure_alerts) == (0 if n < threshold else 1)
    assert f"抓取连续失败 {threshold} 次" in failure_alerts[0]
    alert = next(m for m in monitor.mails() if "抓取连续失败" in str(m["Subject"]))
    body = alert.get_body(("plain",)).get_content()
    assert "HTTP 502" in body and "通知公告" in body and "政策法规" in body
    assert _snapshot_count(monitor) == snapshots
    monitor.check(outage.end + ONE_MINUTE)
    assert any("已恢复" in s for s in monitor.subjects())
    state = monitor.store.load_state("tzgg")
    assert state.consecutive_failures == 0 and state.failure_alerted_at is None


def test_a_site_that_refuses_connections_is_a_failure_not_a_change(policy_engine, mail_sink, tmp_path):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nothing listens there
    config = replay_config(f"http://127.0.0.1:{port}")
    send = SmtpSender(SmtpSettings(host=mail_sink.host, port=mail_sink.port)).send
    result = run_check(config, policy_engine, send)
    assert result.failed and result.changes == {}
    assert "无法连接网站" in result.watches[0].error
    assert PolicyStore(policy_engine).load_state("tzgg").consecutive_failures == 1


def test_a_redesign_sends_one_selector_alert_and_no_notice_is_judged_withdrawn(monitor):
    world = monitor.bureau.world
    redesign = _redesign(world)
    monitor.follow_redesign = False
    monitor.check(quiet(world, redesign.start - ONE_MINUTE))
    after = quiet(world, redesign.start + ONE_MINUTE)
    result = monitor.check(after)
    assert [w.status for w in result.watches] == ["degraded", "degraded"]
    assert "list.item" in result.watches[0].missing_selectors
    assert "withdrawn" not in result.changes
    monitor.check(after + timedelta(minutes=5))
    selector_alerts = [m for m in monitor.mails() if "选择器失效" in str(m["Subject"])]
    assert len(selector_alerts) == 1
    body = selector_alerts[0].get_body(("plain",)).get_content()
    assert "div.zx_ml_list li" in body and "watches[tzgg].list.item" in body
    # the operator updates the selectors; notices published meanwhile are then reported
    monitor.use_redesigned_selectors()
    later = redesign.start + timedelta(days=7)
    fixed = monitor.check(quiet(world, later))
    assert [w.status for w in fixed.watches] == ["ok", "ok"]
    assert any("已恢复" in s for s in monitor.subjects())
    published = {t.path for t in world.truth if t.kind == "new" and redesign.start <= t.at <= later}
    found = {path_of(c) for c in monitor.changes() if c.kind == "new"}
    assert published and published <= found


def test_gbk_pages_are_stored_as_the_chinese_they_are(monitor):
    world = monitor.bureau.world
    moment = world.start + timedelta(hours=8)
    monitor.check(moment)
    gbk = world.listed("tzgg", moment)[0]
    with monitor.engine.connect() as conn:
        text = conn.execute(
            select(core_policy_snapshot.c.text).where(core_policy_snapshot.c.url.like(f"%{gbk.path}"))
        ).scalar_one()
    assert f"标题：{gbk.title}" in text
    for paragraph in gbk.paragraphs():
        assert paragraph.split("。")[0] in text


def test_only_the_configured_hosts_are_fetched_and_a_redirect_elsewhere_is_refused(policy_engine, mail_sink):
    hits: list[str] = []

    class Elsewhere(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    other = ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    bureau = start_bureau_server(seed=7, external_site=f"http://127.0.0.1:{other.server_address[1]}")
    try:
        config = replay_config(bureau.url)
        send = SmtpSender(SmtpSettings(host=mail_sink.host, port=mail_sink.port)).send
        result = run_check(config, policy_engine, send, now=bureau.world.start + timedelta(hours=8))
        assert hits == []
        zcfg = result.watches[1]
        assert zcfg.refused == 1 and zcfg.status == "ok"
        with policy_engine.connect() as conn:
            refused = conn.execute(
                select(etl_policy_fetch_log.c.url, etl_policy_fetch_log.c.error).where(
                    etl_policy_fetch_log.c.outcome == "refused"
                )
            ).all()
        assert [url.endswith("/xxgk/zcfg/link/gdzjt_2026_5.html") for url, _ in refused] == [True]
        assert "allowed hosts" in refused[0].error
    finally:
        bureau.stop()
        other.shutdown()
        other.server_close()


def test_a_mail_server_failure_keeps_the_changes_for_the_next_digest(monitor):
    world = monitor.bureau.world
    truth = first_change(world, "changed")
    monitor.check(truth.at - ONE_MINUTE)
    monitor.bureau.set_clock(truth.at + ONE_MINUTE)
    broken = SmtpSender(SmtpSettings(host="127.0.0.1", port=1, timeout=2)).send
    with pytest.raises(MailError, match="smtp_default"):
        run_check(monitor.config, monitor.engine, broken, now=truth.at + ONE_MINUTE)
    assert len(monitor.store.pending_changes()) == 1
    monitor.check(truth.at + 2 * ONE_MINUTE)
    assert monitor.store.pending_changes() == []
    assert len([s for s in monitor.subjects() if "政策变化" in s]) == 1


def test_retention_deletes_old_snapshots_but_keeps_each_documents_current_one(policy_engine):
    from datetime import UTC, datetime

    store = PolicyStore(policy_engine)
    then = datetime(2026, 1, 1, tzinfo=UTC)
    key = "tzgg:xxgk/tzgg/content/post_1.html"
    rows = [SnapshotRow(key, "http://x/post_1.html", TextSnapshot((f"v{i}",)), f"{i:064d}", 3) for i in (1, 2)]
    with store.writer("r1", then) as writer:
        first = writer.add_snapshot(rows[0])
        writer.save_document(
            key=key,
            watch_id="tzgg",
            kind="notice",
            notice_key=key,
            row=rows[0],
            status="active",
            snapshot_id=first,
            changed=True,
        )
    with store.writer("r2", then + timedelta(days=1)) as writer:
        second = writer.add_snapshot(rows[1])
        writer.save_document(
            key=key,
            watch_id="tzgg",
            kind="notice",
            notice_key=key,
            row=rows[1],
            status="active",
            snapshot_id=second,
            changed=True,
        )
        writer.add_change(
            ChangeRow(
                "changed",
                "tzgg",
                key,
                key,
                "t",
                "http://x/post_1.html",
                ("v2",),
                ("v1",),
                Classification((), "low", ()),
                old_snapshot_id=first,
                new_snapshot_id=second,
            )
        )
    purged = store.purge(Retention(snapshot_days=30, change_days=3650, fetch_log_days=1), then + timedelta(days=400))
    assert purged["snapshots"] == 1
    with policy_engine.connect() as conn:
        left = conn.execute(select(core_policy_snapshot.c.snapshot_id)).scalars().all()
        change = conn.execute(select(core_policy_change)).one()
    assert left == [second]
    assert change.old_snapshot_id is None and change.new_snapshot_id == second
    assert change.removed_lines == ["v1"]


def test_classification_finds_each_policy_notices_own_topic(monitor):
    world = monitor.bureau.world
    news = [t for t in world.truth if t.kind == "new"]
    monitor.check(world.start + timedelta(hours=8))
    for truth in news:
        monitor.check(quiet(world, truth.at + ONE_MINUTE))
    found = {path_of(c): c for c in monitor.changes() if c.kind == "new"}
    for truth in news:
        template = TEMPLATES_BY_KEY[world.notice(truth.notice_id).template.key]
        assert set(template.topics) <= set(found[truth.path].topics), (template.key, found[truth.path].topics)


def test_a_notice_pushed_past_the_pages_read_is_unlisted_not_withdrawn(monitor):
    from dataclasses import replace

    world = monitor.bureau.world
    monitor.config = replace(monitor.config, watches=tuple(replace(w, max_pages=1) for w in monitor.config.watches))
    truth = next(t for t in world.truth if t.kind == "new" and t.channel == "tzgg")
    before, after = truth.at - ONE_MINUTE, truth.at + ONE_MINUTE
    monitor.check(before)
    pushed = world.listed("tzgg", before)[5]  # the last of the first page (6 a page) before the new notice
    assert pushed.notice_id not in [s.notice_id for s in world.listed("tzgg", after)[:6]]
    monitor.check(after)
    assert [(c.kind, path_of(c)) for c in monitor.changes()] == [("new", truth.path)]
    document = monitor.store.documents("tzgg")[f"tzgg:{pushed.path.lstrip('/')}"]
    assert document.status == "unlisted"


def test_an_attachment_that_fails_to_download_is_a_failure_not_a_removal(monitor):
    world = monitor.bureau.world
    start = world.start + timedelta(hours=8)
    monitor.check(start)
    with monitor.engine.begin() as conn:  # the notice pages are read again, with their attachment links
        conn.execute(update(core_policy_document).values(etag=None, last_modified=None))
    monitor.bureau.faults.replace([{"kind": "http_500", "path": "/attachment/", "body": "html"}])
    result = monitor.check(start + timedelta(minutes=5))
    assert result.failed and result.changes == {}
    with monitor.engine.connect() as conn:
        statuses = (
            conn.execute(select(core_policy_document.c.status).where(core_policy_document.c.kind == "attachment"))
            .scalars()
            .all()
        )
    assert statuses and set(statuses) == {"active"}
