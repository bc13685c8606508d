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
from tests.support.bombs import (
    LINES,
    MB,
    W_NS,
    docx_decompression_bomb,
    lie_about_size,
    xlsx_entity_bomb,
    xlsx_with_doctype,
)


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


def test_any_dtd_is_refused_not_only_one_that_explodes(tmp_path):
    # a small entity expands within the limits expat itself puts on entities, so only a parser that
    # refuses DTDs (defusedxml's, with DTDs forbidden) refuses it; openpyxl's own defusedxml is switched
    # off in the child, so the refusal is the hub's
    small = tmp_path / "small-entity.xlsx"
    small.write_bytes(xlsx_with_doctype('<!DOCTYPE worksheet [<!ENTITY fee "住宅类不动产登记费">]>', "fee"))
    outcome = _extract_in_child(small)
    assert outcome["error"] is not None and outcome["error"].startswith("ExtractionError"), outcome
    assert "DTD" in outcome["error"], outcome


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
        archive.writestr("word/document.xml", f'<w:document xmlns:w="{W_NS}"><w:body/></w:document>')
        for n in range(400):
            archive.writestr(f"word/media/image{n}.png", b"")
    with pytest.raises(LimitExceeded, match="at most 300 files"):
        extract_text(out.getvalue(), "many.docx")


def test_the_archive_total_is_capped_across_members():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", f'<w:document xmlns:w="{W_NS}"><w:body/></w:document>')
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


def _many_members(count: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", f'<w:document xmlns:w="{W_NS}"><w:body/></w:document>')
        for n in range(count):
            archive.writestr(zipfile.ZipInfo(f"m/{n}"), b"")
    return out.getvalue()


def _peak_of(call) -> tuple[BaseException | None, int]:
    import gc
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        call()
        error = None
    except Exception as exc:  # noqa: BLE001 - the test reports what was raised
        error = exc
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return error, peak


def test_a_zip_directory_of_a_hundred_thousand_members_is_refused_before_it_is_read():
    data = _many_members(100_000)
    error, peak = _peak_of(lambda: extract_text(data, "many.docx"))
    assert peak < 5 * MB, f"peak {peak / MB:.0f} MB to refuse a directory of 100 001 members"
    assert isinstance(error, LimitExceeded) and "announces 100001" in str(error), error


def test_a_zip_end_record_that_understates_the_member_count_is_refused_by_the_directory_size():
    raw = bytearray(_many_members(100_000))
    end = raw.rfind(b"PK\x05\x06")
    raw[end + 8 : end + 12] = (1).to_bytes(2, "little") * 2  # "one member" on this disk and in all
    data = bytes(raw)
    error, peak = _peak_of(lambda: extract_text(data, "many.docx"))
    assert peak < 5 * MB, f"peak {peak / MB:.0f} MB to refuse a directory of 100 001 members"
    assert isinstance(error, LimitExceeded) and "directory" in str(error), error
