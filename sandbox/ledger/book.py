"""Finance's books, derived from the world: vouchers, receipt and refund bills, invoices, ground truth.

`build_ledger(source, out_path, seed=, end=)` streams over the world's contracts and writes a SQLite
"ledger store" that the ERP server (`sandbox.ledger.server`) reads at any simulated time:

1. For each contract, `sandbox.ledger.cash` decides what money moved (RNG seeded by (seed,
   contract_no)); each movement becomes an event row in a scratch table.
2. The events are read back in date order and booked as a clerk would: a receipt bill and a voucher
   (借 银行存款 1002.xx / 贷 预收账款 2203 or 合同负债 2204, 其他应付款 2241 for 诚意金), refund
   bills, transfers between units (换房, 更名), deposit conversions, forfeits, bank fees, the revenue
   transfer and final invoices at handover; loan disbursements of one bank on one day may arrive as
   one transfer naming several units. Memos are written by `sandbox.ledger.memos`.
3. The world's irregularities are planted while booking, each recorded in `truth`: a receipt booked
   to the wrong customer, a memo naming the wrong room, a loan booked in the next month (cut-off),
   a deposit never converted, a refund never booked, an invoice without a receipt, duplicates (some
   voided later). Clerk errors fixed in the books are kept too: voided receipts rebooked, vouchers
   red-reversed (红冲) and rebooked. Every memo's truth (the units written, the houses meant, the
   kinds named) goes to `memo_truth`; every receipt's true contract to `links`.

Nothing is held in memory but one contract (pass 1) or one day's batch of one bank (pass 2). Times
are naive Beijing time text (`2026-03-12T14:03:00`), as the ERP shows them.
"""

from __future__ import annotations

import json
import logging
import random
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Protocol

from sandbox.ledger import chart
from sandbox.ledger.cash import (
    DEPOSIT,
    FORFEIT,
    FUND,
    LOAN_KINDS,
    MORTGAGE,
    REFUND,
    ROOM_CHANGE_DIFFERENCE,
    SINCERITY,
    TRANSFER,
    TRUE_UP,
    CashFlow,
    bj,
    cash_flows,
    fen,
    primary_name,
)
from sandbox.ledger.fees import fee_flows, payover_of
from sandbox.ledger.memos import Address, Memo, write_memo
from sandbox.world.clock import at_office_hours, next_workday
from sandbox.world.collection import (
    REFUND_FEE_FEN,
    CollectionAccount,
    general_account,
    house_permit,
    supervised_account,
)

log = logging.getLogger(__name__)

LEDGER_VERSION = 18  # 18: a split payment due by the end, its last transfers after it: one transfer in a clean
# world, its late parts `unpaid_at_end` in a planted one (decision 0038; 17 was a withdrawn try, not reused)
# 16: the maintenance fund charged on the sold area, planted (decision 0036)
# 15: the settlement red-reverses the 602 invoices of the contracts it replaced too
# 14: a pay-over books a line per fee with its customer, and forgotten batches leave weeks
# late (planted `fee_paid_over_late`, decision 0034)
# 13: a clean world books by its end what happened by then; 12: a room change to a
# cheaper unit refunds the difference (换房退差); 11: a loan line due by the end and disbursed after it is
# `unpaid_at_end` (a clean world's bank pays it by its due date); 10: fees collected for others (契税, 维修基金,
# 登记费) received and paid over (0028)
# 9: a clean world pays what fell due by its end; a wrong unit planted only in a memo naming one
# 8: wrong_customer names the contract booked to; 7: a deposit without its slip planted, no
# 602 invoice within 14 days before the full one, no receipt of a disbursement the account never got, no voucher
# of the next month for money of a month's last day

# rates of planted irregularities and clerk errors (per receipt unless said otherwise)
WRONG_CUSTOMER_RATE = 0.008
WRONG_UNIT_RATE = 0.01
DUPLICATE_RATE = 0.007
VOID_REBOOK_RATE = 0.015
RED_REVERSAL_RATE = 0.007
CUTOFF_RATE = 0.35  # of loan disbursements on the last two days of a month
NOT_CONVERTED_RATE = 0.10  # of 诚意金
REFUND_NOT_BOOKED_RATE = 0.08  # of refunds
NOT_INVOICED_RATE = 0.08  # of receipts that take a 602 invoice
FULL_INVOICE_COVERS_DAYS = 14  # a receipt this close before the full invoice (handover) takes no 602 invoice
SLIP_MISSING_RATE = 0.05  # of 定金 receipts: no receipt slip (收据) issued (诚意金 is refundable: always one)
EXTRA_INVOICE_RATE = 0.003
NOT_REVERSED_RATE = 0.03  # of handovers: a 602 invoice left unreversed
WRONG_FINAL_RATE = 0.02  # of final invoices: issued for what was received, not the final price
FEE_AS_PROCEEDS_RATE = 0.03  # of fees collected for others: booked as sale proceeds (预收房款), not other payables
BATCH_RATE = 0.5  # of loan disbursements that share a transfer with others of the same bank and day

SCHEMA = """
create table meta(key text primary key, value text not null);
create table vouchers(
    voucher_id integer primary key, year integer not null, period integer not null, number integer not null,
    date text not null, created_at text not null, audited_at text, voided_at text,
    reverses_id integer, source_form text, source_bill_no text);
create table entries(
    entry_id integer primary key, voucher_id integer not null, seq integer not null, memo text not null,
    account_no text not null, debit_fen integer not null, credit_fen integer not null,
    customer_code text, customer_name text, phase_code text, phase_name text);
create table receipts(
    bill_id integer primary key, bill_no text not null unique, date text not null,
    customer_code text, customer_name text, payer text, settle_type text, purpose text,
    account_no text not null, amount_fen integer not null, remark text, phase_code text, phase_name text,
    created_at text not null, audited_at text, voided_at text);
create table refunds(
    bill_id integer primary key, bill_no text not null unique, date text not null,
    customer_code text, customer_name text, payee text, account_no text not null,
    amount_fen integer not null, remark text, phase_code text, phase_name text,
    created_at text not null, audited_at text, voided_at text);
create table invoices(
    invoice_id integer primary key, bill_no text not null unique, invoice_type text not null,
    invoice_no text not null, date text not null, customer_code text, customer_name text,
    tax_code text, tax_rate_bp integer not null, amount_fen integer not null, tax_fen integer not null,
    is_red integer not null, blue_invoice_no text, source_bill_no text, remark text,
    phase_code text, phase_name text, created_at text not null, audited_at text, voided_at text,
    contract_no text);
create table accounts(number text primary key, name text not null, full_name text not null, bank_account_no text);
create table truth(kind text not null, contract_no text, house_id text, on_date text not null, detail text not null);
create table memo_truth(
    memo_id text primary key, text text not null, style text not null, written text not null,
    houses text not null, kinds text not null, project_code text);
create table links(form text not null, ref text not null, contract_no text not null, house_id text not null,
    kind text not null, primary key (form, ref, contract_no));
create table events(
    seq integer primary key, day text not null, batch text not null, at text not null,
    contract_no text not null, payload text not null);
create table fee_events(day text not null, batch text not null, at text not null, contract_no text not null,
    payload text not null);
"""

INDEXES = """
create index entries_voucher on entries(voucher_id, entry_id);
create index vouchers_created on vouchers(created_at);
create index vouchers_audited on vouchers(audited_at);
create index vouchers_voided on vouchers(voided_at);
create index receipts_created on receipts(created_at);
create index receipts_audited on receipts(audited_at);
create index receipts_voided on receipts(voided_at);
create index refunds_created on refunds(created_at);
create index refunds_audited on refunds(audited_at);
create index refunds_voided on refunds(voided_at);
create index invoices_created on invoices(created_at);
create index invoices_audited on invoices(audited_at);
create index invoices_voided on invoices(voided_at);
create index truth_kind on truth(kind);
"""


class ContractSource(Protocol):
    """Where the ledger reads contracts: the world store, or a list of documents in tests."""

    def iter_docs(self) -> Iterator[dict]: ...

    def get(self, contract_no: str) -> dict | None: ...

    def successor(self, contract_no: str) -> str | None: ...

    def end(self) -> datetime: ...


