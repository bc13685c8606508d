"""One watch checked once: its list read, its notices and attachments compared, what changed recorded.

For each watch: read the list pages (page count from the page's script, at most `max_pages`); then
each listed notice, and each known notice that left the list, with a conditional GET; normalise the
text, fetch and extract the attachments, compare hashes with the last snapshot, and record new,
changed, withdrawn notices and changed attachments with their added and removed lines, topics and
urgency. The first successful check of a watch is its baseline: what is there is recorded, not
reported.

What is never a change:
- a fetch error (after the HTTP session's retries) or an error page served with status 200: the
  watch's check failed; the last good snapshots stay; after `failures_before_alert` failed checks
  in a row the supervisors get one failure alert (and one notice when it works again);
- a list or notice page whose selectors match nothing: the markup changed; one selector alert, and
  no notice is judged withdrawn while the list cannot be read;
- noise: the ignored elements and patterns are gone before anything is hashed.

A notice is withdrawn when it left a list that was read completely and its page answers 404/410 or
a page matching `gone_pages`. A notice that left the list but still answers is only "unlisted" (it
slid past the pages read) and is no longer re-checked.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.bureau.client import BureauClient
from connectors.bureau.decoding import decode_html
from connectors.bureau.errors import (
    AuthError,
    BureauError,
    HostNotAllowed,
    RateLimited,
    RetriableError,
    TooLarge,
)
from connectors.bureau.pages import parse_list_page, parse_notice_page
from connectors.bureau.records import AttachmentLink, Fetched, ListItem, NoticePage
from connectors.http import safe_url
from estatehub.policy.classify import Classification, classify
from estatehub.policy.config import PolicyConfig, Watch
from estatehub.policy.diff import diff_lines
from estatehub.policy.extract import ExtractionError, LimitExceeded, extract_text
from estatehub.policy.normalise import TextSnapshot, bytes_hash, compile_patterns, normalise_lines
from estatehub.policy.store import (
    AttachmentFailure,
    ChangeRow,
    Document,
    NoticeWriter,
    PolicyStore,
    SnapshotRow,
    WatchState,
)

log = logging.getLogger(__name__)


@dataclass
class WatchResult:
    """What one watch's check did (counts, never texts)."""

    watch_id: str
    name: str
    status: str = "ok"  # ok | failed | degraded (a selector matched nothing)
    baseline: bool = False
    list_pages: int = 0
    listed: int = 0
    notices_checked: int = 0
    not_modified: int = 0
    attachments_checked: int = 0
    attachment_failures: int = 0
    fetch_errors: int = 0
    refused: int = 0
    error: str | None = None
    missing_selectors: list[str] = field(default_factory=list)
    changes: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        values = dict(self.__dict__)
        values["changes"] = dict(self.changes)
        return values


def header_lines(page: NoticePage) -> tuple[str, ...]:
    """The first lines of a notice's snapshot: its title and fields, all read from the page itself."""
    lines = [f"标题：{page.title}"]
    if page.doc_number:
        lines.append(f"文号：{page.doc_number}")
    if page.published_on:
        lines.append(f"发布日期：{page.published_on.isoformat()}")
    if page.office:
        lines.append(f"发布机构：{page.office}")
    return tuple(lines)


def describe_failure(exc: BureauError) -> str:
    """What went wrong, in Chinese for the alert, with the technical message after it."""
    if isinstance(exc, RateLimited):
        summary = "网站限制访问频率（HTTP 429）"
    elif isinstance(exc, RetriableError):
        summary = f"网站返回 HTTP {exc.status}" if exc.status else "无法连接网站或响应超时"
    elif isinstance(exc, AuthError):
        summary = f"网站拒绝访问（HTTP {exc.status}），可能屏蔽了本机地址或 User-Agent"
    elif isinstance(exc, TooLarge):
        summary = "文件超过大小限制"
    elif exc.status:
        summary = f"网站返回 HTTP {exc.status}"
    else:
        summary = "网站返回的内容无法识别"
    return f"{summary}（{exc}）"


def notice_key(watch_id: str, url: str) -> str:
    return f"{watch_id}:{safe_url(url).split('://', 1)[-1].split('/', 1)[-1]}"


