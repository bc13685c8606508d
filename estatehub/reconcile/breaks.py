"""Breaks: what matching left, why, how old, and a status that survives re-runs.

A break's key is a hash of the reconciliation's scope and the ids of the items it concerns (sorted,
per side), never a row number: the same unmatched bank line is the same break tomorrow, whatever
order the lines are read in. The reason is not part of the key, so a break that a new rule
reclassifies keeps its status; a break whose items change (a bank line arrives and turns an
`unmatched_ledger` into an `amount_mismatch`) is another break, and the old one closes by itself.

Status carry-over is a pure function (`carry_over`) from yesterday's statuses and today's keys; the
warehouse tables that keep them are the lead's (columns: `BREAK_STATUS_COLUMNS`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

import numpy as np
import pandas as pd

from estatehub.reconcile.assign import assign_one_to_one
from estatehub.reconcile.errors import ReconcileError

# reason codes the engine gives (rules of action `classify` add their own)
AMOUNT_MISMATCH = "amount_mismatch"
INVALID_INPUT = "invalid_input"
DATA_CHANGED = "data_changed"  # how a break resolves itself when its items no longer make it
EPOCH = date(1970, 1, 1)  # days are counted from here inside the engine


def unmatched(side: str) -> str:
    return f"unmatched_{side}"


BREAK_COLUMNS = (
    "break_key",  # stable: scope + sorted ids per side (see `stable_key`)
    "reason",  # unmatched_<side>, amount_mismatch, invalid_input, or a classify rule's reason
    "rule",  # the classify rule that gave the reason, else None
    "left_ids",  # tuple of the left side's item ids
    "right_ids",  # tuple of the right side's item ids
    "amount_fen",  # unmatched: the item's amount; amount_mismatch: right - left
    "left_amount_fen",
    "right_amount_fen",
    "first_on",  # the oldest item's date
    "age_days",  # as_of - first_on
    "detail",  # a short English explanation (what the mismatch or the invalid input is)
)

BREAK_STATUS_COLUMNS = (
    "break_key",
    "status",  # open / acknowledged / resolved
    "opened_on",
    "changed_on",
    "who",  # acknowledged or resolved by (a user name; 'estatehub' when it closed by itself)
    "note",  # acknowledged: the note
    "how",  # resolved: how (data_changed when it closed by itself)
)


def stable_key(prefix: str, scope: str, left_ids: Iterable[str], right_ids: Iterable[str]) -> str:
    """A short key from the scope and the items (sorted per side): the same items, the same key."""
    text = "\x1f".join((scope, "\x1e".join(sorted(left_ids)), "\x1e".join(sorted(right_ids))))
    return prefix + hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


class Status(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class StatusError(ReconcileError):
    """A status change that is not allowed (acknowledging a resolved break, an empty note, ...)."""


@dataclass(frozen=True)
class BreakStatus:
    """One break's status, as kept across runs."""

    break_key: str
    status: Status = Status.OPEN
    opened_on: date | None = None
    changed_on: date | None = None
    who: str | None = None
    note: str | None = None
    how: str | None = None


def acknowledge(current: BreakStatus, *, who: str, note: str, on: date) -> BreakStatus:
    """Finance has seen the break and says why it stays (kept across re-runs while the break exists)."""
    if current.status is Status.RESOLVED:
        raise StatusError(f"break {current.break_key} is resolved ({current.how}); it cannot be acknowledged")
    if not who.strip() or not note.strip():
        raise StatusError("acknowledging a break needs who and a note saying why it stays")
    return replace(current, status=Status.ACKNOWLEDGED, changed_on=on, who=who.strip(), note=note.strip())


def resolve(current: BreakStatus, *, how: str, who: str, on: date) -> BreakStatus:
    """Close a break by hand (how: what was done); it reopens if the same items break again."""
    if current.status is Status.RESOLVED:
        raise StatusError(f"break {current.break_key} is already resolved ({current.how})")
    if not how.strip() or not who.strip():
        raise StatusError("resolving a break needs who and how it was resolved")
    return replace(current, status=Status.RESOLVED, changed_on=on, who=who.strip(), how=how.strip())


