"""Text of attachments: PDF (pypdf), DOCX (its XML), XLSX (openpyxl), one line per paragraph or row.

The format is recognised from the bytes (a PDF header, the parts inside an Office ZIP), then from the
file name. A file without text (a scanned PDF) or in a format not read here (.doc, .xls, .wps, images)
yields no lines and a note; the monitor then compares the file's bytes instead, so a replaced scan is
still seen. A file that cannot be read, or only by going past a limit, raises `ExtractionError`.

Attachments come from outside and are read as hostile (`Limits`, estatehub.policy.config):
- an Office file is a ZIP: the number of members (from the ZIP's end record, before `zipfile` reads
  its directory), the decompressed size of each member and of all of them are capped; the sizes in
  the ZIP's headers are checked first, then every member is read through a counter that stops at
  the cap (a header can lie);
- every XML member is parsed by defusedxml's parser with DTDs forbidden: an entity bomb ("billion
  laughs") or an external entity is refused before anything expands (OOXML never has a DTD). The DOCX
  text is read from that parser as a stream; openpyxl reads an XLSX only after every member passed;
- a PDF is capped in pages (pypdf caps each stream's decompressed size itself);
- the text kept is capped in characters.
Any error of a parser on such a file is an `ExtractionError` naming it: one bad attachment is one
recorded failure, never the end of the check.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from defusedxml.ElementTree import DefusedXMLParser

from estatehub.policy.config import Limits

log = logging.getLogger(__name__)

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_CHUNK = 1 << 16
_EOCD_SEARCH = 22 + 0xFFFF  # the end record, after a comment of at most 64 KB
_MAX_DIRECTORY_ENTRY = 1024  # bytes of one directory entry, name and extra fields (OOXML's take ~100)


class ExtractionError(Exception):
    """An attachment that claims a format but cannot be read as it, or not within the limits."""


class LimitExceeded(ExtractionError):
    """An attachment that would take more than a limit to read (a decompression bomb, a huge PDF)."""


@dataclass(frozen=True)
class Extracted:
    fmt: str
    lines: tuple[str, ...]
    note: str | None = None


def zip_directory(content: bytes) -> tuple[int, int] | None:
    """(members, bytes of the central directory) as a ZIP's end record announces them, None without
    one; read before `zipfile` builds an object per member of the directory."""
    end = content.rfind(b"PK\x05\x06", max(0, len(content) - _EOCD_SEARCH))
    if end < 0 or len(content) < end + 16:
        return None
    total = int.from_bytes(content[end + 10 : end + 12], "little")
    size = int.from_bytes(content[end + 12 : end + 16], "little")
    locator = end - 20
    if (total == 0xFFFF or size == 0xFFFFFFFF) and locator >= 0 and content[locator : locator + 4] == b"PK\x06\x07":
        record = int.from_bytes(content[locator + 8 : locator + 16], "little")
        if content[record : record + 4] == b"PK\x06\x06":
            total = int.from_bytes(content[record + 32 : record + 40], "little")
            size = int.from_bytes(content[record + 40 : record + 48], "little")
    return total, size


def directory_problem(content: bytes, limits: Limits) -> str | None:
    """Why the ZIP's directory is too big to read (too many members, or more directory than they
    need: `zipfile` reads the whole directory whatever the member count says), or None."""
    found = zip_directory(content)
    if found is None:
        return None
    members, size = found
    if members > limits.archive_members:
        return f"expected at most {limits.archive_members} files inside, the ZIP announces {members}"
    if size > limits.archive_members * _MAX_DIRECTORY_ENTRY:
        return f"expected a ZIP directory of at most {limits.archive_members} entries, it takes {size} bytes"
    return None


def sniff_format(content: bytes, filename: str = "", limits: Limits | None = None) -> str:
    """pdf, docx, xlsx, or the file name's extension (`unknown` without one)."""
    if content.startswith(b"%PDF"):
        return "pdf"
    if content.startswith(b"PK") and directory_problem(content, limits or Limits()) is None:
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            names = set()
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
    name = filename.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else "unknown"


def extract_text(content: bytes, filename: str = "", limits: Limits | None = None) -> Extracted:
    """The lines of text of an attachment; see the module docstring."""
    limits = limits or Limits()
    fmt = sniff_format(content, filename, limits)
    readers: dict[str, Callable[[bytes, Limits], list[str]]] = {
        "pdf": _pdf_lines,
        "docx": _docx_lines,
        "xlsx": _xlsx_lines,
    }
    if fmt not in readers:
        return Extracted(fmt, (), f"{fmt} 格式不提取文字，按文件内容比对")
    try:
        lines = readers[fmt](content, limits)
    except ExtractionError:
        raise
    except Exception as exc:  # noqa: BLE001 - a parser on a hostile file may raise anything: it is this file's failure
        raise ExtractionError(
            f"expected a readable {fmt.upper()}, got one its parser fails on ({type(exc).__name__}: {exc})"
        ) from exc
    if sum(len(line) for line in lines) > limits.text_chars:
        raise LimitExceeded(f"expected at most {limits.text_chars} characters of text, got more")
    if not lines:
        return Extracted(fmt, (), "文件中没有可提取的文字（可能是扫描件），按文件内容比对")
    return Extracted(fmt, tuple(lines))


# -- PDF ---------------------------------------------------------------------------------------------


