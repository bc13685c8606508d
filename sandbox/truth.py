"""Every planted difference of a world and its faces, with its kind, count and rate: the answer key the
reconciliation is scored against.

    python -m sandbox.truth var/world.sqlite            # the table: kind, face, check, count, of, rate
    python -m sandbox.truth var/world.sqlite --rows     # every row, one JSON object a line

Three faces keep their own ground truth: the world (`ground_truth`: contracts), the banks
(`ground_truth` of the bank world: loans, statements, supervised accounts, the money itself) and the
ledger (`truth`: what the clerk booked wrong). `planted_differences` reads them all into one list;
each kind names the reconciliation of issue 11 section 2 that should find it (`CHECKS`), or `event`
for what is a fact of the world rather than a difference (a cancellation, a forfeited deposit).
A world generated with `--clean` plants none: every kind that is not an event counts 0.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sandbox.banks.world import ensure_bank_world
from sandbox.ledger.book import ensure_ledger

EVENT = "event"
# kind → (face, the check of issue 11 section 2 that should report it)
CHECKS = {
    "late_filing": ("world", "contracts"),
    "unfiled_overdue": ("world", "contracts"),
    "expired_subscription": ("world", "contracts"),
    "late_handover": ("world", "queues"),
    "late_registration": ("world", "queues"),
    "cancelled_contract": ("world", EVENT),
    "room_change": ("world", EVENT),
    "rename": ("world", EVENT),
    "refund_late": ("banks", "contracts"),
    "instalment_unpaid": ("banks", "receivables"),
    "unpaid_at_end": ("banks", "receivables"),  # not planted: a line due by the world's end, paid after it
    "money_outside_supervised": ("banks", "cash"),
    "refund_without_approval": ("banks", "cash"),
    "release_over_allowed": ("banks", "cash"),
    "other_payer_line": ("banks", "cash"),
    "corrected_statement": ("banks", "quality"),
    "loan_stuck": ("banks", "loans"),
    "loan_on_cancelled_contract": ("banks", "loans"),
    "disbursement_not_received": ("banks", "loans"),
    "disbursed_on_cancelled_contract": ("banks", "loans"),
    "wrong_customer": ("ledger", "receivables"),
    "wrong_unit_memo": ("ledger", "receivables"),
    "deposit_not_converted": ("ledger", "receivables"),
    "duplicate_receipt": ("ledger", "cash"),
    "late_booking": ("ledger", "loans"),
    "refund_not_booked": ("ledger", "cash"),
    "not_invoiced": ("ledger", "invoices"),
    "invoice_without_receipt": ("ledger", "invoices"),
    "presale_invoice_not_reversed": ("ledger", "invoices"),
    "final_invoice_wrong_amount": ("ledger", "invoices"),
    "fee_booked_as_proceeds": ("ledger", "receivables"),
    "fee_paid_over_late": ("ledger", "receivables"),
    "fee_amount_wrong": ("ledger", "receivables"),
    "voided_rebooked": ("ledger", EVENT),
    "red_reversed": ("ledger", EVENT),
    "deposit_forfeited": ("ledger", EVENT),
}
# the ledger's receipts of the price (not the fees collected for others, decision 0028): where the clerk's
# slips are planted
_FEES = "('契税', '维修基金', '登记费')"
SALE_RECEIPTS = (
    "select count(*) from receipts"
    f" where bill_no not in (select ref from links where form = 'AR_RECEIVEBILL' and kind in {_FEES})"
)
# kind → (face, SQL counting the items it is planted among): the denominator of its rate
POPULATIONS = {
    "late_filing": ("world", "select count(*) from contracts where json_extract(doc, '$.signed_at') is not null"
                    " and json_extract(doc, '$.contract_type') <> '认购'"),
    "money_outside_supervised": ("banks", "select count(*) from statement_lines"
                                 " where kind in ('buyer_payment', 'loan_disbursement')"),
    "refund_without_approval": ("banks", "select count(*) from statement_lines l join accounts a using (account_no)"
                                " where l.kind = 'refund' and a.kind = 'supervised'"),
    "release_over_allowed": ("banks", "select count(*) from supervision where record_type = 'release'"),
    "refund_late": ("banks", "select count(*) from statement_lines where kind = 'refund'"),
    "disbursement_not_received": ("banks", "select count(*) from loans where json_extract(doc, '$.disbursed_fen')"
                                  " is not null"),
    "loan_stuck": ("banks", "select count(*) from loans"),
    "loan_on_cancelled_contract": ("banks", "select count(*) from loans"),
    "other_payer_line": ("banks", "select count(*) from statement_lines"),
    "instalment_unpaid": ("world", "select count(*) from contracts, json_each(json_extract(doc, '$.payment_plan'))"
                          " where json_extract(json_each.value, '$.kind') = '分期'"),
    "wrong_customer": ("ledger", SALE_RECEIPTS),
    "wrong_unit_memo": ("ledger", SALE_RECEIPTS),
    "duplicate_receipt": ("ledger", SALE_RECEIPTS),
    "late_booking": ("ledger", "select count(*) from receipts where settle_type in ('按揭放款', '公积金放款')"),
    "refund_not_booked": ("banks", "select count(*) from statement_lines where kind = 'refund'"),
    "not_invoiced": ("ledger", SALE_RECEIPTS),
    "invoice_without_receipt": ("ledger", "select count(*) from invoices where is_red = 0"),
    "presale_invoice_not_reversed": ("ledger", "select count(*) from invoices where invoice_type = '预收款发票'"
                                     " and is_red = 0"),
    "final_invoice_wrong_amount": ("ledger", "select count(*) from invoices where invoice_type = '增值税普通发票'"),
    "deposit_not_converted": ("ledger", "select count(*) from receipts where purpose = '诚意金'"),
    "fee_booked_as_proceeds": ("ledger", f"select count(*) from links where form = 'AR_RECEIVEBILL'"
                               f" and kind in {_FEES}"),
    "fee_paid_over_late": ("ledger", f"select count(*) from links where form = 'AR_RECEIVEBILL'"
                           f" and kind in {_FEES}"),
    "fee_amount_wrong": ("ledger", "select count(*) from links where form = 'AR_RECEIVEBILL'"
                         " and kind = '维修基金'"),
}  # fmt: skip
POPULATIONS["unfiled_overdue"] = POPULATIONS["late_filing"]
POPULATIONS["unpaid_at_end"] = (
    "world",
    "select count(*) from contracts, json_each(json_extract(doc, '$.payment_plan'))",
)


@dataclass(frozen=True, slots=True)
class Planted:
    kind: str
    face: str
    check: str
    contract_no: str | None
    on_date: str
    detail: dict


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def faces(world_path: str | Path, *, seed: int | None = None) -> dict[str, Path]:
    """The world file and its banks' and ledger's faces (built when missing)."""
    world = Path(world_path)
    with _connect(world) as db:
        meta = dict(db.execute("select key, value from meta"))
    seed = int(meta["seed"]) if seed is None else seed
    banks = ensure_bank_world(world)
    return {"world": world, "banks": banks, "ledger": ensure_ledger(world, seed=seed, bank_world=banks)}


def planted_differences(paths: dict[str, Path]) -> Iterator[Planted]:
    """Every row of the three faces' ground truth, in one shape."""
    queries = {
        "world": "select kind, contract_no, on_date, detail from ground_truth",
        "banks": "select kind, contract_no, on_date, detail from ground_truth",
        "ledger": "select kind, contract_no, on_date, detail from truth",
    }
    for face, sql in queries.items():
        db = _connect(paths[face])
        try:
            for kind, contract_no, on_date, detail in db.execute(sql + " order by on_date, kind"):
                _, check = CHECKS.get(kind, (face, "unclassified"))
                yield Planted(kind, face, check, contract_no, on_date, json.loads(detail))
        finally:
            db.close()