@dataclass(frozen=True)
class CarryOver:
    """Today's statuses and what changed: keys per outcome, sorted."""

    statuses: dict[str, BreakStatus]  # every key ever seen: today's breaks and the resolved ones
    new: tuple[str, ...]  # first seen today
    kept: tuple[str, ...]  # open or acknowledged yesterday and still there (status kept)
    reopened: tuple[str, ...]  # resolved before, broken again today (open again)
    auto_closed: tuple[str, ...]  # open or acknowledged yesterday, gone today: resolved, data_changed


def carry_over(previous: Mapping[str, BreakStatus], today: Iterable[str], *, on: date) -> CarryOver:
    """Yesterday's statuses + today's break keys → today's statuses (pure; the same input, the same output)."""
    today_keys = set(today)
    statuses: dict[str, BreakStatus] = {}
    new, kept, reopened, closed = [], [], [], []
    for key in sorted(today_keys):
        before = previous.get(key)
        if before is None:
            statuses[key] = BreakStatus(key, Status.OPEN, opened_on=on, changed_on=on)
            new.append(key)
        elif before.status is Status.RESOLVED:
            statuses[key] = BreakStatus(
                key, Status.OPEN, opened_on=on, changed_on=on, note=f"reopened; was: {before.how}"
            )
            reopened.append(key)
        else:
            statuses[key] = before
            kept.append(key)
    for key in sorted(set(previous) - today_keys):
        before = previous[key]
        if before.status is Status.RESOLVED:
            statuses[key] = before
        else:
            statuses[key] = replace(before, status=Status.RESOLVED, changed_on=on, who="estatehub", how=DATA_CHANGED)
            closed.append(key)
    return CarryOver(statuses, tuple(new), tuple(kept), tuple(reopened), tuple(closed))


def statuses_frame(statuses: Mapping[str, BreakStatus]) -> pd.DataFrame:
    """The statuses as rows of BREAK_STATUS_COLUMNS (what the warehouse table will hold), by key."""
    rows = [
        (s.break_key, str(s.status), s.opened_on, s.changed_on, s.who, s.note, s.how)
        for _, s in sorted(statuses.items())
    ]
    return pd.DataFrame(rows, columns=list(BREAK_STATUS_COLUMNS))


def statuses_from_frame(frame: pd.DataFrame) -> dict[str, BreakStatus]:
    """Read statuses back from rows of BREAK_STATUS_COLUMNS."""
    out = {}
    for row in frame.itertuples(index=False):
        out[row.break_key] = BreakStatus(
            row.break_key,
            Status(row.status),
            opened_on=_none(row.opened_on),
            changed_on=_none(row.changed_on),
            who=_none(row.who),
            note=_none(row.note),
            how=_none(row.how),
        )
    return out


def _none(value: object) -> object:
    return None if value is None or (not isinstance(value, str | date) and pd.isna(value)) else value


@dataclass(frozen=True)
class Leftover:
    """The items of one side no tier matched, as arrays (positions into the side's prepared frame)."""

    ids: np.ndarray  # object array of str
    amount: np.ndarray  # int64 fen
    day: np.ndarray  # int64 days since 1970-01-01
    reference: pd.Series
    unit: pd.Series
    reason: np.ndarray  # object: None, or a classify rule's reason
    rule: np.ndarray  # object: None, or the classify rule's name


