"""The one benchmark table (`python -m bench`, `bench.table`): its harness, at a tiny size.

The figures are not judged here (the machine is shared); what is: every row of a section is there,
measured in the same run, the systems read the same contracts, and each writes what the table says
(estatehub three layers, dlt its nested tables, pandas one flat table).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench import table
from estatehub.settings import usable_cores

ROOT = Path(__file__).resolve().parent.parent


def tables_of(output: str) -> list[list[dict[str, str]]]:
    """Each Markdown table of the output, as rows keyed by its own headers."""
    tables, lines = [], output.splitlines() + [""]
    block: list[str] = []
    for line in lines:
        if line.startswith("|"):
            if not line.startswith("|---"):  # the line under the headers
                block.append(line)
        elif block:
            headers = [cell.strip() for cell in block[0].strip("|").split("|")]
            cells = ([cell.strip() for cell in row.strip("|").split("|")] for row in block[1:])
            tables.append([dict(zip(headers, row, strict=True)) for row in cells])
            block = []
    return tables


def rows_of(output: str) -> list[dict[str, str]]:
    """The rows of the benchmark table (the first)."""
    return tables_of(output)[0]


def number(text: str) -> int:
    return int(text.split()[0].replace(",", ""))


def test_estatehub_rows_written_are_counted_per_layer_and_since_a_point():
    before = {"raw_record": 10, "stg_tn_contract": 10, "core_contract": 10, "etl_quarantine": 1}
    after = {"raw_record": 12, "stg_tn_contract": 15, "core_contract": 11, "etl_quarantine": 1, "core_unit": 3}
    assert table.estatehub_written(after) == "42 (raw 12 · staging 15 · core 14 · quarantine 1)"
    assert table.estatehub_written(after, before) == "11 (raw 2 · staging 5 · core 4 · quarantine 0)"


def test_dlt_gets_the_same_postgresql_database_in_the_form_its_destination_takes():
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/estatehub_bench_1"
    assert table.dlt_credentials(url) == "postgresql://postgres:unused@127.0.0.1:5432/estatehub_bench_1"
    assert table.dlt_credentials("sqlite:////tmp/w.db") == "sqlite:////tmp/w.db"


def test_a_child_reports_its_own_peak_memory_not_that_of_the_parent_it_was_forked_from():
    held = bytearray(400 * 2**20)  # the driver holding 400 MiB when it starts a child
    held[::4096] = b"x" * len(held[::4096])  # touched: resident
    code = "from bench.common import peak_rss_mb; print(peak_rss_mb())"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert float(result.stdout) < 200, result.stdout
    del held


@pytest.mark.slow
def test_the_quick_table_measures_every_system_on_the_same_contracts(capsys):
    assert table.main(["--quick", "--contracts", "300", "--db", "sqlite", "--only", "tn,cli"]) == 0
    output = capsys.readouterr().out
    rows = {row["system"]: row for row in rows_of(output)}

    floor, full = rows["floor: fetch + parse"], rows["estatehub full sync"]
    incremental, pandas = rows["estatehub incremental sync"], rows["pandas json_normalize + to_sql"]
    contracts = number(floor["records"])
    assert contracts > 0
    assert number(full["records"]) == number(pandas["records"]) == contracts
    assert 0 < number(incremental["records"]) < contracts
    assert "history" in full["writes"] and "one flat table" in pandas["writes"]
    assert number(pandas["rows written"]) == contracts  # one row a contract
    assert number(full["rows written"]) > 3 * contracts  # raw, staging and core

    dlt = [row for system, row in rows.items() if system.startswith("dlt")]
    assert len(dlt) == 1
    if table.DLT_PYTHON.exists():
        assert number(dlt[0]["records"]) == contracts
        assert contracts < number(dlt[0]["rows written"]) < number(full["rows written"])
        assert "dlt's throughput" in full["compared"]
    else:
        assert "not measured" in dlt[0]["system"]

    for name in ("python -c pass", "estatehub --help", "estatehub quarantine list"):
        assert float(rows[name]["s"]) > 0
    assert "cores" in output and "command: python -m bench --quick" in output

    # the CPU table: every sync measured, its CPU split into its process and the sandbox serving it, and the
    # least time that CPU allows on this machine's cores set against the floor
    cpu = {row["system"]: row for row in tables_of(output)[1]}
    assert set(cpu) == {"floor: fetch + parse", "estatehub full sync", "pandas json_normalize + to_sql"} | (
        {dlt[0]["system"]} if table.DLT_PYTHON.exists() else set()
    )
    for row in cpu.values():
        process, sandbox, total = (
            float(row["its process CPU s"]),
            float(row["sandbox CPU s"]),
            float(row["CPU s in all"]),
        )
        assert process > 0 and sandbox > 0 and total == pytest.approx(process + sandbox, abs=0.02)
        assert float(row["in all ÷ cores: the least s"]) == pytest.approx(total / usable_cores(), abs=0.02)
        assert row["PostgreSQL CPU s"] == "—"  # SQLite's work is the process's own
    assert cpu["estatehub full sync"]["least s ÷ floor s"].endswith("×")


@pytest.mark.postgres
def test_the_postgresql_servers_cpu_counts_a_backend_that_has_ended(postgres_database_url):
    """A sync's connections end with it: the CPU time their backends spent must still be counted (the
    postmaster's reaped children), or the CPU table would show PostgreSQL's share too small."""
    import time

    import psycopg
    from sqlalchemy.engine import make_url

    from bench.common import postgres_cpu_seconds

    before = postgres_cpu_seconds()
    if before is None:
        pytest.skip("no PostgreSQL server process is visible in /proc: the CPU table shows its column as —")
    url = make_url(postgres_database_url)
    with psycopg.connect(host=url.host, port=url.port or 5432, user=url.username, dbname=url.database) as conn:
        backend = Path(f"/proc/{conn.info.backend_pid}")
        started = time.process_time(), time.perf_counter()
        conn.execute("select count(*) from generate_series(1, 10000000)").fetchone()
        busy = time.perf_counter() - started[1] - (time.process_time() - started[0])  # the server's, not ours
    deadline = time.monotonic() + 10
    while backend.exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # until the backend has ended and the postmaster has reaped it
    assert not backend.exists()
    assert postgres_cpu_seconds() - before >= 0.5 * busy > 0.2


def test_the_quick_table_measures_the_reconciliation_and_the_kpis_against_their_floors(capsys):
    """The reconciliation's floor reads what every model reads, with every parameter the models take: a model
    that gains one (`proceeds_purpose`) must not stop `make bench` at its reconciliation rows."""
    assert (
        table.main(
            ["--quick", "--contracts", "200", "--reconcile-lines", "2000", "--db", "sqlite", "--only", "reconcile"]
        )
        == 0
    )
    rows = rows_of(capsys.readouterr().out)
    systems = [row["system"] for row in rows]
    assert systems.count("floor: read every input") == 1 and systems.count("floor: read every fact") == 1
    assert any(system.startswith("estatehub reconciliation") for system in systems)
    assert "estatehub KPI compute" in systems
    floor = next(row for row in rows if row["system"] == "floor: read every input")
    assert number(floor["records"]) > 0


@pytest.mark.slow
def test_the_quick_table_measures_the_ledger_against_its_floor_and_the_four_forms_floor(capsys):
    """The issue's floor reads the voucher lines; the sync also fetches the receipts, refunds and invoices: the
    table shows both floors, the second one reading every record the sync reads."""
    assert table.main(["--quick", "--db", "sqlite", "--only", "ledger"]) == 0
    rows = {row["system"]: row for row in rows_of(capsys.readouterr().out)}

    vouchers, forms = rows["floor: fetch + parse"], rows["floor: fetch + parse, the four forms"]
    full = rows["estatehub full sync, receipts linked"]
    assert 0 < number(vouchers["records"]) < number(forms["records"]) == number(full["records"])
    assert "× floor · " in full["compared"] and "× the four forms' floor" in full["compared"]