class DocList:
    """A `ContractSource` over documents in memory (tests, small examples)."""

    def __init__(self, docs: Iterable[dict], end: datetime, *, clean: bool = False) -> None:
        self.clean = clean
        self._docs = {doc["contract_no"]: doc for doc in docs}
        self._successors = {
            doc["previous_contract_no"]: doc["contract_no"]
            for doc in self._docs.values()
            if doc.get("previous_contract_no")
        }
        self._end = end

    def iter_docs(self) -> Iterator[dict]:
        yield from sorted(self._docs.values(), key=lambda d: (d["history"][0]["at"], d["contract_no"]))

    def get(self, contract_no: str) -> dict | None:
        return self._docs.get(contract_no)

    def successor(self, contract_no: str) -> str | None:
        return self._successors.get(contract_no)

    def end(self) -> datetime:
        return self._end


class WorldContracts:
    """A `ContractSource` over a world store file (`sandbox.world`): read-only, streamed."""

    def __init__(self, world_path: str | Path) -> None:
        path = Path(world_path)
        if not path.is_file():
            raise FileNotFoundError(f"world store {path} does not exist: generate the world first")
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self._db.execute("attach database ':memory:' as scratch")
        self._db.execute("create table scratch.successors(previous_no text primary key, contract_no text)")
        rows = (
            (doc["previous_contract_no"], doc["contract_no"])
            for doc in map(json.loads, (r[0] for r in self._db.execute("select doc from contracts")))
            if doc.get("previous_contract_no")
        )
        self._db.executemany("insert or replace into scratch.successors values (?, ?)", rows)
        meta = dict(self._db.execute("select key, value from meta").fetchall())
        self._meta = meta
        self.clean = meta.get("clean") == "1"

    def iter_docs(self) -> Iterator[dict]:
        cursor = self._db.execute("select doc from contracts order by first_at, contract_no")
        for (doc,) in cursor:
            yield json.loads(doc)

    def get(self, contract_no: str) -> dict | None:
        row = self._db.execute("select doc from contracts where contract_no = ?", (contract_no,)).fetchone()
        return json.loads(row[0]) if row else None

    def successor(self, contract_no: str) -> str | None:
        row = self._db.execute("select contract_no from successors where previous_no = ?", (contract_no,)).fetchone()
        return row[0] if row else None

    def end(self) -> datetime:
        if self._meta.get("end_on"):
            return datetime.combine(date.fromisoformat(self._meta["end_on"]), datetime.max.time()).replace(
                microsecond=0
            )
        (last,) = self._db.execute("select max(first_at) from contracts").fetchone()
        return bj(last) or datetime(2026, 12, 31, 23, 59, 59)  # type: ignore[return-value]

    def close(self) -> None:
        self._db.close()


# -- pass 1: contracts → events ---------------------------------------------------------------------


