"""The watch file: the shipped one loads, and every mistake is named with its place."""

from __future__ import annotations

import copy

import pytest
import yaml

from estatehub.policy.config import DEFAULT_CONFIG_PATH, PolicyConfigError, load_config, parse_config


@pytest.fixture
def raw():
    return yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))


def test_the_shipped_watch_file_loads_with_every_topic_of_the_issue():
    config = load_config()
    assert [w.id for w in config.watches] == ["tzgg", "zcfg"]
    assert [t.name for t in config.topics] == [
        "限购",
        "限贷/首付",
        "利率/LPR",
        "公积金",
        "契税/收费标准",
        "预售资金监管",
        "网签/备案",
        "交付/办证",
    ]
    assert {"暂停", "立即执行"} <= set(config.urgency.words["high"])
    assert config.schedule_cron == "0 8-20/2 * * *" and config.schedule_timezone == "Asia/Shanghai"
    assert config.alerts.failures_before_alert >= 2
    assert config.site.allowed_hosts == ("zjj.sz.gov.cn",)
    assert "系统维护中" in config.error_pages


def test_the_dag_schedule_is_the_one_the_watch_file_documents():
    from pathlib import Path

    dag_source = (Path(__file__).resolve().parents[2] / "dags" / "policy_monitor.py").read_text(encoding="utf-8")
    assert f'CronTriggerTimetable("{load_config().schedule_cron}", timezone="Asia/Shanghai")' in dag_source


def test_the_base_url_of_the_connection_replaces_the_site_and_its_host_is_allowed():
    config = load_config(base_url="http://127.0.0.1:8093")
    assert config.site.allowed_hosts == ("127.0.0.1:8093",)
    assert config.watches[0].url == "http://127.0.0.1:8093/xxgk/tzgg/index.html"
    assert config.watches[0].page_url(2) == "http://127.0.0.1:8093/xxgk/tzgg/index_2.html"


def _broken(raw, path, value):
    doc = copy.deepcopy(raw)
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("watches", 0, "list", "item"), "div[[", r"watches\[0\]\.list\.item: expected a CSS selector"),
        (("ignore", "regexes", 0), "(unclosed", r"ignore\.regexes\[0\]: expected a regular expression"),
        (
            ("watches", 0, "list", "page_count"),
            "createPageHTML",
            r"page_count\[0\]: expected a regular expression with a group",
        ),
        (
            ("watches", 1, "url"),
            "http://www.example.com/list.html",
            r"watches\[1\]\.url: expected a page on the allowed hosts",
        ),
        (("alerts", "recipients"), [], r"alerts\.recipients: expected at least one e-mail address"),
        (("alerts", "recipients"), ["supervisor"], r"alerts: expected e-mail addresses"),
        (("alerts", "failures_before_alert"), 0, r"alerts\.failures_before_alert: expected at least 1"),
        (("topics", 0, "urgency"), "urgent", r"topics\[0\]\.urgency: expected one of low, medium, high"),
        (("site", "base_url"), "zjj.sz.gov.cn", r"site\.base_url: expected an http\(s\) URL"),
        (("version",), 2, r"version: expected 1"),
        (("watches", 1, "id"), "tzgg", r"watches: expected unique ids"),
    ],
)
def test_a_mistake_in_the_watch_file_is_named_with_its_place(raw, path, value, message):
    with pytest.raises(PolicyConfigError, match=message):
        parse_config(_broken(raw, path, value))


def test_a_missing_or_broken_file_says_so(tmp_path):
    with pytest.raises(PolicyConfigError, match="cannot read the watch file"):
        load_config(tmp_path / "nowhere.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("watches: [\n", encoding="utf-8")
    with pytest.raises(PolicyConfigError, match="not valid YAML"):
        load_config(bad)


def test_the_limits_are_read_from_their_section_with_defaults_for_the_rest(raw):
    from estatehub.policy.config import MB, Limits

    assert load_config().limits == Limits(), "the shipped file states the defaults"
    raw = copy.deepcopy(raw)
    raw["limits"] = {"download_mb": 5, "member_mb": 8, "pdf_pages": 40}
    limits = parse_config(raw).limits
    assert (limits.download_bytes, limits.member_bytes, limits.pdf_pages) == (5 * MB, 8 * MB, 40)
    assert limits.archive_members == Limits().archive_members


def test_the_older_site_max_attachment_mb_still_sets_the_download_limit(raw):
    from estatehub.policy.config import MB

    raw = copy.deepcopy(raw)
    del raw["limits"]
    raw["site"]["max_attachment_mb"] = 7
    assert parse_config(raw).limits.download_bytes == 7 * MB
    raw["limits"] = {"download_mb": 3}
    with pytest.raises(PolicyConfigError, match="got both"):
        parse_config(raw)


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"member_bytes": 3}, "limits.member_bytes: expected one of"),
        ({"pdf_pages": 0}, "limits.pdf_pages: expected at least 1"),
        ({"archive_mb": "lots"}, "limits.archive_mb: expected a number"),
    ],
)
def test_a_mistake_in_the_limits_is_named_with_its_place(raw, limits, message):
    raw = copy.deepcopy(raw)
    raw["limits"] = limits
    with pytest.raises(PolicyConfigError, match=message):
        parse_config(raw)
