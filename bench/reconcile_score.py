"""Score the reconciliations against the sandbox's ground truth: `python -m bench.reconcile_score`.

    python -m bench.reconcile_score [--units 300] [--seed 7] [--clean] [--home DIR [--reuse [--relink]]] [--json]

Builds a world (`sandbox.world`), serves it as the demo does (`estatehub.demo.SandboxProcess`, the
servers in a child process), fills a SQLite warehouse from it by the project's own syncs (the
trading network, every bank's loans and statements, the ledger: the functions the Airflow tasks
call, with clients built from the Connections the demo sets), runs every reconciliation over the
world's whole period as of its last day, and matches each break the hub reports to the planted
differences of the ground truth (`sandbox.truth.planted_differences`) by their keys. Which break
reason answers which planted kind, and by which key, is the table `ANSWERS` (decision record 0017).

Per reconciliation and per planted kind: TP (planted and reported), FN (planted, not reported), FP
(reported, answering no planted difference), precision and recall. A break that holds the key of a
planted difference it does not answer, or that `KNOCK_ON` says follows from one on the same contract
(a duplicated receipt makes the deal overpaid), is counted apart, as `knock-on`, neither TP nor FP. Reasons that
are work to do rather than differences (`refund_due`: a refund not yet due) are not scored.

On a `--clean` world every break is a false alarm: the scorer lists them. Exit code 1 when a
reconciliation misses its targets (recall ≥ 0.98, precision ≥ 0.95) or a clean world shows a break.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import BENCH_PII_KEY, table

PRECISION_TARGET = 0.95
RECALL_TARGET = 0.98
RECONCILIATIONS = ("contracts", "receivables", "loans", "cash", "invoices")
RUN_HOUR = dtime(7, 0)  # the reconciliation DAG's schedule: 0 7 * * * Asia/Shanghai
UNSCORED_REASONS = {
    "refund_due": "a cancelled contract's refund, not yet due: work to do, not a difference",
    "guarantee_held": "a guarantee deposit the bank still holds: released after the mortgage is registered",
    "invoice_pending": "a receipt younger than the days finance takes to invoice it",
}


def _unscored(brk: dict[str, Any]) -> str | None:
    """Why a break is not scored (a key of `UNSCORED_REASONS`), or None: a reason that is work to do, or an
    invoice to issue for a receipt still within `settings.INVOICE_WITHIN_DAYS` (the list finance works
    through, not yet a difference)."""
    from estatehub import settings

    if brk["reason"] in UNSCORED_REASONS:
        return brk["reason"]
    fresh = brk["age_days"] is not None and brk["age_days"] <= settings.INVOICE_WITHIN_DAYS
    if brk["reason"] == "invoice_to_issue" and fresh:
        return "invoice_pending"
    return None


# planted on a contract the world later cancels as a return (no successor): the money is to be refunded,
# not invoiced, so the check rightly stops asking for the invoice (reconcile/invoice_receipts.sql)
MOOT_WHEN_RETURNED = frozenset({"not_invoiced"})
# corrected in the ledger by the day the run is as of (a duplicate receipt finance voided): the run reads the
# books as they stand, so it rightly shows nothing; the daily runs before the void saw it while it stood (a
# duplicate that stands is found: tests/reconcile/test_cash.py, entry 9, and the duplicates never voided here)
MOOT_WHEN_VOIDED = frozenset({"duplicate_receipt"})
MOOT_REASONS = {
    "returned": "the contract was returned later, the money is refunded, not invoiced",
    "voided": "finance voided the duplicate before the day the run is as of",
    "later": "planted after the day the run is as of",
    "in_transit": "a statement line of the day the run is as of: the ledger books from that statement the next day",
    "pending": "a receipt younger than the days finance takes to invoice it: not yet a difference",
    "withdrawing": "a loan of a contract cancelled within the days a bank takes to withdraw it",
}
# answered by an invoice to issue: within `settings.INVOICE_WITHIN_DAYS` of its receipt the hub lists it as
# pending work (`_unscored`: invoice_pending), not as a difference, so the run is not expected to find it yet
INVOICED_WITHIN = frozenset({"not_invoiced"})
# answered by a statement line the ledger never books: on the day the run is as of it is in transit, not yet a
# break (estatehub.reconcile.cash: the clerk books from the statement that came that morning)
ON_THE_STATEMENT = frozenset({"other_payer_line", "refund_not_booked"})


# a loan the bank never withdrew, dated the day its contract was cancelled: within `settings.LOAN_WITHDRAW_DAYS`
# of it the bank may still withdraw it, so the check waits (estatehub.reconcile.checks)
WITHDRAWN_WITHIN = frozenset({"loan_on_cancelled_contract"})


# planted kinds dated at their end (a late booking: the day it was booked) whose difference stands from an
# earlier day of their detail (the day the bank paid): a run as of a day between sees it
STARTS = {"late_booking": "paid_on"}


def _moot(planted: Any, returned: set[str], as_of: date | None) -> str | None:
    """Why a planted difference is not expected of a run as of `as_of` (a key of `MOOT_REASONS`), or None."""
    if planted.kind in MOOT_WHEN_RETURNED and planted.contract_no in returned:
        return "returned"
    if as_of is None:
        return None
    voided = planted.detail.get("voided_at")
    if planted.kind in MOOT_WHEN_VOIDED and voided and date.fromisoformat(voided[:10]) <= as_of:
        return "voided"
    since = date.fromisoformat(str(planted.detail.get(STARTS.get(planted.kind, ""), planted.on_date))[:10])
    if since > as_of:
        return "later"
    if planted.kind in WITHDRAWN_WITHIN:
        from estatehub import settings

        if (as_of - since).days <= settings.LOAN_WITHDRAW_DAYS:
            return "withdrawing"
    return "in_transit" if planted.kind in ON_THE_STATEMENT and since == as_of else None


# -- what answers what ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A planted kind is answered by a break of `reconciliation` with one of `reasons` (None: any reason,
    for a reconciliation whose reasons are not yet fixed) whose keys hold the planted difference's key."""

    reconciliation: str
    reasons: frozenset[str] | None
    key: Callable[[Any], str]


