"""The cash reconciliation: the collection accounts' statement lines against the ledger's bank entries,
and the supervised-account rules (decision 0016).

Lines. Each account's current statement lines are matched against the ledger's bank-deposit entries
that name the same account, through the shared engine (`matching.match`, one call per account and
direction, money in apart from money out, so that nothing crosses them): tier 2 takes the same amount
within `CASH_TOLERANCES`' date window (the clerk books a day or a weekend late), tier 3 the same amount
over a longer window where the payer's name agrees, tier 4 a batch (several disbursements in one ledger
entry, or the other way round), tier 5 finance's rules (bank fees and interest ignored). What is left
is a break, refined by what it is:

- `statement_not_booked`: money on the statement the ledger has not booked (another payer's transfer);
- `refund_not_booked`: a refund paid out (the statement's memo says 退) the ledger has not booked;
- `duplicate_receipt`: a receipt the ledger booked twice: no statement line, and a twin (same account,
  amount and memo, within `DUPLICATE_WINDOW_DAYS`) that matched one;
- `refund_not_paid`: a refund the ledger booked that left no account;
- `booked_not_on_statement`: any other ledger entry with no statement line;
- `amount_mismatch`, `invalid_input` and a classify rule's reason as the engine gives them.

Each line break's detail carries the day totals of its account and day, bank and ledger, so a day that
disagrees is explained by the lines that make it disagree. A ledger entry dated after the last day of
its account's loaded statements is in transit (that day's statement has not come), not a break. So is a
statement line of the day the run is as of that the ledger has not booked: the statement of a day comes
the next morning, and the clerk books from it what only the bank knew (its fees at 23:00, a transfer in
the evening) that day (未达账项, items in transit on the bank reconciliation statement); the next day's run
judges it.

Supervised accounts (预售资金监管账户, `core_bank_account` / `core_bank_supervision`):

- `money_outside_supervised`: a receipt of buyer money or of a loan (`SALE_MONEY_KINDS`) received into an
  account that is no supervised account (a general one, or one no bank lists); the detail names the
  supervised account of the unit's pre-sale permit where the receipt is tied to a unit;
- `refund_without_approval`: money out of a supervised account that no supervision record of the bank
  covers: a refund approval of the same account and amount, given on or before the day and at most
  `APPROVAL_VALID_DAYS` before, or a release (拨付) of the amount given on or before the day; each
  record covers one line (lines ignored by finance's bank-side rules, fees, need none);
- `release_over_allowed`: a release above the amount the bank's rule allowed.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz import fuzz
from rapidfuzz.utils import default_process
from sqlalchemy import Connection

from connectors.identity import mask_name
from estatehub.ledger.link import LOAN_KINDS
from estatehub.money import yuan
from estatehub.reconcile.assign import assign_one_to_one
from estatehub.reconcile.breaks import AMOUNT_MISMATCH, stable_key, unmatched
from estatehub.reconcile.checks import (
    PROCEEDS_KINDS,
    PROCEEDS_PURPOSE,
    Outcome,
    Period,
    _frame,
    _match_rows,
    new_break,
)
from estatehub.reconcile.matching import Tolerances, match
from estatehub.reconcile.rules import RuleSet
from estatehub.warehouse import sqlfiles

CASH_SIDES = ("bank", "ledger")
# tier 2: the same account and amount within 3 days (a booking the next day or after a weekend), the pairs
# whose payer agrees first (a launch day brings dozens of equal deposits: 诚意金 10,000.00); tier 3: within 10
# days where the payer agrees (a booking held over a month's cut-off); batches within 3 days
CASH_TOLERANCES = Tolerances(
    date_window_days=3, text_date_window_days=10, split_date_window_days=3, unit_text_first=True
)
SALE_MONEY_KINDS = (*PROCEEDS_KINDS, "诚意金")  # buyer money and loans: all of it belongs in the supervised account
SUPERVISED_REASONS = ("money_outside_supervised", "refund_without_approval", "release_over_allowed")
LINE_REASONS = (  # what the engine's unmatched items become (with amount_mismatch, invalid_input and rules')
    "statement_not_booked",
    "refund_not_booked",
    "duplicate_receipt",
    "refund_not_paid",
    "booked_not_on_statement",
)
REFUND_MARK = "退"  # a statement line paid out whose summary or memo says 退 is a refund
REFUND_KIND = "退款"
DUPLICATE_WINDOW_DAYS = 3
APPROVAL_VALID_DAYS = 30
MATCH_COLUMNS = ["id", "amount_fen", "on", "unit", "text", "party", "memo", "names"]
BANK_COLUMNS = ("id", "amount_fen", "on", "unit", "text", "memo", "party", "account_no", "bank", "direction")
LEDGER_COLUMNS = (
    *("entry_id", "amount_fen", "on", "unit", "text", "memo", "payer", "customer_name"),
    *("contract_no", "bill_no", "payment_kind"),
)


def reconcile_cash(conn: Connection, period: Period, rules: RuleSet | None = None) -> Outcome:
    out = Outcome("cash")
    rules = rules or RuleSet()
    line_breaks, matches, counts = _match_lines(conn, period, rules)
    out.breaks.extend(line_breaks)
    out.matches = matches
    out.breaks.extend(_outside_supervised(conn, period))
    uncovered, outflows = _unapproved_outflows(conn, period, rules)
    out.breaks.extend(uncovered)
    releases = _releases_over_allowed(conn, period)
    out.breaks.extend(releases)
    out.counts = counts | {"supervised_outflows": outflows}
    return out


# -- statement lines against ledger entries --------------------------------------------------------


def _entry_names(conn: Connection, period: Period, entry_ids: pd.Series) -> list[str | None]:
    """Per ledger entry: the customers its voucher names on its other lines, space-separated (None: none)."""
    rows = sqlfiles.execute(conn, "reconcile/cash_entry_names", period.params()).all()
    names: dict[int, list[str]] = {}
    for entry_id, name in rows:
        names.setdefault(int(entry_id), []).append(str(name))
    return [" ".join(names[int(e)]) if int(e) in names else None for e in entry_ids]


def _match_lines(
    conn: Connection, period: Period, rules: RuleSet
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, int]]:
    """Match account by account over the period widened by the longest window (an item near the period's
    edge finds its other side outside it); keep the breaks and matches that touch the period."""
    reach = timedelta(days=max(CASH_TOLERANCES.date_window_days, CASH_TOLERANCES.text_date_window_days))
    wide = Period(period.date_from - reach, period.date_to + reach, period.as_of)
    bank = _frame(conn, "reconcile/cash_statement_lines", wide, BANK_COLUMNS)
    ledger = _frame(conn, "reconcile/cash_ledger_entries", wide, LEDGER_COLUMNS)
    # zero-padded: ids sort as the entries were booked, so of two equal entries the first one matches
    ledger.insert(0, "id", [f"entry:{int(e):012d}" for e in ledger["entry_id"]])
    # who paid, as the statement names them: the payer, but the borrower of money a lender paid out (the bank's
    # or the fund centre's line names the borrower in its memo, and a batch of equal disbursements is told
    # apart only by that name)
    lent = ledger["payment_kind"].isin(LOAN_KINDS).to_numpy() & ledger["customer_name"].notna().to_numpy()
    ledger["party"] = np.where(lent, ledger["customer_name"], ledger["payer"])
    ledger["names"] = _entry_names(conn, wide, ledger["entry_id"])
    bank["names"] = None
    for frame in (bank, ledger):
        frame["unit"] = frame["unit"].fillna("")  # a line without an account is matched with none
        # money in and money out are matched apart, on the amount as finance writes it (rules: a fee ≤ 200 yuan)
        frame["signed_fen"] = frame["amount_fen"]
        frame["way"] = np.where(frame["signed_fen"] < 0, "out", "in")
        frame["amount_fen"] = frame["signed_fen"].abs()
    matches: list[dict[str, Any]] = []
    broken: list[dict[str, Any]] = []
    bank_groups = dict(tuple(bank.groupby(["unit", "way"], sort=False)))
    ledger_groups = dict(tuple(ledger.groupby(["unit", "way"], sort=False)))
    for group in sorted(set(bank_groups) | set(ledger_groups)):
        b, lg = bank_groups.get(group, bank.iloc[:0]), ledger_groups.get(group, ledger.iloc[:0])
        result = match(
            b[MATCH_COLUMNS],
            lg[MATCH_COLUMNS],
            as_of=period.as_of,
            sides=CASH_SIDES,
            scope="cash",
            tolerances=CASH_TOLERANCES,
            rules=rules,
        )
        matches.extend(_match_rows(result.matches))
        broken.extend(result.breaks.to_dict("records"))
    day_of = dict(zip(bank["id"], bank["on"], strict=True)) | dict(zip(ledger["id"], ledger["on"], strict=True))
    text_of = dict(zip(bank["id"], bank["text"], strict=True)) | dict(zip(ledger["id"], ledger["text"], strict=True))
    broken = [piece for row in broken for piece in _unpair(row, text_of, day_of)]
    matched_ledger = {m["right_id"] for m in matches}
    matches = [m for m in matches if _touches(period, day_of[m["left_id"]], day_of[m["right_id"]])]
    totals = _day_totals(bank, ledger)
    twins = _twins(ledger[ledger["id"].isin(matched_ledger)])
    bank_by_id = bank.set_index("id", drop=False)
    ledger_by_id = ledger.set_index("id", drop=False)
    coverage = sqlfiles.execute(conn, "reconcile/cash_statement_coverage", {}, columns=("account_no", "covered_to_on"))
    covered = dict(coverage.all())
    breaks, in_transit, lines_in_transit = [], 0, 0
    for row in broken:
        if row["first_on"] is None or not period.date_from <= row["first_on"] <= period.date_to:
            continue
        if row["reason"] == "unmatched_bank" and row["first_on"] >= period.as_of:  # on this morning's statement
            lines_in_transit += 1
            continue
        if not row["left_ids"] and row["right_ids"]:  # booked only: judged once the statement of its day is in
            entry = ledger_by_id.loc[row["right_ids"][0]]
            if entry["unit"] in covered and entry["on"] > covered[entry["unit"]]:
                in_transit += 1
                continue
        breaks.append(_line_break(row, bank_by_id, ledger_by_id, twins, totals, period))
    disagree = sum(1 for b, lg in totals.values() if b != lg)
    counts = {
        "statement_lines": len(bank),
        "ledger_entries": len(ledger),
        "matched": len(matches),
        "booked_in_transit": in_transit,
        "statement_in_transit": lines_in_transit,
        "account_days": len(totals),
        "account_days_disagreeing": disagree,
    }
    return breaks, matches, counts


def _unpair(row: dict[str, Any], text_of: dict[str, str], day_of: dict[str, date]) -> list[dict[str, Any]]:
    """The engine pairs a leftover statement line and ledger entry of one account within the window as an
    amount mismatch; on an account with many payments that pairs strangers. A pair stays one break only
    where it is one payment, the same payer (`Tolerances.text_min_score`); otherwise each item is a break
    of its own, keyed as the engine keys an unmatched item."""
    first_on = row["first_on"]
    row = row | {"first_on": None if first_on is None or pd.isna(first_on) else pd.Timestamp(first_on).date()}
    if row["reason"] != AMOUNT_MISMATCH:
        return [row]
    (line,), (entry,) = row["left_ids"], row["right_ids"]
    texts = (text_of.get(line), text_of.get(entry))
    if all(texts) and fuzz.WRatio(*texts, processor=default_process) >= CASH_TOLERANCES.text_min_score:
        return [row]
    pieces = []
    for side, item, amount in ((0, line, row["left_amount_fen"]), (1, entry, row["right_amount_fen"])):
        ids = ((item,), ()) if side == 0 else ((), (item,))
        pieces.append(
            row
            | {
                "break_key": stable_key("b", "cash", *ids),
                "reason": unmatched(CASH_SIDES[side]),
                "left_ids": ids[0],
                "right_ids": ids[1],
                "amount_fen": amount,
                "left_amount_fen": amount if side == 0 else 0,
                "right_amount_fen": amount if side == 1 else 0,
                "first_on": day_of[item],
            }
        )
    return pieces


def _touches(period: Period, *days: date) -> bool:
    return any(period.date_from <= d <= period.date_to for d in days)


def _day_totals(bank: pd.DataFrame, ledger: pd.DataFrame) -> dict[tuple[str, date], tuple[int, int]]:
    """(account, day) → (the statement's total, the ledger's total), signed fen."""
    totals: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0])
    for side, frame in enumerate((bank, ledger)):
        for account, day, amount in zip(frame["unit"], frame["on"], frame["signed_fen"], strict=True):
            totals[(account, day)][side] += int(amount)
    return {key: (b, lg) for key, (b, lg) in totals.items()}


def _twins(matched: pd.DataFrame) -> dict[tuple[str, int, str], list[date]]:
    """Matched ledger entries by (account, amount, memo): what a duplicate repeats."""
    twins: dict[tuple[str, int, str], list[date]] = defaultdict(list)
    for account, amount, memo, day in zip(
        matched["unit"], matched["signed_fen"], matched["memo"], matched["on"], strict=True
    ):
        twins[(account, int(amount), "" if pd.isna(memo) else memo)].append(day)
    return twins


def _line_break(
    row: dict[str, Any],
    bank: pd.DataFrame,
    ledger: pd.DataFrame,
    twins: dict[tuple[str, int, str], list[date]],
    totals: dict[tuple[str, date], tuple[int, int]],
    period: Period,
) -> dict[str, Any]:
    left, right = tuple(row["left_ids"]), tuple(row["right_ids"])
    line = bank.loc[left[0]] if left else None
    entry = ledger.loc[right[0]] if right else None
    reason, what = row["reason"], row["detail"]
    if reason == "unmatched_bank" and line is not None:
        refund = line["way"] == "out" and REFUND_MARK in (line["memo"] or "")
        reason = "refund_not_booked" if refund else "statement_not_booked"
        what = (
            "a refund paid out, not booked in the ledger"
            if refund
            else f"{'received' if line['way'] == 'in' else 'paid'} on the statement, not booked in the ledger"
        )
    elif reason == "unmatched_ledger" and entry is not None:
        reason, what = _ledger_only(entry, twins)
    elif reason == "amount_mismatch":
        what = "the statement and the ledger show other amounts on the same account"
    item = line if line is not None else entry
    account = item["unit"] if item is not None else ""
    day = row["first_on"]
    bank_total, ledger_total = totals.get((account, day), (0, 0))
    subject, kind, bill = (_present(entry, name) for name in ("contract_no", "payment_kind", "bill_no"))
    return {
        "break_key": row["break_key"],
        "reconciliation": "cash",
        "reason": reason,
        "rule": row["rule"],
        "subject": subject or account or None,
        "party_masked": None,
        "kind": kind,
        "left_ids": left,
        "right_ids": right,
        "amount_fen": int(row["amount_fen"]),
        "left_amount_fen": int(row["left_amount_fen"]),
        "right_amount_fen": int(row["right_amount_fen"]),
        "first_on": day,
        "due_on": None,
        "age_days": (period.as_of - day).days,
        "detail": f"{what} ({yuan(int(row['left_amount_fen']))} / {yuan(int(row['right_amount_fen']))} yuan"
        + (f", bill {bill}" if bill else "")
        + f"); account {account or '(none)'} on {day}: statement {yuan(bank_total)}, ledger {yuan(ledger_total)} yuan",
    }


def _present(entry: pd.Series | None, name: str) -> Any:
    """A ledger entry's value, None where the entry or the value is missing (pandas reads None as NaN)."""
    if entry is None or pd.isna(entry[name]) or entry[name] == "":
        return None
    return entry[name]


