"""The banks' face of the world: loans and collection-account statement lines, derived from the world store.

`build_bank_world(world_path, out_path)` streams the world's contracts (predecessors first, see
`money`), derives each contract's loans (`loans.contract_loans`, RNG seeded by (seed, contract_no))
and the statement lines of its cash flows, adds what else passes through the accounts — bank fees,
interest, transfers from other payers — and writes one SQLite file:

- `meta(key, value)`: seed, world digest of the source, start_on, end_on, version;
- `loans(bank, loan_no, contract_no, doc)`: `doc` is the loan's whole life as JSON;
- `loan_events(bank, loan_no, at, stage)`: `at` UTC text, for "as of the clock" listings;
- `statement_lines(account_no, seq, bank, booked_at, booked_on, direction, amount_fen, balance_fen,
  counterparty_name, counterparty_account, counterparty_bank, summary, memo, channel, kind,
  contract_no, loan_no)`: `booked_at` naive Beijing text, `seq` the order within the account;
- `corrections(account_no, booked_on, omitted_seq)`: days whose first statement file missed a line;
  a corrected file follows a day later;
- `accounts(account_no, bank, opening_fen, kind, permit_no, project_code, project_name, building,
  key_supervision_fen)`: the chart of collection accounts (`sandbox.world.collection`): one supervised
  account per permit, one general account per bank;
- `supervision(bank, record_no, record_type, account_no, counter_account_no, permit_no, contract_no,
  milestone, amount_fen, allowed_fen, required_fen, at)`: the bank's supervision records — refund
  approvals (`refund_approval`, before money leaves a supervised account) and releases (`release`, 拨付
  to the general account at a construction milestone, `sandbox.world.supervision`);
- `ground_truth(kind, bank, contract_no, loan_no, account_no, on_date, detail)`.

`ensure_bank_world(world_path)` reuses a file beside the world when it was built from the same world
and version; `BankWorld` reads one at a movable clock.
"""

from __future__ import annotations

import json
import logging
import os
import random
import sqlite3
import tempfile
import threading
import time as clock_time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from connectors.banks.records import CREDIT, DEBIT, STAGE_ORDER, STAGE_REJECTED, STAGE_WITHDRAWN
from sandbox.banks import accounts
from sandbox.banks.loans import LoanLife, Truth, contract_loans
from sandbox.banks.money import is_clean, iter_contract_money, open_world_db, read_meta, world_end
from sandbox.ledger.cash import LOAN_KINDS, REFUND, ROOM_CHANGE_DIFFERENCE, CashFlow, primary_name
from sandbox.ledger.fees import PAYEES, FeeFlow, PayoverTotals, fee_flows
from sandbox.ledger.memos import Address, write_memo
from sandbox.world.collection import (
    GENERAL,
    MONTHLY_FEE_FEN,
    REFUND_FEE_FEN,
    SUPERVISED,
    CollectionAccount,
    general_account,
    house_permit,
    supervised_account,
)
from sandbox.world.supervision import Permit, read_permits, releases

log = logging.getLogger(__name__)

BANK_WORLD_VERSION = "14"  # 14: a room change's loan is applied for, approved and paid out at what the replaced
# contract's money left of its line, and a line it paid in full is no loan (decision 0044); 13: a split payment due by
# the end is one transfer in a clean world (decision 0038; 12 was a withdrawn try, not reused); 11: a fund charged on
# the sold area (decision 0036); 10: forgotten fee batches leave weeks late (decision 0034); 9: a room change's refund
# of the difference; 8: a clean world's loan due by the end is disbursed by its due date; 7: fees collected for others
# into the general accounts and their weekly pay-overs; 4: guarantee deposits, linked combined loans, supervised
# accounts per permit; 5: a guarantee's release is an update of its loan (listed by `updated_since`), with its time; 6:
# lines due by the world's end and paid after it are in the truth (`unpaid_at_end`), a clean world pays them by the end
RELEASE_EVENT = "guarantee_released"  # in `loan_events` only: the stage history stays the bank's stages
BEIJING = timedelta(hours=8)
BATCH = 500
OTHER_PAYER_RATE = 0.04
CORRECTION_RATE = 0.03
UNAPPROVED_REFUND_RATE = 0.05  # refunds out of a supervised account without the bank's approval
FEE_FEN = REFUND_FEE_FEN
PUBLISH_AT = time(6, 0)  # a day's statement file is published at 06:00 the next morning
BUYER_KINDS = ("诚意金", "定金", "首付", "分期", "一次性", "补差")
OTHER_PAYERS = (
    ("深圳市安居物业管理有限公司", "代收代付水电费"),
    ("深圳市鹏程建筑工程有限公司", "投标保证金退回"),
    ("深圳市华润装饰设计工程有限公司", "往来款"),
    ("深圳市南山区住房和建设局", "保障房补贴资金"),
    ("陈志强", "转账"),
    ("刘秀英", "误转款"),
    ("深圳市前海链家房地产经纪有限公司", "佣金退回"),
)