def _contract(planted: Any) -> str:
    return f"contract:{planted.contract_no}"


def _bill(planted: Any) -> str:
    return f"receipt:{planted.detail['bill_no']}"


def _invoice(planted: Any) -> str:
    return f"invoice:{planted.detail['invoice_no']}"


def _release(planted: Any) -> str:
    """A bank's release (拨付) by its number: a release names a permit, no contract."""
    return f"release:{planted.detail['release_no']}"


def _money(planted: Any) -> str:
    """A statement line by its day and amount: what the cash kinds of the banks' truth name (no serial)."""
    detail = planted.detail
    fen = detail["amount_fen"] if "amount_fen" in detail else round(Decimal(detail["amount"]) * 100)
    return f"money:{planted.on_date}:{int(fen)}"


def _answer(reconciliation: str, reasons: Iterable[str] | None, key: Callable[[Any], str]) -> Answer:
    return Answer(reconciliation, None if reasons is None else frozenset(reasons), key)


ANSWERS: dict[str, Answer] = {
    # contracts
    "late_filing": _answer("contracts", {"filed_late", "filing_overdue"}, _contract),
    "unfiled_overdue": _answer("contracts", {"filing_overdue"}, _contract),
    "expired_subscription": _answer("contracts", {"subscription_expired"}, _contract),
    "refund_late": _answer("contracts", {"refund_paid_late", "refund_overdue"}, _contract),
    # receivables
    # an unpaid instalment shows as an overdue line of its contract, though not always the planted line:
    # the receipts of a kind pay its lines oldest due first, so the gap moves to the last of them
    "instalment_unpaid": _answer("receivables", {"overdue"}, _contract),
    # not planted: the world's buyers pay some lines late, so what fell due by its end and was paid after it
    # is overdue on the day the run is as of (payable overdue when the developer owes it: a negative 补差)
    "unpaid_at_end": _answer("receivables", {"overdue", "payable_overdue"}, _contract),
    "wrong_customer": _answer(
        "receivables", {"booked_to_other_customer", "suspense_receipt", "overdue", "overpaid"}, _contract
    ),
    "wrong_unit_memo": _answer(
        "receivables", {"memo_names_other_unit", "suspense_receipt", "overdue", "overpaid"}, _contract
    ),
    "deposit_not_converted": _answer("receivables", {"deposit_not_converted"}, _contract),
    "fee_booked_as_proceeds": _answer("receivables", {"fee_booked_as_proceeds"}, _bill),
    # dated the day after its term: paid over late, or still held on the day the run is as of
    "fee_paid_over_late": _answer("receivables", {"fee_paid_over_late", "fee_not_paid_over"}, _bill),
    # the maintenance fund charged on the sold area: the contract's fund line is short or over (decision 0036)
    "fee_amount_wrong": _answer("receivables", {"fee_amount_wrong"}, _contract),
    # loans
    "loan_stuck": _answer("loans", {"loan_stuck"}, _contract),
    "loan_on_cancelled_contract": _answer("loans", {"loan_on_cancelled"}, _contract),
    "disbursement_not_received": _answer("loans", {"unmatched_bank"}, _contract),
    "disbursed_on_cancelled_contract": _answer("loans", {"disbursed_on_cancelled"}, _contract),
    # booked in the next month; seen before that booking (the as-of day between), as not booked at all
    "late_booking": _answer("loans", {"booked_next_month", "unmatched_bank"}, _contract),
    # cash: its reasons are the cash reconciliation's own; any cash break holding the key answers
    "money_outside_supervised": _answer("cash", None, _contract),
    "refund_without_approval": _answer("cash", None, _money),
    "release_over_allowed": _answer("cash", None, _release),
    "other_payer_line": _answer("cash", None, _money),
    "duplicate_receipt": _answer("cash", None, _contract),
    "refund_not_booked": _answer("cash", None, _money),
    # invoices
    "not_invoiced": _answer("invoices", {"invoice_to_issue"}, _bill),
    "invoice_without_receipt": _answer("invoices", {"invoice_without_receipt"}, _invoice),
    "presale_invoice_not_reversed": _answer("invoices", {"presale_invoice_not_reversed"}, _invoice),
    "final_invoice_wrong_amount": _answer("invoices", {"final_invoice_wrong_amount"}, _contract),
}