def attachment_key(notice: str, label: str, url: str) -> str:
    name = " ".join(label.split())
    stem, dot, ext = name.rpartition(".")
    if dot and ext.lower() in {"pdf", "doc", "docx", "xls", "xlsx", "wps", "et", "zip", "rar", "ofd", "jpg", "png"}:
        name = stem
    return f"{notice}#{name[:200] or safe_url(url)}"


def _status(item: ListItem | None, listing: _Listing) -> str:
    """`active`, or `unlisted` for a notice that left a list read whole but still answers: it slid
    past the pages read, and is no longer re-checked."""
    return "active" if item is not None or not listing.complete else "unlisted"


@dataclass
class _Listing:
    items: list[ListItem] = field(default_factory=list)
    failure: str | None = None
    complete: bool = True


@dataclass
class _AttachmentRead:
    key: str
    link: AttachmentLink
    fetched: Fetched | None = None
    row: SnapshotRow | None = None
    old_lines: tuple[str, ...] = ()


class WatchCheck:
    """`WatchCheck(config, watch, client, store, run_id, now).run()` → `WatchResult`; see the module docstring."""

    def __init__(
        self,
        config: PolicyConfig,
        watch: Watch,
        client: BureauClient,
        store: PolicyStore,
        run_id: str,
        now: datetime,
    ) -> None:
        self.config = config
        self.watch = watch
        self.client = client
        self.store = store
        self.run_id = run_id
        self.now = now
        self.ignore = compile_patterns(watch.ignore_regexes)
        self.result = WatchResult(watch.id, watch.name)
        self.missing: set[str] = set()
        self.fetches: list[dict[str, Any]] = []
        self.touches: list[tuple[str, str | None, str | None]] = []
        self.first_error: str | None = None
        self.attachments: dict[str, list[Document]] = {}  # active attachments by notice key
        self.failures: list[AttachmentFailure] = []  # attachments that could not be read this run
        self.read_ok: set[str] = set()  # attachments read this run (their open failure is over)

    # -- the watch ---------------------------------------------------------------------------------

    def run(self) -> WatchResult:
        state = self.store.load_state(self.watch.id)
        self.baseline = state.baselined_at is None
        self.result.baseline = self.baseline
        listing = self._read_listing()
        if listing.failure is None:
            self._check_notices(listing)
        self._finish(state, listing)
        return self.result

    def _finish(self, state: WatchState, listing: _Listing) -> None:
        result = self.result
        failed = listing.failure is not None or result.fetch_errors > 0
        state.last_run_at = self.now
        if failed:
            state.consecutive_failures += 1
            state.last_failure_at = self.now
            state.last_error = listing.failure or self.first_error
            result.status = "failed"
            result.error = state.last_error
        else:
            state.consecutive_failures = 0
            state.last_ok_at = self.now
        if listing.failure is None:  # only a page that was read can say whether its selectors match
            missing = sorted(self.missing)
            if missing and not state.selector_missing:
                state.selector_broken_since = self.now
            if not missing:
                state.selector_broken_since = None
            state.selector_missing = missing
            result.missing_selectors = missing
            if missing and result.status == "ok":
                result.status = "degraded"
        if state.baselined_at is None and listing.failure is None and listing.complete and not failed:
            state.baselined_at = self.now
        self.store.save_state(
            state,
            self.now,
            self.fetches,
            self.touches,
            failures=self.failures,
            read_again=self.read_ok,
            run_id=self.run_id,
        )
        if failed:
            log.warning(
                "watch %s: check failed (%d in a row, %d fetch errors): %s",
                self.watch.id,
                state.consecutive_failures,
                max(result.fetch_errors, 1),
                state.last_error,
            )

    # -- fetching, with the fetch log --------------------------------------------------------------

    def _log(self, url: str, purpose: str, outcome: str, fetched: Fetched | None = None, error: str | None = None):
        self.fetches.append(
            {
                "run_id": self.run_id,
                "watch_id": self.watch.id,
                "url": safe_url(url),
                "purpose": purpose,
                "outcome": outcome,
                "status": fetched.status if fetched else None,
                "byte_size": len(fetched.content) if fetched else None,
                "elapsed_ms": fetched.elapsed_ms if fetched else None,
                "error": error,
                "fetched_at": self.now,
            }
        )

    def _failed(self, url: str, purpose: str, error: str, outcome: str = "error") -> None:
        self.result.fetch_errors += 1
        self.first_error = self.first_error or error
        self._log(url, purpose, outcome, error=error)
        log.info("watch %s: %s %s: %s", self.watch.id, purpose, safe_url(url), error)

    def _fetch(self, url: str, purpose: str, doc: Document | None = None) -> Fetched | None:
        """The answer, or None after logging a refusal (another host) or an error (counted)."""
        same_url = doc is not None and doc.url == url
        try:
            return self.client.fetch(
                url,
                etag=doc.etag if same_url and doc else None,
                last_modified=doc.last_modified if same_url and doc else None,
            )
        except HostNotAllowed as exc:
            self.result.refused += 1
            self._log(url, purpose, "refused", error=str(exc))
            log.info("watch %s: not following %s: %s", self.watch.id, safe_url(url), exc.message)
            return None
        except TooLarge as exc:
            if purpose == "attachment":
                raise  # a failure of that attachment only: `_read_attachments` records it
            self._failed(url, purpose, describe_failure(exc))
            return None
        except BureauError as exc:
            self._failed(url, purpose, describe_failure(exc))
            return None

    # -- the list ----------------------------------------------------------------------------------

    def _read_listing(self) -> _Listing:
        listing = _Listing()
        page_count = 1
        page = 0
        while page < min(page_count, self.watch.max_pages):
            url = self.watch.page_url(page)
            fetched = self._fetch(url, "list")
            if fetched is None or fetched.status != 200:
                if fetched is not None:
                    self._failed(url, "list", f"列表页不存在（HTTP {fetched.status}），请检查 watches 中的 url")
                if page == 0:
                    listing.failure = self.first_error or f"列表页 {safe_url(url)} 无法读取"
                listing.complete = False
                return listing
            text, _ = decode_html(fetched.content, fetched.content_type)
            read = parse_list_page(text, fetched.final_url, self.watch.list.selectors, self.config.error_pages)
            if read.error_page is not None:
                self._failed(url, "list", f"网站返回错误页面（状态 200，页面显示“{read.error_page}”）", "error_page")
                if page == 0:
                    listing.failure = self.first_error
                listing.complete = False
                return listing
            self._log(url, "list", "ok", fetched)
            self.result.list_pages += 1
            self.missing.update(f"list.{name}" for name in read.missing)
            if read.missing:
                listing.complete = False
            listing.items.extend(read.items)
            if page == 0 and read.page_count:
                page_count = read.page_count
            page += 1
        return listing

    # -- the notices -------------------------------------------------------------------------------

    def _check_notices(self, listing: _Listing) -> None:
        documents = self.store.documents(self.watch.id)
        notices = {k: d for k, d in documents.items() if d.kind == "notice"}
        for doc in documents.values():
            if doc.kind == "attachment" and doc.status == "active":
                self.attachments.setdefault(doc.notice_key, []).append(doc)
        listed: dict[str, ListItem] = {}
        for item in listing.items:
            listed.setdefault(notice_key(self.watch.id, item.url), item)
        self.result.listed = len(listed)
        for key, item in listed.items():
            self._check_notice(key, item.url, item, notices.get(key), listing)
        for key, doc in notices.items():
            if doc.status == "active" and key not in listed:
                self._check_notice(key, doc.url, None, doc, listing)

    def _check_notice(self, key: str, url: str, item: ListItem | None, doc: Document | None, listing: _Listing) -> None:
        fetched = self._fetch(url, "notice", doc)
        if fetched is None:
            return
        self.result.notices_checked += 1
        if fetched.not_modified:
            self.result.not_modified += 1
            self._log(url, "notice", "not_modified", fetched)
            status = _status(item, listing)
            self._recheck_attachments(key, doc, fetched, status=status if doc and doc.status != status else None)
            return
        page = None
        if not fetched.gone:
            text, _ = decode_html(fetched.content, fetched.content_type)
            page = parse_notice_page(
                text, fetched.final_url, self.watch.notice, self.config.error_pages, self.config.gone_pages
            )
            if page.error_page is not None:
                self._failed(url, "notice", f"网站返回错误页面（状态 200，页面显示“{page.error_page}”）", "error_page")
                return
            if not page.usable and page.gone is None:
                self.missing.update(f"notice.{name}" for name in page.missing)
                self._log(url, "notice", "ok", fetched, error=f"selectors matched nothing: {', '.join(page.missing)}")
                return
        if fetched.gone or (page is not None and page.gone is not None):
            self._log(url, "notice", "gone", fetched)
            self._gone(key, url, item, doc, listing)
            return
        assert page is not None
        self._log(url, "notice", "ok", fetched)
        self._record_notice(key, url, item, doc, fetched, page, listing)

    def _gone(self, key: str, url: str, item: ListItem | None, doc: Document | None, listing: _Listing) -> None:
        if doc is None or doc.status != "active":
            if item is not None:
                log.warning("watch %s: the list links to %s, which is gone", self.watch.id, safe_url(url))
            return
        if item is not None or not listing.complete:
            # still listed (a broken link), or the list was not read whole: not enough to say withdrawn
            log.info("watch %s: %s is gone but not judged withdrawn yet", self.watch.id, safe_url(url))
            return
        old_lines = self.store.snapshot_lines(doc.snapshot_id)
        with self.store.writer(self.run_id, self.now) as writer:
            writer.set_status(key, "withdrawn")
            for attachment in self.attachments.get(key, []):
                writer.set_status(attachment.document_key, "removed")
            if not self.baseline:
                title = doc.title or url
                self._change(
                    writer,
                    ChangeRow(
                        kind="withdrawn",
                        watch_id=self.watch.id,
                        document_key=key,
                        notice_key=key,
                        title=title,
                        url=url,
                        added=(),
                        removed=old_lines,
                        classification=self._classify([title, *old_lines], (), withdrawn=True),
                        doc_number=doc.doc_number,
                        published_on=doc.published_on,
                        old_snapshot_id=doc.snapshot_id,
                    ),
                )

    def _record_notice(
        self,
        key: str,
        url: str,
        item: ListItem | None,
        doc: Document | None,
        fetched: Fetched,
        page: NoticePage,
        listing: _Listing,
    ) -> None:
        body = normalise_lines(page.lines, self.ignore).lines
        title = page.title
        snapshot = TextSnapshot(header_lines(page) + body)
        row = SnapshotRow(
            document_key=key,
            url=url,
            text=snapshot,
            content_hash=bytes_hash(fetched.content),
            byte_size=len(fetched.content),
            title=title,
            doc_number=page.doc_number,
            published_on=page.published_on or (item.published_on if item else None),
            office=page.office,
            content_type=fetched.content_type,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
        )
        known = doc is not None and doc.status in ("active", "unlisted")
        status = _status(item, listing)
        reads, linked = self._read_attachments(key, page.attachments, title)
        text_changed = not known or doc is None or doc.text_hash != row.text_hash
        old_lines = self.store.snapshot_lines(doc.snapshot_id) if known and text_changed and doc else ()
        with self.store.writer(self.run_id, self.now) as writer:
            snapshot_id = writer.add_snapshot(row) if text_changed else None
            writer.save_document(
                key=key,
                watch_id=self.watch.id,
                kind="notice",
                notice_key=key,
                row=row,
                status=status,
                snapshot_id=snapshot_id,
                changed=text_changed,
            )
            report = not self.baseline
            if not known and report:
                attachment_lines = [line for read in reads if read.row for line in read.row.text.lines]
                self._change(
                    writer,
                    ChangeRow(
                        kind="new",
                        watch_id=self.watch.id,
                        document_key=key,
                        notice_key=key,
                        title=title,
                        url=url,
                        added=body,
                        removed=(),
                        classification=self._classify([title, *body, *attachment_lines], [*body, *attachment_lines]),
                        doc_number=row.doc_number,
                        published_on=row.published_on,
                        new_snapshot_id=snapshot_id,
                    ),
                )
            elif known and text_changed and doc is not None and report:
                diff = diff_lines(old_lines, snapshot.lines)
                self._change(
                    writer,
                    ChangeRow(
                        kind="changed",
                        watch_id=self.watch.id,
                        document_key=key,
                        notice_key=key,
                        title=title,
                        url=url,
                        added=diff.added,
                        removed=diff.removed,
                        classification=self._classify([title, *snapshot.lines, *diff.removed], diff.added),
                        doc_number=row.doc_number,
                        published_on=row.published_on,
                        old_snapshot_id=doc.snapshot_id,
                        new_snapshot_id=snapshot_id,
                    ),
                )
            self._record_attachments(writer, key, title, row, reads, report=report and known, linked=linked)

    # -- attachments -------------------------------------------------------------------------------

    def _read_attachments(
        self, key: str, links: Iterable[AttachmentLink], title: str | None
    ) -> tuple[list[_AttachmentRead], set[str]]:
        """The attachments read (200 or 304), and the keys of every attachment the page links to
        (read or not: one that failed to download is still there). An attachment too large to
        download, or that cannot be read, is one recorded failure of that attachment (alerted once),
        not a failure of the watch: the other attachments and notices are read as usual."""
        known = {doc.document_key: doc for doc in self.attachments.get(key, [])}
        reads = []
        linked = set()
        for link in links:
            if not self.client.allows(link.url):
                self.result.refused += 1
                self._log(link.url, "attachment", "refused", error="host not in allowed_hosts")
                continue
            read = _AttachmentRead(attachment_key(key, link.label, link.url), link)
            linked.add(read.key)
            doc = known.get(read.key)
            self.result.attachments_checked += 1
            try:
                read.fetched = self._fetch(link.url, "attachment", doc)
            except TooLarge as exc:
                self._attachment_failed(read, key, title, "too_large", describe_failure(exc))
                continue
            if read.fetched is None:
                continue
            if read.fetched.gone:
                self._log(link.url, "attachment", "gone", read.fetched)
                log.warning("watch %s: attachment %s is gone", self.watch.id, safe_url(link.url))
                continue
            if not read.fetched.not_modified:
                read.row = self._attachment_row(read, key, title)
                if read.row is None:
                    continue
                if doc is not None and doc.text_hash != read.row.text_hash:
                    read.old_lines = self.store.snapshot_lines(doc.snapshot_id)
            reads.append(read)
        return reads, linked

    def _attachment_row(self, read: _AttachmentRead, notice: str, title: str | None) -> SnapshotRow | None:
        """The snapshot of an attachment that arrived; one that cannot be read is kept by its bytes
        (so a replacement is still seen) and recorded as a failure of that attachment."""
        fetched = read.fetched
        assert fetched is not None
        filename = fetched.final_url.rsplit("/", 1)[-1]
        try:
            extracted = extract_text(fetched.content, filename, self.config.limits)
        except ExtractionError as exc:
            summary = "文件超过读取限制" if isinstance(exc, LimitExceeded) else "文件无法读取"
            self._log(read.link.url, "attachment", "unreadable", fetched, error=str(exc))
            self._attachment_failed(read, notice, title, "unreadable", f"{summary}（{exc}）", fetched)
            lines: tuple[str, ...] = ()
            note = f"{summary}（{exc}），按文件内容比对"
        else:
            self._log(read.link.url, "attachment", "ok", fetched)
            self.read_ok.add(read.key)
            lines, note = extracted.lines, extracted.note
        return SnapshotRow(
            document_key=read.key,
            url=read.link.url,
            text=normalise_lines(lines) if lines else TextSnapshot(()),
            content_hash=bytes_hash(fetched.content),
            byte_size=len(fetched.content),
            title=read.link.label,
            content_type=fetched.content_type,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            extract_note=note,
        )

    def _attachment_failed(
        self,
        read: _AttachmentRead,
        notice: str,
        title: str | None,
        kind: str,
        reason: str,
        fetched: Fetched | None = None,
    ) -> None:
        self.result.attachment_failures += 1
        if fetched is None:
            self._log(read.link.url, "attachment", "error", error=reason)
        log.warning("watch %s: attachment %s: %s", self.watch.id, safe_url(read.link.url), reason)
        self.failures.append(
            AttachmentFailure(
                watch_id=self.watch.id,
                document_key=read.key,
                notice_key=notice,
                notice_title=title,
                label=read.link.label,
                url=read.link.url,
                kind=kind,
                reason=reason,
                content_hash=bytes_hash(fetched.content) if fetched else None,
                byte_size=len(fetched.content) if fetched else None,
            )
        )

    def _recheck_attachments(
        self, key: str, doc: Document | None, fetched: Fetched, *, status: str | None = None
    ) -> None:
        """The notice page did not change: its attachments may still have been replaced in place.

        `status` is the notice's new status, if it changes (a notice that slid past the pages read).
        """
        links = [AttachmentLink(a.url, a.title or a.url) for a in self.attachments.get(key, [])]
        reads, _ = self._read_attachments(key, links, doc.title if doc else None)
        if status is None and all(read.row is None for read in reads):  # nothing new: batch the refresh
            self.touches.append((key, fetched.etag, fetched.last_modified))
            self.touches.extend((r.key, r.fetched.etag, r.fetched.last_modified) for r in reads if r.fetched)
            return
        with self.store.writer(self.run_id, self.now) as writer:
            writer.touch(key, etag=fetched.etag, last_modified=fetched.last_modified, status=status)
            if doc is not None:
                self._record_attachments(writer, key, doc.title or doc.url, None, reads, report=not self.baseline)

    def _record_attachments(
        self,
        writer: NoticeWriter,
        key: str,
        title: str,
        notice_row: SnapshotRow | None,
        reads: list[_AttachmentRead],
        *,
        report: bool,
        linked: set[str] | None = None,
    ) -> None:
        """Save the attachments read; given the keys the page now `linked` to, the others are removed."""
        known = {doc.document_key: doc for doc in self.attachments.get(key, [])}
        for read in reads:
            doc = known.get(read.key)
            fetched = read.fetched
            assert fetched is not None
            if read.row is None:  # 304
                writer.touch(read.key, etag=fetched.etag, last_modified=fetched.last_modified)
                continue
            changed = doc is None or doc.text_hash != read.row.text_hash
            snapshot_id = writer.add_snapshot(read.row) if changed else None
            writer.save_document(
                key=read.key,
                watch_id=self.watch.id,
                kind="attachment",
                notice_key=key,
                row=read.row,
                status="active",
                snapshot_id=snapshot_id,
                changed=changed,
            )
            if changed and report:
                added, removed = self._attachment_diff(read)
                self._change(
                    writer,
                    ChangeRow(
                        kind="attachment_changed",
                        watch_id=self.watch.id,
                        document_key=read.key,
                        notice_key=key,
                        title=title,
                        url=read.link.url,
                        added=added,
                        removed=removed,
                        classification=self._classify([title, read.link.label, *added, *removed], added),
                        doc_number=notice_row.doc_number if notice_row else None,
                        published_on=notice_row.published_on if notice_row else None,
                        attachment_label=read.link.label,
                        old_snapshot_id=doc.snapshot_id if doc else None,
                        new_snapshot_id=snapshot_id,
                    ),
                )
        if linked is None:
            return
        for gone_key, doc in known.items():
            if gone_key in linked:
                continue
            writer.set_status(gone_key, "removed")
            if report:
                removed = self.store.snapshot_lines(doc.snapshot_id) or (f"附件：{doc.title}",)
                self._change(
                    writer,
                    ChangeRow(
                        kind="attachment_changed",
                        watch_id=self.watch.id,
                        document_key=gone_key,
                        notice_key=key,
                        title=title,
                        url=doc.url,
                        added=(),
                        removed=removed,
                        classification=self._classify([title, doc.title or "", *removed], ()),
                        attachment_label=f"{doc.title}（已删除）",
                        old_snapshot_id=doc.snapshot_id,
                    ),
                )

    def _attachment_diff(self, read: _AttachmentRead) -> tuple[tuple[str, ...], tuple[str, ...]]:
        assert read.row is not None
        if not read.row.text.lines:
            note = read.row.extract_note or "文件已更换"
            return (f"文件已更换：{read.link.label}（{note}）",), ()
        diff = diff_lines(read.old_lines, read.row.text.lines)
        return diff.added, diff.removed

    # -- changes -----------------------------------------------------------------------------------

    def _classify(self, about: Iterable[str], added: Iterable[str], *, withdrawn: bool = False) -> Classification:
        return classify(
            about=about, added=added, topics=self.config.topics, rules=self.config.urgency, withdrawn=withdrawn
        )

    def _change(self, writer: NoticeWriter, change: ChangeRow) -> None:
        writer.add_change(change)
        self.result.changes[change.kind] += 1
        log.info(
            "watch %s: %s %s (%d lines added, %d removed, urgency %s)",
            self.watch.id,
            change.kind,
            safe_url(change.url),
            len(change.added),
            len(change.removed),
            change.classification.urgency,
        )
