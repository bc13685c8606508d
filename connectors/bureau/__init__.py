"""The real estate bureau's website: a polite fetcher and readers of its list and notice pages."""

from connectors.bureau.client import BureauClient, HostPolicy
from connectors.bureau.decoding import decode_html
from connectors.bureau.errors import BureauError, HostNotAllowed
from connectors.bureau.pages import parse_list_page, parse_notice_page
from connectors.bureau.records import (
    AttachmentLink,
    Fetched,
    ListItem,
    ListPage,
    ListSelectors,
    NoticePage,
    NoticeSelectors,
)

__all__ = [
    "AttachmentLink",
    "BureauClient",
    "BureauError",
    "Fetched",
    "HostNotAllowed",
    "HostPolicy",
    "ListItem",
    "ListPage",
    "ListSelectors",
    "NoticePage",
    "NoticeSelectors",
    "decode_html",
    "parse_list_page",
    "parse_notice_page",
]