def _ledger_only(entry: pd.Series, twins: dict[tuple[str, int, str], list[date]]) -> tuple[str, str]:
    if entry["way"] == "out" and _present(entry, "payment_kind") == REFUND_KIND:
        return "refund_not_paid", "a refund booked in the ledger, not paid out of the account"
    days = twins.get((entry["unit"], int(entry["signed_fen"]), _present(entry, "memo") or ""), [])
    if entry["way"] == "in" and any(abs((entry["on"] - d).days) <= DUPLICATE_WINDOW_DAYS for d in days):
        return (
            "duplicate_receipt",
            "booked twice: the same receipt (account, amount, memo) already matches the statement",
        )
    return "booked_not_on_statement", "booked in the ledger, not on the statement"


# -- supervised accounts ----------------------------------------------------------------------------


def _outside_supervised(conn: Connection, period: Period) -> list[dict[str, Any]]:
    rows = sqlfiles.execute(
        conn,
        "reconcile/cash_outside_supervised",
        period.params(),
        columns=(
            "bill_no",
            "receipt_on",
            "amount_fen",
            "payment_kind",
            "contract_no",
            "house_id",
            "bank_account_no",
            "customer_name",
            "permit_no",
            "supervised_account_no",
            "purpose",
        ),
    ).all()
    breaks = []
    for r in rows:
        # sale money: a kind of it, or the ledger's purpose of sale proceeds where the memo names no kind (房款)
        kind = r.payment_kind or ("房款" if r.purpose == PROCEEDS_PURPOSE else None)
        if kind not in (*SALE_MONEY_KINDS, "房款"):
            continue
        breaks.append(
            new_break(
                "cash",
                "money_outside_supervised",
                items=[f"receipt:{r.bill_no}"],
                other=["supervised_account"],
                subject=r.contract_no or r.bill_no,
                party_masked=mask_name(r.customer_name) if r.customer_name else None,
                kind=kind,
                amount_fen=r.amount_fen,
                first_on=r.receipt_on,
                as_of=period.as_of,
                detail=f"{kind} of {yuan(r.amount_fen)} yuan received on {r.receipt_on} into account "
                f"{r.bank_account_no}, which is no supervised account; "
                + (
                    f"it belongs in {r.supervised_account_no}, the supervised account of permit {r.permit_no} "
                    f"(unit {r.house_id})"
                    if r.supervised_account_no
                    else "the receipt is tied to no unit with a supervised account"
                ),
            )
        )
    return breaks