# what a planted difference makes another check report on the same contract: the money it counts twice,
# leaves out or puts on the wrong deal shows in the receivables; a refund never booked leaves the money held
KNOCK_ON: dict[str, frozenset[tuple[str, str]]] = {
    "duplicate_receipt": frozenset({("receivables", "overpaid"), ("receivables", "payable_overdue")}),
    "disbursement_not_received": frozenset({("receivables", "overdue")}),
    # a disbursement the ledger books after the day the run is as of: on the statement, not yet in the books
    "late_booking": frozenset({("cash", "statement_not_booked")}),
    # … and the bank's transfer fee of that refund, the same day, which the clerk did not book either
    "refund_not_booked": frozenset(
        {("contracts", "refund_overdue"), ("receivables", "overpaid"), ("cash", "statement_not_booked")}
    ),
    "wrong_customer": frozenset(
        {
            ("receivables", "overpaid"),
            ("receivables", "overdue"),
            ("receivables", "deposit_not_converted"),
            ("loans", "unmatched_ledger"),
            ("invoices", "invoice_to_issue"),
        }
    ),
}


# planted kinds whose knock-ons are found by their day (the detail's field naming it) rather than their deal:
# a bank's fee line names no contract
KNOCK_ON_SAME_DAY = {"refund_not_booked": "refunded_on", "late_booking": "paid_on"}