def _text(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


def _is_clean(source: ContractSource) -> bool:
    """A world generated with `--clean`: plant nothing (`DocList(clean=True)` in tests)."""
    return bool(getattr(source, "clean", False))


def _customer(source: ContractSource, doc: dict) -> tuple[str, str]:
    """(code, name) of the ERP customer a contract is booked to: one per buyer, kept across the
    subscription, the main contract and room changes; a rename (增减权益人) opens a new one."""
    root = doc
    for _ in range(10):
        previous = root.get("previous_contract_no")
        if previous:
            before = source.get(previous)
            reason = ((before or {}).get("cancellation") or {}).get("reason_code")
            if before is None or reason == "增减权益人":
                break
            root = before
            continue
        if root.get("subscription_no"):
            root = source.get(root["subscription_no"]) or root
        break
    return "KH" + root["contract_no"][2:], primary_name(doc)


def _house(doc: dict) -> dict:
    house = doc["house"]
    return {
        "house_id": house["house_id"],
        "building": house["building"],
        "unit": house["unit"],
        "room": house["room"],
        "project_code": doc["project"]["code"],
        "project_name": doc["project"]["name"],
    }


def _predecessors(source: ContractSource, doc: dict) -> list[str]:
    """The contracts a contract replaced (room changes, renames), nearest first: their money is carried
    into it."""
    out: list[str] = []
    previous = doc.get("previous_contract_no")
    while previous and previous not in out and len(out) < 10:
        out.append(previous)
        before = source.get(previous)
        previous = (before or {}).get("previous_contract_no")
    return out


def _received(source: ContractSource, doc: dict, seed: int, end: datetime, depth: int = 0) -> int:
    """What a contract had received when it ended, including what it carried from the one it replaced."""
    carried = 0
    previous = doc.get("previous_contract_no")
    if previous and depth < 10:
        before = source.get(previous)
        if before is not None:
            carried = _received(source, before, seed, end, depth + 1)
    return cash_flows(doc, seed=seed, end=end, carried_fen=carried, clean=_is_clean(source)).received_fen


def _events_of(source: ContractSource, doc: dict, seed: int, end: datetime) -> Iterator[tuple[datetime, str, dict]]:
    """(moment, batch key, payload) of every event of one contract."""
    no = doc["contract_no"]
    carried = 0
    if doc.get("previous_contract_no"):
        before = source.get(doc["previous_contract_no"])
        if before is not None:
            carried = _received(source, before, seed, end)
    successor_no = source.successor(no)
    successor = None
    cancellation = doc.get("cancellation") or {}
    if successor_no:
        successor = (successor_no, cancellation.get("reason_code") or "")
    cash = cash_flows(doc, seed=seed, end=end, carried_fen=carried, successor=successor, clean=_is_clean(source))
    code, name = _customer(source, doc)
    base = {"contract_no": no, "house": _house(doc), "customer": [code, name], "type": doc["contract_type"]}
    first_deposit = None
    supervised = supervised_account(house_permit(doc["house"]))
    settle_at = _settle_at(doc, seed)
    if settle_at is not None:
        base["settle_at"] = _text(settle_at)  # no 602 invoice from then on: the full invoice covers the price
    for flow in cash.flows:
        payload = {**base, **_flow_payload(flow)}
        if flow.account_no:
            account = supervised if flow.account_no == supervised.account_no else general_account(supervised.bank)
            payload["account"] = _account_payload(account)
        if flow.kind == TRANSFER and flow.other_contract_no:
            other = source.get(flow.other_contract_no)
            if other is None:
                continue
            payload["to"] = {
                "contract_no": other["contract_no"],
                "house": _house(other),
                "customer": list(_customer(source, other)),
            }
        batch = f"loan/{flow.bank}/{flow.account_no}" if flow.kind in LOAN_KINDS else ""
        if flow.kind == DEPOSIT and first_deposit is None:
            first_deposit = flow
        yield flow.at, batch, payload
    sincerity = next((f for f in cash.flows if f.kind == SINCERITY), None)
    if sincerity is not None and first_deposit is not None:
        yield first_deposit.at + timedelta(minutes=5), "", {**base, "kind": "convert", "amount": sincerity.amount_fen}
    yield from _fee_events(doc, base, seed, end, clean=_is_clean(source))
    settle_at = _settle_at(doc, seed)
    if settle_at is not None and cash.received_fen > 0:
        handover = doc["handover"]
        if settle_at <= end:
            price = fen(doc["price"]["total_price"]) + fen(handover.get("area_diff_amount") or "0")
            carried = _predecessors(source, doc)  # their 602 invoices are of money this contract holds
            yield settle_at, "", {**base, "kind": "settle", "amount": cash.received_fen, "final_price": price,
                                  "carried_from": carried}  # fmt: skip


FEE, PAYOVER = "fee", "fee_payover"


def _fee_events(
    doc: dict, base: dict, seed: int, end: datetime, *, clean: bool
) -> Iterator[tuple[datetime, str, dict]]:
    """Each fee collected for others (a receipt to 其他应付款) and its share of the weekly pay-over, batched
    by kind, account and day as the banks' statements show it (`sandbox.ledger.fees`)."""
    for flow in fee_flows(doc, seed=seed, end=end, clean=clean):
        account = _account_payload(general_account(flow.bank))
        payload = {**base, "kind": FEE, "fee": flow.kind, "amount": flow.amount_fen, "payer": flow.payer}
        late = {"due_on": flow.due_on.isoformat(), "paid_over_on": flow.paid_over_on.isoformat()} if flow.late else {}
        wrong = (
            {}
            if flow.schedule_fen is None
            else {"schedule_fen": flow.schedule_fen, "handover_on": str(flow.handover_on)}
        )
        yield flow.at, "", {**payload, "account": account, **late, **wrong}
        batch = payover_of(flow, seed)
        if batch.at <= end:
            yield batch.at, batch.batch, {**payload, "kind": PAYOVER, "account": account}


def _settle_at(doc: dict, seed: int) -> datetime | None:
    """When finance settles a handed-over contract (revenue, full invoice): 0–20 days after handover."""
    handover = doc.get("handover")
    if not handover or doc.get("cancellation"):
        return None
    handed = bj(handover.get("at")) or datetime.fromisoformat(handover["handed_over_on"] + "T10:00:00")
    rng = random.Random(f"{seed}/ledger/settle/{doc['contract_no']}")
    return at_office_hours(rng, next_workday(handed.date() + timedelta(days=rng.randint(0, 20))), 9, 17)


def _account_payload(account: CollectionAccount) -> dict:
    return {
        "account_no": account.account_no,
        "bank": account.bank,
        "kind": account.kind,
        "permit_no": account.permit_no,
        "ledger_code": account.ledger_code,
        "ledger_name": account.ledger_name,
    }


def _bank_account(event: dict) -> chart.BankAccount:
    """The 银行存款 sub-account of the collection account the money of `event` went through."""
    return chart.bank_account(CollectionAccount(**event["account"]))


def _flow_payload(flow: CashFlow) -> dict:
    return {
        "kind": flow.kind,
        "amount": flow.amount_fen,
        "payer": flow.payer,
        "bank": flow.bank,
        "part": flow.part,
        "parts": flow.parts,
        "reason": flow.reason,
        "plan_seq": flow.plan_seq,
        "held": flow.held_fen,
        "guarantee": flow.guarantee,
    }


# -- pass 2: events → books -------------------------------------------------------------------------


@dataclass(slots=True)
class _Counters:
    voucher: int = 0
    entry: int = 0
    receipt: int = 0
    refund: int = 0
    invoice: int = 0
    invoice_no: int = 0


class _Books:
    """Writes the ledger store: numbering, buffered inserts, the memo and link truth."""

    BUFFER = 5000

    def __init__(self, db: sqlite3.Connection, seed: int) -> None:
        self.db = db
        self.seed = seed
        self.n = _Counters()
        self.numbers: dict[tuple[int, int], int] = {}
        self.buffers: dict[str, list[tuple]] = {}
        self.last_customer: dict[str, tuple[str, str]] = {}
        self.last_contract: dict[str, str] = {}  # the contract of the project's last receipt (its customer's)
        self.settled: set[str] = set()  # contracts handed over (their revenue and full invoice booked)
        self.counts: dict[str, int] = {}

    # -- rows ------------------------------------------------------------------------------------

    def _put(self, table: str, row: tuple) -> None:
        buffer = self.buffers.setdefault(table, [])
        buffer.append(row)
        if len(buffer) >= self.BUFFER:
            self.flush(table)

    def flush(self, table: str | None = None) -> None:
        for name in [table] if table else list(self.buffers):
            rows = self.buffers.get(name) or []
            if rows:
                marks = ",".join("?" * len(rows[0]))
                self.db.executemany(f"insert into {name} values ({marks})", rows)
                rows.clear()

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    def voucher(
        self,
        on: date,
        created: datetime,
        entries: list[tuple],
        *,
        audited: datetime | None = None,
        voided: datetime | None = None,
        reverses: int | None = None,
        source: tuple[str, str] | None = None,
        rng: random.Random | None = None,
    ) -> tuple[int, list[int]]:
        """Write a voucher and its entries `(memo, account, debit_fen, credit_fen, customer, phase)`."""
        self.n.voucher += 1
        key = (on.year, on.month)
        self.numbers[key] = self.numbers.get(key, 0) + 1
        rng = rng or random.Random(self.n.voucher)
        audited = audited or created + timedelta(hours=rng.randint(2, 60))
        self._put(
            "vouchers",
            (
                self.n.voucher,
                on.year,
                on.month,
                self.numbers[key],
                on.isoformat(),
                _text(created),
                _text(audited),
                _text(voided) if voided else None,
                reverses,
                source[0] if source else None,
                source[1] if source else None,
            ),
        )
        ids = []
        for seq, (memo, account, debit, credit, customer, phase) in enumerate(entries, start=1):
            self.n.entry += 1
            ids.append(self.n.entry)
            self._put(
                "entries",
                (
                    self.n.entry,
                    self.n.voucher,
                    seq,
                    memo,
                    account,
                    debit,
                    credit,
                    *(customer or (None, None)),
                    *(phase or (None, None)),
                ),
            )
        self.count("voucher_lines", len(entries))
        return self.n.voucher, ids

    def receipt(
        self,
        on: date,
        created: datetime,
        customer: tuple[str, str],
        phase: tuple[str, str],
        payer: str,
        settle: str,
        purpose: str,
        account: str,
        amount: int,
        remark: str,
        *,
        audited: datetime,
        voided: datetime | None = None,
    ) -> str:
        self.n.receipt += 1
        bill_no = f"SKD{self.n.receipt:08d}"
        self._put(
            "receipts",
            (
                self.n.receipt,
                bill_no,
                on.isoformat(),
                *customer,
                payer,
                settle,
                purpose,
                account,
                amount,
                remark,
                *phase,
                _text(created),
                _text(audited),
                _text(voided) if voided else None,
            ),
        )
        return bill_no

    def refund(
        self,
        on: date,
        created: datetime,
        customer: tuple[str, str],
        phase: tuple[str, str],
        payee: str,
        account: str,
        amount: int,
        remark: str,
        *,
        audited: datetime,
    ) -> str:
        self.n.refund += 1
        bill_no = f"SKTKD{self.n.refund:08d}"
        self._put(
            "refunds",
            (
                self.n.refund,
                bill_no,
                on.isoformat(),
                *customer,
                payee,
                account,
                amount,
                remark,
                *phase,
                _text(created),
                _text(audited),
                None,
            ),
        )
        return bill_no

    def invoice(
        self,
        kind: str,
        on: date,
        created: datetime,
        customer: tuple[str, str],
        phase: tuple[str, str],
        amount: int,
        remark: str,
        contract_no: str,
        *,
        source_bill: str | None,
        red_of: str | None = None,
        voided: datetime | None = None,
    ) -> str:
        self.n.invoice += 1
        self.n.invoice_no += 1
        if kind == chart.RECEIPT_SLIP:
            number, tax_code, rate = f"SJ{on.year}{self.n.invoice_no:08d}", None, 0
        elif kind == chart.PRESALE_INVOICE:
            number, tax_code, rate = f"{on.year % 100:02d}442{self.n.invoice_no:015d}", chart.PRESALE_TAX_CODE, 0
        else:
            number, tax_code, rate = (
                f"{on.year % 100:02d}442{self.n.invoice_no:015d}",
                chart.FINAL_TAX_CODE,
                chart.FINAL_TAX_RATE_BP,
            )
        tax = output_vat(amount, rate) if rate else 0
        audited = created + timedelta(hours=1)
        self._put(
            "invoices",
            (
                self.n.invoice,
                f"XSFP{self.n.invoice:08d}",
                kind,
                number,
                on.isoformat(),
                *customer,
                tax_code,
                rate,
                amount,
                tax,
                1 if red_of else 0,
                red_of,
                source_bill,
                remark,
                *phase,
                _text(created),
                _text(audited),
                _text(voided) if voided else None,
                contract_no,
            ),
        )
        self.count("invoices")
        return number

    def memo(self, memo_id: str, memo: Memo, houses: list[str], project: str) -> None:
        self._put(
            "memo_truth",
            (
                memo_id,
                memo.text,
                memo.style,
                json.dumps(memo.written, ensure_ascii=False),
                json.dumps(houses),
                json.dumps(memo.kinds, ensure_ascii=False),
                project,
            ),
        )

    def link(self, form: str, ref: str, contract_no: str, house_id: str, kind: str) -> None:
        self._put("links", (form, ref, contract_no, house_id, kind))

    def truth(self, kind: str, event: dict, on: date, **detail: Any) -> None:
        self._put(
            "truth",
            (
                kind,
                event["contract_no"],
                event["house"]["house_id"],
                on.isoformat(),
                json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
            ),
        )
        self.count(f"truth:{kind}")


def _address(house: dict) -> Address:
    return Address.from_house(house)


def _phase(house: dict) -> tuple[str, str]:
    return house["project_code"], house["project_name"]


def _booking_time(rng: random.Random, moment: datetime) -> datetime:
    """When the clerk books a payment that arrived at `moment`: later that day, or the next workday."""
    if rng.random() < 0.8 and moment.hour < 17:
        return moment + timedelta(minutes=rng.randint(10, 240))
    return at_office_hours(rng, next_workday(moment.date() + timedelta(days=1)), 9, 17)


_SETTLE = {
    MORTGAGE: "按揭放款",
    FUND: "公积金放款",
    DEPOSIT: "网银转账",
    SINCERITY: "POS刷卡",
}


class _Booker:
    """Books the events of pass 2."""

    def __init__(self, books: _Books, seed: int, clean: bool = False, end: datetime | None = None) -> None:
        self.plant = 0.0 if clean else 1.0  # rates of planted irregularities are multiplied by it
        self.books = books
        self.seed = seed
        self.end = end

    def booked_at(self, rng: random.Random, moment: datetime) -> datetime:
        """When the clerk books what happened at `moment` (`_booking_time`). In a clean world nothing that
        happened by the world's end waits for a day after it: the books stand complete on its last day."""
        booked = _booking_time(rng, moment)
        if self.plant == 0 and self.end is not None and moment <= self.end < booked:
            return min(moment + timedelta(minutes=10), self.end)
        return booked

    def rng(self, event: dict, seq: int, purpose: str = "book") -> random.Random:
        return random.Random(f"{self.seed}/ledger/{purpose}/{event['contract_no']}/{seq}")

    # -- receipts ------------------------------------------------------------------------------

    def receipts(self, group: list[tuple[int, datetime, dict]]) -> None:
        """One receipt per event; loan disbursements of one bank and day may share one bank line."""
        loans = [item for item in group if item[2]["kind"] in LOAN_KINDS]
        others = [item for item in group if item[2]["kind"] not in LOAN_KINDS]
        for item in others:
            self.receipt([item])
        while loans:
            rng = self.rng(loans[0][2], loans[0][0], "batch")
            size = 1 if rng.random() >= BATCH_RATE else rng.randint(2, 3)
            self.receipt(loans[:size])
            loans = loans[size:]

    def receipt(self, items: list[tuple[int, datetime, dict]]) -> None:
        books = self.books
        seq, moment, event = items[0]
        rng = self.rng(event, seq)
        kind = event["kind"]
        house = event["house"]
        project = house["project_code"]
        phase = _phase(house)
        account = _bank_account(event)
        credit_account = chart.SINCERITY if kind == SINCERITY else chart.advance_account(self.seed, project)
        booked = self.booked_at(rng, moment)
        voucher_day = moment.date()
        if (
            kind in LOAN_KINDS
            and (moment.date() + timedelta(days=2)).month != moment.month
            and rng.random() < CUTOFF_RATE * self.plant
        ):
            voucher_day = next_workday(moment.date() + timedelta(days=2 + rng.randint(0, 2)))
            booked = at_office_hours(rng, voucher_day, 9, 17)
            for _, _, late in items:
                books.truth(
                    "late_booking",
                    late,
                    voucher_day,
                    paid_on=moment.date(),
                    booked_on=voucher_day,
                    amount_fen=late["amount"],
                )
        elif booked.date() > voucher_day and booked.month == voucher_day.month and rng.random() < 0.5:
            voucher_day = booked.date()  # booked the next morning: dated then, but never in the next month
        audited = booked + timedelta(hours=rng.randint(1, 48))
        draw = rng.random()
        error = None
        if len(items) == 1:
            draw = draw if self.plant else 1.0  # a clean world: no clerk error
            if draw < DUPLICATE_RATE:
                error = "duplicate"
            elif draw < DUPLICATE_RATE + VOID_REBOOK_RATE:
                error = "void"
            elif draw < DUPLICATE_RATE + VOID_REBOOK_RATE + RED_REVERSAL_RATE:
                error = "red"
        # customer on the credit lines: the buyer's, or (planted) the previous customer of the project
        lines = []
        for item_seq, _, item in items:
            item_rng = self.rng(item, item_seq, "customer")
            customer = tuple(item["customer"])
            previous = books.last_customer.get(project)
            previous_contract = books.last_contract.get(project)
            books.last_customer[project] = customer  # type: ignore[assignment]
            books.last_contract[project] = item["contract_no"]
            if (
                previous
                and previous != customer
                and item_rng.random() < WRONG_CUSTOMER_RATE * self.plant
                and error != "red"
            ):
                books.truth(
                    "wrong_customer",
                    item,
                    voucher_day,
                    booked_to=previous[0],
                    booked_to_contract_no=previous_contract,
                    customer=customer[0],
                    amount_fen=item["amount"],
                )
                customer = previous
            memo, houses = self._memo(item_rng, item, voucher_day)
            lines.append((item_seq, item, customer, memo, houses))
        total = sum(item["amount"] for _, _, item in items)
        if len(items) > 1:
            addresses = [_address(item["house"]) for _, _, item in items]
            bank_memo = write_memo(
                rng,
                addresses,
                (kind,),
                buyer=event["customer"][1],
                bank=event["bank"],
                amount_fen=total,
                on=voucher_day.isoformat(),
            )
            bank_houses = [item["house"]["house_id"] for _, _, item in items]
            books.count("batched_loans", len(items))
        else:
            bank_memo, bank_houses = lines[0][3], lines[0][4]

        def book(
            amount_of: Callable[[dict], int],
            created: datetime,
            audit: datetime,
            voided: datetime | None,
            customer_of: Callable[[tuple], tuple] = lambda line: line[2],
        ) -> tuple[list[str], int, list[int]]:
            bills = []
            for _item_seq, item, customer, memo, _houses in lines:
                bill = books.receipt(
                    voucher_day,
                    created,
                    customer,
                    phase,
                    item["payer"] or customer[1],
                    _SETTLE.get(item["kind"], rng.choice(("网银转账", "电汇", "网银转账", "POS刷卡"))),
                    "诚意金" if item["kind"] == SINCERITY else "预收房款",
                    account.account.number,
                    amount_of(item),
                    memo.text,
                    audited=audit,
                    voided=voided,
                )
                bills.append(bill)
            entries = [(bank_memo.text, account.account.number, sum(amount_of(i) for _, i, *_ in lines), 0, None, None)]
            for item_seq, item, customer, memo, _houses in lines:
                entries.append(
                    (
                        memo.text,
                        credit_account.number,
                        0,
                        amount_of(item),
                        customer_of((item_seq, item, customer)),
                        phase,
                    )
                )
            voucher_id, entry_ids = books.voucher(
                voucher_day, created, entries, audited=audit, voided=voided, source=(chart.RECEIPT, bills[0]), rng=rng
            )
            return bills, voucher_id, entry_ids

        exact: Callable[[dict], int] = lambda item: item["amount"]  # noqa: E731
        if error == "void":
            wrong = _mistyped(rng, event["amount"])
            voided_at = audited + timedelta(hours=rng.randint(2, 72))
            bad_bills, _, bad_entries = book(lambda item: wrong, booked, audited, voided_at)
            self._record(lines, bad_bills, bad_entries, bank_memo, bank_houses)
            rebooked = voided_at + timedelta(minutes=rng.randint(5, 120))
            bills, voucher_id, entry_ids = book(exact, rebooked, rebooked + timedelta(hours=2), None)
            books.truth(
                "voided_rebooked",
                event,
                voucher_day,
                voided_bill_no=bad_bills[0],
                bill_no=bills[0],
                voided_at=voided_at,
                wrong_amount_fen=wrong,
            )
            books.count("voided_receipts")
            if rng.random() < 0.3:  # the invoice went out on the voided bill and was never reversed
                number = self._invoice(rng, event, bad_bills[0], voided_at, wrong, lines[0][3].text, voucher_day)
                if number:
                    books.truth("invoice_without_receipt", event, voucher_day, invoice_no=number, bill_no=bad_bills[0])
        elif error == "red":
            previous = books.last_customer.get(f"red/{project}") or ("KH000000", "待查客户")
            bad_bills_customer = lambda line: previous  # noqa: E731
            bills, voucher_id, entry_ids = book(exact, booked, audited, None, bad_bills_customer)
            number = books.numbers[(voucher_day.year, voucher_day.month)]
            self._record(lines, bills, entry_ids, bank_memo, bank_houses)
            self._red_reversal(
                rng,
                event,
                voucher_id,
                number,
                voucher_day,
                lines,
                bank_memo,
                account,
                credit_account,
                phase,
                previous,
                bills[0],
            )
            self._invoice(rng, event, bills[0], audited, event["amount"], lines[0][3].text, voucher_day)
            return
        else:
            bills, voucher_id, entry_ids = book(exact, booked, audited, None)
        self._record(lines, bills, entry_ids, bank_memo, bank_houses)
        books.last_customer[f"red/{project}"] = tuple(event["customer"])  # type: ignore[assignment]
        for (_item_seq, item, _customer, memo, _houses), bill in zip(lines, bills, strict=True):
            self._invoice(self.rng(item, seq, "invoice"), item, bill, audited, item["amount"], memo.text, voucher_day)
        if error == "duplicate":
            again = booked + timedelta(days=rng.randint(0, 2), minutes=rng.randint(5, 300))
            voided = again + timedelta(days=rng.randint(3, 20)) if rng.random() < 0.5 else None
            dup_bills, _, dup_entries = book(exact, again, again + timedelta(hours=3), voided)
            self._record(lines, dup_bills, dup_entries, bank_memo, bank_houses)
            books.truth(
                "duplicate_receipt", event, voucher_day, bill_no=dup_bills[0], duplicate_of=bills[0], voided_at=voided
            )

    def _memo(self, rng: random.Random, event: dict, on: date) -> tuple[Memo, list[str]]:
        address = _address(event["house"])
        houses = [event["house"]["house_id"]]
        right = address
        if rng.random() < WRONG_UNIT_RATE * self.plant:
            address = address.neighbour(rng)
        kind = event["kind"]
        kinds = () if kind == DEPOSIT and rng.random() < 0.1 else (kind,)
        memo = write_memo(
            rng,
            [address],
            kinds,
            buyer=event["customer"][1],
            payer=event["payer"] if kind not in LOAN_KINDS else None,
            bank=event["bank"] if kind in LOAN_KINDS else None,
            amount_fen=event["amount"],
            on=on.isoformat(),
            part=event.get("part", 1),
            parts=event.get("parts", 1),
            named_rate=0.45 if kind == SINCERITY else 0.93,
        )
        if address is not right and memo.written:  # planted only where the memo shows a unit at all
            self.books.truth("wrong_unit_memo", event, on, written_room=address.room, room=right.room)
        return memo, houses

    def _record(
        self, lines: list, bills: list[str], entry_ids: list[int], bank_memo: Memo, bank_houses: list[str]
    ) -> None:
        books = self.books
        project = lines[0][1]["house"]["project_code"]
        books.memo(f"{chart.VOUCHER}/{entry_ids[0]}", bank_memo, bank_houses, project)
        for (_seq, item, _customer, memo, houses), bill, entry_id in zip(lines, bills, entry_ids[1:], strict=True):
            books.memo(f"{chart.RECEIPT}/{bill}", memo, houses, project)
            books.memo(f"{chart.VOUCHER}/{entry_id}", memo, houses, project)
            books.link(chart.RECEIPT, bill, item["contract_no"], item["house"]["house_id"], item["kind"])
            books.link(chart.VOUCHER, str(entry_id), item["contract_no"], item["house"]["house_id"], item["kind"])
            books.count("receipts")

    def _red_reversal(
        self,
        rng,
        event,
        voucher_id,
        number,
        voucher_day,
        lines,
        bank_memo,
        account,
        credit_account,
        phase,
        wrong_customer,
        bill,
    ) -> None:  # noqa: ANN001 - private
        books = self.books
        red_day = next_workday(
            date(voucher_day.year + voucher_day.month // 12, voucher_day.month % 12 + 1, 1)
            + timedelta(days=rng.randint(0, 6))
        )
        red_at = at_office_hours(rng, red_day, 9, 17)
        note = f"冲销{voucher_day.year}年{voucher_day.month}期记-{number:04d}号凭证"
        amount = event["amount"]
        red_id, _ = books.voucher(
            red_day,
            red_at,
            [
                (note, account.account.number, -amount, 0, None, None),
                (note, credit_account.number, 0, -amount, wrong_customer, phase),
            ],
            reverses=voucher_id,
            rng=rng,
        )
        again_at = red_at + timedelta(minutes=rng.randint(5, 90))
        memo = lines[0][3]
        _, entry_ids = books.voucher(
            red_day,
            again_at,
            [
                (bank_memo.text, account.account.number, amount, 0, None, None),
                (memo.text, credit_account.number, 0, amount, tuple(event["customer"]), phase),
            ],
            source=(chart.RECEIPT, bill),
            rng=rng,
        )
        books.memo(f"{chart.VOUCHER}/{entry_ids[0]}", bank_memo, [event["house"]["house_id"]], phase[0])
        books.memo(f"{chart.VOUCHER}/{entry_ids[1]}", memo, [event["house"]["house_id"]], phase[0])
        books.link(chart.VOUCHER, str(entry_ids[1]), event["contract_no"], event["house"]["house_id"], event["kind"])
        books.truth(
            "red_reversed",
            event,
            red_day,
            voucher_id=voucher_id,
            red_voucher_id=red_id,
            booked_to=wrong_customer[0],
            customer=event["customer"][0],
        )
        books.count("red_reversals")

    def _invoice(
        self, rng: random.Random, event: dict, bill: str, after: datetime, amount: int, memo: str, day: date
    ) -> str | None:
        books = self.books
        kind = event["kind"]
        house = event["house"]
        customer = tuple(event["customer"])
        remark = f"{house['project_name']}{house['building']}{house['unit']}{house['room']}"
        if kind in (SINCERITY, DEPOSIT):
            if rng.random() >= SLIP_MISSING_RATE * self.plant or kind == SINCERITY:
                return books.invoice(
                    chart.RECEIPT_SLIP,
                    after.date(),
                    after,
                    customer,
                    _phase(house),
                    amount,
                    remark + " " + kind,
                    event["contract_no"],
                    source_bill=bill,
                )
            books.truth("not_invoiced", event, after.date(), bill_no=bill, amount_fen=amount)  # no slip issued
            return None
        if event["contract_no"] in books.settled:
            return None  # after handover the full invoice covers the whole price: no 602 invoice any more
        settled_on = date.fromisoformat(event["settle_at"][:10]) if event.get("settle_at") else None
        if settled_on is not None and (settled_on - day).days <= FULL_INVOICE_COVERS_DAYS:
            return None  # the full invoice follows within the days an invoice takes: it covers this receipt
        if rng.random() < NOT_INVOICED_RATE * self.plant:
            books.truth("not_invoiced", event, after.date(), bill_no=bill, amount_fen=amount)
            return None
        at = at_office_hours(rng, next_workday(after.date() + timedelta(days=rng.randint(0, 10))), 9, 17)
        if settled_on is not None and _text(at) >= event["settle_at"]:
            # it would come after the handover's full invoice, which is too late for this receipt: issued the
            # workday before the handover instead
            before = settled_on - timedelta(days=1)
            while before.weekday() >= 5:
                before -= timedelta(days=1)
            at = datetime.combine(before, time(10, 0))
        number = books.invoice(
            chart.PRESALE_INVOICE,
            at.date(),
            at,
            customer,
            _phase(house),
            amount,
            remark,
            event["contract_no"],
            source_bill=bill,
        )
        if rng.random() < EXTRA_INVOICE_RATE * self.plant:
            again = at + timedelta(days=rng.randint(1, 5))
            extra = books.invoice(
                chart.PRESALE_INVOICE,
                again.date(),
                again,
                customer,
                _phase(house),
                amount,
                remark,
                event["contract_no"],
                source_bill=None,
            )
            books.truth("invoice_without_receipt", event, again.date(), invoice_no=extra, duplicate_of=number)
        return number

    # -- fees collected for others --------------------------------------------------------------

    def fee(self, seq: int, moment: datetime, event: dict) -> None:
        """A fee collected for others: a receipt bill whose purpose names it and a voucher 借 银行存款 (the
        general account) / 贷 其他应付款-代收… (2241.04–06, with the customer); no invoice or slip of the
        developer (the tax bureau and the fund centre give the buyer their own). Planted (in the truth): a
        fee booked as sale proceeds (`fee_booked_as_proceeds`)."""
        books = self.books
        rng = self.rng(event, seq, "fee")
        house = event["house"]
        phase = _phase(house)
        customer = tuple(event["customer"])
        kind = event["fee"]
        account = _bank_account(event)
        memo = write_memo(
            rng, [_address(house)], (kind,), buyer=customer[1], amount_fen=event["amount"], on=moment.date().isoformat()
        )
        booked = self.booked_at(rng, moment)
        audited = booked + timedelta(hours=rng.randint(1, 24))
        # planted: booked as sale proceeds (purpose 预收房款, credit 预收账款 / 合同负债), the memo still naming the fee
        as_proceeds = rng.random() < FEE_AS_PROCEEDS_RATE * self.plant
        credit = chart.advance_account(self.seed, house["project_code"]) if as_proceeds else chart.FEE_PAYABLES[kind]
        bill = books.receipt(
            moment.date(),
            booked,
            customer,
            phase,
            event["payer"],
            rng.choice(("POS刷卡", "网银转账", "POS刷卡")),
            "预收房款" if as_proceeds else f"代收{kind}",
            account.account.number,
            event["amount"],
            memo.text,
            audited=audited,
        )
        if as_proceeds:
            books.truth(
                "fee_booked_as_proceeds", event, moment.date(), bill_no=bill, fee=kind, amount_fen=event["amount"]
            )
        if "schedule_fen" in event:  # planted: the cashier charged the fund on the sold area, not the as-built one
            books.truth(
                "fee_amount_wrong",
                event,
                date.fromisoformat(str(event["handover_on"])),
                bill_no=bill,
                fee=kind,
                amount_fen=event["amount"],
                schedule_fen=event["schedule_fen"],
            )
        if "due_on" in event:  # planted: its week's batch was forgotten and leaves after the city's term
            due_on = date.fromisoformat(event["due_on"])
            books.truth(
                "fee_paid_over_late",
                event,
                due_on + timedelta(days=1),
                bill_no=bill,
                fee=kind,
                amount_fen=event["amount"],
                due_on=event["due_on"],
                paid_over_on=event["paid_over_on"],
            )
        _, ids = books.voucher(
            moment.date(),
            booked,
            [
                (memo.text, account.account.number, event["amount"], 0, None, None),
                (memo.text, credit.number, 0, event["amount"], customer, phase),
            ],
            audited=audited,
            source=(chart.RECEIPT, bill),
            rng=rng,
        )
        project, house_id = house["project_code"], house["house_id"]
        books.memo(f"{chart.RECEIPT}/{bill}", memo, [house_id], project)
        for entry_id in ids:
            books.memo(f"{chart.VOUCHER}/{entry_id}", memo, [house_id], project)
        books.link(chart.RECEIPT, bill, event["contract_no"], house_id, kind)
        books.link(chart.VOUCHER, str(ids[1]), event["contract_no"], house_id, kind)
        books.count("fee_receipts")

    def payover(self, group: list[tuple[int, datetime, dict]]) -> None:
        """One week's fees of one kind paid over from one general account: 借 其他应付款-代收… a line per fee
        with its customer (the fund centre credits each household's account, 分户账, and the tax bureau each
        taxpayer: 165号令 art. 10) / 贷 银行存款 for the batch, the amount the bank's statement shows leaving."""
        books = self.books
        _, moment, event = group[0]
        kind = event["fee"]
        account = _bank_account(event)
        total = sum(item["amount"] for _, _, item in group)
        rng = random.Random(f"{self.seed}/ledger/payover/{event['account']['account_no']}/{_text(moment)}/{kind}")
        week = f"{moment.month}月{(moment.day - 1) // 7 + 1}周"
        text = rng.choice(_PAYOVER_MEMOS[kind]).format(week=week, count=len(group))
        payable = chart.FEE_PAYABLES[kind].number
        _, ids = books.voucher(
            moment.date(),
            self.booked_at(rng, moment),
            [
                *(
                    (text, payable, item["amount"], 0, tuple(item["customer"]), _phase(item["house"]))
                    for _, _, item in group
                ),
                (text, account.account.number, 0, total, None, None),
            ],
            rng=rng,
        )
        for entry_id in ids:
            books.memo(f"{chart.VOUCHER}/{entry_id}", Memo(text, "no-unit", (), (kind,)), [], None)  # type: ignore[arg-type]
        books.count("fee_payovers")

    # -- other events --------------------------------------------------------------------------

    def refund(self, seq: int, moment: datetime, event: dict) -> None:
        books = self.books
        rng = self.rng(event, seq)
        house = event["house"]
        phase = _phase(house)
        if event.get("reason") != TRUE_UP and rng.random() < REFUND_NOT_BOOKED_RATE * self.plant:
            books.truth(
                "refund_not_booked", event, moment.date(), amount_fen=event["amount"], refunded_on=moment.date()
            )
            return
        account = _bank_account(event)
        address = _address(house)
        customer = tuple(event["customer"])
        what = (
            "退{units}面积补差款"
            if event.get("reason") == TRUE_UP
            else rng.choice(("退{units}换房差价 {buyer}", "{units}换房差额退款", "退{buyer}{units}换房差价款"))
            if event.get("reason") == ROOM_CHANGE_DIFFERENCE
            else rng.choice(
                ("退{units}房款 {buyer}", "退{units}{buyer}购房款", "{units} {buyer} 退房退款", "退{buyer}{units}定金")
            )
        )
        if event["type"] == "认购":
            what = rng.choice(("退{units}定金 {buyer}", "{units}退认购定金", "退{buyer}定金{units}"))
        memo = write_memo(rng, [address], ("退款",), buyer=customer[1], template=what)
        memo = Memo(memo.text, memo.style, memo.written, ("退款",))
        booked = self.booked_at(rng, moment)
        audited = booked + timedelta(hours=rng.randint(1, 24))
        bill = books.refund(
            moment.date(),
            booked,
            customer,
            phase,
            event["payer"],
            account.account.number,
            event["amount"],
            memo.text,
            audited=audited,
        )
        credit = chart.advance_account(self.seed, house["project_code"])
        _, entry_ids = books.voucher(
            moment.date(),
            booked,
            [
                (memo.text, credit.number, event["amount"], 0, customer, phase),
                (memo.text, account.account.number, 0, event["amount"], None, None),
            ],
            audited=audited,
            source=(chart.REFUND, bill),
            rng=rng,
        )
        for entry_id in entry_ids:
            books.memo(f"{chart.VOUCHER}/{entry_id}", memo, [house["house_id"]], house["project_code"])
        books.memo(f"{chart.REFUND}/{bill}", memo, [house["house_id"]], house["project_code"])
        books.link(chart.REFUND, bill, event["contract_no"], house["house_id"], REFUND)
        books.count("refunds")
        fee = REFUND_FEE_FEN  # the bank charges it to the general account of the paying bank
        fee_account = chart.bank_account(general_account(event["account"]["bank"]))
        fee_memo = rng.choice(("手续费", f"转账手续费 {memo.text}", "网银汇款手续费"))
        _, fee_ids = books.voucher(
            moment.date(),
            booked + timedelta(minutes=3),
            [
                (fee_memo, chart.BANK_FEES.number, fee, 0, None, None),
                (fee_memo, fee_account.account.number, 0, fee, None, None),
            ],
            rng=rng,
        )
        fee_truth = memo if fee_memo != "手续费" and fee_memo != "网银汇款手续费" else Memo(fee_memo, "no-unit", (), ())
        for entry_id in fee_ids:
            books.memo(
                f"{chart.VOUCHER}/{entry_id}",
                Memo(fee_memo, fee_truth.style, fee_truth.written, fee_truth.kinds),
                [house["house_id"]] if fee_truth.written else [],
                house["project_code"],
            )

    def forfeit(self, seq: int, moment: datetime, event: dict) -> None:
        books = self.books
        rng = self.rng(event, seq)
        house = event["house"]
        phase = _phase(house)
        customer = tuple(event["customer"])
        memo = write_memo(
            rng,
            [_address(house)],
            ("定金",),
            buyer=customer[1],
            template=rng.choice(("{units}违约{kind}转营业外收入", "{buyer}{units}{kind}没收")),
        )
        credit = chart.advance_account(self.seed, house["project_code"])
        _, ids = books.voucher(
            moment.date(),
            self.booked_at(rng, moment),
            [
                (memo.text, credit.number, event["amount"], 0, customer, phase),
                (memo.text, chart.OTHER_INCOME.number, 0, event["amount"], None, None),
            ],
            rng=rng,
        )
        for entry_id in ids:
            books.memo(f"{chart.VOUCHER}/{entry_id}", memo, [house["house_id"]], house["project_code"])
        books.truth("deposit_forfeited", event, moment.date(), amount_fen=event["amount"])

    def transfer(self, seq: int, moment: datetime, event: dict) -> None:
        books = self.books
        rng = self.rng(event, seq)
        house, target = event["house"], event["to"]["house"]
        customer, new_customer = tuple(event["customer"]), tuple(event["to"]["customer"])
        if house["house_id"] != target["house_id"]:  # 换房: the money moves to the new unit
            addresses = [_address(house), _address(target)]
            template = rng.choice(("{units}房款转入", "{buyer}换房 {units}", "{units} 换房转款 {buyer}"))
            memo = write_memo(rng, addresses, (), buyer=customer[1], template=template)
            houses = [house["house_id"], target["house_id"]]
        else:  # 更名: the money moves to the new customer
            template = rng.choice(("{units} 更名转款 {buyer}", "{units}更名{buyer}转" + new_customer[1]))
            memo = write_memo(rng, [_address(house)], (), buyer=customer[1], template=template)
            houses = [house["house_id"]]
        memo = Memo(memo.text, memo.style, memo.written, ())
        credit = chart.advance_account(self.seed, house["project_code"])
        target_credit = chart.advance_account(self.seed, target["project_code"])
        _, ids = books.voucher(
            moment.date(),
            self.booked_at(rng, moment),
            [
                (memo.text, credit.number, event["amount"], 0, customer, _phase(house)),
                (memo.text, target_credit.number, 0, event["amount"], new_customer, _phase(target)),
            ],
            rng=rng,
        )
        for entry_id in ids:
            books.memo(f"{chart.VOUCHER}/{entry_id}", memo, houses, house["project_code"])
        books.link(chart.VOUCHER, str(ids[0]), event["contract_no"], house["house_id"], TRANSFER)
        books.link(chart.VOUCHER, str(ids[1]), event["to"]["contract_no"], target["house_id"], TRANSFER)
        books.count("transfers")

    def convert(self, seq: int, moment: datetime, event: dict) -> None:
        books = self.books
        rng = self.rng(event, seq)
        house = event["house"]
        if rng.random() < NOT_CONVERTED_RATE * self.plant:
            books.truth("deposit_not_converted", event, moment.date(), amount_fen=event["amount"])
            return
        customer = tuple(event["customer"])
        memo = write_memo(
            rng,
            [_address(house)],
            ("定金",),
            buyer=customer[1],
            template=rng.choice(("诚意金转定金 {units} {buyer}", "{buyer}{units}诚意金转定金")),
        )
        memo = Memo(memo.text, memo.style, memo.written, ("定金",))
        credit = chart.advance_account(self.seed, house["project_code"])
        _, ids = books.voucher(
            moment.date(),
            self.booked_at(rng, moment),
            [
                (memo.text, chart.SINCERITY.number, event["amount"], 0, customer, _phase(house)),
                (memo.text, credit.number, 0, event["amount"], customer, _phase(house)),
            ],
            rng=rng,
        )
        for entry_id in ids:
            books.memo(f"{chart.VOUCHER}/{entry_id}", memo, [house["house_id"]], house["project_code"])

    def settle(self, seq: int, moment: datetime, event: dict) -> None:
        """At handover: the advance receipts become revenue, with the output VAT (销项税额) of the sale;
        every pre-sale 602 invoice still standing, also those of the contracts it replaced (a room change
        carries their money), is red-reversed and one full invoice issued (tax classification code
        of 销售不动产, 501…, 9%) for the whole final price, area true-up included. After it no 602
        invoice is issued for this contract. Planted (in the truth): a 602 invoice left unreversed, a
        full invoice for what was received instead of the final price."""
        books = self.books
        rng = self.rng(event, seq)
        house = event["house"]
        customer = tuple(event["customer"])
        phase = _phase(house)
        memo = write_memo(
            rng,
            [_address(house)],
            (),
            buyer=customer[1],
            template=rng.choice(("{units} 交房结转收入", "结转{buyer}{units}房款收入")),
        )
        credit = chart.advance_account(self.seed, house["project_code"])
        amount = event["amount"]
        tax = output_vat(amount)
        _, ids = books.voucher(
            moment.date(),
            moment,
            [
                (memo.text, credit.number, amount, 0, customer, phase),
                (memo.text, chart.REVENUE.number, 0, amount - tax, None, None),
                (memo.text, chart.OUTPUT_VAT.number, 0, tax, None, None),
            ],
            rng=rng,
        )
        for entry_id in ids:
            books.memo(f"{chart.VOUCHER}/{entry_id}", memo, [house["house_id"]], house["project_code"])
        books.settled.add(event["contract_no"])
        books.flush("invoices")
        contracts = [event["contract_no"], *event.get("carried_from", ())]  # and those whose money it carries
        marks = ",".join("?" * len(contracts))
        blues = books.db.execute(  # (contract_no, invoice_type) is indexed; a red names the contract settled
            f"select b.invoice_no, b.amount_fen, b.source_bill_no from invoices b where b.contract_no in ({marks})"
            " and b.invoice_type = ? and b.is_red = 0 and b.voided_at is null and not exists (select 1 from invoices"
            f" r where r.contract_no in ({marks}) and r.invoice_type = ? and r.is_red = 1"
            " and r.blue_invoice_no = b.invoice_no) order by b.invoice_id",
            (*contracts, chart.PRESALE_INVOICE, *contracts, chart.PRESALE_INVOICE),
        ).fetchall()
        remark = f"{house['project_name']}{house['building']}{house['unit']}{house['room']}"
        at = moment + timedelta(hours=1)
        for number, blue_amount, bill in blues:
            if rng.random() < NOT_REVERSED_RATE * self.plant:
                books.truth("presale_invoice_not_reversed", event, at.date(), invoice_no=number, amount_fen=blue_amount)
                continue
            books.invoice(
                chart.PRESALE_INVOICE,
                at.date(),
                at,
                customer,
                phase,
                -blue_amount,
                remark,
                event["contract_no"],
                source_bill=bill,
                red_of=number,
            )
        final = event.get("final_price") or amount
        if rng.random() < WRONG_FINAL_RATE * self.plant and final != amount:
            books.truth("final_invoice_wrong_amount", event, at.date(), amount_fen=amount, final_price_fen=final)
            final = amount
        books.invoice(
            chart.FINAL_INVOICE,
            at.date(),
            at + timedelta(minutes=30),
            customer,
            phase,
            final,
            remark,
            event["contract_no"],
            source_bill=None,
        )
        books.count("settlements")

    def bank_line(self, seq: int, moment: datetime, event: dict) -> None:
        """What the bank did on its own and the statement shows: a release (拨付) from a supervised account
        to the general account, quarterly interest, the monthly account fee. The clerk books each."""
        books = self.books
        rng = random.Random(f"{self.seed}/ledger/bank/{event['account']['account_no']}/{seq}")
        account = chart.bank_account(CollectionAccount(**event["account"]))
        amount = event["amount"]
        line = event["line"]
        if line == "release":
            general = chart.bank_account(general_account(event["account"]["bank"]))
            text = event["memo"]
            entries = [
                (text, general.account.number, amount, 0, None, None),
                (text, account.account.number, 0, amount, None, None),
            ]
        elif line == "interest":
            text = rng.choice(("活期存款利息", f"{moment.month}月结息", "银行存款利息收入"))
            entries = [
                (text, account.account.number, amount, 0, None, None),
                (text, chart.INTEREST_INCOME.number, 0, amount, None, None),
            ]
        else:
            text = rng.choice((f"{account.bank}账户管理费", "网银服务费", f"{moment.month}月银行手续费"))
            entries = [
                (text, chart.BANK_FEES.number, amount, 0, None, None),
                (text, account.account.number, 0, amount, None, None),
            ]
        booked = at_office_hours(rng, next_workday(moment.date() + timedelta(days=1 if moment.hour >= 17 else 0)))
        _, ids = books.voucher(moment.date(), booked, entries, rng=rng)
        for entry_id in ids:
            books.memo(f"{chart.VOUCHER}/{entry_id}", Memo(text, "no-unit", (), ()), [], None)  # type: ignore[arg-type]
        books.count(f"bank_{line}s")


_PAYOVER_MEMOS = {
    "契税": ("代缴契税 {week} {count}户", "缴纳代收契税{week}", "{week}代收契税上缴税务局"),
    "维修基金": ("缴存维修基金 {week} {count}户", "代收维修基金转维修资金中心{week}", "{week}专项维修资金缴存"),
    "登记费": ("代缴登记费 {week} {count}件", "{week}不动产登记费缴纳", "缴登记费{week}"),
}


def output_vat(amount_fen: int, rate_bp: int = chart.FINAL_TAX_RATE_BP) -> int:
    """The VAT inside a tax-inclusive amount (价税合计): amount × rate / (1 + rate), to the fen."""
    return (amount_fen * rate_bp * 2 + 10_000 + rate_bp) // (2 * (10_000 + rate_bp))


def _mistyped(rng: random.Random, amount: int) -> int:
    """An amount as a hurried clerk types it: two digits swapped, or a zero too many or too few."""
    text = str(amount // 100)
    if len(text) >= 3 and rng.random() < 0.6:
        i = rng.randrange(len(text) - 1)
        swapped = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        if swapped != text and not swapped.startswith("0"):
            return int(swapped) * 100 + amount % 100
    return amount * 10 if rng.random() < 0.5 else max(amount // 10, 100)


# -- the whole build --------------------------------------------------------------------------------


def build_ledger(
    source: ContractSource, out_path: str | Path, *, seed: int, bank_world: str | Path | None = None
) -> dict[str, int]:
    """Write the ledger store of `source`'s world to `out_path` (replaced); return counts of what it holds.

    `bank_world`: the banks' face of the same world (`sandbox.banks.world`); the clerk books what its
    statements show besides the buyers' money: releases, interest, account fees."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    temp = out.with_name(out.name + ".part")
    temp.unlink(missing_ok=True)
    db = sqlite3.connect(temp)
    try:
        db.execute("pragma journal_mode=off")
        db.execute("pragma synchronous=off")
        db.executescript(SCHEMA)
        db.execute("create index invoices_contract on invoices(contract_no, invoice_type)")  # settlements read it
        banks = {b.account.number: b.account_no for b in chart.BANK_ACCOUNTS}
        db.executemany(
            "insert into accounts values (?, ?, ?, ?)",
            [(a.number, a.name, a.full_name, banks.get(a.number)) for a in chart.ACCOUNTS.values()],
        )
        seen: dict[str, CollectionAccount] = {}
        end = source.end()
        first: date | None = None
        contracts = 0
        # fees collected for others get their event numbers after every other event: a booking's RNG is seeded
        # by its event's number, so adding them leaves the rest of the books (and what is planted there) as is
        rows: dict[str, list[tuple]] = {"events": [], "fee_events": []}
        insert = "insert into {}(day, batch, at, contract_no, payload) values (?,?,?,?,?)"
        for doc in source.iter_docs():
            contracts += 1
            for moment, batch, payload in _events_of(source, doc, seed, end):
                first = min(first, moment.date()) if first else moment.date()
                if "account" in payload:
                    seen.setdefault(payload["account"]["account_no"], CollectionAccount(**payload["account"]))
                table = "fee_events" if payload["kind"] in (FEE, PAYOVER) else "events"
                rows[table].append(
                    (
                        moment.date().isoformat(),
                        batch,
                        _text(moment),
                        doc["contract_no"],
                        json.dumps(payload, ensure_ascii=False),
                    )
                )
            for table, pending in rows.items():
                if len(pending) >= 5000:
                    db.executemany(insert.format(table), pending)
                    pending.clear()
        for table, pending in rows.items():
            db.executemany(insert.format(table), pending)
        if bank_world is not None:
            _bank_events(db, Path(bank_world), seen)
            _drop_unreceived(db, Path(bank_world))
        db.execute("insert into events(day, batch, at, contract_no, payload) select * from fee_events order by rowid")
        db.execute("drop table fee_events")
        general = {a.account.number for a in chart.BANK_ACCOUNTS}
        db.executemany(
            "insert into accounts values (?, ?, ?, ?)",
            [
                (a.ledger_code, a.ledger_name, f"银行存款_{a.ledger_name}", a.account_no)
                for a in sorted(seen.values(), key=lambda a: a.ledger_code)
                if a.ledger_code not in general
            ],
        )
        db.execute("create index events_order on events(day, batch, at, contract_no, seq)")
        books = _Books(db, seed)
        booker = _Booker(books, seed, _is_clean(source), end)
        _book_events(db, booker, first, end.date())
        books.flush()
        db.execute("drop table events")
        db.executescript(INDEXES)
        counts = dict(sorted(books.counts.items()))
        counts["contracts"] = contracts
        meta = {
            "version": str(LEDGER_VERSION),
            "seed": str(seed),
            "end": _text(end),
            "first_on": first.isoformat() if first else "",
            "counts": json.dumps(counts),
        }
        db.executemany("insert into meta values (?, ?)", meta.items())
        db.commit()
    finally:
        db.close()
    temp.replace(out)
    log.info("ledger store %s: %s", out, counts)
    return counts


_BANK_LINES = {"release": "release", "interest": "interest", "fee": "fee"}


def _drop_unreceived(db: sqlite3.Connection, bank_world: Path) -> None:
    """A disbursement the bank shows but the developer's account never got (the banks' planted
    `disbursement_not_received`) is not on the statement, nor is its deposit's release, so the clerk,
    who books what the statements show, books no receipt for them."""
    bank = sqlite3.connect(f"file:{bank_world}?mode=ro", uri=True)
    try:
        missing = []
        for contract_no, disbursed, held in bank.execute(
            "select json_extract(doc, '$.contract_no'), json_extract(doc, '$.disbursed_fen'),"
            " coalesce(json_extract(doc, '$.guarantee_fen'), 0) from loans"
            " where json_extract(doc, '$.received') = 0 and json_extract(doc, '$.disbursed_fen') is not null"
        ):
            missing.append((contract_no, disbursed - held))
            if held:
                missing.append((contract_no, held))  # nor the deposit's release
    finally:
        bank.close()
    kinds = ", ".join(f"'{kind}'" for kind in LOAN_KINDS)
    db.executemany(
        "delete from events where contract_no = ? and json_extract(payload, '$.amount') = ?"
        f" and json_extract(payload, '$.kind') in ({kinds})",
        missing,
    )


def _bank_events(db: sqlite3.Connection, bank_world: Path, seen: dict[str, CollectionAccount]) -> None:
    """Events for the lines the banks booked on their own: releases, interest, account fees (refund fees
    are booked with their refunds)."""
    bank = sqlite3.connect(f"file:{bank_world}?mode=ro", uri=True)
    try:
        chart_rows = bank.execute("select account_no, bank, kind, permit_no from accounts").fetchall()
        by_number = {
            number: supervised_account(permit) if kind == "supervised" else general_account(code)
            for number, code, kind, permit in chart_rows
        }
        lines = bank.execute(
            "select account_no, booked_at, kind, amount_fen, memo from statement_lines"
            " where kind in ('release', 'interest') or (kind = 'fee' and contract_no is null)"
            " order by account_no, seq"
        ).fetchall()
    finally:
        bank.close()
    rows = []
    for number, booked_at, kind, amount, memo in lines:
        account = by_number[number]
        seen.setdefault(number, account)
        payload = {"kind": "bank_line", "line": _BANK_LINES[kind], "account": _account_payload(account)}
        payload |= {"amount": amount, "memo": memo, "contract_no": ""}
        rows.append((booked_at[:10], "", booked_at, "", json.dumps(payload, ensure_ascii=False)))
    db.executemany("insert into events(day, batch, at, contract_no, payload) values (?,?,?,?,?)", rows)


def _book_events(db: sqlite3.Connection, booker: _Booker, first: date | None, last: date) -> None:
    cursor = db.cursor()
    cursor.execute("select seq, day, batch, at, payload from events order by day, batch, at, contract_no, seq")
    group: list[tuple[int, datetime, dict]] = []
    group_key: tuple[str, str] | None = None

    def flush_group() -> None:
        if group:
            if group[0][2]["kind"] == PAYOVER:
                booker.payover(group)
            else:
                booker.receipts(group)
            group.clear()

    for seq, day, batch, at, payload in cursor:
        event = json.loads(payload)
        moment = datetime.fromisoformat(at)
        kind = event["kind"]
        key = (day, batch)
        if group and (not batch or key != group_key):
            flush_group()
        if kind in LOAN_KINDS or kind == PAYOVER:
            group.append((seq, moment, event))
            group_key = key
            continue
        if kind == FEE:
            booker.fee(seq, moment, event)
        elif kind == REFUND:
            booker.refund(seq, moment, event)
        elif kind == FORFEIT:
            booker.forfeit(seq, moment, event)
        elif kind == TRANSFER:
            booker.transfer(seq, moment, event)
        elif kind == "convert":
            booker.convert(seq, moment, event)
        elif kind == "settle":
            booker.settle(seq, moment, event)
        elif kind == "bank_line":
            booker.bank_line(seq, moment, event)
        else:
            booker.receipt([(seq, moment, event)])
    flush_group()


def ensure_ledger(
    world_path: str | Path,
    *,
    seed: int,
    cache_dir: str | Path | None = None,
    bank_world: str | Path | None = None,
) -> Path:
    """The ledger store of a world file, built once and cached beside it (or in `cache_dir`).

    `bank_world`: the banks' face of the same world (`sandbox.banks.world.ensure_bank_world`), whose
    releases, interest and account fees the clerk books; without it the ledger has only the buyers' money.
    """
    world = Path(world_path)
    folder = Path(cache_dir) if cache_dir else world.parent
    stat = world.stat()
    banks = ""
    if bank_world is not None:
        bank_stat = Path(bank_world).stat()
        banks = f"-b{bank_stat.st_size}-{int(bank_stat.st_mtime)}"
    out = folder / f"{world.stem}.ledger-s{seed}-v{LEDGER_VERSION}-{stat.st_size}-{int(stat.st_mtime)}{banks}.db"
    if not out.exists():
        source = WorldContracts(world)
        try:
            build_ledger(source, out, seed=seed, bank_world=bank_world)
        finally:
            source.close()
    return out
