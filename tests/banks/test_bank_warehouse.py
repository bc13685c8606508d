"""The banks in the warehouse, end to end from the sandbox, on SQLite and PostgreSQL: loans linked to
contracts with the basis recorded, statement lines loaded once, corrected files replacing earlier ones,
and the bank world's planted irregularities visible."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from connectors.trading_network.client import TradingNetworkClient
from estatehub.banks.loans import sync_bank_loans
from estatehub.banks.statements import load_folder, load_statement_file, sync_bank_statements
from estatehub.banks.tables import (
    core_bank_loan,
    core_bank_loan_stage,
    core_bank_statement_line,
    etl_bank_statement_event,
    etl_bank_statement_file,
)
from estatehub.trading_network import tables as tn_tables
from estatehub.trading_network.sync import sync_trading_network
from estatehub.warehouse import sqlfiles, tables
from sandbox.banks import accounts
from sandbox.trading_network.server import TradingNetworkServer
from tests.banks.conftest import client_for

ACCOUNT, PASSWORD = "dev", "secret-for-bank-tests"
STATEMENT_BANKS = ("icbc", "ccb", "cmb")


@pytest.fixture(scope="module")
def trading_network(world_path):
    with TradingNetworkServer(world_path, account=ACCOUNT, password=PASSWORD) as server:
        yield server


@pytest.fixture(scope="module")
def window(bank_world):
    """A month of statements around the first corrected file (so a correction is in every run)."""
    (day,) = bank_world._query("select min(booked_on) from corrections")[0]
    middle = date.fromisoformat(day)
    return middle - timedelta(days=14), middle + timedelta(days=14)


@pytest.fixture
def synced(warehouse, trading_network, running_banks, window, tmp_path):
    with TradingNetworkClient(trading_network.url, ACCOUNT, PASSWORD) as client:
        sync_trading_network(client, warehouse)
    results = {"loans": {}, "statements": {}}
    for code in ("icbc", "ccb", "cmb", "hpf"):
        with client_for(running_banks, code, tmp_path / "lists") as bank:
            results["loans"][code] = sync_bank_loans(bank, warehouse)
    for code in STATEMENT_BANKS:
        with client_for(running_banks, code) as bank:
            results["statements"][code] = sync_bank_statements(
                bank, warehouse, tmp_path / "files", first_day=window[0], last_day=window[1]
            )
    return warehouse, results


def rows(warehouse, query):
    with warehouse.engine.connect() as conn:
        return conn.execute(query).all()


def count(warehouse, table, *where) -> int:
    with warehouse.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def world_loans(bank_world) -> dict[tuple[str, str], dict]:
    return {
        (loan["bank"], loan["loan_no"]): loan
        for (doc,) in bank_world._query("select doc from loans")
        for loan in [json.loads(doc)]
    }


def test_every_loan_is_in_the_warehouse_with_its_stage_history(synced, bank_world):
    warehouse, results = synced
    stored = {(r.bank, r.loan_no): r for r in rows(warehouse, select(core_bank_loan))}
    truth = world_loans(bank_world)
    visible = {key for key, loan in truth.items() if loan["events"][0]["at"][:10] <= bank_world.meta["end_on"]}
    assert set(stored) == visible
    stages = rows(warehouse, select(core_bank_loan_stage.c.bank, core_bank_loan_stage.c.loan_no))
    end = bank_world.meta["end_on"]
    last_list = (date.fromisoformat(end) - timedelta(days=1)).isoformat()  # the fund centre: yesterday's list
    assert len(stages) == sum(
        1 for key in visible for e in truth[key]["events"] if e["at"][:10] <= (last_list if key[0] == "hpf" else end)
    )
    assert all(result.quarantined == 0 for result in results["loans"].values())
    assert all(r.borrower_id_masked != "身份证" and "*" in r.borrower_id_masked for r in stored.values())


def test_loans_link_to_their_contracts_with_the_basis_recorded(synced, bank_world):
    warehouse, _ = synced
    truth = world_loans(bank_world)
    stored = rows(warehouse, select(core_bank_loan))
    bases = {r.link_basis for r in stored}
    assert {"contract_no", "buyer_id_unit"} <= bases
    for row in stored:
        loan = truth[(row.bank, row.loan_no)]
        if row.link_basis == "contract_no":
            assert loan["shows_contract_no"] and row.reported_contract_no == loan["contract_no"]
        if row.link_basis != "unlinked":
            assert row.contract_no == loan["contract_no"], (row.bank, row.loan_no)
            assert row.house_id == loan["house_id"]
    fund = [r for r in stored if r.bank == "hpf"]
    assert fund and all(r.link_basis == "buyer_id_unit" for r in fund if r.contract_no)
    assert any(r.bank == "ccb" and r.link_basis == "buyer_id_unit" for r in stored)


def test_an_unlinked_loan_stays_visible_and_links_once_its_contract_arrives(
    warehouse, trading_network, running_banks, tmp_path
):
    with client_for(running_banks, "icbc") as bank:
        sync_bank_loans(bank, warehouse)  # before any contract is known
    stored = rows(warehouse, select(core_bank_loan.c.link_basis, core_bank_loan.c.contract_no))
    assert stored and {basis for basis, _ in stored} == {"unlinked"}
    assert all(contract_no is None for _, contract_no in stored)
    with TradingNetworkClient(trading_network.url, ACCOUNT, PASSWORD) as client:
        sync_trading_network(client, warehouse)
    with client_for(running_banks, "icbc") as bank:
        sync_bank_loans(bank, warehouse)  # nothing new from the bank: the relink does it
    assert count(warehouse, core_bank_loan, core_bank_loan.c.link_basis == "unlinked") == 0


def test_planted_loan_irregularities_are_visible_in_the_warehouse(synced, bank_world):
    warehouse, _ = synced
    loans = {(r.bank, r.loan_no): r for r in rows(warehouse, select(core_bank_loan))}
    contracts = {r.contract_no: r for r in rows(warehouse, select(tn_tables.core_contract))}
    on_cancelled = bank_world.ground_truth("loan_on_cancelled_contract")
    assert on_cancelled
    for row in on_cancelled:
        loan = loans[(row["bank"], row["loan_no"])]
        assert loan.stage not in ("已撤销", "拒贷") and loan.contract_no == row["contract_no"]
        assert contracts[loan.contract_no].state == "撤销"
    with warehouse.engine.connect() as conn:
        stages = conn.execute(select(core_bank_loan_stage).order_by("bank", "loan_no", "seq")).all()
    entered: dict[tuple[str, str], dict[str, object]] = {}
    for stage in stages:
        entered.setdefault((stage.bank, stage.loan_no), {})[stage.stage] = stage.entered_at
    for row in bank_world.ground_truth("loan_stuck"):
        if row["detail"]["until"]:
            history = entered[(row["bank"], row["loan_no"])]
            assert (history["已审批"] - history["已递交"]).days >= 21
    missing = bank_world.ground_truth("disbursement_not_received")
    assert missing
    for row in missing:
        assert loans[(row["bank"], row["loan_no"])].disbursed_on is not None


def test_pipeline_mart_counts_loans_by_bank_and_stage(synced):
    warehouse, _ = synced
    with warehouse.engine.connect() as conn:
        pipeline = sqlfiles.execute(conn, "mart/bank_mortgage_pipeline").all()
    assert {row.bank for row in pipeline} == {"icbc", "ccb", "cmb", "hpf"}
    assert sum(row.loan_count for row in pipeline) == count(warehouse, core_bank_loan)


def test_statement_lines_are_each_loaded_once_and_match_the_banks(synced, bank_world, window):
    warehouse, results = synced
    for code in STATEMENT_BANKS:
        account = accounts.ACCOUNTS[code]
        expected = bank_world.statement_lines(account, window[0], window[1])
        current = count(
            warehouse,
            core_bank_statement_line,
            core_bank_statement_line.c.account_no == account,
            core_bank_statement_line.c.is_current.is_(True),
        )
        assert current == len(expected), code
        assert results["statements"][code].count("quarantined") == 0


def test_the_same_file_twice_loads_once(synced, tmp_path):
    warehouse, results = synced
    loaded = next(r for r in results["statements"]["icbc"].files if r.status == "loaded" and r.lines)
    # saved under a name the hub makes (bank, account, period, version, content hash), sealed at rest once
    # loaded: found by the content hash in its name; loading the sealed file reads it through a plain copy
    sha = rows(
        warehouse, select(etl_bank_statement_file.c.sha256).where(etl_bank_statement_file.c.file_id == loaded.file_id)
    )
    folder = tmp_path / "files" / "icbc"
    assert all(p.name.endswith(".sealed") for p in folder.iterdir()), "no bank file is left in clear"
    path = next(p for p in folder.iterdir() if p.name.endswith(f"_{sha[0][0][:16]}.csv.sealed"))
    assert path.name.startswith("icbc_")
    before = count(warehouse, core_bank_statement_line)
    again = load_statement_file(warehouse, path, bank="icbc", origin="landing")
    assert again.status == "duplicate" and again.file_id == loaded.file_id
    assert count(warehouse, core_bank_statement_line) == before
    events = rows(
        warehouse, select(etl_bank_statement_event.c.event).where(etl_bank_statement_event.c.file_id == loaded.file_id)
    )
    assert sorted(e for (e,) in events) == ["duplicate", "loaded"]


def test_an_overlapping_period_file_adds_no_line_twice(synced, running_banks, window, tmp_path):
    warehouse, _ = synced
    before = count(warehouse, core_bank_statement_line)
    with client_for(running_banks, "cmb") as bank:
        path = bank.download_period(window[0], window[1], tmp_path)
    result = load_statement_file(warehouse, path, bank="cmb", origin="manual")
    assert result.status == "loaded" and result.lines > 0
    assert result.inserted == 0 and result.kept == result.lines
    assert count(warehouse, core_bank_statement_line) == before


def test_a_corrected_file_replaces_the_earlier_one_with_an_audit_trail(synced, bank_world, window):
    warehouse, _ = synced
    corrected = [
        r
        for r in bank_world.ground_truth("corrected_statement")
        if window[0].isoformat() <= r["on_date"] <= window[1].isoformat()
    ]
    assert corrected
    replaced = rows(warehouse, select(etl_bank_statement_file).where(etl_bank_statement_file.c.status == "replaced"))
    assert len(replaced) == len(corrected)
    for old in replaced:
        new = rows(
            warehouse,
            select(etl_bank_statement_file).where(etl_bank_statement_file.c.file_id == old.replaced_by_file_id),
        )[0]
        assert (new.period_start_on, new.account_no, new.version) == (old.period_start_on, old.account_no, 2)
        assert new.line_count == old.line_count + 1
        events = {
            e
            for (e,) in rows(
                warehouse,
                select(etl_bank_statement_event.c.event).where(etl_bank_statement_event.c.file_id == old.file_id),
            )
        }
        assert events == {"loaded", "replaced"}


def test_a_file_of_unknown_layout_is_quarantined_while_the_rest_loads(warehouse, tmp_path, running_banks):
    folder = tmp_path / "landing"
    running_banks.servers["icbc"].write_landing(folder, date(2025, 6, 2), date(2025, 6, 14))
    (folder / "ZZ_mystery.csv").write_text("某某银行流水\n日期,金额\n20250101,1.00\n", encoding="utf-8")
    result = load_folder(warehouse, folder, bank="icbc")
    statuses = {r.file_name: r.status for r in result.files}
    assert statuses["ZZ_mystery.csv"] == "quarantined"
    assert sorted(set(statuses.values())) == ["loaded", "quarantined"]
    quarantined = rows(
        warehouse, select(tables.etl_quarantine).where(tables.etl_quarantine.c.entity == "statement_file")
    )
    assert len(quarantined) == 1 and "ZZ_mystery.csv" in quarantined[0].reason
    assert count(warehouse, core_bank_statement_line) > 0


def test_a_file_whose_rows_miss_its_totals_is_quarantined_whole(warehouse, tmp_path):
    from tests.banks.test_real_statements import FIXTURES

    result = load_statement_file(warehouse, FIXTURES / "icbc_debit_v1_mingxi.csv", bank="icbc")
    assert result.status == "quarantined" and "difference" in result.reason
    assert "icbc_debit_v1_mingxi.csv" in result.reason
    assert count(warehouse, core_bank_statement_line) == 0
    other = load_statement_file(warehouse, FIXTURES / "cmb_debit.csv", bank="cmb")
    assert other.status == "loaded" and other.inserted == 5


def test_a_second_sync_loads_nothing_new(synced, running_banks, window, tmp_path):
    warehouse, _ = synced
    lines = count(warehouse, core_bank_statement_line)
    files = count(warehouse, etl_bank_statement_file)
    for code in STATEMENT_BANKS:
        with client_for(running_banks, code) as bank:
            again = sync_bank_statements(bank, warehouse, tmp_path, first_day=window[0], last_day=window[1])
        assert again.count("loaded") == 0
    with client_for(running_banks, "ccb") as bank:
        loans = sync_bank_loans(bank, warehouse)
    assert loans.mode == "incremental"
    assert (count(warehouse, core_bank_statement_line), count(warehouse, etl_bank_statement_file)) == (lines, files)