def break_keys(brk: dict[str, Any], deal: Callable[[str], str] = str) -> set[str]:
    """Every key a break names: its items on both sides and its subject as a contract; a contract key
    also as `deal:` (`deal` maps a contract to the last of its chain: subscription → contract → renamed)."""
    keys = {str(item) for item in (*brk["left_ids"], *brk["right_ids"])}
    # a release is `release:BANK:NO` on the break, `release:NO` in the truth (which names no bank)
    keys |= {f"release:{key.rsplit(':', 1)[1]}" for key in keys if key.startswith("release:")}
    if brk.get("subject"):
        keys.add(f"contract:{brk['subject']}")
    if brk.get("first_on") is not None:
        keys.add(f"money:{brk['first_on']}:{brk['amount_fen']}")
        keys.add(f"day:{brk['first_on']}")  # only knock-ons compare it (`KNOCK_ON_SAME_DAY`)
    return keys | {f"deal:{deal(k.removeprefix('contract:'))}" for k in keys if k.startswith("contract:")}


def deals(world: Path) -> dict[str, str]:
    """contract → the last contract of its deal, from the world: a subscription (认购) goes on in the
    contract signed after it, a renamed or exchanged contract in its successor. The hub names a deal by
    its last contract where the world names the contract of the moment (a receipt under the subscription)."""
    from sandbox.world import open_world

    successor: dict[str, str] = {}
    with open_world(world) as store:
        for doc in store.iter_docs():
            for before in (doc.get("subscription_no"), doc.get("previous_contract_no")):
                if before and before != doc["contract_no"]:
                    successor[before] = doc["contract_no"]
    final = {}
    for start in successor:
        seen, at = {start}, start
        while at in successor and successor[at] not in seen:
            at = successor[at]
            seen.add(at)
        final[start] = at
    return final


# -- scoring -------------------------------------------------------------------------------------


@dataclass
class Tally:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    knock_on: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


@dataclass
class Score:
    built: dict[str, bool]
    by_reconciliation: dict[str, Tally] = field(default_factory=dict)
    by_kind: dict[str, Tally] = field(default_factory=dict)
    unscored: Counter = field(default_factory=Counter)  # (reconciliation, reason) → breaks not scored
    moot: Counter = field(default_factory=Counter)  # (planted kind, why) → differences a run cannot expect
    false_alarms: list[dict[str, Any]] = field(default_factory=list)
    misses: list[Any] = field(default_factory=list)
    breaks: int = 0
    planted: int = 0

    def meets_targets(self, reconciliation: str) -> bool:
        tally = self.by_reconciliation[reconciliation]
        precision, recall = tally.precision, tally.recall
        return (precision is None or precision >= PRECISION_TARGET) and (recall is None or recall >= RECALL_TARGET)


