"""Importing a file prints its own quarantined rows only (issue 10, item 13): `%` and `_` in a file name
are plain characters (no LIKE pattern), and a file whose name starts like another's is another file."""

from __future__ import annotations

HEADER = "记账日期,货币,交易金额,联机余额,交易摘要,对手信息,客户摘要\n"
GOOD = '2024-01-01,CNY,"1,234.00","1,271.66",代发住房公积金,北京住房公积金管理中心1111111111,约定提取\n'


def _file(folder, name: str, bad_amount: str):
    """A CMB debit-card export (a layout without a totals line) with one good row and one bad row."""
    path = folder / name
    bad = f"2024-01-02,CNY,{bad_amount},271.66,转账汇款,张三,转账\n"
    path.write_text(HEADER + GOOD + bad, encoding="utf-8")
    return path


def test_a_file_named_with_like_wildcards_prints_only_its_own_rows(cli, tmp_path, capsys):
    for name, amount in (("a.csv", "OTHER-FILE-1"), ("ab.csv", "OTHER-FILE-2"), ("a.csv:1.csv", "OTHER-FILE-3")):
        assert cli("import-statement", str(_file(tmp_path, name, amount)), "--bank", "cmb") == 0
    capsys.readouterr()
    for name, amount in (("%.csv", "OWN-PERCENT"), ("_.csv", "OWN-UNDERSCORE")):
        assert cli("import-statement", str(_file(tmp_path, name, amount)), "--bank", "cmb") == 0
        out = capsys.readouterr().out
        shown = [line for line in out.splitlines() if "quarantined:" in line]
        assert "OTHER-FILE" not in out, (name, out)
        assert len(shown) == 1 and amount in shown[0], (name, shown)


def test_a_name_that_starts_like_another_file_is_another_file(cli, tmp_path, capsys):
    assert cli("import-statement", str(_file(tmp_path, "a.csv:1.csv", "OTHER-FILE")), "--bank", "cmb") == 0
    capsys.readouterr()
    assert cli("import-statement", str(_file(tmp_path, "a.csv", "OWN-A")), "--bank", "cmb") == 0
    out = capsys.readouterr().out
    assert "OTHER-FILE" not in out and "OWN-A" in out, out
