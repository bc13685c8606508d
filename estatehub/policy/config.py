"""The watch file (`estatehub/config/policy_watches.yaml`) → a validated `PolicyConfig`.

Every value is checked when the file is loaded, so a typo fails the run at once with the place and
what was expected (`watches[1].list.item: expected a CSS selector ...`), not halfway through a check.
The base URL can be replaced at load time (the `bureau_site` Connection); the host of the base URL
is always allowed, `site.allowed_hosts` adds others.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import soupsieve

from connectors.bureau.client import HostPolicy
from connectors.bureau.records import ListSelectors, NoticeSelectors
from estatehub.settings import POLICY_WATCHES, read_yaml

DEFAULT_CONFIG_PATH = POLICY_WATCHES
URGENCY_LEVELS = ("low", "medium", "high")
URGENCY_LABELS = {"low": "一般", "medium": "重要", "high": "紧急"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_WATCH_ID = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


class PolicyConfigError(ValueError):
    """The watch file cannot be used as written; the message names the place and what to write."""


@dataclass(frozen=True)
class SiteConfig:
    name: str
    base_url: str
    allowed_hosts: tuple[str, ...]
    user_agent: str
    min_interval_seconds: float = 2.0
    timeout_seconds: float = 20.0
    retries: int = 3
    backoff_seconds: float = 2.0


MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """How much of an attachment from outside the monitor will read: every cap in one place.

    Set in the watch file's `limits:` section (sizes in MB); these defaults fit the bureau's notices
    (fee tables, forms, a few pages of text) with a wide margin. A file over a limit is one recorded,
    alerted failure of that attachment; the rest of the check goes on.
    """

    download_bytes: int = 20 * MB  # a body, counted while it streams (chunked or not)
    download_seconds: float = 120.0  # the whole body, however slowly it trickles
    archive_members: int = 300  # files inside a DOCX / XLSX (a real one has a few dozen)
    member_bytes: int = 32 * MB  # decompressed size of one member, counted while reading, not trusted
    archive_bytes: int = 96 * MB  # decompressed size of all members together
    pdf_pages: int = 300
    text_chars: int = 5_000_000  # characters of text kept from one attachment

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if value <= 0:
                raise ValueError(f"limits.{name}: expected a positive value, got {value}")


@dataclass(frozen=True)
class ListConfig:
    selectors: ListSelectors
    page_url: str = "index_{n}.html"


@dataclass(frozen=True)
class Watch:
    id: str
    name: str
    url: str
    list: ListConfig
    notice: NoticeSelectors
    ignore_regexes: tuple[str, ...] = ()
    max_pages: int = 5

    def page_url(self, page: int) -> str:
        """The address of list page `page` (0 is the watch's own URL)."""
        if page == 0:
            return self.url
        return urljoin(self.url, self.list.page_url.format(n=page))


@dataclass(frozen=True)
class Topic:
    name: str
    keywords: tuple[str, ...]
    urgency: str


@dataclass(frozen=True)
class UrgencyRules:
    default: str = "low"
    withdrawn: str = "medium"
    words: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class AlertConfig:
    recipients: tuple[str, ...]
    sender: str
    subject_prefix: str = "[政策监测]"
    failures_before_alert: int = 3
    max_lines_per_change: int = 40


@dataclass(frozen=True)
class Retention:
    snapshot_days: int = 730
    change_days: int = 1825
    fetch_log_days: int = 90


@dataclass(frozen=True)
class PolicyConfig:
    site: SiteConfig
    watches: tuple[Watch, ...]
    topics: tuple[Topic, ...]
    urgency: UrgencyRules
    alerts: AlertConfig
    retention: Retention
    error_pages: tuple[str, ...]
    gone_pages: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)
    schedule_cron: str = "0 8-20/2 * * *"
    schedule_timezone: str = "Asia/Shanghai"
    source: str = ""

    def watch(self, watch_id: str) -> Watch:
        for watch in self.watches:
            if watch.id == watch_id:
                return watch
        raise KeyError(f"no watch {watch_id!r} in {self.source or 'the watch file'}")

    def with_watch(self, watch_id: str, **changes: Any) -> PolicyConfig:
        """A copy with one watch changed (`list=`, `notice=`, ...): what an operator's edit of the file does."""
        self.watch(watch_id)  # KeyError for an unknown watch
        return replace(self, watches=tuple(replace(w, **changes) if w.id == watch_id else w for w in self.watches))