def score(
    breaks: list[dict[str, Any]],
    planted: Iterable[Any],
    built: Iterable[str],
    deal_of: dict[str, str] | None = None,
    as_of: date | None = None,
) -> Score:
    """Match `breaks` (dicts of `rec_break`'s columns) to the `planted` differences (`sandbox.truth.Planted`)
    of the reconciliations `built`; a planted difference keyed by a contract is found by any contract of its
    deal (`deal_of`, from `deals`); what `_moot` says a run as of `as_of` cannot see is not expected; see the
    module doc."""
    deal_of = deal_of or {}

    def deal(contract_no: str) -> str:
        return deal_of.get(contract_no, contract_no)

    built = set(built)
    planted = list(planted)
    returned = {
        p.contract_no for p in planted if p.kind == "cancelled_contract" and not p.detail.get("successor_contract_no")
    }
    result = Score(built={name: name in built for name in RECONCILIATIONS})
    result.by_reconciliation = {name: Tally() for name in RECONCILIATIONS if name in built}
    scored = [b for b in breaks if _unscored(b) is None]
    pending: set[str] = set()  # keys of the invoices still within the days finance takes to issue them
    for b in breaks:
        if (why := _unscored(b)) is not None:
            result.unscored[(b["reconciliation"], why)] += 1
            if why == "invoice_pending":
                pending.update(break_keys(b, deal))
    result.breaks = len(scored)
    keyed = [(b, break_keys(b, deal)) for b in scored]
    holding: dict[str, list[int]] = {}  # key → the breaks (by index) that hold it: no scan of every break per planted
    for index, (_, keys) in enumerate(keyed):
        for k in keys:
            holding.setdefault(k, []).append(index)
    answering: set[int] = set()  # breaks (by index) that answer a planted difference of their own check
    explaining: set[int] = set()  # breaks that hold the key of some planted difference (knock-on)
    for p in planted:
        answer = ANSWERS.get(p.kind)
        if answer is None:
            if p.check in RECONCILIATIONS:
                raise ValueError(f"planted kind {p.kind!r} of the {p.check} check has no answer in ANSWERS")
            continue  # an event, or a check outside the reconciliations (queues, quality)
        key = answer.key(p)
        if p.kind in INVOICED_WITHIN and key in pending:
            result.moot[(p.kind, "pending")] += 1
            continue
        if (why_not := _moot(p, returned, as_of)) is not None:
            result.moot[(p.kind, why_not)] += 1
            continue
        if key.startswith("contract:"):
            key = f"deal:{deal(key.removeprefix('contract:'))}"
        own = {f"deal:{deal(p.contract_no)}"} if p.contract_no else set()
        if p.kind in KNOCK_ON_SAME_DAY:
            own.add(f"day:{p.detail.get(KNOCK_ON_SAME_DAY[p.kind], p.on_date)}")
        if p.detail.get("booked_to_contract_no"):  # money booked to another customer shows on that one's deal
            own.add(f"deal:{deal(p.detail['booked_to_contract_no'])}")
        follows = KNOCK_ON.get(p.kind, frozenset())
        explaining.update(holding.get(key, ()))
        for k in own:
            explaining.update(
                index
                for index in holding.get(k, ())
                if (keyed[index][0]["reconciliation"], keyed[index][0]["reason"]) in follows
            )
        if answer.reconciliation not in built:
            continue
        result.planted += 1
        kind = result.by_kind.setdefault(p.kind, Tally())
        rec = result.by_reconciliation[answer.reconciliation]
        hits = [
            index
            for index in holding.get(key, ())
            if keyed[index][0]["reconciliation"] == answer.reconciliation
            and (answer.reasons is None or keyed[index][0]["reason"] in answer.reasons)
        ]
        if hits:
            kind.tp += 1
            rec.tp += 1
            answering.update(hits)
        else:
            kind.fn += 1
            rec.fn += 1
            result.misses.append(p)
    for index, (b, _) in enumerate(keyed):
        if index in answering or b["reconciliation"] not in result.by_reconciliation:
            continue
        rec = result.by_reconciliation[b["reconciliation"]]
        if index in explaining:
            rec.knock_on += 1
        else:
            rec.fp += 1
            result.false_alarms.append(b)
    return result


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def render(result: Score, *, clean: bool) -> str:
    rows = []
    for name in RECONCILIATIONS:
        if not result.built[name]:
            rows.append([name, "not yet built", "", "", "", "", "", ""])
            continue
        t = result.by_reconciliation[name]
        verdict = "yes" if result.meets_targets(name) else "**no**"
        rows.append([name, t.tp, t.fn, t.fp, t.knock_on, _ratio(t.precision), _ratio(t.recall), verdict])
    out = [table(["reconciliation", "TP", "FN", "FP", "knock-on", "precision", "recall", "targets met"], rows)]
    if not clean:
        kinds = []
        for kind, answer in ANSWERS.items():
            t = result.by_kind.get(kind)
            if t is None:
                built = result.built[answer.reconciliation]
                kinds.append([kind, answer.reconciliation, 0, 0, "", "-" if built else "not yet built"])
                continue
            kinds.append([kind, answer.reconciliation, t.tp, t.fn, _ratio(t.recall), ""])
        out.append(table(["planted kind", "reconciliation", "TP", "FN", "recall", ""], kinds))
    if result.moot:
        out.append(
            "not expected: "
            + ", ".join(f"{kind} {n} ({MOOT_REASONS[why]})" for (kind, why), n in sorted(result.moot.items()))
        )
    if result.unscored:
        unscored = result.unscored.items()
        out.append("not scored: " + ", ".join(f"{r}/{why} {n} ({UNSCORED_REASONS[why]})" for (r, why), n in unscored))
    if result.false_alarms:
        by_reason = Counter((b["reconciliation"], b["reason"]) for b in result.false_alarms)
        out.append(
            ("breaks on a clean world: " if clean else "false alarms by reason: ")
            + ", ".join(f"{rec}/{reason} {n}" for (rec, reason), n in sorted(by_reason.items()))
        )
    return "\n\n".join(out)


