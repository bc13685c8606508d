"""Hostile attachment files the tests make themselves: an XLSX entity bomb, a DOCX decompression bomb,
a ZIP whose header understates a member's size."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from sandbox.bureau.files import build_file

MB = 1024 * 1024
LINES = ("深圳市不动产登记收费标准表", "收费项目|收费单位|收费标准（元）", "住宅类不动产登记费|件|80")
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W = W_NS


def billion_laughs() -> str:
    """A DTD whose entity `&lol9;` expands to 10**9 'lol's (3 GB) if a parser lets it."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    ]
    return f"<!DOCTYPE worksheet [{''.join(entities)}]>"


def xlsx_entity_bomb() -> bytes:
    """A real workbook (openpyxl's) whose sheet carries a billion-laughs DTD and uses the entity in a cell."""
    return xlsx_with_doctype(billion_laughs(), "lol9")


def xlsx_with_doctype(doctype: str, entity: str) -> bytes:
    """A real workbook (openpyxl's) whose sheet starts with `doctype` and uses `&entity;` in its first cell."""
    good = build_file("xlsx", "附件：收费标准", LINES)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                assert text.startswith("<worksheet") and "<t>" in text
                text = doctype + text.replace("<t>", f"<t>&{entity};", 1)
                data = text.encode()
            bomb.writestr(info.filename, data)
    return out.getvalue()


def docx_decompression_bomb(path: Path, inflated: int = 300 * MB) -> Path:
    """A DOCX whose word/document.xml inflates to `inflated` bytes of valid WordprocessingML (~300 KB on disk)."""
    paragraph = b'<w:p><w:r><w:t xml:space="preserve">' + b"x" * 4000 + b"</w:t></w:r></w:p>"
    head = f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{_W}"><w:body>'.encode()
    tail = b"</w:body></w:document>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types/>')
        with archive.open("word/document.xml", "w") as member:
            member.write(head)
            for _ in range((inflated - len(head) - len(tail)) // len(paragraph)):
                member.write(paragraph)
            member.write(tail)
    return path


def lie_about_size(data: bytes, name: str, claimed: int) -> bytes:
    """The ZIP with `name`'s uncompressed size in both headers replaced by `claimed` (zip64 not used)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(name)
    raw = bytearray(data)
    local = info.header_offset
    raw[local + 22 : local + 26] = claimed.to_bytes(4, "little")
    central = raw.find(b"PK\x01\x02")
    while central != -1:
        name_len = int.from_bytes(raw[central + 28 : central + 30], "little")
        if raw[central + 46 : central + 46 + name_len] == name.encode():
            raw[central + 24 : central + 28] = claimed.to_bytes(4, "little")
        central = raw.find(b"PK\x01\x02", central + 4)
    return bytes(raw)