def pair_mismatches(left: Leftover, right: Leftover, *, window_days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (left position, right position, via) of leftovers that share a reference (any date) or a unit
    (within the window) but not the amount: each item in at most one pair, chosen deterministically."""
    free_l = pd.isna(left.reason.astype(object)) if len(left.ids) else np.zeros(0, bool)
    free_r = pd.isna(right.reason.astype(object)) if len(right.ids) else np.zeros(0, bool)
    pieces = []
    for via, column in ((0, "reference"), (1, "unit")):
        lkey, rkey = getattr(left, column), getattr(right, column)
        lsel = np.flatnonzero(free_l & lkey.notna().to_numpy())
        rsel = np.flatnonzero(free_r & rkey.notna().to_numpy())
        if not len(lsel) or not len(rsel):
            continue
        lf = pd.DataFrame({"key": lkey.to_numpy()[lsel], "lp": lsel})
        rf = pd.DataFrame({"key": rkey.to_numpy()[rsel], "rp": rsel})
        cand = lf.merge(rf, on="key")
        dd = right.day[cand["rp"].to_numpy()] - left.day[cand["lp"].to_numpy()]
        if via == 1:
            cand = cand[np.abs(dd) <= window_days]
            dd = dd[np.abs(dd) <= window_days]
        cand = cand.assign(via=via, abs_dd=np.abs(dd))
        pieces.append(cand)
    if not pieces:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    cand = pd.concat(pieces, ignore_index=True)
    cand["abs_da"] = np.abs(right.amount[cand["rp"].to_numpy()] - left.amount[cand["lp"].to_numpy()])
    cand = cand.sort_values(["lp", "rp", "via"], kind="mergesort").drop_duplicates(["lp", "rp"])
    # positions are ranks of the ids (prepared frames are sorted by id), so ties break by id
    chosen = assign_one_to_one(cand.rename(columns={"lp": "l", "rp": "r"}), ["via", "abs_da", "abs_dd"])
    return chosen["l"].to_numpy(), chosen["r"].to_numpy(), chosen["via"].to_numpy()


def build_breaks(
    *,
    scope: str,
    sides: Sequence[str],
    left: Leftover,
    right: Leftover,
    invalid: pd.DataFrame,
    window_days: int,
    as_of: date,
) -> pd.DataFrame:
    """Every leftover item in exactly one break: amount mismatches (pairs), classified, unmatched, invalid."""
    left_name, right_name = sides
    as_of_day = (as_of - EPOCH).days
    rows: list[tuple] = []
    lp, rp, via = pair_mismatches(left, right, window_days=window_days)
    for i, j, v in zip(lp.tolist(), rp.tolist(), via.tolist(), strict=True):
        la, ra = int(left.amount[i]), int(right.amount[j])
        first = min(int(left.day[i]), int(right.day[j]))
        what = f"reference {left.reference.iloc[i]}" if v == 0 else f"unit {left.unit.iloc[i]}"
        rows.append(
            (
                (str(left.ids[i]),),
                (str(right.ids[j]),),
                AMOUNT_MISMATCH,
                None,
                ra - la,
                la,
                ra,
                first,
                f"{what} on both sides; {left_name} {la} fen, {right_name} {ra} fen",
            )
        )
    paired_l, paired_r = set(lp.tolist()), set(rp.tolist())
    for side, items, name in ((0, left, left_name), (1, right, right_name)):
        paired = paired_l if side == 0 else paired_r
        for i in range(len(items.ids)):
            if i in paired:
                continue
            amount = int(items.amount[i])
            ids = (str(items.ids[i]),)
            reason, rule = items.reason[i], items.rule[i]
            detail = f"classified by rule {rule}" if rule is not None else f"no {sides[1 - side]} item matches"
            rows.append(
                (
                    ids if side == 0 else (),
                    ids if side == 1 else (),
                    reason if reason is not None else unmatched(name),
                    rule,
                    amount,
                    amount if side == 0 else 0,
                    amount if side == 1 else 0,
                    int(items.day[i]),
                    detail,
                )
            )
    for record in invalid.itertuples(index=False):
        amount = 0 if pd.isna(record.amount) else int(record.amount)
        ids = (str(record.id),)
        rows.append(
            (
                ids if record.side == left_name else (),
                ids if record.side == right_name else (),
                INVALID_INPUT,
                None,
                amount,
                amount if record.side == left_name else 0,
                amount if record.side == right_name else 0,
                None if pd.isna(record.day) else int(record.day),
                f"{record.side} item {record.id}: {record.problem}",
            )
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            "left_ids",
            "right_ids",
            "reason",
            "rule",
            "amount_fen",
            "left_amount_fen",
            "right_amount_fen",
            "first_day",
            "detail",
        ],
    )
    frame["rule"] = pd.Series([None if pd.isna(r) else r for r in frame["rule"]], dtype=object)
    frame["break_key"] = [
        stable_key("b", scope, lids, rids) for lids, rids in zip(frame["left_ids"], frame["right_ids"], strict=True)
    ]
    first_days = [None if pd.isna(day) else int(day) for day in frame["first_day"]]
    frame["first_on"] = pd.Series([None if d is None else EPOCH + timedelta(days=d) for d in first_days], dtype=object)
    frame["age_days"] = pd.array([None if d is None else as_of_day - d for d in first_days], dtype="Int64")
    for column in ("amount_fen", "left_amount_fen", "right_amount_fen"):
        frame[column] = frame[column].astype("int64")
    frame = frame[list(BREAK_COLUMNS)].sort_values("break_key", kind="mergesort", ignore_index=True)
    return frame