# -- the world and the warehouse -------------------------------------------------------------------


@dataclass
class Built:
    world: Path
    warehouse_url: str
    start_on: date
    end_on: date
    seconds: dict[str, float]
    contracts: int = 0  # the world's contracts (its meta)


DAILY, PERIOD = "daily", "period"  # how the banks' statements reach the warehouse (`--statements`)


def _land_period(bank_url: str, folder: Path, start_on: date, end_on: date) -> None:
    """Have the sandbox's bank drop one period statement per collection account of the whole world into
    `folder` (its `/_sandbox/landing`, as an SFTP drop: the file a clerk exports by hand)."""
    import requests

    body = {"folder": str(folder), "date_from": f"{start_on:%Y%m%d}", "date_to": f"{end_on:%Y%m%d}", "period": True}
    response = requests.post(f"{bank_url}/_sandbox/landing", json=body, timeout=3600)
    response.raise_for_status()


@contextmanager
def built_warehouse(
    home: Path,
    *,
    units: int,
    seed: int,
    clean: bool,
    reuse: bool = False,
    statements: str = DAILY,
    relink: bool = False,
) -> Iterator[Built]:
    """A world in `home`, served as the demo serves it, and a SQLite warehouse filled by the syncs
    (`reuse`: the warehouse a previous run left in `home`, to score a changed check without syncing; with
    `relink`, every receipt, refund and invoice of it linked again first, to score a changed linker).
    `statements`: `daily`, the bank's daily file of each account, listed and downloaded by the sync as
    the Airflow task does (one file per account and day: ~165,000 files at 100,000 contracts); `period`,
    one statement per account for the whole period dropped into a landing folder and loaded by
    `estatehub.banks.sync.sync_landed_statements` (the same lines; the daily files' registry, corrected
    `_v2` files and the lines a `_v1` file left out are not exercised)."""
    from estatehub.banks.connections import BANK_CODES, STATEMENT_BANKS, bank_client_from
    from estatehub.banks.sync import sync_landed_statements, sync_loans, sync_statements
    from estatehub.connections import parse_env_connection, trading_network_client
    from estatehub.demo import SandboxProcess, airflow_env
    from estatehub.ledger.connection import ledger_client
    from estatehub.ledger.sync import sync_ledger
    from estatehub.trading_network.inventory import sync_unit_inventory
    from estatehub.trading_network.sync import sync_trading_network
    from estatehub.warehouse.engine import Warehouse
    from sandbox.world import ensure_world, open_world

    seconds: dict[str, float] = {}
    started = time.perf_counter()
    world = ensure_world(home / "sandbox", units=units, seed=seed, clean=clean)
    seconds["world"] = time.perf_counter() - started
    with open_world(world) as store:
        contracts = int(store.meta["contracts"])
    warehouse_path = home / "warehouse.db"
    url = f"sqlite:///{warehouse_path}"
    if reuse and warehouse_path.exists():
        if relink:
            from estatehub.ledger.link import all_customers
            from estatehub.ledger.load import link_codes

            started = time.perf_counter()
            warehouse = Warehouse.from_url(url, pii_key=BENCH_PII_KEY)
            with warehouse.engine.connect() as conn:
                codes = all_customers(conn)
            link_codes(warehouse, codes, at=datetime.now(UTC))
            warehouse.engine.dispose()
            seconds["relink"] = time.perf_counter() - started
        with open_world(world) as store:
            meta = store.meta
        start_on, end_on = date.fromisoformat(meta["start_on"]), date.fromisoformat(meta["end_on"])
        yield Built(world, url, start_on, end_on, seconds, contracts)
        return
    warehouse_path.unlink(missing_ok=True)
    sandbox = SandboxProcess(units, seed, home / "sandbox.log", world=world)
    try:
        start_on = date.fromisoformat(sandbox.world["start_on"])
        end_on = date.fromisoformat(sandbox.world["end_on"])
        sandbox.set_clock(run_moment(end_on))
        env = airflow_env(home, sandbox, url, BENCH_PII_KEY.decode())

        def conn(conn_id: str):
            return parse_env_connection(conn_id, env[f"AIRFLOW_CONN_{conn_id.upper()}"])

        warehouse = Warehouse.from_url(url, pii_key=BENCH_PII_KEY)
        started = time.perf_counter()

        @contextmanager
        def timed(step: str) -> Iterator[None]:
            begun = time.perf_counter()
            yield
            seconds[step] = time.perf_counter() - begun

        with timed("network"), trading_network_client(conn("trading_network")) as client:
            sync_trading_network(client, warehouse)
            sync_unit_inventory(client, warehouse)  # the building tables, as the network's DAG syncs them
        for code in BANK_CODES:
            folder = home / "banks" / code
            with timed(f"loans {code}"):
                sync_loans(code, warehouse, client=bank_client_from(conn(f"bank_{code}"), code, folder=folder))
            with timed(f"statements {code}"):
                client = bank_client_from(conn(f"bank_{code}"), code)
                if statements == PERIOD and code in STATEMENT_BANKS:
                    landed = home / "landing" / code
                    _land_period(sandbox.urls[code], landed, start_on, end_on)
                    sync_landed_statements(code, warehouse, landed, client=client)
                else:
                    sync_statements(code, warehouse, folder=home / "banks", client=client)
        with timed("ledger"), ledger_client(conn("finance_ledger")) as client:
            sync_ledger(client, warehouse)
        warehouse.engine.dispose()
        seconds["syncs"] = time.perf_counter() - started
    finally:
        sandbox.stop()
    yield Built(world, url, start_on, end_on, seconds, contracts)


