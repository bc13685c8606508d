"""Text of PDF, DOCX and XLSX attachments, and what happens with files that have none."""

from __future__ import annotations

import io

import pytest

from estatehub.policy.extract import ExtractionError, extract_text, sniff_format
from sandbox.bureau.files import build_file

LINES = ("深圳市不动产登记收费标准表", "收费项目|收费单位|收费标准（元）", "住宅类不动产登记费|件|80")


@pytest.mark.parametrize("fmt", ["pdf", "docx", "xlsx"])
def test_the_text_of_each_office_format_is_extracted_line_by_line(fmt):
    extracted = extract_text(build_file(fmt, "附件：收费标准", LINES), f"P0202603.{fmt}")
    assert extracted.fmt == fmt and extracted.note is None
    text = "\n".join(extracted.lines)
    assert "深圳市不动产登记收费标准表" in text
    assert "80" in text and "住宅类不动产登记费" in text


def test_the_format_is_recognised_from_the_bytes_not_the_name():
    assert sniff_format(build_file("xlsx", "t", LINES), "download.do") == "xlsx"
    assert sniff_format(build_file("docx", "t", LINES), "file.bin") == "docx"
    assert sniff_format(b"%PDF-1.4 ...", "x") == "pdf"
    assert sniff_format(b"\xd0\xcf\x11\xe0", "old.doc") == "doc"


def test_a_pdf_without_text_is_compared_by_its_bytes():
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, invariant=1)
    page.rect(100, 100, 200, 200)  # a drawing, like a scan: no text
    page.showPage()
    page.save()
    extracted = extract_text(buffer.getvalue(), "scan.pdf")
    assert extracted.lines == () and "扫描件" in extracted.note


def test_an_unsupported_format_yields_no_lines_and_says_so():
    extracted = extract_text(b"\xd0\xcf\x11\xe0binary", "form.doc")
    assert extracted.lines == () and "doc 格式不提取文字" in extracted.note


def test_a_damaged_file_raises_with_what_was_expected():
    with pytest.raises(ExtractionError, match="expected a readable PDF"):
        extract_text(b"%PDF-1.7\n garbage without objects", "broken.pdf")
