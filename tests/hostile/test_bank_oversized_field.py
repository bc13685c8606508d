"""One oversized CSV field, or one broken workbook, is one quarantined file (issue 10, item 9): the
file is registered as quarantined with a reason naming it, the other files of the bank still load,
the other banks still sync, and nothing is a traceback."""

from __future__ import annotations

import pytest

from connectors.banks import make_client
from connectors.banks.errors import UnreadableFile
from connectors.banks.hpf import read_loan_list
from estatehub.banks.statements import load_statement_file, sync_bank_statements
from tests.hostile.bank_support import APP_ID, DAY, LINES, SECRET, FakeBank, icbc_listing, line, statement_bytes

BIG = "收3栋2单元1502房款" + "x" * 200_000  # a 200 KB memo


def _broken_files() -> dict[str, bytes]:
    return {
        "oversized.csv": statement_bytes("icbc", [*LINES, line(4, 1_000_000, memo=BIG)]),
        "not-an-xls.xls": bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 600,
        "not-an-xlsx.xlsx": b"PK\x03\x04" + b"\x00" * 100,
    }


@pytest.mark.parametrize("name", list(_broken_files()))
def test_a_file_the_reader_cannot_read_is_quarantined_with_its_name(warehouse, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(_broken_files()[name])
    result = load_statement_file(warehouse, path, bank="icbc")
    assert result.status == "quarantined" and result.file_id is not None
    assert name in result.reason and "ask the bank for it again" in result.reason
    if name == "oversized.csv":
        assert "longer than the 128 KiB" in result.reason


def test_one_oversized_file_does_not_stop_the_others(warehouse, tmp_path):
    good = statement_bytes("icbc")
    routes = {
        "/api/icbc/v1/statements": icbc_listing("a_oversized.csv", "b_good.csv"),
        "/api/icbc/v1/statements/a_oversized.csv": _broken_files()["oversized.csv"],
        "/api/icbc/v1/statements/b_good.csv": good,
    }
    with FakeBank(routes) as bank, make_client("icbc", bank.url, app_id=APP_ID, secret=SECRET) as client:
        result = sync_bank_statements(client, warehouse, tmp_path / "files", first_day=DAY, last_day=DAY)
    statuses = {file.file_name: file.status for file in result.files}
    assert statuses == {"a_oversized.csv": "quarantined", "b_good.csv": "loaded"}


def test_the_fund_centre_list_with_an_oversized_field_is_a_readable_error(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("贷款编号,备注\n1," + "x" * 200_000 + "\n", encoding="utf-8")
    with pytest.raises(UnreadableFile, match="list.csv"):
        list(read_loan_list(path))