def _pdf_lines(content: bytes, limits: Limits) -> list[str]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    pages = len(reader.pages)
    if pages > limits.pdf_pages:
        raise LimitExceeded(f"expected a PDF of at most {limits.pdf_pages} pages, got {pages}")
    lines: list[str] = []
    chars = 0
    for page in reader.pages:
        for line in (page.extract_text() or "").splitlines():
            if line.strip():
                lines.append(line.strip())
                chars += len(lines[-1])
        if chars > limits.text_chars:
            raise LimitExceeded(f"expected at most {limits.text_chars} characters of text, got more")
    return lines


# -- Office ZIPs -------------------------------------------------------------------------------------


class _CappedReader(io.RawIOBase):
    """A member of a ZIP read through a counter: more than `cap` decompressed bytes is an error."""

    def __init__(self, member: IO[bytes], name: str, cap: int, on_read: Callable[[int], None]) -> None:
        self.member, self.name, self.cap, self.on_read = member, name, cap, on_read
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.member.read(len(buffer))
        self.count += len(data)
        if self.count > self.cap:
            raise LimitExceeded(f"expected {self.name} to inflate to at most {self.cap} bytes, it inflates to more")
        self.on_read(len(data))
        buffer[: len(data)] = data
        return len(data)


class _NoTree:
    """A parser target that keeps nothing: the parse only proves the XML is well-formed and DTD-free."""

    def close(self) -> None:
        return None


class OfficeZip:
    """An Office file's ZIP, checked against the limits before any member is handed to a parser."""

    def __init__(self, content: bytes, limits: Limits) -> None:
        self.limits = limits
        problem = directory_problem(content, limits)
        if problem is not None:
            raise LimitExceeded(problem)
        try:
            self.archive = zipfile.ZipFile(io.BytesIO(content))
        except zipfile.BadZipFile as exc:
            raise ExtractionError(f"expected a ZIP (DOCX or XLSX), got an unreadable one ({exc})") from exc
        self.inflated = 0
        members = self.archive.infolist()
        if len(members) > limits.archive_members:
            raise LimitExceeded(f"expected at most {limits.archive_members} files inside, got {len(members)}")
        declared = 0
        for info in members:
            if info.file_size > limits.member_bytes:
                raise LimitExceeded(
                    f"expected {info.filename} to inflate to at most {limits.member_bytes} bytes, "
                    f"its header says {info.file_size}"
                )
            declared += info.file_size
        if declared > limits.archive_bytes:
            raise LimitExceeded(f"expected the files inside to inflate to at most {limits.archive_bytes} bytes in all")

    def open(self, name: str) -> io.BufferedReader:
        """A member as a stream, counted against the member's and the archive's caps."""
        return io.BufferedReader(
            _CappedReader(self.archive.open(name), name, self.limits.member_bytes, self._count), _CHUNK
        )

    def _count(self, size: int) -> None:
        self.inflated += size
        if self.inflated > self.limits.archive_bytes:
            raise LimitExceeded(f"expected the files inside to inflate to at most {self.limits.archive_bytes} bytes")

    def check_all(self) -> None:
        """Read every member through the counters, and parse every XML member with DTDs forbidden."""
        for info in self.archive.infolist():
            if info.is_dir():
                continue
            if info.filename.lower().endswith(_XML_SUFFIXES):
                parse_xml(self.open(info.filename), _NoTree())
            else:
                with self.open(info.filename) as stream:
                    while stream.read(_CHUNK):
                        pass


def parse_xml(stream: IO[bytes], target: Any) -> Any:
    """Feed `stream` to defusedxml's parser (no DTD, no entities, no external references) into `target`."""
    parser = DefusedXMLParser(target=target, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    with stream:
        while chunk := stream.read(_CHUNK):
            parser.feed(chunk)
    return parser.close()


class _DocxText:
    """A parser target that collects the text of each `w:p` as the stream goes by (nothing else is kept)."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.open: list[list[str]] = []
        self.lines: list[str] = []

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self.stack.append(tag)
        if tag == f"{_W}p":
            self.open.append([])
        elif tag == f"{_W}tab":
            self._add(" ")
        elif tag in (f"{_W}br", f"{_W}cr"):
            self._add("\n")

    def end(self, tag: str) -> None:
        self.stack.pop()
        if tag == f"{_W}p" and self.open:
            for line in "".join(self.open.pop()).split("\n"):
                if line.strip():
                    self.lines.append(line.strip())

    def data(self, text: str) -> None:
        if self.stack and self.stack[-1] == f"{_W}t":
            self._add(text)

    def _add(self, text: str) -> None:
        for parts in self.open:  # a paragraph inside another (a text box) counts in both, as Word shows it
            parts.append(text)

    def close(self) -> list[str]:
        return self.lines


def _docx_lines(content: bytes, limits: Limits) -> list[str]:
    office = OfficeZip(content, limits)
    if "word/document.xml" not in office.archive.namelist():
        raise ExtractionError("expected a DOCX with word/document.xml, got one without")
    return parse_xml(office.open("word/document.xml"), _DocxText())


def _xlsx_lines(content: bytes, limits: Limits) -> list[str]:
    from openpyxl import load_workbook

    OfficeZip(content, limits).check_all()  # openpyxl reads the ZIP itself: only once every member passed
    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    lines = []
    chars = 0
    try:
        several = len(workbook.sheetnames) > 1
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows(values_only=True):
                cells = [_cell_text(value) for value in row if value is not None and _cell_text(value)]
                if cells:
                    prefix = f"[{sheet.title}] " if several else ""
                    lines.append(prefix + " | ".join(cells))
                    chars += len(lines[-1])
                    if chars > limits.text_chars:
                        raise LimitExceeded(f"expected at most {limits.text_chars} characters of text, got more")
    finally:
        workbook.close()
    return lines


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