def _unapproved_outflows(conn: Connection, period: Period, rules: RuleSet) -> tuple[list[dict[str, Any]], int]:
    """Outflows of supervised accounts no supervision record covers (one record, one line)."""
    wide = Period(period.date_from - timedelta(days=APPROVAL_VALID_DAYS), period.date_to, period.as_of)
    lines = _rows(
        conn,
        "reconcile/cash_supervised_outflows",
        wide.params(),
        ("id", "bank", "account_no", "booked_on", "amount_fen", "text", "permit_no"),
    )
    records = _rows(conn, "reconcile/cash_supervision_records", {"to_on": period.date_to}, SUPERVISION_COLUMNS)
    if lines.empty:
        return [], 0
    lines = lines.sort_values("id", ignore_index=True)
    text = lines["text"].to_numpy(dtype=object)
    amount = lines["amount_fen"].to_numpy(dtype=np.int64)
    exempt = np.zeros(len(lines), dtype=bool)
    for rule in rules.rules:
        if rule.action == "ignore" and rule.side == "bank":
            exempt |= rule.selects(text, np.full(len(lines), None, dtype=object), amount)
    covered = _covered(lines, records)
    breaks = []
    for i, line in enumerate(lines.itertuples(index=False)):
        if exempt[i] or i in covered or not period.date_from <= line.booked_on <= period.date_to:
            continue
        breaks.append(
            new_break(
                "cash",
                "refund_without_approval",
                items=[line.id],
                other=["supervision_record"],
                subject=line.account_no,
                amount_fen=line.amount_fen,
                first_on=line.booked_on,
                as_of=period.as_of,
                detail=f"{yuan(line.amount_fen)} yuan paid out of supervised account {line.account_no} "
                f"(permit {line.permit_no}) on {line.booked_on} with no refund approval or release of the bank "
                "covering it",  # the line's text names the payee: not stored
            )
        )
    in_period = int(((lines["booked_on"] >= period.date_from) & (lines["booked_on"] <= period.date_to)).sum())
    return breaks, in_period


