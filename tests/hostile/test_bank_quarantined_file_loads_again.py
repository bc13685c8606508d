"""A quarantined statement file loads when it is imported again in a way that can read it (issue 10,
item 6): a known SHA-256 is a duplicate only when the file loaded (or was superseded), never when it
was quarantined."""

from __future__ import annotations

from sqlalchemy import func, select

from estatehub.banks.statements import load_statement_file
from estatehub.banks.tables import core_bank_statement_line, etl_bank_statement_file
from estatehub.warehouse.tables import etl_quarantine
from tests.hostile.bank_support import LINES, statement_file


def _one(warehouse, query):
    with warehouse.engine.connect() as conn:
        return conn.execute(query).one()


def test_a_file_imported_with_the_wrong_bank_loads_when_imported_with_the_right_one(warehouse, tmp_path):
    path = statement_file(tmp_path, "icbc")
    wrong = load_statement_file(warehouse, path, bank="ccb")
    assert wrong.status == "quarantined" and "--bank icbc" in wrong.reason
    right = load_statement_file(warehouse, path, bank="icbc")
    assert right.status == "loaded" and right.lines == len(LINES) and right.inserted == len(LINES)
    assert right.file_id == wrong.file_id, "the registry row is taken over, the SHA-256 stays unique"
    files = etl_bank_statement_file
    row = _one(warehouse, select(files.c.status, files.c.bank, files.c.reason, files.c.line_count))
    assert tuple(row) == ("loaded", "icbc", None, len(LINES))
    assert _one(warehouse, select(func.count()).select_from(core_bank_statement_line))[0] == len(LINES)
    q = etl_quarantine
    resolved = _one(warehouse, select(q.c.resolved_at).where(q.c.entity == "statement_file"))[0]
    assert resolved is not None, "the file's quarantine entry is resolved"
    again = load_statement_file(warehouse, path, bank="icbc")
    assert again.status == "duplicate" and again.file_id == right.file_id, "once loaded, it is a duplicate"


def test_a_file_quarantined_twice_keeps_one_registry_row(warehouse, tmp_path):
    path = statement_file(tmp_path, "icbc")
    first = load_statement_file(warehouse, path, bank="cmb")
    second = load_statement_file(warehouse, path, bank="ccb")
    assert first.status == second.status == "quarantined" and first.file_id == second.file_id
    assert "--bank icbc" in second.reason
    assert _one(warehouse, select(func.count()).select_from(etl_bank_statement_file))[0] == 1