def load_config(path: str | Path | None = None, *, base_url: str | None = None) -> PolicyConfig:
    """Read and check the watch file; `base_url` (the `bureau_site` Connection) replaces `site.base_url`."""
    path = Path(path) if path else DEFAULT_CONFIG_PATH
    raw = read_yaml(path, "the watch file", PolicyConfigError, hint="; pass --config PATH")
    return parse_config(raw, base_url=base_url, source=str(path))


def parse_config(raw: Any, *, base_url: str | None = None, source: str = "") -> PolicyConfig:
    """A `PolicyConfig` from the decoded YAML document; raises `PolicyConfigError`."""
    doc = _mapping(raw, "the watch file")
    version = doc.get("version", 1)
    if version != 1:
        raise PolicyConfigError(f"version: expected 1, got {version!r}; this estatehub reads version 1 files")
    site_doc = _mapping(doc.get("site"), "site")
    site = _site(site_doc, base_url)
    limits = _limits(_mapping(doc.get("limits", {}), "limits"), site_doc)
    ignore = _mapping(doc.get("ignore", {}), "ignore")
    common_ignore = tuple(_selectors(ignore.get("selectors", []), "ignore.selectors"))
    common_regexes = tuple(_regexes(ignore.get("regexes", []), "ignore.regexes"))
    notice_defaults = _mapping(doc.get("notice", {}), "notice")
    watches_raw = _sequence(doc.get("watches"), "watches")
    if not watches_raw:
        raise PolicyConfigError("watches: expected at least one watch (a notice list to follow)")
    watches = tuple(
        _watch(_mapping(w, f"watches[{i}]"), f"watches[{i}]", site, notice_defaults, common_ignore, common_regexes)
        for i, w in enumerate(watches_raw)
    )
    ids = [w.id for w in watches]
    if len(set(ids)) != len(ids):
        raise PolicyConfigError(f"watches: expected unique ids, got {ids}")
    schedule = _mapping(doc.get("schedule", {}), "schedule")
    return PolicyConfig(
        site=site,
        watches=watches,
        topics=tuple(_topics(doc.get("topics", []))),
        urgency=_urgency(_mapping(doc.get("urgency", {}), "urgency")),
        alerts=_alerts(_mapping(doc.get("alerts"), "alerts")),
        retention=_retention(_mapping(doc.get("retention", {}), "retention")),
        error_pages=tuple(_regexes(doc.get("error_pages", []), "error_pages")),
        gone_pages=tuple(_regexes(doc.get("gone_pages", []), "gone_pages")),
        limits=limits,
        schedule_cron=_text(schedule.get("cron", "0 8-20/2 * * *"), "schedule.cron"),
        schedule_timezone=_text(schedule.get("timezone", "Asia/Shanghai"), "schedule.timezone"),
        source=source,
    )


# -- sections --------------------------------------------------------------------------------------