def _rows(conn: Connection, model: str, params: dict[str, Any], columns: tuple[str, ...]) -> pd.DataFrame:
    rows = sqlfiles.execute(conn, model, params, columns=columns)
    return pd.DataFrame([tuple(r) for r in rows], columns=list(columns), dtype=object)  # ints stay ints, None None


SUPERVISION_COLUMNS = (
    "bank",
    "record_no",
    "record_type",
    "account_no",
    "counter_account_no",
    "permit_no",
    "contract_no",
    "milestone",
    "amount_fen",
    "allowed_fen",
    "retained_fen",
    "approved_on",
)


def _covered(lines: pd.DataFrame, records: pd.DataFrame) -> set[int]:
    """Positions of the lines a record covers: a record of the same account and exactly the amount, given
    on or before the line's day (a refund approval at most APPROVAL_VALID_DAYS before); one record a
    line, the closest in time first (`assign_one_to_one`)."""
    if records.empty:
        return set()
    records = records.sort_values(["bank", "record_no"], ignore_index=True)
    cand = (
        lines.reset_index(names="l")[["l", "account_no", "booked_on", "amount_fen"]]
        .merge(
            records.reset_index(names="r")[["r", "account_no", "record_type", "approved_on", "amount_fen"]],
            on="account_no",
            suffixes=("", "_record"),
        )
        .assign(lag=lambda f: [(b - a).days for b, a in zip(f["booked_on"], f["approved_on"], strict=True)])
    )
    release = cand["record_type"] == "release"
    ok = (cand["amount_fen_record"] == cand["amount_fen"]) & (cand["lag"] >= 0)
    ok &= release | (cand["lag"] <= APPROVAL_VALID_DAYS)
    chosen = assign_one_to_one(cand[ok][["l", "r", "lag"]].reset_index(drop=True), ["lag"])
    return set(chosen["l"].tolist())


