"""Text of attachments: PDF (pypdf), DOCX (its XML), XLSX (openpyxl), one line per paragraph or row.

The format is recognised from the bytes (a PDF header, the parts inside an Office ZIP), then from the
file name. A file without text (a scanned PDF) or in a format not read here (.doc, .xls, .wps, images)
yields no lines and a note; the monitor then compares the file's bytes instead, so a replaced scan is
still seen. A damaged file raises `ExtractionError`.
"""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree

log = logging.getLogger(__name__)

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


class ExtractionError(Exception):
    """An attachment that claims a format but cannot be read as it."""


@dataclass(frozen=True)
class Extracted:
    fmt: str
    lines: tuple[str, ...]
    note: str | None = None


def sniff_format(content: bytes, filename: str = "") -> str:
    """pdf, docx, xlsx, or the file name's extension (`unknown` without one)."""
    if content.startswith(b"%PDF"):
        return "pdf"
    if content.startswith(b"PK"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            names = set()
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
    name = filename.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else "unknown"


def extract_text(content: bytes, filename: str = "") -> Extracted:
    """The lines of text of an attachment; see the module docstring."""
    fmt = sniff_format(content, filename)
    if fmt == "pdf":
        lines = _pdf_lines(content)
    elif fmt == "docx":
        lines = _docx_lines(content)
    elif fmt == "xlsx":
        lines = _xlsx_lines(content)
    else:
        return Extracted(fmt, (), f"{fmt} 格式不提取文字，按文件内容比对")
    if not lines:
        return Extracted(fmt, (), "文件中没有可提取的文字（可能是扫描件），按文件内容比对")
    return Extracted(fmt, tuple(lines))


def _pdf_lines(content: bytes) -> list[str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(content))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise ExtractionError(
            f"expected a readable PDF, got one pypdf cannot read ({type(exc).__name__}: {exc})"
        ) from exc
    return [line.strip() for text in pages for line in text.splitlines() if line.strip()]


def _docx_lines(content: bytes) -> list[str]:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            root = ElementTree.fromstring(archive.read("word/document.xml"))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError) as exc:
        raise ExtractionError(f"expected a DOCX with word/document.xml, got an unreadable one ({exc})") from exc
    lines = []
    for paragraph in root.iter(f"{_W}p"):
        parts = []
        for node in paragraph.iter():
            if node.tag == f"{_W}t" and node.text:
                parts.append(node.text)
            elif node.tag == f"{_W}tab":
                parts.append(" ")
            elif node.tag in (f"{_W}br", f"{_W}cr"):
                parts.append("\n")
        for line in "".join(parts).split("\n"):
            if line.strip():
                lines.append(line.strip())
    return lines


def _xlsx_lines(content: bytes) -> list[str]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ExtractionError(f"expected a readable XLSX workbook, got an unreadable one ({exc})") from exc
    lines = []
    try:
        several = len(workbook.sheetnames) > 1
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows(values_only=True):
                cells = [_cell_text(value) for value in row if value is not None and _cell_text(value)]
                if cells:
                    prefix = f"[{sheet.title}] " if several else ""
                    lines.append(prefix + " | ".join(cells))
    finally:
        workbook.close()
    return lines


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