SCHEMA = (
    "create table meta (key text primary key, value text)",
    "create table loans (bank text, loan_no text, contract_no text, doc text, primary key (bank, loan_no))",
    "create table loan_events (bank text, loan_no text, at text, stage text)",
    """create table lines_raw (account_no text, bank text, booked_at text, tiebreak text, direction text,
        amount_fen integer, counterparty_name text, counterparty_account text, counterparty_bank text,
        summary text, memo text, channel text, kind text, contract_no text, loan_no text)""",
    """create table ground_truth (kind text, bank text, contract_no text, loan_no text, account_no text,
        on_date text, detail text)""",
    """create table supervision (bank text, record_no text primary key, record_type text, account_no text,
        counter_account_no text, permit_no text, contract_no text, milestone text, amount_fen integer,
        allowed_fen integer, required_fen integer, at text)""",
)
INDEXES = (
    "create index loan_events_at on loan_events (bank, at, loan_no)",
    "create index loan_events_loan on loan_events (bank, loan_no, at)",
    "create index loans_contract on loans (contract_no)",
    "create index statement_lines_day on statement_lines (account_no, booked_on, seq)",
    "create index ground_truth_kind on ground_truth (kind, on_date)",
)


def _utc_text(moment: datetime) -> str:
    return (moment - BEIJING).isoformat() + "+00:00"


def _bj_iso(moment: datetime) -> str:
    return moment.isoformat() + "+08:00"


def _yuan(amount_fen: int) -> str:
    sign = "-" if amount_fen < 0 else ""
    whole, part = divmod(abs(amount_fen), 100)
    return f"{sign}{whole}.{part:02d}"


# -- building -------------------------------------------------------------------------------------------


def loan_document(loan: LoanLife) -> dict[str, Any]:
    borrower = loan.borrower
    return {
        "bank": loan.bank,
        "loan_no": loan.loan_no,
        "contract_no": loan.contract_no,
        "shows_contract_no": loan.shows_contract_no,
        "plan_seq": loan.plan_seq,
        "loan_type": loan.loan_type,
        "branch": loan.branch,
        "borrower_name": borrower["name"],
        "borrower_id_type": borrower["id_type"],
        "borrower_id_number": borrower["id_number"],
        "house_id": loan.house["house_id"],
        "property_address": loan.property_address,
        "project_name": loan.project_name,
        "applied_fen": loan.applied_fen,
        "approved_fen": loan.approved_fen,
        "disbursed_fen": loan.disbursed_fen,
        "received": loan.received,
        "guarantee_fen": loan.guarantee_fen,
        "guarantee_released_at": _bj_iso(loan.guarantee_released_at) if loan.guarantee_released_at else None,
        "linked_loan_no": loan.linked_loan_no,
        "events": [{"stage": stage, "at": _bj_iso(at)} for stage, at in sorted(loan.events, key=lambda e: e[1])],
    }


