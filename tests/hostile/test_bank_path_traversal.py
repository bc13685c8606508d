"""A name a bank or the fund centre lists is never a path (issue 10, item 1): a listing naming
`../../dags/x.py` writes nothing outside the download folder, the listed file is quarantined with a
clear reason, the other files still load; every saved file has a name this side made."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from connectors.banks import errors, make_client
from connectors.files import UnsafeName, check_outside_name, inside, local_name
from estatehub.banks.statements import sync_bank_statements
from estatehub.warehouse.tables import etl_quarantine
from tests.hostile.bank_support import APP_ID, DAY, SECRET, FakeBank, icbc_listing, statement_bytes

HOSTILE = ["../../dags/x.py", "..\\..\\dags\\x.py", "/tmp/estatehub-hostile-x.py", "C:x.py", "sub/x.csv", ".."]
GOOD = "ICBC_4000021209200123456_20250303.csv"


@pytest.mark.parametrize("name", HOSTILE)
def test_a_name_that_is_a_path_is_refused(name):
    with pytest.raises(UnsafeName):
        check_outside_name(name)


def test_a_plain_name_is_kept_and_a_local_name_is_plain(tmp_path):
    assert check_outside_name(GOOD) == GOOD
    assert local_name("icbc", "../..", "2025/03/03", suffix=".csv") == "icbc_2025-03-03.csv"
    assert inside(tmp_path, "a.csv") == tmp_path.resolve() / "a.csv"


def test_a_symlink_out_of_the_folder_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "link.csv").symlink_to(outside / "target.csv")
    with pytest.raises(UnsafeName, match="inside"):
        inside(folder, "link.csv")


def test_a_listing_naming_paths_writes_nothing_outside_the_folder(warehouse, tmp_path):
    body = statement_bytes("icbc")
    routes = {"/api/icbc/v1/statements": icbc_listing(GOOD, *HOSTILE)}
    routes.update({f"/api/icbc/v1/statements/{name}": body for name in (GOOD, *HOSTILE)})
    root = tmp_path / "root"
    folder = root / "data" / "statements"
    before = {path for path in tmp_path.rglob("*")}
    with FakeBank(routes) as bank, make_client("icbc", bank.url, app_id=APP_ID, secret=SECRET) as client:
        result = sync_bank_statements(client, warehouse, folder, first_day=DAY, last_day=DAY)
    written = {path for path in tmp_path.rglob("*") if path.is_file()} - before
    assert written and all(path.parent == (folder / "icbc") for path in written), written
    assert not (root / "dags").exists() and not (root / "data" / "dags").exists()
    assert [path.name.startswith("icbc_3456_20250303_20250303_v1_") for path in written] == [True]
    statuses = {file.file_name: file.status for file in result.files}
    assert statuses[GOOD] == "loaded"
    assert all(statuses[name] == "quarantined" for name in HOSTILE), statuses
    with warehouse.engine.connect() as conn:
        reasons = list(
            conn.execute(
                select(etl_quarantine.c.reason).where(etl_quarantine.c.entity == "statement_listing")
            ).scalars()
        )
    assert len(reasons) == len(HOSTILE) and all("name is a path" in reason for reason in reasons)


def test_the_fund_centre_listing_a_path_is_refused_and_nothing_is_written(tmp_path):
    item = {"file_name": "../../dags/x.py", "date": "2025-03-03", "published_at": "2025-03-03T18:00:00"}
    routes = {"/hpf/api/loan-lists": {"code": 0, "data": [item]}, "/hpf/api/loan-lists/../../dags/x.py": b"x=1"}
    folder = tmp_path / "hpf"
    with (
        FakeBank(routes) as bank,
        make_client("hpf", bank.url, app_id=APP_ID, secret=SECRET, folder=folder) as client,
        pytest.raises(errors.UnexpectedResponse, match="plain file names"),
    ):
        list(client.iter_loans())
    assert not (tmp_path / "dags").exists() and not list(tmp_path.rglob("*.py"))