def summary(paths: dict[str, Path]) -> list[tuple[str, str, str, int, int | None]]:
    """(kind, face, check, count, population) of every kind, planted or not, in CHECKS order."""
    counts: dict[str, int] = {}
    for row in planted_differences(paths):
        counts[row.kind] = counts.get(row.kind, 0) + 1
    out = []
    for kind in [*CHECKS, *sorted(set(counts) - set(CHECKS))]:
        face, check = CHECKS.get(kind, ("?", "unclassified"))
        population = None
        if kind in POPULATIONS:
            where, sql = POPULATIONS[kind]
            db = _connect(paths[where])
            try:
                population = db.execute(sql).fetchone()[0]
            finally:
                db.close()
        out.append((kind, face, check, counts.get(kind, 0), population))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.truth", description=__doc__.splitlines()[0])
    parser.add_argument("world", type=Path, help="a world file (python -m sandbox.world generate)")
    parser.add_argument("--seed", type=int, help="the ledger's seed (default: the world's)")
    parser.add_argument("--rows", action="store_true", help="print every planted row as JSON instead")
    args = parser.parse_args(argv)
    if not args.world.is_file():
        print(
            f"error: no world file at {args.world}: generate one with python -m sandbox.world generate", file=sys.stderr
        )
        return 2
    paths = faces(args.world, seed=args.seed)
    if args.rows:
        for row in planted_differences(paths):
            print(json.dumps(_as_dict(row), ensure_ascii=False))
        return 0
    print(f"{'kind':<32} {'face':<7} {'check':<12} {'count':>6} {'of':>7} {'rate':>7}")
    planted = 0
    for kind, face, check, count, population in summary(paths):
        rate = f"{count / population:.1%}" if population else "-"
        print(
            f"{kind:<32} {face:<7} {check:<12} {count:>6} {population if population is not None else '-':>7} {rate:>7}"
        )
        planted += count if check != EVENT else 0
    print(f"{'planted differences (events excluded)':<53} {planted:>6}")
    return 0


def _as_dict(row: Planted) -> dict:
    return {
        "kind": row.kind,
        "face": row.face,
        "check": row.check,
        "contract_no": row.contract_no,
        "on_date": row.on_date,
        "detail": row.detail,
    }


if __name__ == "__main__":
    sys.exit(main())
