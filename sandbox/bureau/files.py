"""Attachment files of the bureau site, built from their lines: PDF, DOCX and XLSX, byte-for-byte stable.

The same lines always give the same bytes (no creation times, fixed ZIP entry times), so an
attachment's ETag changes only when the file really does. PDF text uses the Adobe CJK font STSong-Light
(not embedded, as many government PDFs), DOCX is written as its few XML parts, XLSX through openpyxl.
"""

from __future__ import annotations

import io
import zipfile
from functools import lru_cache
from xml.sax.saxutils import escape

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)


def build_file(fmt: str, title: str, lines: tuple[str, ...]) -> bytes:
    """The bytes of an attachment in `fmt` (pdf, docx, xlsx) holding `lines`."""
    if fmt == "pdf":
        return _pdf(title, lines)
    if fmt == "docx":
        return _docx(lines)
    if fmt == "xlsx":
        return _xlsx(title, lines)
    raise ValueError(f"expected an attachment format among {sorted(CONTENT_TYPES)}, got {fmt!r}")


@lru_cache(maxsize=1)
def _cjk_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


@lru_cache(maxsize=256)
def _pdf(title: str, lines: tuple[str, ...]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    font = _cjk_font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    pdf.setTitle(title)
    width, height = A4
    y = height - 72
    for i, line in enumerate(lines):
        pdf.setFont(font, 15 if i == 0 else 11)
        for chunk in _wrap(line, 38):
            if y < 72:
                pdf.showPage()
                pdf.setFont(font, 11)
                y = height - 72
            pdf.drawString(72, y, chunk)
            y -= 22
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _wrap(line: str, width: int) -> list[str]:
    return [line[i : i + width] for i in range(0, len(line), width)] or [""]


_DOCX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
_DOCX_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/>'
    "</Relationships>"
)
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


@lru_cache(maxsize=256)
def _docx(lines: tuple[str, ...]) -> bytes:
    paragraphs = []
    for i, line in enumerate(lines):
        style = '<w:pPr><w:jc w:val="center"/></w:pPr>' if i == 0 else ""
        bold = "<w:rPr><w:b/></w:rPr>" if i == 0 else ""
        paragraphs.append(f'<w:p>{style}<w:r>{bold}<w:t xml:space="preserve">{escape(line)}</w:t></w:r></w:p>')
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document xmlns:w="{_W}"><w:body>{"".join(paragraphs)}<w:sectPr/></w:body></w:document>'
    )
    return _zip({"[Content_Types].xml": _DOCX_TYPES, "_rels/.rels": _DOCX_RELS, "word/document.xml": document})


@lru_cache(maxsize=256)
def _xlsx(title: str, lines: tuple[str, ...]) -> bytes:
    from datetime import datetime

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"
    sheet.append([title])
    for line in lines:
        sheet.append([_cell(value) for value in line.split("|")])
    stamp = datetime(2026, 1, 1)
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    workbook.properties.creator = "深圳市住房和建设局"
    raw = io.BytesIO()
    workbook.save(raw)
    return _restamp(raw.getvalue())


def _cell(value: str) -> str | int | float:
    try:
        return int(value)
    except ValueError:
        return value


def _zip(parts: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(zipfile.ZipInfo(name, _ZIP_TIME), text.encode("utf-8"), zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _restamp(data: bytes) -> bytes:
    """The same ZIP with every entry dated `_ZIP_TIME` (openpyxl stamps entries with the time of saving)."""
    parts = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            parts[info.filename] = archive.read(info)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(zipfile.ZipInfo(name, _ZIP_TIME), content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
