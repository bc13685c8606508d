"""Bytes of a government page → text, whatever charset it uses and however it says so.

Many government servers send `Content-Type: text/html` without a charset (requests then assumes
ISO-8859-1 and every Chinese character is garbled) and name the charset only in a meta tag, often
`gb2312` while the bytes are GBK. The charset is taken from, in this order: a byte-order mark, the
HTTP header, the page's meta tag, then UTF-8, then GB18030; the first one that decodes the bytes
cleanly wins. The GB family is always decoded as GB18030, the superset of GB2312 and GBK.
"""

from __future__ import annotations

import codecs
import logging
import re

log = logging.getLogger(__name__)

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", re.IGNORECASE)
_GB_FAMILY = {"gb2312", "gbk", "x-gbk", "gb18030", "cp936", "euc-cn", "hz-gb-2312"}
_SINGLE_BYTE = {"latin-1", "iso8859-1", "ascii", "cp1252"}
_SNIFF_BYTES = 4096


def charset_from_header(content_type: str | None) -> str | None:
    if not content_type:
        return None
    found = _HEADER_CHARSET.search(content_type)
    return found.group(1).lower() if found else None


def charset_from_meta(content: bytes) -> str | None:
    found = _META_CHARSET.search(content[:_SNIFF_BYTES])
    return found.group(1).decode("ascii").lower() if found else None


def _codec(charset: str) -> str | None:
    name = charset.lower()
    if name in _GB_FAMILY:
        return "gb18030"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_html(content: bytes, content_type: str | None = None) -> tuple[str, str]:
    """The text of a page and the codec that decoded it."""
    if content.startswith(codecs.BOM_UTF8):
        return content[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "utf-8"
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return content.decode("utf-16", errors="replace"), "utf-16"
    header, meta = charset_from_header(content_type), charset_from_meta(content)
    if header and meta and _codec(header) in _SINGLE_BYTE:
        header = None  # a server default like ISO-8859-1 decodes anything: the page knows better
    candidates: list[str] = []
    for declared in (header, meta, "utf-8", "gb18030"):
        codec = _codec(declared) if declared else None
        if codec and codec not in candidates:
            candidates.append(codec)
    for codec in candidates:
        try:
            return content.decode(codec), codec
        except UnicodeDecodeError:
            continue
    codec = candidates[0]
    text = content.decode(codec, errors="replace")
    log.warning(
        "no charset decodes the page cleanly (tried %s); decoded as %s with %d replaced characters",
        ", ".join(candidates),
        codec,
        text.count("\ufffd"),
    )
    return text, codec