def run_moment(last_day: date) -> datetime:
    """When the run as of `last_day` reads its sources: the reconciliation DAG's 07:00 of the next morning
    (`dags/reconciliation.py`), after the business day has closed. At the last day's 18:00 sync that day is
    still open: its statement has not come and the evening's bookings are not made; a run as of that day
    would judge half of it."""
    from estatehub.settings import BUSINESS_TZ

    return datetime.combine(last_day + timedelta(days=1), RUN_HOUR, tzinfo=BUSINESS_TZ)


def built_reconciliations() -> tuple[str, ...]:
    """The reconciliations the hub runs (`estatehub.reconcile.run.RECONCILIATIONS`)."""
    from estatehub.reconcile.run import RECONCILIATIONS as RUN

    return tuple(RUN)


def reconcile(built: Built) -> list[dict[str, Any]]:
    """Every reconciliation over the world's whole period, as of its last day: the breaks, as dicts."""
    from estatehub.reconcile.city import load_city_rules
    from estatehub.reconcile.run import run_reconciliation
    from estatehub.warehouse.engine import Warehouse

    warehouse = Warehouse.from_url(built.warehouse_url, pii_key=BENCH_PII_KEY)
    try:
        started = time.perf_counter()
        report = run_reconciliation(warehouse, date_from=built.start_on, date_to=built.end_on, city=load_city_rules())
        built.seconds["reconcile"] = time.perf_counter() - started
    finally:
        warehouse.engine.dispose()
    return [b for outcome in report.outcomes.values() for b in outcome.breaks]


