"""`--account` never overrides the account a statement file states (issue 10, item 7): a mismatch is an
error naming both accounts, nothing loads under the second account; a file that states no account, or
only a masked one the option fits, takes the option."""

from __future__ import annotations

from sqlalchemy import func, select

from connectors.banks.statements import StatementReader
from connectors.identity import mask_account
from estatehub.banks.tables import core_bank_statement_line
from sandbox.banks import accounts
from tests.hostile.bank_support import LINES, statement_file

OTHER = "4000021209200999999"


def _lines_by_account(warehouse) -> dict:
    lines = core_bank_statement_line
    with warehouse.engine.connect() as conn:
        return dict(conn.execute(select(lines.c.account_no, func.count()).group_by(lines.c.account_no)).all())


def test_an_account_option_that_differs_from_the_file_is_an_error_naming_both(warehouse, cli, tmp_path, capsys):
    path = statement_file(tmp_path, "icbc")
    assert cli("import-statement", str(path), "--bank", "icbc") == 0
    capsys.readouterr()
    renamed = statement_file(tmp_path / "again", "icbc", LINES[:2], name="copy.csv")  # other content, same lines
    assert cli("import-statement", str(renamed), "--bank", "icbc", "--account", OTHER) == 1
    out = capsys.readouterr().out
    # both named (masked as every account-like number in a stored reason is)
    assert mask_account(accounts.ACCOUNTS["icbc"]) in out and mask_account(OTHER) in out, out
    assert "account" in out and "--account" in out
    assert "Traceback" not in out
    assert _lines_by_account(warehouse) == {accounts.ACCOUNTS["icbc"]: len(LINES)}, "nothing counted twice"


def test_the_same_account_given_loads_and_a_masked_heading_takes_the_full_number(tmp_path):
    path = statement_file(tmp_path, "icbc")
    own = accounts.ACCOUNTS["icbc"]
    reader = StatementReader(path, bank="icbc", account_no=own)
    assert {line.account_no for line in reader} == {own} and reader.account_no == own
    masked = tmp_path / "masked.csv"
    masked.write_text(path.read_text(encoding="utf-8-sig").replace(f"账号：{own}", f"账号：{own[:4]}***{own[-4:]}", 1))
    reader = StatementReader(masked, bank="icbc", account_no=own)
    list(reader)
    assert reader.account_no == own
