"""What the demo prints: read from the warehouse only, personal data masked."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine, inspect, text

from connectors import identity as pii
from connectors.banks.records import STAGES
from estatehub.money import yuan
from estatehub.warehouse import queries, sqlfiles


def count_runs(engine: Engine) -> int:
    """Contract sync runs recorded so far (0 before the first run created the tables); the DAG's other
    stream (the building tables, `unit_inventory`) records runs of its own."""
    if not inspect(engine).has_table("etl_run"):
        return 0
    with engine.connect() as conn:
        return conn.execute(
            text("select count(*) from etl_run where source = 'trading_network' and stream = 'contracts'")
        ).scalar_one()


def print_run_line(engine: Engine, day: date, *, faults: list[str]) -> None:
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "select mode, status, fetched, loaded, quarantined from etl_run "
                "where source = 'trading_network' and stream = 'contracts' order by started_at desc limit 1"
            )
        ).one()
    note = f"  (faults injected: {', '.join(faults)})" if faults else ""
    print(
        f"  {day}  sync {row.mode:<11} {row.status:<9} fetched {row.fetched:>5}  loaded {row.loaded:>5}  "
        f"quarantined {row.quarantined:>3}{note}"
    )


def print_bank_lines(engine: Engine) -> None:
    with engine.connect() as conn:
        loans = conn.execute(text("select bank, count(*) from core_bank_loan group by bank order by bank")).all()
        lines = conn.execute(
            text("select bank, count(*) from core_bank_statement_line group by bank order by bank")
        ).all()
    statement_lines = dict(lines)
    for bank, count in loans:
        print(f"    {bank:<5} loans {count:>4}  statement lines {statement_lines.get(bank, 0):>5}")
    with engine.connect() as conn:
        receipts = sqlfiles.execute(conn, "mart/ledger_receipt_links").all()
    resolved = sum(r.receipt_count for r in receipts if r.is_resolved)
    unresolved = sum(r.receipt_count for r in receipts if not r.is_resolved)
    print(
        f"    ledger receipts {resolved + unresolved:>5}  resolved to a contract {resolved:>5}  unresolved {unresolved}"
    )


def bank_summary_lines(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        pipeline = sorted(
            sqlfiles.execute(conn, "mart/bank_mortgage_pipeline").all(),
            key=lambda row: (row.bank, STAGES.index(row.stage) if row.stage in STAGES else len(STAGES)),
        )
        statements = sqlfiles.execute(conn, "mart/bank_statement_lines_loaded").all()
    lines = ["Mortgage pipeline by bank and stage (loans, linked to a contract, approved and disbursed in yuan)"]
    lines += _table(
        ["bank", "stage", "loans", "linked", "approved", "disbursed"],
        [
            (r.bank, r.stage, r.loan_count, r.linked_count, yuan(r.approved_fen), yuan(r.disbursed_fen))
            for r in pipeline
        ],
    )
    lines.append("")
    lines.append("Statement lines loaded (collection accounts)")
    lines += _table(
        ["bank", "account", "files", "quarantined files", "lines", "credits", "debits"],
        [
            (
                r.bank,
                pii.mask_id(r.account_no),
                r.file_count,
                r.quarantined_file_count,
                r.line_count,
                yuan(r.credit_fen),
                yuan(r.debit_fen),
            )
            for r in statements
        ],
    )
    lines.append("")
    with engine.connect() as conn:
        receipts = sqlfiles.execute(conn, "mart/ledger_receipt_links").all()
    resolved = [r for r in receipts if r.is_resolved]
    unresolved = [r for r in receipts if not r.is_resolved]
    lines.append(
        f"Ledger receipts (not voided): {sum(r.receipt_count for r in resolved)} resolved to a contract and unit, "
        f"{sum(r.receipt_count for r in unresolved)} unresolved (suspense)"
    )
    lines += _table(
        ["linked by", "resolved", "receipts", "amount"],
        [(r.link_basis, "yes" if r.is_resolved else "no", r.receipt_count, yuan(r.amount_fen)) for r in receipts],
    )
    lines.append("")
    return lines


def _table(headers: list[str], rows: list[tuple]) -> list[str]:
    cells = [[str(h) for h in headers]] + [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max(_width(cell[i]) for cell in cells) for i in range(len(headers))]
    lines = []
    for n, cell in enumerate(cells):
        lines.append("  " + "  ".join(value + " " * (widths[i] - _width(value)) for i, value in enumerate(cell)))
        if n == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    return lines


def _width(value: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in value)


def summary_lines(engine: Engine, as_of: date) -> list[str]:
    lines = [f"Summary as of the end of {as_of} (Asia/Shanghai), read from the warehouse", ""]
    counts = queries.contract_state_counts(engine)
    lines.append("Contracts by type and state")
    lines += _table(["type", "state", "contracts"], [tuple(r) for r in counts])
    lines.append("")

    overdue = queries.filings_overdue(engine, as_of=as_of)
    lines.append(f"Filings overdue (signed more than 30 days ago, not yet 已备案): {len(overdue)}")
    if overdue:
        lines += _table(
            ["contract", "house", "signed on", "days since signing"],
            [(r.contract_no, r.house_id, r.signed_on, r.days_since_signing) for r in overdue[:10]],
        )
        if len(overdue) > 10:
            lines.append(f"  ... and {len(overdue) - 10} more")
    lines.append("")

    signed_not_filed = queries.contracts_in_state_on(engine, state="已签", on=as_of, not_reached="已备案")
    lines.append(
        f"Main contracts 已签 at the end of {as_of} and not yet 已备案 (state history): {len(signed_not_filed)}"
    )
    lines.append("")

    lines += bank_summary_lines(engine)

    with engine.connect() as conn:
        quarantined = conn.execute(
            text(
                "select entity, reason, count(*) as n from etl_quarantine where resolved_at is null "
                "group by entity, reason order by n desc, reason"
            )
        ).all()
        runs = conn.execute(
            text(
                "select mode, status, fetched, loaded, quarantined from etl_run "
                "where source = 'trading_network' order by started_at"
            )
        ).all()
    total = sum(row.n for row in quarantined)
    lines.append(f"Quarantined records (kept with their reason, not loaded): {total}")
    if quarantined:
        lines += _table(["entity", "reason", "records"], [(r.entity, r.reason[:70], r.n) for r in quarantined])
    lines.append("")
    lines.append(
        f"Sync runs: {len(runs)}, fetched {sum(r.fetched for r in runs)}, loaded {sum(r.loaded for r in runs)}, "
        f"quarantined {sum(r.quarantined for r in runs)}"
    )
    lines += ["", *reconciliation_lines(engine)]
    return lines


def reconciliation_lines(engine: Engine) -> list[str]:
    """The breaks the reconciliations keep, per reconciliation and reason, with their status."""
    from sqlalchemy import text

    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "select reconciliation, reason, sum(case when status = 'open' then 1 else 0 end),"
                " sum(case when status = 'acknowledged' then 1 else 0 end),"
                " sum(case when status = 'resolved' then 1 else 0 end)"
                " from rec_break group by reconciliation, reason order by reconciliation, reason"
            )
        ).all()
    if not rows:
        return ["Reconciliation breaks: none (no reconciliation ran, or everything matched)"]
    return ["Reconciliation breaks (estatehub breaks list)"] + _table(
        ["reconciliation", "reason", "open", "acknowledged", "resolved"], [tuple(r) for r in rows]
    )


def print_reconciliation_line(engine: Engine, day: date) -> None:
    """One line per reconciliation run of the day: breaks open, new, closed by the data."""
    from sqlalchemy import text

    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "select reconciliation, sum(case when status != 'resolved' then 1 else 0 end),"
                " sum(case when status != 'resolved' and opened_on = :day then 1 else 0 end),"
                " sum(case when status = 'resolved' and changed_on = :day then 1 else 0 end)"
                " from rec_break group by reconciliation order by reconciliation"
            ),
            {"day": day.isoformat()},
        ).all()
    parts = [f"{name} {open_} open ({new} new, {closed} closed)" for name, open_, new, closed in rows]
    print(f"  {day}  reconciliation: {'; '.join(parts) or 'nothing to report'}")


def write_summary(
    engine: Engine, as_of: date, path: Path, *, home: Path, logs: Path, mail: Path, reports: Path
) -> None:
    lines = summary_lines(engine, as_of)
    lines += [
        "",
        "Where things are",
        f"  warehouse (SQLite): {home / 'warehouse.db'}",
        f"  Airflow home and metadata database: {home / 'airflow'}",
        f"  each DAG run with its tasks' logs (airflow dags test runs the tasks in its own process): "
        f"{logs}/dags-test-*.log",
        f"  the sandbox's log: {logs / 'sandbox.log'}",
        f"  the finance report as sent (one .eml per recipient list, the workbook attached): {mail}",
        f"  the same report as files (HTML, text, workbook, per language): {reports}",
        f"  this summary: {path}",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