class _Builder:
    def __init__(
        self, db: sqlite3.Connection, seed: int, end: datetime, permits: dict[str, Permit], clean: bool = False
    ) -> None:
        self.db = db
        self.seed = seed
        self.end = end
        self.clean = clean
        self.permits = permits
        self.accounts: dict[str, CollectionAccount] = {a.account_no: a for a in map(general_account, accounts.ACCOUNTS)}
        self.loans: list[tuple] = []
        self.events: list[tuple] = []
        self.lines: list[tuple] = []
        self.truth: list[tuple] = []
        self.supervision: list[tuple] = []
        self.payovers = PayoverTotals()  # the fees collected, summed for the weekly pay-overs at the end
        self.counts = {"contracts": 0, "loans": 0, "lines": 0}

    def account_of(self, doc: dict, flow: CashFlow) -> CollectionAccount:
        """The collection account a flow went through (`CashFlow.account_no`, from the shared chart)."""
        supervised = supervised_account(house_permit(doc["house"]))
        self.accounts.setdefault(supervised.account_no, supervised)
        return self.accounts[flow.account_no or supervised.account_no]

    def planted(self, doc: dict, cash_planted: list[tuple[str, date, dict]]) -> None:
        supervised = supervised_account(house_permit(doc["house"]))
        for kind, on_date, detail in cash_planted:
            self.truth.append(
                (
                    kind,
                    supervised.bank,
                    doc["contract_no"],
                    None,
                    detail.get("account_no", supervised.account_no),
                    on_date.isoformat(),
                    json.dumps({**detail, "house_id": doc["house"]["house_id"]}, ensure_ascii=False, sort_keys=True),
                )
            )

    def contract(
        self,
        doc: dict,
        flows: list[CashFlow],
        loan_refused: bool,
        planted: list[tuple[str, date, dict]] = (),
        covered: dict[int, int] | None = None,
    ) -> None:
        loans, truths = contract_loans(
            doc, flows, seed=self.seed, loan_refused=loan_refused, world_end=self.end, clean=self.clean, covered=covered
        )
        for loan in loans:
            self.loans.append(
                (loan.bank, loan.loan_no, loan.contract_no, json.dumps(loan_document(loan), ensure_ascii=False))
            )
            self.events += [(loan.bank, loan.loan_no, _utc_text(at), stage) for stage, at in loan.events]
            if loan.guarantee_released_at is not None:  # the release changes the loan's record: listed as updated
                self.events.append((loan.bank, loan.loan_no, _utc_text(loan.guarantee_released_at), RELEASE_EVENT))
        for truth in truths:
            self._truth(truth)
        self.planted(doc, planted)
        by_seq = {loan.plan_seq: loan for loan in loans}
        rng = random.Random(f"{self.seed}/banks/lines/{doc['contract_no']}")
        for index, flow in enumerate(flows):
            if flow.at <= self.end:
                self._flow(doc, flow, index, rng, by_seq)
        fee_rng = random.Random(f"{self.seed}/banks/fees/{doc['contract_no']}")
        for index, fee in enumerate(fee_flows(doc, seed=self.seed, end=self.end, clean=self.clean)):
            self._fee(doc, fee, index, fee_rng)
        self.counts["contracts"] += 1
        self.counts["loans"] += len(loans)
        if len(self.lines) >= BATCH * 4 or len(self.loans) >= BATCH:
            self.flush()

    def _truth(self, truth: Truth) -> None:
        self.truth.append(
            (
                truth.kind,
                truth.bank,
                truth.contract_no,
                truth.loan_no,
                None,
                truth.on_date.isoformat(),
                json.dumps(truth.detail, ensure_ascii=False, sort_keys=True),
            )
        )

    def _flow(self, doc: dict, flow: CashFlow, index: int, rng: random.Random, loans: dict[int, LoanLife]) -> None:
        number = doc["contract_no"]
        tiebreak = f"{number}:{index:03d}"
        booked = flow.at.isoformat()
        collection = self.account_of(doc, flow)
        bank, account = collection.bank, collection.account_no
        if flow.kind in BUYER_KINDS:
            card, payer_bank = accounts.payer_account(flow.payer, number)
            memo = write_memo(
                rng,
                [Address.from_house(doc["house"])],
                (flow.kind,),
                buyer=primary_name(doc),
                payer=flow.payer,
                amount_fen=flow.amount_fen,
                on=flow.at.date().isoformat(),
                part=flow.part,
                parts=flow.parts,
            ).text
            summary = rng.choice(("转账", "网银转账", "跨行汇入", "汇入"))
            self._line(
                account,
                bank,
                booked,
                tiebreak,
                CREDIT,
                flow.amount_fen,
                flow.payer,
                card,
                payer_bank,
                summary,
                memo,
                "网上银行",
                "buyer_payment",
                number,
                None,
            )
        elif flow.kind in LOAN_KINDS:
            loan = loans.get(flow.plan_seq or -1)
            if loan is None or not loan.received or loan.disbursed_at is None:
                return  # never received, or refused by the bank (the world's `loan_refused`)
            name, lender_account = accounts.LENDER_ACCOUNTS[loan.bank]
            shown = f" {number}" if loan.shows_contract_no else ""
            if flow.guarantee:
                summary, memo = "保证金释放", f"按揭保证金释放 {loan.borrower['name']}{shown} {loan.loan_no}"
            elif loan.bank == "hpf":
                summary, memo = "公积金贷款发放", f"公积金贷款发放 {loan.borrower['name']}{shown} {loan.loan_no}"
            else:
                summary, memo = "贷款发放", f"个人住房贷款放款 {loan.borrower['name']}{shown} {loan.loan_no}"
            self._line(
                account,
                bank,
                booked,
                tiebreak,
                CREDIT,
                flow.amount_fen,
                name,
                lender_account,
                accounts.bank_name(loan.bank),
                summary,
                memo,
                "批量代发",
                "guarantee_release" if flow.guarantee else "loan_disbursement",
                number,
                loan.loan_no,
            )
        elif flow.kind == REFUND:
            self._approval(doc, flow, collection, rng)
            card, payer_bank = accounts.payer_account(flow.payer, number)
            house = doc["house"]
            what = {"补差": "面积补差退款", ROOM_CHANGE_DIFFERENCE: "换房差价退款"}.get(flow.reason or "", "退房款")
            memo = f"{doc['project']['name']}{house['building']}{house['room']} {what}"
            self._line(
                account,
                bank,
                booked,
                tiebreak,
                DEBIT,
                flow.amount_fen,
                flow.payer,
                card,
                payer_bank,
                "转账支出",
                memo,
                "网上银行",
                "refund",
                number,
                None,
            )
            fee_at = (flow.at + timedelta(minutes=1)).isoformat()
            fee_account = general_account(bank).account_no  # fees are not paid out of supervised money
            self._line(
                fee_account,
                bank,
                fee_at,
                tiebreak + "f",
                DEBIT,
                FEE_FEN,
                None,
                None,
                None,
                "手续费",
                "汇划手续费",
                "网上银行",
                "fee",
                number,
                None,
            )

    def _fee(self, doc: dict, fee: FeeFlow, index: int, rng: random.Random) -> None:
        """A fee collected for others, paid by the buyer into the general account (`sandbox.ledger.fees`)."""
        self.payovers.add(fee)
        number = doc["contract_no"]
        card, payer_bank = accounts.payer_account(fee.payer, number)
        memo = write_memo(
            rng,
            [Address.from_house(doc["house"])],
            (fee.kind,),
            buyer=primary_name(doc),
            amount_fen=fee.amount_fen,
            on=fee.at.date().isoformat(),
        ).text
        summary, channel = rng.choice((("POS消费", "POS"), ("转账", "网上银行"), ("POS", "POS"), ("汇入", "网上银行")))
        self._line(
            fee.account_no, fee.bank, fee.at.isoformat(), f"{number}:fee{index}", CREDIT, fee.amount_fen, fee.payer,
            card, payer_bank, summary, memo, channel, "collected_fee", number, None,
        )  # fmt: skip

    def fee_payovers(self) -> None:
        """Each week's fees of one kind leave each general account in one transfer to the authority."""
        for batch in self.payovers.batches(seed=self.seed, end=self.end):
            name, account_no, bank_name = PAYEES[batch.kind]
            summary = {"契税": "代缴税款", "维修基金": "维修资金缴存", "登记费": "代缴规费"}[batch.kind]
            memo = f"{summary} {batch.kind} {batch.count}笔 {batch.on:%Y%m%d}"
            self._line(
                batch.account_no, batch.bank, batch.at.isoformat(), batch.batch, DEBIT, batch.amount_fen, name,
                account_no, bank_name, summary, memo, "网上银行", "fee_payover", None, None,
            )  # fmt: skip

    def _approval(self, doc: dict, flow: CashFlow, collection: CollectionAccount, rng: random.Random) -> None:
        """A refund out of a supervised account needs the bank's approval, given a day or two before."""
        if collection.kind != SUPERVISED:
            return
        number = doc["contract_no"]
        if not self.clean and rng.random() < UNAPPROVED_REFUND_RATE:
            detail = {"amount_fen": flow.amount_fen, "refunded_at": flow.at.isoformat(), "reason": flow.reason}
            self.truth.append(
                (
                    "refund_without_approval",
                    collection.bank,
                    number,
                    None,
                    collection.account_no,
                    flow.at.date().isoformat(),
                    json.dumps({**detail, "house_id": doc["house"]["house_id"]}, ensure_ascii=False, sort_keys=True),
                )
            )
            return
        approved = flow.at - timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 5))
        record = f"TKSP{collection.account_no[-7:]}{number[-6:]}{flow.at:%m%d%H%M}"
        self.supervision.append(
            (
                collection.bank,
                record,
                "refund_approval",
                collection.account_no,
                None,
                collection.permit_no,
                number,
                None,
                flow.amount_fen,
                flow.amount_fen,
                None,
                approved.replace(microsecond=0).isoformat(),
            )
        )

    def releases(self) -> None:
        """拨付 from each permit's supervised account at its construction milestones (after every
        other movement of the account is known)."""
        self.flush()
        for permit in self.permits.values():
            supervised = supervised_account(permit.permit_no)
            self.accounts.setdefault(supervised.account_no, supervised)
            rows = self.db.execute(
                "select booked_at, direction, amount_fen from lines_raw where account_no = ?", (supervised.account_no,)
            )
            flows = [(datetime.fromisoformat(at), amount if way == CREDIT else -amount) for at, way, amount in rows]
            general = general_account(supervised.bank)
            for release in releases(permit, flows, seed=self.seed, end=self.end, clean=self.clean):
                at = release.at.isoformat()
                memo = f"{permit.project_name}{permit.building} {release.milestone} 监管资金拨付 {release.release_no}"
                self._line(
                    supervised.account_no, supervised.bank, at, release.release_no, DEBIT, release.amount_fen,
                    accounts.DEVELOPER_NAME, general.account_no, accounts.bank_name(general.bank), "监管资金拨付",
                    memo, "柜面", "release", None, None,
                )  # fmt: skip
                self._line(
                    general.account_no, general.bank, at, release.release_no, CREDIT, release.amount_fen,
                    accounts.DEVELOPER_NAME, supervised.account_no, accounts.bank_name(general.bank), "监管资金拨付",
                    memo, "柜面", "release_in", None, None,
                )  # fmt: skip
                self.supervision.append(
                    (
                        supervised.bank, release.release_no, "release", supervised.account_no, general.account_no,
                        permit.permit_no, None, release.milestone, release.amount_fen, release.allowed_fen,
                        release.required_fen, at,
                    )
                )  # fmt: skip
                if release.over_fen:
                    detail = {
                        "release_no": release.release_no,
                        "milestone": release.milestone,
                        "amount_fen": release.amount_fen,
                        "allowed_fen": release.allowed_fen,
                        "over_fen": release.over_fen,
                        "permit_no": permit.permit_no,
                    }
                    self.truth.append(
                        (
                            "release_over_allowed", supervised.bank, None, None, supervised.account_no,
                            release.at.date().isoformat(), json.dumps(detail, ensure_ascii=False, sort_keys=True),
                        )
                    )  # fmt: skip
        self.flush()

    def _line(self, *values: Any) -> None:
        self.lines.append(values)

    def account_days(self, start_on: date, end_on: date) -> None:
        """Fees, interest and other payers, day by day and account by account."""
        day = start_on
        while day <= end_on:
            for bank, account in accounts.ACCOUNTS.items():
                rng = random.Random(f"{self.seed}/banks/day/{account}/{day.isoformat()}")
                if rng.random() < OTHER_PAYER_RATE and day.weekday() < 5 and not self.clean:
                    name, memo = rng.choice(OTHER_PAYERS)
                    amount = rng.randint(50, 8_000) * 1_000
                    at = datetime.combine(day, time(9 + rng.randrange(8), rng.randrange(60), rng.randrange(60)))
                    card, payer_bank = accounts.payer_account(name, account)
                    self._line(
                        account,
                        bank,
                        at.isoformat(),
                        f"other:{day}",
                        CREDIT,
                        amount,
                        name,
                        card,
                        payer_bank,
                        "汇入",
                        memo,
                        "网上银行",
                        "other_payer",
                        None,
                        None,
                    )
                    self.truth.append(
                        (
                            "other_payer_line",
                            bank,
                            None,
                            None,
                            account,
                            day.isoformat(),
                            json.dumps(
                                {"payer": name, "amount": _yuan(amount), "memo": memo, "booked_at": at.isoformat()},
                                ensure_ascii=False,
                            ),
                        )
                    )
                if day.day == 21 and day.month % 3 == 0:
                    amount = rng.randint(1_000, 30_000) * 100 + rng.randrange(100)
                    self._line(
                        account,
                        bank,
                        datetime.combine(day, time(2, 0)).isoformat(),
                        "interest",
                        CREDIT,
                        amount,
                        None,
                        None,
                        None,
                        "结息",
                        "活期存款利息",
                        "批处理",
                        "interest",
                        None,
                        None,
                    )
                if (day + timedelta(days=1)).month != day.month:
                    self._line(
                        account,
                        bank,
                        datetime.combine(day, time(23, 0)).isoformat(),
                        "fee",
                        DEBIT,
                        MONTHLY_FEE_FEN,
                        None,
                        None,
                        None,
                        "收费",
                        "账户管理费",
                        "批处理",
                        "fee",
                        None,
                        None,
                    )
            day += timedelta(days=1)
            if len(self.lines) >= BATCH * 4:
                self.flush()

    def flush(self) -> None:
        db = self.db
        db.execute("begin")
        db.executemany("insert into loans values (?,?,?,?)", self.loans)
        db.executemany("insert into loan_events values (?,?,?,?)", self.events)
        db.executemany("insert into lines_raw values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", self.lines)
        db.executemany("insert into ground_truth values (?,?,?,?,?,?,?)", self.truth)
        db.executemany("insert into supervision values (?,?,?,?,?,?,?,?,?,?,?,?)", self.supervision)
        db.execute("commit")
        self.counts["lines"] += len(self.lines)
        self.loans, self.events, self.lines, self.truth, self.supervision = [], [], [], [], []