def run(
    units: int,
    seed: int,
    *,
    clean: bool,
    home: Path,
    reuse: bool = False,
    statements: str = DAILY,
    relink: bool = False,
) -> tuple[Score, Built]:
    from sandbox.truth import faces, planted_differences

    with built_warehouse(
        home, units=units, seed=seed, clean=clean, reuse=reuse, statements=statements, relink=relink
    ) as built:
        breaks = reconcile(built)
    started = time.perf_counter()
    planted = list(planted_differences(faces(built.world)))
    result = score(breaks, planted, built_reconciliations(), deals(built.world), as_of=built.end_on)
    built.seconds["scoring"] = time.perf_counter() - started
    return result, built


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reconcile_score", description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=300, help="units of the world (default 300, the demo's)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the world (default 7, the demo's)")
    parser.add_argument("--clean", action="store_true", help="a world that plants nothing: every break is an error")
    parser.add_argument("--home", type=Path, help="folder for the world and the warehouse (default: a temporary one)")
    parser.add_argument(
        "--reuse", action="store_true", help="score again the warehouse a previous run left in --home (no syncs)"
    )
    parser.add_argument(
        "--relink", action="store_true", help="with --reuse: link every receipt, refund and invoice again first"
    )
    parser.add_argument("--misses", type=int, default=0, help="also list this many misses and false alarms")
    parser.add_argument(
        "--statements",
        choices=(DAILY, PERIOD),
        default=DAILY,
        help="the banks' daily files through their API (default), or one period file per account from a landing "
        "folder (the same lines, for large worlds: the daily files number accounts x days)",
    )
    args = parser.parse_args(argv)
    if args.relink and not args.reuse:
        parser.error("--relink links a reused warehouse again: give --reuse and --home too")
    with tempfile.TemporaryDirectory(prefix="reconcile-score-") as tmp:
        home = (args.home or Path(tmp)).resolve()
        home.mkdir(parents=True, exist_ok=True)
        result, built = run(
            args.units,
            args.seed,
            clean=args.clean,
            home=home,
            reuse=args.reuse,
            statements=args.statements,
            relink=args.relink,
        )
    print(
        f"world: {args.units} units, seed {args.seed}{' (clean)' if args.clean else ''}, {built.contracts} contracts, "
        f"{'the warehouse reused' if args.reuse else args.statements + ' statements'}, "
        f"{built.start_on}..{built.end_on}; {result.planted} planted differences scored, {result.breaks} breaks; "
        + ", ".join(f"{step} {s:.1f} s" for step, s in built.seconds.items())
    )
    print()
    print(render(result, clean=args.clean), flush=True)
    if args.misses:
        for p in result.misses[: args.misses]:
            print("miss:", p.kind, p.contract_no, p.on_date, json.dumps(p.detail, ensure_ascii=False))
        for b in result.false_alarms[: args.misses]:
            print("false alarm:", b["reconciliation"], b["reason"], b["subject"], b["detail"])
    failed = [name for name in result.by_reconciliation if not result.meets_targets(name)]
    if args.clean and result.false_alarms:
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
