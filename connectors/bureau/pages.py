"""Reading list pages and notice pages with the selectors of the watch file.

Text comes out block by block (a paragraph, a list item, a table row, a heading is one line), with
scripts, styles and the ignored elements removed and runs of white space (full-width spaces too)
collapsed. A page where the required selectors match nothing is either an error page (it matches one
of the error-page patterns: '系统维护中' served with status 200) or a page whose markup changed
(`missing` names the selectors); neither is read as content.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Comment, Doctype, NavigableString, ProcessingInstruction, Tag
from bs4.exceptions import ParserRejectedMarkup

from connectors.bureau.errors import UnexpectedResponse
from connectors.bureau.records import (
    AttachmentLink,
    ListItem,
    ListPage,
    ListSelectors,
    NoticePage,
    NoticeSelectors,
)

# elements that start a new line of text
_BLOCK_NAMES = (
    "address article aside blockquote caption center dd div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tbody tfoot thead tr ul"
)
_BLOCKS = frozenset(_BLOCK_NAMES.split())
_CELLS = frozenset({"td", "th"})
_SKIPPED = frozenset({"script", "style", "noscript", "template", "iframe", "select", "option"})
_SPACE = re.compile(r"[\s\u3000\xa0\u200b\ufeff]+")
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")


def soup_of(html: str) -> BeautifulSoup:
    try:
        return BeautifulSoup(html, "html.parser")
    except (ParserRejectedMarkup, AssertionError) as exc:  # html.parser asserts on some broken markup
        raise UnexpectedResponse(f"expected an HTML page, got markup the parser rejects ({exc})") from exc


def element_lines(element: Tag) -> list[str]:
    """The text of `element`, one line per block, white space collapsed, empty lines dropped."""
    lines: list[str] = []
    current: list[str] = []

    def flush() -> None:
        text = _SPACE.sub(" ", "".join(current)).strip()
        if text:
            lines.append(text)
        current.clear()

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, Comment | Doctype | ProcessingInstruction):
                continue
            if isinstance(child, NavigableString):
                current.append(str(child))
            elif not isinstance(child, Tag) or child.name in _SKIPPED:
                continue
            elif child.name == "br":
                flush()
            elif child.name in _CELLS:
                walk(child)
                current.append(" ")
            elif child.name in _BLOCKS:
                flush()
                walk(child)
                flush()
            else:
                walk(child)

    walk(element)
    flush()
    return lines


def parse_date(text: str | None) -> date | None:
    """The first date in `text` (2026-03-02, 2026/03/02, 2026.3.2, 2026年3月2日); None if none or invalid."""
    if not text:
        return None
    found = _DATE.search(text)
    if found is None:
        return None
    try:
        return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError:
        return None


def error_page_match(text: str, patterns: Sequence[str]) -> str | None:
    """The first error-page pattern found in `text`, or None."""
    return next((pattern for pattern in patterns if re.search(pattern, text)), None)


def _page_text(soup: BeautifulSoup) -> str:
    root = soup.body or soup
    return "\n".join(element_lines(root)) if isinstance(root, Tag) else ""


def parse_list_page(html: str, url: str, selectors: ListSelectors, error_patterns: Sequence[str] = ()) -> ListPage:
    """The items of a notice list page, its page count, and what did not match."""
    soup = soup_of(html)
    nodes = soup.select(selectors.item)
    items: list[ListItem] = []
    for node in nodes:
        link = node if selectors.link in ("", "self") else node.select_one(selectors.link)
        href = link.get("href") if link is not None else None
        if link is None or not isinstance(href, str) or not href.strip() or href.strip().startswith("javascript:"):
            continue
        title_attr = link.get("title")
        title = title_attr.strip() if isinstance(title_attr, str) and title_attr.strip() else ""
        title = _SPACE.sub(" ", title or link.get_text(" ", strip=True)).strip()
        date_node = node.select_one(selectors.date) if selectors.date else node
        published_on = parse_date(date_node.get_text(" ", strip=True) if date_node is not None else None)
        items.append(ListItem(url=_absolute(url, href), title=title, published_on=published_on))
    page_count = None
    if selectors.page_count_pattern:
        found = re.search(selectors.page_count_pattern, html)
        page_count = int(found.group(1)) if found else None
    if not nodes:
        error = error_page_match(_page_text(soup), error_patterns)
        if error is not None:
            return ListPage(url=url, items=(), page_count=None, error_page=error)
    missing = []
    if not nodes:
        missing.append("item")
    elif not items:
        missing.append("link")
    if selectors.page_count_pattern and page_count is None:
        missing.append("page_count")
    return ListPage(url=url, items=_unique(items), page_count=page_count, missing=tuple(missing))


def _unique(items: list[ListItem]) -> tuple[ListItem, ...]:
    seen: set[str] = set()
    unique = []
    for item in items:
        if item.url not in seen:
            seen.add(item.url)
            unique.append(item)
    return tuple(unique)


def _absolute(base: str, href: str) -> str:
    """`href` resolved against the page, without its fragment."""
    joined = urljoin(base, href.strip())
    return joined.split("#", 1)[0] if urlsplit(joined).fragment else joined


def _field(pattern: str | None, text: str) -> str | None:
    if not pattern:
        return None
    found = re.search(pattern, text)
    if found is None:
        return None
    value = found.group(1) if found.groups() else found.group(0)
    return value.strip() or None


def parse_notice_page(
    html: str,
    url: str,
    selectors: NoticeSelectors,
    error_patterns: Sequence[str] = (),
    gone_patterns: Sequence[str] = (),
) -> NoticePage:
    """A notice page: title, content lines (ignored elements removed), attachments and fields.

    Without content, the page is an error page (`error_page`), a page saying the notice is gone
    (`gone`, a "soft 404"), or a page whose markup changed (`missing`).
    """
    soup = soup_of(html)
    for selector in selectors.ignore:
        for element in soup.select(selector):
            element.decompose()
    title_node = soup.select_one(selectors.title)
    content_node = soup.select_one(selectors.content)
    if content_node is None:
        text = _page_text(soup)
        error = error_page_match(text, error_patterns)
        gone = None if error else error_page_match(text, gone_patterns)
        missing = () if error or gone else ("content",) + (("title",) if title_node is None else ())
        return NoticePage(url=url, title="", lines=(), error_page=error, gone=gone, missing=missing)
    lines = tuple(element_lines(content_node))
    page_text = _page_text(soup)
    title = _SPACE.sub(" ", title_node.get_text(" ", strip=True)).strip() if title_node is not None else ""
    attachments: list[AttachmentLink] = []
    if selectors.attachments:
        for link in soup.select(selectors.attachments):
            href = link.get("href")
            if isinstance(href, str) and href.strip() and not href.strip().startswith("javascript:"):
                label = _SPACE.sub(" ", link.get_text(" ", strip=True)).strip()
                attachments.append(AttachmentLink(url=_absolute(url, href), label=label))
    return NoticePage(
        url=url,
        title=title,
        lines=lines,
        attachments=tuple(attachments),
        doc_number=_field(selectors.doc_number_pattern, page_text),
        published_on=parse_date(_field(selectors.publish_date_pattern, page_text)),
        office=_field(selectors.office_pattern, page_text),
        missing=("title",) if title_node is None else (),
    )
