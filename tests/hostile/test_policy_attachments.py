"""Attachments that explode (issue 10, item 2): an XLSX entity bomb, a DOCX decompression bomb, a ZIP of
thousands of members, a PDF of too many pages. Each is one `ExtractionError` naming what was wrong,
read in little memory and little time, never a crash of the check.

The bomb files are made here. Memory is measured in a child process (tracemalloc's peak during the
extraction), with `OPENPYXL_DEFUSEDXML=False`: the guard must not depend on openpyxl choosing
defusedxml by itself.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from estatehub.policy.config import Limits
from estatehub.policy.extract import ExtractionError, LimitExceeded, extract_text
from sandbox.bureau.files import build_file

MB = 1024 * 1024
LINES = ("深圳市不动产登记收费标准表", "收费项目|收费单位|收费标准（元）", "住宅类不动产登记费|件|80")
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def billion_laughs() -> str:
    """A DTD whose entity `&lol9;` expands to 10**9 'lol's (3 GB) if a parser lets it."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    ]
    return f"<!DOCTYPE worksheet [{''.join(entities)}]>"


def xlsx_entity_bomb() -> bytes:
    """A real workbook (openpyxl's) whose sheet carries a billion-laughs DTD and uses the entity in a cell."""
    good = build_file("xlsx", "附件：收费标准", LINES)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                assert text.startswith("<worksheet") and "<t>" in text
                text = billion_laughs() + text.replace("<t>", "<t>&lol9;", 1)
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


def _extract_in_child(path: Path) -> dict:
    """extract_text(file) in a fresh interpreter: the error it raised, and the peak traced memory."""
    script = textwrap.dedent(
        f"""
        import json, sys, time, tracemalloc
        from estatehub.policy.extract import extract_text
        data = open({str(path)!r}, "rb").read()
        tracemalloc.start()
        started = time.monotonic()
        try:
            extract_text(data, "attachment")
            error = None
        except Exception as exc:
            error = f"{{type(exc).__name__}}: {{exc}}"
        seconds = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
        print(json.dumps({{"error": error, "peak": peak, "seconds": seconds}}))
        """
    )
    env = {**os.environ, "OPENPYXL_DEFUSEDXML": "False"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_an_xlsx_entity_bomb_is_refused_as_this_file_s_error_not_a_parse_crash(tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    bomb.write_bytes(xlsx_entity_bomb())
    outcome = _extract_in_child(bomb)
    assert outcome["error"] is not None and outcome["error"].startswith(("ExtractionError", "LimitExceeded")), outcome
    assert "DTD" in outcome["error"] or "Entit" in outcome["error"], outcome
    assert outcome["peak"] < 20 * MB and outcome["seconds"] < 10, outcome


def test_an_xlsx_entity_bomb_raises_extraction_error_in_process():
    with pytest.raises(ExtractionError, match="DTD|Entit"):
        extract_text(xlsx_entity_bomb(), "fees.xlsx")


def test_a_docx_decompression_bomb_is_refused_in_little_memory(tmp_path):
    bomb = docx_decompression_bomb(tmp_path / "bomb.docx")
    assert bomb.stat().st_size < 2 * MB  # a small download: the size limit of the fetch does not stop it
    outcome = _extract_in_child(bomb)
    assert outcome["error"] is not None and outcome["error"].startswith("LimitExceeded"), outcome
    assert "word/document.xml" in outcome["error"], outcome
    assert outcome["peak"] < 20 * MB, f"peak {outcome['peak'] / MB:.0f} MB to refuse a 300 MB member"


def test_a_docx_member_whose_header_understates_its_size_is_still_refused_in_little_memory(tmp_path):
    bomb = docx_decompression_bomb(tmp_path / "bomb.docx", inflated=100 * MB)
    liar = tmp_path / "liar.docx"
    liar.write_bytes(lie_about_size(bomb.read_bytes(), "word/document.xml", 4096))
    with zipfile.ZipFile(liar) as archive:
        assert archive.getinfo("word/document.xml").file_size == 4096
    outcome = _extract_in_child(liar)
    assert outcome["error"] is not None, outcome
    assert outcome["peak"] < 20 * MB, f"peak {outcome['peak'] / MB:.0f} MB for a member claiming 4 KB"


def test_an_office_file_of_too_many_members_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", f'<w:document xmlns:w="{_W}"><w:body/></w:document>')
        for n in range(400):
            archive.writestr(f"word/media/image{n}.png", b"")
    with pytest.raises(LimitExceeded, match="at most 300 files"):
        extract_text(out.getvalue(), "many.docx")


def test_the_archive_total_is_capped_across_members():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", f'<w:document xmlns:w="{_W}"><w:body/></w:document>')
        for n in range(4):
            archive.writestr(f"word/media/part{n}.bin", b"\0" * (3 * MB))
    with pytest.raises(LimitExceeded, match="in all"):
        extract_text(out.getvalue(), "parts.docx", Limits(member_bytes=4 * MB, archive_bytes=10 * MB))


def test_a_pdf_over_the_page_limit_is_refused():
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, invariant=1)
    for n in range(5):
        pdf.drawString(72, 720, f"page {n}")
        pdf.showPage()
    pdf.save()
    started = time.monotonic()
    with pytest.raises(LimitExceeded, match="at most 3 pages, got 5"):
        extract_text(buffer.getvalue(), "long.pdf", Limits(pdf_pages=3))
    assert time.monotonic() - started < 5
    assert extract_text(buffer.getvalue(), "long.pdf", Limits(pdf_pages=5)).lines[0] == "page 0"


def test_text_beyond_the_character_limit_is_refused():
    with pytest.raises(LimitExceeded, match="characters of text"):
        extract_text(build_file("docx", "t", LINES), "fees.docx", Limits(text_chars=10))


@pytest.mark.parametrize("fmt", ["pdf", "docx", "xlsx"])
def test_good_office_files_read_the_same_under_the_limits(fmt):
    text = "\n".join(extract_text(build_file(fmt, "附件：收费标准", LINES), f"fees.{fmt}").lines)
    assert "住宅类不动产登记费" in text and "80" in text