def _site(doc: Mapping[str, Any], base_url: str | None) -> SiteConfig:
    url = base_url or _text(doc.get("base_url"), "site.base_url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PolicyConfigError(f"site.base_url: expected an http(s) URL like http://zjj.sz.gov.cn, got {url!r}")
    own_host = parts.netloc.rsplit("@", 1)[-1].lower()
    extra = [
        _text(h, f"site.allowed_hosts[{i}]").lower()
        for i, h in enumerate(_sequence(doc.get("allowed_hosts", []), "site.allowed_hosts"))
    ]
    user_agent = _text(doc.get("user_agent"), "site.user_agent")
    return SiteConfig(
        name=_text(doc.get("name", "住房和建设局"), "site.name"),
        base_url=url.rstrip("/") + "/",
        allowed_hosts=tuple(dict.fromkeys([own_host, *extra])),
        user_agent=user_agent,
        min_interval_seconds=_number(doc.get("min_interval_seconds", 2.0), "site.min_interval_seconds", 0),
        timeout_seconds=_number(doc.get("timeout_seconds", 20), "site.timeout_seconds", 0.1),
        retries=int(_number(doc.get("retries", 3), "site.retries", 1, integer=True)),
        backoff_seconds=_number(doc.get("backoff_seconds", 2.0), "site.backoff_seconds", 0),
    )


def _limits(doc: Mapping[str, Any], site_doc: Mapping[str, Any]) -> Limits:
    """The `limits:` section; `site.max_attachment_mb` (the older place of the download limit) is still read."""
    known = {
        "download_mb",
        "download_seconds",
        "archive_members",
        "member_mb",
        "archive_mb",
        "pdf_pages",
        "text_chars",
    }
    for name in doc:
        if name not in known:
            raise PolicyConfigError(f"limits.{name}: expected one of {', '.join(sorted(known))}")
    if "max_attachment_mb" in site_doc and "download_mb" in doc:
        raise PolicyConfigError("site.max_attachment_mb and limits.download_mb: expected one of them, got both")
    default = Limits()
    download_mb = doc.get("download_mb", site_doc.get("max_attachment_mb", default.download_bytes / MB))
    where = "limits.download_mb" if "download_mb" in doc else "site.max_attachment_mb"

    def size(value: Any, name: str) -> int:
        return int(_number(value, name, 0.001) * MB)

    def count(name: str, fallback: int) -> int:
        return int(_number(doc.get(name, fallback), f"limits.{name}", 1, integer=True))

    return Limits(
        download_bytes=size(download_mb, where),
        download_seconds=_number(doc.get("download_seconds", default.download_seconds), "limits.download_seconds", 1),
        archive_members=count("archive_members", default.archive_members),
        member_bytes=size(doc.get("member_mb", default.member_bytes / MB), "limits.member_mb"),
        archive_bytes=size(doc.get("archive_mb", default.archive_bytes / MB), "limits.archive_mb"),
        pdf_pages=count("pdf_pages", default.pdf_pages),
        text_chars=count("text_chars", default.text_chars),
    )


def _watch(
    doc: Mapping[str, Any],
    where: str,
    site: SiteConfig,
    notice_defaults: Mapping[str, Any],
    common_ignore: tuple[str, ...],
    common_regexes: tuple[str, ...],
) -> Watch:
    watch_id = _text(doc.get("id"), f"{where}.id")
    if not _WATCH_ID.match(watch_id):
        raise PolicyConfigError(f"{where}.id: expected lowercase letters, digits and _ (like tzgg), got {watch_id!r}")
    url = urljoin(site.base_url, _text(doc.get("url"), f"{where}.url"))
    if not HostPolicy(site.allowed_hosts).allows(url):
        raise PolicyConfigError(
            f"{where}.url: expected a page on the allowed hosts ({', '.join(site.allowed_hosts)}), got {url}; "
            "add its host to site.allowed_hosts"
        )
    list_doc = _mapping(doc.get("list"), f"{where}.list")
    page_count = list_doc.get("page_count")
    if page_count is not None:
        _regexes([page_count], f"{where}.list.page_count", groups=1)
    page_url = _text(list_doc.get("page_url", "index_{n}.html"), f"{where}.list.page_url")
    if "{n}" not in page_url:
        raise PolicyConfigError(
            f"{where}.list.page_url: expected a pattern with {{n}} (like index_{{n}}.html), got {page_url!r}"
        )
    selectors = ListSelectors(
        item=_selector(list_doc.get("item"), f"{where}.list.item"),
        link=_selector(list_doc.get("link", "a"), f"{where}.list.link"),
        date=_selector(list_doc["date"], f"{where}.list.date") if list_doc.get("date") else None,
        page_count_pattern=page_count,
    )
    notice_doc = {**notice_defaults, **_mapping(doc.get("notice", {}), f"{where}.notice")}
    fields = _mapping(notice_doc.get("fields", {}), f"{where}.notice.fields")
    for name, pattern in fields.items():
        if name not in ("doc_number", "publish_date", "office"):
            raise PolicyConfigError(f"{where}.notice.fields: expected doc_number, publish_date or office, got {name!r}")
        _regexes([pattern], f"{where}.notice.fields.{name}")
    own_ignore = _mapping(doc.get("ignore", {}), f"{where}.ignore")
    notice = NoticeSelectors(
        title=_selector(notice_doc.get("title"), f"{where}.notice.title"),
        content=_selector(notice_doc.get("content"), f"{where}.notice.content"),
        attachments=_selector(notice_doc["attachments"], f"{where}.notice.attachments")
        if notice_doc.get("attachments")
        else None,
        ignore=common_ignore + tuple(_selectors(own_ignore.get("selectors", []), f"{where}.ignore.selectors")),
        doc_number_pattern=fields.get("doc_number"),
        publish_date_pattern=fields.get("publish_date"),
        office_pattern=fields.get("office"),
    )
    return Watch(
        id=watch_id,
        name=_text(doc.get("name", watch_id), f"{where}.name"),
        url=url,
        list=ListConfig(selectors=selectors, page_url=page_url),
        notice=notice,
        ignore_regexes=common_regexes + tuple(_regexes(own_ignore.get("regexes", []), f"{where}.ignore.regexes")),
        max_pages=int(_number(doc.get("max_pages", 5), f"{where}.max_pages", 1, integer=True)),
    )


def _topics(raw: Any) -> list[Topic]:
    topics = []
    for i, item in enumerate(_sequence(raw, "topics")):
        doc = _mapping(item, f"topics[{i}]")
        keywords = [_text(k, f"topics[{i}].keywords") for k in _sequence(doc.get("keywords"), f"topics[{i}].keywords")]
        if not keywords:
            raise PolicyConfigError(f"topics[{i}].keywords: expected at least one keyword")
        topics.append(
            Topic(
                name=_text(doc.get("name"), f"topics[{i}].name"),
                keywords=tuple(keywords),
                urgency=_level(doc.get("urgency", "medium"), f"topics[{i}].urgency"),
            )
        )
    return topics


def _urgency(doc: Mapping[str, Any]) -> UrgencyRules:
    words_doc = _mapping(doc.get("words", {}), "urgency.words")
    words = {}
    for level, items in words_doc.items():
        _level(level, "urgency.words")
        words[level] = tuple(_text(w, f"urgency.words.{level}") for w in _sequence(items, f"urgency.words.{level}"))
    return UrgencyRules(
        default=_level(doc.get("default", "low"), "urgency.default"),
        withdrawn=_level(doc.get("withdrawn", "medium"), "urgency.withdrawn"),
        words=words,
    )


def _alerts(doc: Mapping[str, Any]) -> AlertConfig:
    recipients = [_text(r, "alerts.recipients") for r in _sequence(doc.get("recipients"), "alerts.recipients")]
    if not recipients:
        raise PolicyConfigError("alerts.recipients: expected at least one e-mail address (the supervisors)")
    for address in [*recipients, doc.get("sender", "")]:
        if not isinstance(address, str) or not _EMAIL.match(address):
            raise PolicyConfigError(f"alerts: expected e-mail addresses like name@example.com, got {address!r}")
    return AlertConfig(
        recipients=tuple(recipients),
        sender=doc["sender"],
        subject_prefix=_text(doc.get("subject_prefix", "[政策监测]"), "alerts.subject_prefix"),
        failures_before_alert=int(
            _number(doc.get("failures_before_alert", 3), "alerts.failures_before_alert", 1, integer=True)
        ),
        max_lines_per_change=int(
            _number(doc.get("max_lines_per_change", 40), "alerts.max_lines_per_change", 1, integer=True)
        ),
    )


def _retention(doc: Mapping[str, Any]) -> Retention:
    return Retention(
        snapshot_days=int(_number(doc.get("snapshot_days", 730), "retention.snapshot_days", 1, integer=True)),
        change_days=int(_number(doc.get("change_days", 1825), "retention.change_days", 1, integer=True)),
        fetch_log_days=int(_number(doc.get("fetch_log_days", 90), "retention.fetch_log_days", 1, integer=True)),
    )


# -- value checks ------------------------------------------------------------------------------------


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PolicyConfigError(f"{where}: expected a mapping (key: value lines), got {type(value).__name__}")
    return value


def _sequence(value: Any, where: str) -> Sequence[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PolicyConfigError(f"{where}: expected a list (lines starting with '- '), got {type(value).__name__}")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PolicyConfigError(f"{where}: expected non-empty text, got {value!r}")
    return value.strip()


def _number(value: Any, where: str, minimum: float, *, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int)):
        kind = "a whole number" if integer else "a number"
        raise PolicyConfigError(f"{where}: expected {kind}, got {value!r}")
    if value < minimum:
        raise PolicyConfigError(f"{where}: expected at least {minimum}, got {value}")
    return float(value)


def _level(value: Any, where: str) -> str:
    if value not in URGENCY_LEVELS:
        raise PolicyConfigError(f"{where}: expected one of {', '.join(URGENCY_LEVELS)}, got {value!r}")
    return value


def _selector(value: Any, where: str) -> str:
    text = _text(value, where)
    try:
        soupsieve.compile(text)
    except soupsieve.SelectorSyntaxError as exc:
        raise PolicyConfigError(f"{where}: expected a CSS selector, got {text!r} ({exc.args[0]})") from exc
    return text


def _selectors(values: Any, where: str) -> list[str]:
    return [_selector(v, f"{where}[{i}]") for i, v in enumerate(_sequence(values, where))]


def _regexes(values: Any, where: str, *, groups: int = 0) -> list[str]:
    patterns = []
    for i, value in enumerate(_sequence(values, where)):
        text = _text(value, f"{where}[{i}]")
        try:
            compiled = re.compile(text)
        except re.error as exc:
            raise PolicyConfigError(f"{where}[{i}]: expected a regular expression, got {text!r} ({exc})") from exc
        if compiled.groups < groups:
            raise PolicyConfigError(
                f"{where}[{i}]: expected a regular expression with a group (…) around the value, got {text!r}"
            )
        patterns.append(text)
    return patterns
