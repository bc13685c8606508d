"""A statement cut before its totals line never loads as complete (issue 10, item 8): a file of a layout
that always ends with a totals line, cut before it (at a line end or in the middle of a row), is
quarantined with a reason saying it is cut short, and the command exits non-zero."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from estatehub.banks.statements import load_statement_file
from estatehub.banks.tables import core_bank_statement_line
from tests.hostile.bank_support import statement_bytes

ENCODING = {"icbc": "utf-8-sig", "cmb": "gb18030"}


def _cut(bank: str, *, where: str) -> bytes:
    """The bank's statement cut at a line end before its totals, in its last row, or in its totals line."""
    text = statement_bytes(bank).decode(ENCODING[bank])
    totals = next(i for i, line in enumerate(text.splitlines(keepends=True)) if "合计" in line or "笔" in line)
    lines = text.splitlines(keepends=True)
    head = "".join(lines[:totals])
    if where == "mid-row":
        last = head.rstrip("\r\n").rfind("\n") + 1
        head = head[: last + 19]
    elif where == "mid-totals":
        head += lines[totals][:8]
    return head.encode(ENCODING[bank])


@pytest.mark.parametrize("bank", ["icbc", "cmb"])
@pytest.mark.parametrize("where", ["line-end", "mid-row", "mid-totals"])
def test_a_statement_cut_before_its_totals_line_is_quarantined(warehouse, tmp_path, bank, where):
    path = tmp_path / f"{bank}.csv"
    path.write_bytes(_cut(bank, where=where))
    result = load_statement_file(warehouse, path, bank=bank)
    assert result.status == "quarantined", result
    assert "cut short" in result.reason and "totals line" in result.reason
    with warehouse.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(core_bank_statement_line)).scalar_one() == 0


def test_the_whole_file_still_loads_and_the_command_reports_a_cut_one(warehouse, cli, tmp_path, capsys):
    whole = tmp_path / "whole.csv"
    whole.write_bytes(statement_bytes("icbc"))
    assert load_statement_file(warehouse, whole, bank="icbc").status == "loaded"
    cut = tmp_path / "cut.csv"
    cut.write_bytes(_cut("icbc", where="line-end"))
    assert cli("import-statement", str(cut), "--bank", "icbc") == 1
    assert "cut short" in capsys.readouterr().out
