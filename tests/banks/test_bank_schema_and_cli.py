"""The banks' migration against their table objects, and the command line (`sync banks`, `import-statement`)."""

from __future__ import annotations

import argparse
import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select

from estatehub.banks import tables as bank_tables
from estatehub.banks.cli import add_bank_commands
from estatehub.warehouse.migrations import VERSION_TABLE, current_revision, head_revision, upgrade
from tests.banks.test_real_statements import FIXTURES


def test_the_banks_revision_creates_tables_that_match_the_loaders(engine):
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert set(bank_tables.metadata.tables) <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "version_table": VERSION_TABLE,
                "include_name": lambda name, kind, _p: kind != "table" or name in bank_tables.metadata.tables,
            },
        )
        assert compare_metadata(context, bank_tables.metadata) == []


def test_the_banks_revision_upgrades_a_warehouse_in_place(engine):
    from alembic.script import ScriptDirectory

    from estatehub.warehouse.migrations import alembic_config

    before = ScriptDirectory.from_config(alembic_config()).get_revision("0004_banks").down_revision
    upgrade(engine, before)
    assert "core_bank_loan" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert "core_bank_loan" in inspect(engine).get_table_names()


@pytest.fixture
def cli(tmp_path, monkeypatch, running_banks):
    """A parser with the banks' commands, and Connections for every sandbox bank in the environment."""
    from estatehub.cli import build_parser

    monkeypatch.setenv("ESTATEHUB_HOME", str(tmp_path / "home"))
    for code, url in running_banks.urls.items():
        credentials = running_banks.credentials[code]
        conn = {
            "conn_type": "http",
            "host": url,
            "login": credentials.app_id,
            "password": credentials.secret,
            "extra": {"timeout": 2},
        }
        monkeypatch.setenv(f"AIRFLOW_CONN_BANK_{code.upper()}", json.dumps(conn))
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if "import-statement" not in commands.choices:
        add_bank_commands(commands)
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"

    def run(*argv: str) -> int:
        args = parser.parse_args([*argv, "--warehouse-url", url])
        return args.func(args)

    run.url = url  # type: ignore[attr-defined]
    return run


def test_import_statement_prints_what_it_loaded_and_what_it_quarantined(cli, capsys):
    assert cli("import-statement", str(FIXTURES / "cmb_debit.csv"), "--bank", "cmb") == 0
    out = capsys.readouterr().out
    assert "cmb_debit.csv: loaded" in out and "5 lines read: 5 new" in out
    assert cli("import-statement", str(FIXTURES / "cmb_debit.csv"), "--bank", "cmb") == 0
    assert "duplicate" in capsys.readouterr().out
    assert cli("import-statement", str(FIXTURES / "icbc_credit_mingxi.csv"), "--bank", "icbc") == 1
    out = capsys.readouterr().out
    assert "quarantined" in out and "difference" in out and "icbc_credit_mingxi.csv" in out


def test_sync_banks_goes_on_when_one_bank_is_down(cli, capsys, running_banks):
    running_banks.servers["cmb"].faults.replace([{"kind": "down"}])
    try:
        code = cli("sync", "banks", "--loans-only")
    finally:
        running_banks.servers["cmb"].faults.replace([])
    out = capsys.readouterr().out
    assert code == 1
    assert "cmb FAILED" in out
    for bank in ("icbc", "ccb", "hpf"):
        assert f"{bank} loans: fetched" in out


def test_sync_banks_loads_one_banks_loans(cli, capsys):
    from estatehub.banks.tables import core_bank_loan
    from estatehub.warehouse.engine import create_warehouse_engine

    assert cli("sync", "banks", "--bank", "icbc", "--loans-only") == 0
    assert "icbc loans: fetched" in capsys.readouterr().out
    engine = create_warehouse_engine(cli.url)
    with engine.connect() as conn:
        banks = conn.execute(select(core_bank_loan.c.bank, func.count()).group_by(core_bank_loan.c.bank)).all()
    engine.dispose()
    assert [bank for bank, _ in banks] == ["icbc"]
