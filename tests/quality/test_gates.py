"""Quality gates on hand-made warehouses, SQLite and PostgreSQL: each gate holds on whole data and
finds exactly what was broken on purpose; the check and its findings are kept; row counts are judged
against the previous check."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, insert, select, update

from estatehub.banks.tables import core_bank_statement_line, etl_bank_statement_file
from estatehub.ledger.tables import core_voucher, core_voucher_line
from estatehub.quality.gates import GateSettings, GatesFailed, check_sources
from estatehub.quality.tables import etl_quality_result, etl_quality_run
from estatehub.settings import BUSINESS_TZ
from estatehub.warehouse.tables import etl_quarantine, etl_run, raw_record

AS_OF = date(2026, 3, 31)
NOW = datetime(2026, 3, 31, 10, 0, tzinfo=UTC)
ACCOUNT = "4000021209200123456"


def _file(file_id: int, name: str, lines: list[tuple[str, int]], *, status: str = "loaded") -> dict:
    return {
        "file_id": file_id,
        "bank": "icbc",
        "account_no": ACCOUNT,
        "file_name": name,
        "sha256": f"sha-{file_id}",
        "layout": "icbc",
        "period_start_on": date(2026, 3, file_id),
        "period_end_on": date(2026, 3, file_id),
        "version": 1,
        "line_count": len(lines),
        "quarantined_count": 0,
        "credit_count": sum(1 for d, _ in lines if d == "in"),
        "debit_count": sum(1 for d, _ in lines if d == "out"),
        "credit_fen": sum(a for d, a in lines if d == "in"),
        "debit_fen": sum(a for d, a in lines if d == "out"),
        "status": status,
        "origin": "sync",
        "reason": None if status == "loaded" else "no layout reads it",
        "run_id": "run-1",
        "loaded_at": NOW,
    }


def _lines(file_id: int, day: int, lines: list[tuple[str, int]], opening: int) -> tuple[list[dict], int]:
    rows, balance = [], opening
    for no, (direction, amount) in enumerate(lines, start=1):
        balance += amount if direction == "in" else -amount
        rows.append(
            {
                "line_key": f"k-{file_id}-{no}",
                "bank": "icbc",
                "account_no": ACCOUNT,
                "booked_on": date(2026, 3, day),
                "booked_time": f"{9 + no:02d}:00:00",
                "direction": direction,
                "amount_fen": amount,
                "balance_fen": balance,
                "currency": "CNY",
                "serial": f"S{file_id:03d}{no:03d}",
                "layout": "icbc",
                "file_id": file_id,
                "line_no": no,
                "first_file_id": file_id,
                "is_current": True,
                "loaded_at": NOW,
            }
        )
    return rows, balance


def _voucher(voucher_id: int, number: int, debit: int, credit: int) -> tuple[dict, list[dict]]:
    voucher = {
        "voucher_id": voucher_id,
        "voucher_group": "记",
        "voucher_number": number,
        "year": 2026,
        "period": 3,
        "voucher_on": date(2026, 3, 10),
        "is_audited": True,
        "is_voided": False,
        "is_reversal": False,
        "created_at": NOW,
        "modified_at": NOW,
    }
    lines = [
        {
            "entry_id": voucher_id * 10 + seq,
            "voucher_id": voucher_id,
            "seq": seq,
            "voucher_on": date(2026, 3, 10),
            "memo": "收3栋1502首付款",
            "account_no": account,
            "debit_fen": d,
            "credit_fen": c,
            "is_voided": False,
        }
        for seq, account, d, c in ((1, "1002.01", debit, 0), (2, "2203", 0, credit))
    ]
    return voucher, lines


@pytest.fixture
def whole(warehouse):
    """A warehouse whose sources are whole: three statement files that chain, and balanced vouchers."""
    opening = 1_000_000_00
    days = {1: [("in", 500_000_00), ("out", 20_00)], 2: [("in", 1_200_000_00)], 3: [("out", 300_000_00), ("in", 5_00)]}
    with warehouse.engine.begin() as conn:
        for day, lines in days.items():
            conn.execute(insert(etl_bank_statement_file), [_file(day, f"ICBC_{ACCOUNT}_202603{day:02d}.csv", lines)])
            rows, opening = _lines(day, day, lines, opening)
            conn.execute(insert(core_bank_statement_line), rows)
        for voucher_id, number in ((1, 1), (2, 2)):
            voucher, lines = _voucher(voucher_id, number, 500_000_00, 500_000_00)
            conn.execute(insert(core_voucher), [voucher])
            conn.execute(insert(core_voucher_line), lines)
    return warehouse


def _gates(report, severity="error"):
    return sorted({f.gate for f in report.findings if f.severity == severity})


def test_whole_sources_pass_every_gate_and_the_check_is_kept(whole):
    report = check_sources(whole, as_of=AS_OF, purpose="test")
    assert report.status == "passed", report.summary()
    with whole.engine.connect() as conn:
        run = conn.execute(select(etl_quality_run)).one()
        counts = dict(
            conn.execute(
                select(etl_quality_result.c.subject, etl_quality_result.c.observed).where(
                    etl_quality_result.c.gate == "row_count"
                )
            ).all()
        )
    assert (run.status, run.errors, run.warnings, run.purpose) == ("passed", 0, 0, "test")
    assert counts["core_bank_statement_line"] == 5 and counts["core_voucher"] == 2 and counts["core_contract"] == 0


def test_an_unbalanced_voucher_is_an_error_naming_it(whole):
    with whole.engine.begin() as conn:
        conn.execute(update(core_voucher_line).where(core_voucher_line.c.entry_id == 22).values(credit_fen=499_999_99))
    report = check_sources(whole, as_of=AS_OF)
    assert _gates(report) == ["voucher_balanced"]
    assert report.errors[0].subject == "2" and "500,000.00" in report.errors[0].message
    with pytest.raises(GatesFailed, match="voucher_balanced"):
        raise GatesFailed(report)


def test_a_voided_voucher_is_not_judged(whole):
    with whole.engine.begin() as conn:
        conn.execute(update(core_voucher_line).where(core_voucher_line.c.entry_id == 22).values(credit_fen=1))
        conn.execute(update(core_voucher).where(core_voucher.c.voucher_id == 2).values(is_voided=True))
    assert check_sources(whole, as_of=AS_OF).status == "passed"


def test_a_missing_statement_line_breaks_the_running_balance_and_the_file_totals(whole):
    with whole.engine.begin() as conn:
        conn.execute(delete(core_bank_statement_line).where(core_bank_statement_line.c.line_key == "k-2-1"))
    report = check_sources(whole, as_of=AS_OF)
    assert _gates(report) == ["statement_balance_follows", "statement_totals_loaded"]
    balance = next(f for f in report.errors if f.gate == "statement_balance_follows")
    assert "1,200,000.00" in balance.message, "the gap is the missing line's amount"


def test_a_missing_statement_file_breaks_the_running_balance(whole):
    with whole.engine.begin() as conn:
        conn.execute(delete(core_bank_statement_line).where(core_bank_statement_line.c.file_id == 2))
        conn.execute(delete(etl_bank_statement_file).where(etl_bank_statement_file.c.file_id == 2))
    report = check_sources(whole, as_of=AS_OF)
    assert _gates(report) == ["statement_balance_follows"]
    assert "2026-03-01" in report.errors[0].message and "2026-03-03" in report.errors[0].message


def test_a_line_after_the_day_checked_is_not_judged(whole):
    with whole.engine.begin() as conn:
        conn.execute(
            update(core_bank_statement_line).where(core_bank_statement_line.c.file_id == 3).values(balance_fen=1)
        )
    assert check_sources(whole, as_of=date(2026, 3, 2)).status == "passed"
    assert _gates(check_sources(whole, as_of=date(2026, 3, 3))) == ["statement_balance_follows"]


def test_a_serial_twice_on_one_account_and_a_voucher_number_twice_are_errors(whole):
    rows, _ = _lines(9, 3, [("in", 5_00)], 0)
    rows[0] |= {"serial": "S003002", "balance_fen": None}
    voucher, lines = _voucher(3, 2, 1_00, 1_00)
    with whole.engine.begin() as conn:
        conn.execute(insert(core_bank_statement_line), rows)
        conn.execute(insert(core_voucher), [voucher])
        conn.execute(insert(core_voucher_line), lines)
    report = check_sources(whole, as_of=AS_OF)
    duplicates = sorted(f.subject for f in report.errors if f.gate == "keys_unique")
    assert duplicates == [f"statement serial {ACCOUNT} S003002", "voucher 2026-3 记-2"]


def test_a_statement_line_without_its_account_is_an_error(whole):
    with whole.engine.begin() as conn:
        conn.execute(
            update(core_bank_statement_line)
            .where(core_bank_statement_line.c.line_key == "k-3-2")
            .values(account_no=None)
        )
    report = check_sources(whole, as_of=AS_OF)
    assert _gates(report) == ["keys_present"]
    assert report.errors[0].message == f"statement line without account: ICBC_{ACCOUNT}_20260303.csv line 2"


def test_a_file_kept_unloaded_and_open_quarantine_are_warnings(whole):
    with whole.engine.begin() as conn:
        conn.execute(insert(etl_bank_statement_file), [_file(7, "ICBC_odd_layout.xlsx", [], status="quarantined")])
        conn.execute(
            insert(etl_quarantine),
            [
                {
                    "source": "trading_network",
                    "entity": "contract",
                    "record_key": "YS2026000009",
                    "reason": "missing field house_id",
                    "payload_hash": "h-1",
                    "first_run_id": "run-1",
                    "last_run_id": "run-1",
                    "first_seen_at": NOW,
                    "last_seen_at": NOW,
                    "seen_count": 1,
                }
            ],
        )
    report = check_sources(whole, as_of=AS_OF)
    assert report.status == "warnings" and not report.errors
    assert _gates(report, "warning") == ["quarantine_open", "statement_files_quarantined"]


def test_rows_lost_since_the_last_check_are_an_error_and_a_jump_a_warning(whole):
    check_sources(whole, as_of=AS_OF)
    with whole.engine.begin() as conn:
        conn.execute(delete(core_voucher_line).where(core_voucher_line.c.voucher_id == 2))
        conn.execute(delete(core_voucher).where(core_voucher.c.voucher_id == 2))
    few = GateSettings(drop_floor=0)
    report = check_sources(whole, as_of=AS_OF, settings=few)
    lost = {f.subject: f.message for f in report.errors if f.gate == "row_count"}
    assert set(lost) == {"core_voucher", "core_voucher_line"}
    assert "1 fewer than at the last check (2)" in lost["core_voucher"]
    assert check_sources(whole, as_of=AS_OF, settings=few).status == "passed", "judged against the last check"

    rows, _ = _lines(20, 4, [("in", 1)] * 30, 0)
    for row in rows:
        row["balance_fen"] = None
    with whole.engine.begin() as conn:
        conn.execute(insert(core_bank_statement_line), rows)
    jump = check_sources(whole, as_of=AS_OF, settings=GateSettings(growth_floor=5))
    assert [f.subject for f in jump.warnings if f.gate == "row_count"] == ["core_bank_statement_line"]


def test_many_findings_are_listed_up_to_a_limit_and_counted(whole):
    with whole.engine.begin() as conn:
        for voucher_id in range(10, 40):
            voucher, lines = _voucher(voucher_id, voucher_id, 2_00, 1_00)
            conn.execute(insert(core_voucher), [voucher])
            conn.execute(insert(core_voucher_line), lines)
    report = check_sources(whole, as_of=AS_OF, settings=GateSettings(listed=5))
    unbalanced = [f for f in report.errors if f.gate == "voucher_balanced"]
    assert len(unbalanced) == 6 and unbalanced[-1].message == "and 25 more like these"


def _synced(warehouse, source: str, stream: str, finished_at: datetime) -> None:
    with warehouse.engine.begin() as conn:
        conn.execute(
            insert(etl_run).values(
                run_id=f"{source}-{finished_at:%Y%m%d%H%M}",
                source=source,
                stream=stream,
                mode="incremental",
                started_at=finished_at,
                finished_at=finished_at,
                status="succeeded",
                fetched=1,
                loaded=1,
                quarantined=0,
            )
        )
        conn.execute(  # what the run brought (a source that runs and never brings anything is flagged too)
            insert(raw_record).values(
                source=source,
                entity=stream,
                record_key=f"k-{finished_at:%Y%m%d%H%M}",
                run_id=f"{source}-{finished_at:%Y%m%d%H%M}",
                payload_hash=f"h-{finished_at:%Y%m%d%H%M}",
                fetched_at=finished_at,
                is_quarantined=False,
                payload={"n": 1},
            )
        )


def _bj(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BUSINESS_TZ)


def test_a_stale_source_is_a_warning_judged_by_the_freshness_rules(whole):
    """The trading network syncs hourly from 09:00 to 19:00 with 30 minutes' grace (config/freshness.yaml)."""
    _synced(whole, "trading_network", "contracts", _bj(2026, 3, 31, 10, 0))
    fresh = check_sources(whole, as_of=AS_OF, now=_bj(2026, 3, 31, 11, 29))
    assert fresh.status == "passed", fresh.summary()
    stale = check_sources(whole, as_of=AS_OF, now=_bj(2026, 3, 31, 11, 31))
    assert _gates(stale, "warning") == ["freshness"] and not stale.errors, "stale data is reported, not a stop"
    [finding] = stale.warnings
    assert (finding.source, finding.subject) == ("trading_network", "trading_network/contracts")
    assert "2026-03-31 10:00" in finding.message


def test_an_old_period_is_judged_by_what_had_arrived_when_it_closed(whole):
    """Re-run months later, a period is judged at the end of the day after it (not by today's clock), and a
    source this warehouse never ran (the ledger, the banks here) is not part of the installation."""
    _synced(whole, "trading_network", "contracts", _bj(2026, 4, 1, 18, 40))
    assert check_sources(whole, as_of=AS_OF, now=_bj(2026, 9, 1, 12, 0)).status == "passed"
    with whole.engine.begin() as conn:
        conn.execute(delete(etl_run))
        conn.execute(delete(raw_record))
    _synced(whole, "trading_network", "contracts", _bj(2026, 3, 30, 18, 40))
    late = check_sources(whole, as_of=AS_OF, now=_bj(2026, 9, 1, 12, 0))
    assert {(f.gate, f.source) for f in late.findings if f.severity != "ok"} == {("freshness", "trading_network")}