def _finish(
    db: sqlite3.Connection,
    seed: int,
    start_on: date,
    end_on: date,
    chart: dict[str, CollectionAccount],
    permits: dict[str, Permit],
    clean: bool = False,
) -> None:
    db.execute("begin")
    db.execute(
        """create table accounts (account_no text primary key, bank text, opening_fen integer, kind text,
        permit_no text, project_code text, project_name text, building text, key_supervision_fen integer)"""
    )
    rows = []
    for account in sorted(chart.values(), key=lambda a: (a.bank, a.kind, a.account_no)):
        permit = permits.get(account.permit_no or "")
        opening = accounts.OPENING_BALANCE_FEN[account.bank] if account.kind == GENERAL else 0
        rows.append(
            (
                account.account_no,
                account.bank,
                opening,
                account.kind,
                account.permit_no,
                permit.project_code if permit else None,
                permit.project_name if permit else None,
                permit.building if permit else None,
                permit.key_fen if permit else None,
            )
        )
    db.executemany("insert into accounts values (?,?,?,?,?,?,?,?,?)", rows)
    db.execute(
        """create table statement_lines as
        select r.account_no, row_number() over w as seq, r.bank, r.booked_at, substr(r.booked_at, 1, 10) as booked_on,
               r.direction, r.amount_fen,
               a.opening_fen + sum(case r.direction when 'in' then r.amount_fen else -r.amount_fen end) over w
                 as balance_fen,
               r.counterparty_name, r.counterparty_account, r.counterparty_bank, r.summary, r.memo, r.channel,
               r.kind, r.contract_no, r.loan_no
        from lines_raw r join accounts a on a.account_no = r.account_no
        window w as (partition by r.account_no order by r.booked_at, r.tiebreak rows unbounded preceding)"""
    )
    db.execute("drop table lines_raw")
    db.execute("create table corrections (account_no text, booked_on text, omitted_seq integer)")
    days = db.execute(
        "select account_no, booked_on, max(seq), count(*) from statement_lines"
        " where booked_on >= ? and booked_on <= ? group by account_no, booked_on",
        (start_on.isoformat(), end_on.isoformat()),
    ).fetchall()
    for account, day, last, count in days:
        rng = random.Random(f"{seed}/banks/correction/{account}/{day}")
        if count >= 2 and rng.random() < CORRECTION_RATE and date.fromisoformat(day) < end_on and not clean:
            db.execute("insert into corrections values (?,?,?)", (account, day, last))
            bank = chart[account].bank
            detail = {"omitted_seq": last, "first_version": 1, "corrected_version": 2}
            db.execute(
                "insert into ground_truth values ('corrected_statement', ?, null, null, ?, ?, ?)",
                (bank, account, day, json.dumps(detail)),
            )
    for statement in INDEXES:
        db.execute(statement)
    db.execute("commit")