def _releases_over_allowed(conn: Connection, period: Period) -> list[dict[str, Any]]:
    records = _rows(conn, "reconcile/cash_supervision_records", {"to_on": period.date_to}, SUPERVISION_COLUMNS)
    breaks = []
    for r in records.itertuples(index=False):
        if r.record_type != "release" or r.allowed_fen is None or r.amount_fen <= r.allowed_fen:
            continue
        if not period.date_from <= r.approved_on <= period.date_to:
            continue
        over = r.amount_fen - r.allowed_fen
        breaks.append(
            new_break(
                "cash",
                "release_over_allowed",
                items=[f"release:{r.bank}:{r.record_no}"],
                other=["supervision_rule"],
                subject=r.permit_no or r.account_no,
                amount_fen=over,
                left_amount_fen=r.amount_fen,
                right_amount_fen=r.allowed_fen,
                first_on=r.approved_on,
                as_of=period.as_of,
                detail=f"release {r.record_no} ({r.milestone or 'no milestone'}) of {yuan(r.amount_fen)} yuan from "
                f"supervised account {r.account_no} on {r.approved_on}: {yuan(over)} over the "
                f"{yuan(r.allowed_fen)} the rule allowed"
                + (f" ({yuan(r.retained_fen)} must stay)" if r.retained_fen is not None else ""),
            )
        )
    return breaks
