"""What the bureau connector hands back: fetched bodies, and list and notice pages read with selectors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Fetched:
    """One answer: 200 with a body, 304 (not modified since our validators) or 404/410 (gone).

    `url` is the address asked for, `final_url` the one that answered (after redirects inside the
    allowed hosts). `etag` and `last_modified` are the validators to send next time.
    """

    url: str
    final_url: str
    status: int
    content: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    elapsed_ms: int = 0

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def gone(self) -> bool:
        return self.status in (404, 410)


@dataclass(frozen=True)
class ListSelectors:
    """How to read a notice list: CSS selectors and a regex whose group 1 is the page count."""

    item: str
    link: str = "a"
    date: str | None = None
    page_count_pattern: str | None = None


@dataclass(frozen=True)
class NoticeSelectors:
    """How to read a notice page: CSS selectors, elements to drop, and regexes for the fields.

    Each field pattern is searched in the page's text; its group 1 (or the whole match) is the value.
    """

    title: str
    content: str
    attachments: str | None = None
    ignore: tuple[str, ...] = ()
    doc_number_pattern: str | None = None
    publish_date_pattern: str | None = None
    office_pattern: str | None = None


@dataclass(frozen=True)
class ListItem:
    url: str
    title: str
    published_on: date | None = None


@dataclass(frozen=True)
class ListPage:
    """A list page read with its selectors.

    `error_page` is the error-page pattern the page matched when no item did (a maintenance page
    served with status 200); `missing` names the selectors that matched nothing on a page that is
    not an error page (the markup changed).
    """

    url: str
    items: tuple[ListItem, ...]
    page_count: int | None
    error_page: str | None = None
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class AttachmentLink:
    url: str
    label: str


@dataclass(frozen=True)
class NoticePage:
    """A notice page: `lines` is the content's text, block by block, without the ignored elements.

    `error_page` / `gone` name the pattern a page without content matched (maintenance page, or a
    page saying the notice was withdrawn); `missing` names the selectors that matched nothing.
    """

    url: str
    title: str
    lines: tuple[str, ...]
    attachments: tuple[AttachmentLink, ...] = ()
    doc_number: str | None = None
    published_on: date | None = None
    office: str | None = None
    error_page: str | None = None
    gone: str | None = None
    missing: tuple[str, ...] = field(default_factory=tuple)

    @property
    def usable(self) -> bool:
        """True when the title and the content were found on a page that is neither an error nor gone."""
        return self.error_page is None and self.gone is None and not self.missing