def build_bank_world(world_path: str | Path, out_path: str | Path, *, seed: int | None = None) -> dict[str, Any]:
    """Derive the banks' face of the world at `world_path` into a new SQLite file at `out_path`."""
    started = clock_time.perf_counter()
    world_path, out_path = Path(world_path), Path(out_path)
    source = open_world_db(world_path)
    try:
        meta = read_meta(source)
    finally:
        source.close()
    seed = int(meta["seed"]) if seed is None else seed
    start_on, end_on = date.fromisoformat(meta["start_on"]), date.fromisoformat(meta["end_on"])
    out_path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=out_path.parent, prefix=f".{out_path.name}.", suffix=".part")
    os.close(handle)
    temp = Path(temp_name)
    try:
        db = sqlite3.connect(temp, isolation_level=None)
        db.execute("pragma journal_mode = off")
        db.execute("pragma synchronous = off")
        for statement in SCHEMA:
            db.execute(statement)
        clean = is_clean(meta)
        source = open_world_db(world_path)
        try:
            permits = read_permits(source)
        finally:
            source.close()
        builder = _Builder(db, seed, world_end(meta), permits, clean)
        for money in iter_contract_money(world_path, seed=seed):
            builder.contract(
                money.doc, money.cash.flows, money.loan_refused, money.cash.planted, money.cash.loan_covered_fen
            )
        builder.account_days(start_on, end_on)
        builder.fee_payovers()
        builder.releases()
        _finish(db, seed, start_on, end_on, builder.accounts, permits, clean)
        info = {
            "version": BANK_WORLD_VERSION,
            "seed": str(seed),
            "source": _source_key(world_path),
            "start_on": start_on.isoformat(),
            "end_on": end_on.isoformat(),
            "contracts": str(builder.counts["contracts"]),
            "loans": str(builder.counts["loans"]),
            "lines": str(builder.counts["lines"]),
            "clean": "1" if clean else "0",
        }
        db.executemany("insert into meta values (?, ?)", sorted(info.items()))
        db.close()
        temp.replace(out_path)
    finally:
        temp.unlink(missing_ok=True)
    log.info(
        "bank world %s: %s loans, %s lines in %.1fs",
        out_path,
        info["loans"],
        info["lines"],
        clock_time.perf_counter() - started,
    )
    return info


