"""A workbook a bank or the fund centre sends that inflates far beyond any statement is refused before it
is read (issue 10, item 2, widened from the policy monitor's attachments to every archive from outside):
a `.xlsx` statement or loan list of a few hundred KB whose sheet inflates to 150 MB is one quarantined
(or unreadable) file naming the cause, refused in little time, never read through."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from connectors.banks.errors import UnreadableFile
from connectors.banks.hpf import read_loan_list
from estatehub.banks.statements import load_statement_file

MB = 1024 * 1024
SHEET = "xl/worksheets/sheet1.xml"


def workbook_bomb(path: Path, inflated: int = 150 * MB) -> Path:
    """A real workbook whose first sheet carries `inflated` bytes of blanks between its rows (valid XML)."""
    book = Workbook()
    book.active.append(["贷款编号", "备注"])
    book.active.append(["1", "x"])
    good = io.BytesIO()
    book.save(good)
    with (
        zipfile.ZipFile(io.BytesIO(good.getvalue())) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename != SHEET:
                bomb.writestr(info.filename, data)
                continue
            head, tail = data.split(b"<sheetData>", 1)
            with bomb.open(SHEET, "w") as member:
                member.write(head + b"<sheetData>")
                blanks = b" " * MB
                for _ in range(inflated // MB):
                    member.write(blanks)
                member.write(tail)
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    path = workbook_bomb(tmp_path_factory.mktemp("bomb") / "statement.xlsx")
    assert path.stat().st_size < 2 * MB, "a small download: the byte cap of the fetch does not stop it"
    return path


def test_a_statement_workbook_that_inflates_far_beyond_any_statement_is_quarantined_unread(warehouse, bomb):
    started = time.monotonic()
    result = load_statement_file(warehouse, bomb, bank="icbc")
    elapsed = time.monotonic() - started
    assert result.status == "quarantined", result
    assert "inflate" in result.reason and "MiB" in result.reason, result.reason
    assert elapsed < 5, f"{elapsed:.1f} s: the workbook was read through before it was refused"


def test_a_fund_centre_loan_list_that_inflates_far_beyond_any_list_is_unreadable(bomb):
    with pytest.raises(UnreadableFile, match="inflate"):
        list(read_loan_list(bomb))