def _source_key(world_path: Path) -> str:
    stat = world_path.stat()
    return f"{world_path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def ensure_bank_world(world_path: str | Path, *, seed: int | None = None) -> Path:
    """The bank world beside `world_path` (`<world>.banks-v<version>.sqlite`), built when missing or stale."""
    world_path = Path(world_path)
    suffix = f".seed{seed}" if seed is not None else ""
    path = world_path.with_name(f"{world_path.stem}.banks-v{BANK_WORLD_VERSION}{suffix}.sqlite")
    if path.is_file():
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                meta = dict(db.execute("select key, value from meta").fetchall())
            finally:
                db.close()
            if meta.get("source") == _source_key(world_path) and meta.get("version") == BANK_WORLD_VERSION:
                return path
        except sqlite3.DatabaseError:
            log.warning("bank world %s is unreadable: building it again", path)
    build_bank_world(world_path, path, seed=seed)
    return path


# -- reading ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileVersion:
    """One statement file a bank publishes: an account's day, in a version, from a moment on."""

    bank: str
    account_no: str
    day: date
    version: int
    published_at: datetime  # naive Beijing time
    omitted_seq: int | None = None


class BankWorld:
    """Read access to a bank world file at a movable clock (default: the world's end)."""

    def __init__(self, path: str | Path, *, now: datetime | None = None) -> None:
        self.path = Path(path)
        self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        self.meta = dict(self._query("select key, value from meta"))
        self.start_on = date.fromisoformat(self.meta["start_on"])
        self.end_on = date.fromisoformat(self.meta["end_on"])
        self._now = datetime.combine(self.end_on, time(23, 59, 59)).replace(tzinfo=UTC) - BEIJING
        if now is not None:
            self.set_clock(now)

    def close(self) -> None:
        self._db.close()

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # the clock: an aware UTC datetime; `now_bj` the same moment as naive Beijing time
    @property
    def now(self) -> datetime:
        return self._now

    def set_clock(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("the clock needs a timezone-aware datetime")
        self._now = now.astimezone(UTC)

    @property
    def now_bj(self) -> datetime:
        return self._now.replace(tzinfo=None) + BEIJING

    @property
    def now_key(self) -> str:
        return self._now.replace(tzinfo=None, microsecond=0).isoformat() + "+00:00"

    # -- loans ----------------------------------------------------------------------------------------

    def loan_page(
        self,
        bank: str,
        *,
        since: str | None,
        after: tuple[str, str] | None,
        offset: int,
        limit: int,
        include_after: bool = False,
    ) -> list[tuple[str, str, dict]]:
        """(loan_no, updated_at UTC text, loan document as of now) of loans updated at or after `since`,
        in (updated_at, loan_no) order: after the keyset `after`, or from `offset`."""
        sql = (
            "select loan_no, max(at) as updated from loan_events where bank = ? and at <= ?"
            " group by loan_no having updated >= ?"
        )
        params: list[Any] = [bank, self.now_key, since or ""]
        if after is not None:
            sql += f" and (updated > ? or (updated = ? and loan_no {'>=' if include_after else '>'} ?))"
            params += [after[0], after[0], after[1]]
        sql += " order by updated, loan_no limit ? offset ?"
        params += [limit, 0 if after is not None else offset]
        rows = self._query(sql, tuple(params))
        return [(loan_no, updated, self.loan_as_of(bank, loan_no)) for loan_no, updated in rows]

    def loan_as_of(self, bank: str, loan_no: str) -> dict:
        (doc,) = self._query("select doc from loans where bank = ? and loan_no = ?", (bank, loan_no))[0]
        return cut_loan(json.loads(doc), self.now_bj)

    def iter_loans_as_of(self, bank: str, moment: datetime) -> Iterator[dict]:
        """Every loan of `bank` that exists at `moment` (naive Beijing), as it stood then."""
        for (doc,) in self._query("select doc from loans where bank = ? order by loan_no", (bank,)):
            loan = cut_loan(json.loads(doc), moment)
            if loan["events"]:
                yield loan

    # -- statements ------------------------------------------------------------------------------------

    def bank_accounts(self, bank: str) -> list[dict[str, Any]]:
        """The collection accounts `bank` holds for the developer (general first, then supervised)."""
        names = ("account_no", "bank", "opening_fen", "kind", "permit_no", "project_code", "project_name", "building",
                 "key_supervision_fen")  # fmt: skip
        rows = self._query(f"select {', '.join(names)} from accounts where bank = ? order by kind, account_no", (bank,))
        return [dict(zip(names, row, strict=True)) for row in rows]

    def holds(self, bank: str, account_no: str) -> bool:
        """Whether `bank` holds collection account `account_no` (one of `bank_accounts`)."""
        return bool(self._query("select 1 from accounts where bank = ? and account_no = ?", (bank, account_no)))

    def supervision_records(self, bank: str, date_from: date, date_to: date) -> list[dict[str, Any]]:
        """The bank's refund approvals and releases dated in the range and at or before the clock."""
        names = ("record_no", "record_type", "account_no", "counter_account_no", "permit_no", "contract_no",
                 "milestone", "amount_fen", "allowed_fen", "required_fen", "at")  # fmt: skip
        rows = self._query(
            f"select {', '.join(names)} from supervision where bank = ? and at >= ? and at < ? and at <= ?"
            " order by at, record_no",
            (bank, date_from.isoformat(), (date_to + timedelta(days=1)).isoformat(), self.now_bj.isoformat()),
        )
        return [dict(zip(names, row, strict=True)) for row in rows]

    def statement_files(self, bank: str, date_from: date, date_to: date) -> list[FileVersion]:
        """The files of each of `bank`'s accounts for days in the range, as published by now."""
        files: list[FileVersion] = []
        for account in self.bank_accounts(bank):
            files += self.account_files(bank, account["account_no"], date_from, date_to)
        return sorted(files, key=lambda f: (f.day, f.account_no, f.version))

    def account_files(self, bank: str, account: str, date_from: date, date_to: date) -> list[FileVersion]:
        """The files of one of `bank`'s accounts for days in the range, as published by now (a download
        asks for one: the other accounts' files are not looked at)."""
        first, last = max(date_from, self.start_on), min(date_to, self.end_on)
        corrections = {
            date.fromisoformat(day): seq
            for day, seq in self._query(
                "select booked_on, omitted_seq from corrections where account_no = ?", (account,)
            )
        }
        files: list[FileVersion] = []
        day = first
        now = self.now_bj
        while day <= last:
            published = datetime.combine(day + timedelta(days=1), PUBLISH_AT)
            omitted = corrections.get(day)
            if published <= now:
                files.append(FileVersion(bank, account, day, 1, published, omitted))
            if omitted is not None and published + timedelta(days=1) <= now:
                files.append(FileVersion(bank, account, day, 2, published + timedelta(days=1)))
            day += timedelta(days=1)
        return files

    def statement_lines(
        self, account_no: str, date_from: date, date_to: date, omitted_seq: int | None = None
    ) -> list[dict[str, Any]]:
        cursor_sql = (
            "select seq, booked_at, direction, amount_fen, balance_fen, counterparty_name, counterparty_account,"
            " counterparty_bank, summary, memo, channel, kind from statement_lines"
            " where account_no = ? and booked_on >= ? and booked_on <= ? order by seq"
        )
        names = (
            "seq",
            "booked_at",
            "direction",
            "amount_fen",
            "balance_fen",
            "counterparty_name",
            "counterparty_account",
            "counterparty_bank",
            "summary",
            "memo",
            "channel",
            "kind",
        )
        rows = self._query(cursor_sql, (account_no, date_from.isoformat(), date_to.isoformat()))
        return [dict(zip(names, row, strict=True)) for row in rows if row[0] != omitted_seq]

    def opening_balance(self, account_no: str, day: date) -> int:
        """The balance before the first line booked on `day`."""
        row = self._query(
            "select balance_fen from statement_lines where account_no = ? and booked_on < ? order by seq desc limit 1",
            (account_no, day.isoformat()),
        )
        if row:
            return row[0][0]
        return self._query("select opening_fen from accounts where account_no = ?", (account_no,))[0][0]

    # -- ground truth -------------------------------------------------------------------------------

    def ground_truth(self, kind: str | None = None) -> list[dict[str, Any]]:
        sql = "select kind, bank, contract_no, loan_no, account_no, on_date, detail from ground_truth"
        params: tuple = ()
        if kind is not None:
            sql += " where kind = ?"
            params = (kind,)
        names = ("kind", "bank", "contract_no", "loan_no", "account_no", "on_date", "detail")
        rows = self._query(sql + " order by on_date, kind, bank, loan_no, account_no", params)
        return [dict(zip(names, (*row[:6], json.loads(row[6])), strict=True)) for row in rows]


def cut_loan(doc: dict, moment: datetime) -> dict:
    """A loan document as it stood at `moment` (naive Beijing): later stages and amounts removed."""
    limit = moment.isoformat() + "+08:00"
    events = [event for event in doc["events"] if event["at"] <= limit]
    stages = {event["stage"] for event in events}
    cut = dict(doc)
    cut["events"] = events
    cut["stage"] = _current_stage(events)
    if "已审批" not in stages:
        cut["approved_fen"] = None
    if "已放款" not in stages:
        cut["disbursed_fen"] = None
        cut["guarantee_fen"] = None
    if (cut.get("guarantee_released_at") or "") > limit:
        cut["guarantee_released_at"] = None
    cut["updated_at"] = (
        max((events[-1]["at"], cut.get("guarantee_released_at") or ""), default=None) if events else None
    )
    return cut


def _current_stage(events: list[dict]) -> str | None:
    """The furthest stage reached; a withdrawal or a refusal ends a loan wherever it stood."""
    if not events:
        return None
    stages = [event["stage"] for event in events]
    for final in (STAGE_WITHDRAWN, STAGE_REJECTED):
        if final in stages:
            return final
    return max(stages, key=STAGE_ORDER.__getitem__)
