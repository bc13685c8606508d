"""The matching engine the reconciliations share: two sides in, matches and breaks out.

Each side is a DataFrame with the columns

    id          unique per side (the warehouse key of the line); str or int, never null
    amount_fen  integer fen (int64 or Int64); float money is refused, a missing amount is quarantined
    on          the date (date, datetime64 or ISO text); a missing or unreadable date is quarantined
    reference   optional: bank serial, voucher number, contract number
    unit        optional: the unit (house) key
    text        optional: payer name and/or memo
    party       optional: who paid or was paid, a name alone (tier 2's `unit_text_first` compares it;
                a side without the column gives its `text`)
    memo        optional: the free text in which the other side's party may be written
    names       optional: the other people a row stands for, space-separated (the customers of a
                batch entry), looked for in the other side's memo like its party

and the tiers run in order, each only on what the earlier ones left:

    1 reference         the same reference, amount within the tolerance (any date)
    2 unit_amount_date  the same unit, amount within the tolerance, date within the window; with
                        `unit_text_first`, pairs whose parties agree (score ≥ the minimum, or one
                        side's party written whole in the other's memo: the borrower a fund
                        centre's line names) are taken first, so that of many equal amounts in the
                        window the payer's own pairs up
    3 text_amount       payer name / memo scored by rapidfuzz WRatio ≥ the minimum, amount within the
                        tolerance, date within the text window
    4 split             one item against 2..max_group items of the other side (same unit or reference,
                        within the split window), whose sum is the amount within the tolerance; its
                        parts drawn from the `split_max_candidates` the item names (party or names
                        in their memo, or theirs in its memo) first, then the nearest
    5 rule              finance's rules (estatehub.reconcile.rules): alias → matched by name and amount;
                        ignore → not a break; classify → a break with the rule's reason

Tiers 1-3 are one-to-one (assign_one_to_one); tier 4 makes explicit groups (one match_id, several
links). Ties break on the ids, so the same input in any row order gives the same result.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from hashlib import blake2b
from itertools import combinations

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process, utils

from estatehub.reconcile.assign import assign_one_to_one
from estatehub.reconcile.breaks import EPOCH, Leftover, build_breaks, stable_key
from estatehub.reconcile.errors import MatchInputError
from estatehub.reconcile.rules import Rule, RuleSet

log = logging.getLogger(__name__)

TIER_NAMES = {1: "reference", 2: "unit_amount_date", 3: "text_amount", 4: "split", 5: "rule"}
TIER_BASE_CONFIDENCE = {1: 1.00, 2: 0.95, 3: 0.90, 4: 0.85, 5: 0.80}
REQUIRED_COLUMNS = ("id", "amount_fen", "on")
OPTIONAL_COLUMNS = ("reference", "unit", "text", "party", "memo", "names")
KEY_COLUMNS = ("reference", "unit")  # compared equal, so stripped; the others are free text
PARTY_MIN_CHARS = 2  # a party shorter than this is never looked for in a memo

MATCH_COLUMNS = (
    "match_id",  # stable: scope + the group's sorted ids per side; several rows = one split group
    "tier",  # 1..5
    "tier_name",
    "rule",  # the alias rule of a tier-5 match, else None
    "left_id",
    "right_id",
    "left_amount_fen",
    "right_amount_fen",
    "amount_delta_fen",  # of the group: sum(right) - sum(left)
    "date_delta_days",  # of the link: right date - left date
    "text_score",  # rapidfuzz WRatio 0..100 for tiers 3 and 5, else NaN
    "confidence",  # 0..1, see docs/decisions/0014-reconciliation-matching.md
    "group_size",  # items in the match (2 for one-to-one)
)
IGNORED_COLUMNS = ("side", "id", "rule", "category", "amount_fen", "on")


@dataclass(frozen=True)
class Tolerances:
    """The knobs of the tiers, with their defaults; every edge is inclusive (exactly at the window = match)."""

    amount_tolerance_fen: int = 0
    date_window_days: int = 3  # tier 2, and pairing unit mismatches
    text_min_score: float = 85.0  # tier 3 and alias rules (rapidfuzz WRatio, 0..100)
    text_date_window_days: int = 7
    split_date_window_days: int = 7
    split_max_group: int = 4  # items on the many side of a split
    split_max_candidates: int = 10  # nearest items (by date) a split may draw from
    # tier 2 takes the pairs whose texts agree before the nearest dates (an account with dozens of equal
    # deposits a day: the nearest-date pairing crosses payers)
    unit_text_first: bool = False

    def __post_init__(self) -> None:
        for name in (
            "amount_tolerance_fen",
            "date_window_days",
            "text_date_window_days",
            "split_date_window_days",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise MatchInputError(f"tolerance {name} must be a whole number ≥ 0, got {value!r}")
        if not 0 <= self.text_min_score <= 100:
            raise MatchInputError(f"text_min_score must be within 0..100, got {self.text_min_score!r}")
        if not 2 <= self.split_max_group <= 6:
            raise MatchInputError(f"split_max_group must be within 2..6, got {self.split_max_group!r}")
        if not self.split_max_group <= self.split_max_candidates <= 16:
            raise MatchInputError(
                f"split_max_candidates must be within split_max_group..16, got {self.split_max_candidates!r}"
            )


@dataclass(frozen=True)
class MatchResult:
    scope: str
    sides: tuple[str, str]
    as_of: date
    matches: pd.DataFrame  # MATCH_COLUMNS, one row per link
    breaks: pd.DataFrame  # breaks.BREAK_COLUMNS
    ignored: pd.DataFrame  # IGNORED_COLUMNS: lines an ignore rule took
    counts: dict[str, int] = field(default_factory=dict)  # matches per tier, ignored, breaks per reason
    seconds: dict[str, float] = field(default_factory=dict, compare=False)  # wall time per phase


@dataclass
class _Side:
    """A side after checking: sorted by id, so a row's position is the rank of its id."""

    name: str
    frame: pd.DataFrame  # id (object str), amount (int64), day (int64), reference, unit, text, party, memo, names
    invalid: pd.DataFrame  # side, id, amount, day, problem
    given: frozenset[str] = frozenset()  # the optional columns the caller supplied
    free: np.ndarray = field(init=False)
    reason: np.ndarray = field(init=False)  # classify rule's reason per row
    rule: np.ndarray = field(init=False)
    category: dict[int, str] = field(default_factory=dict)  # ignore rules: position → category

    def __post_init__(self) -> None:
        self._columns = {name: self.frame[name].to_numpy() for name in self.frame.columns}
        self._present = {name: pd.notna(self._columns[name]) for name in OPTIONAL_COLUMNS}
        self.free = np.ones(len(self.frame), dtype=bool)
        self.reason = np.full(len(self.frame), None, dtype=object)
        self.rule = np.full(len(self.frame), None, dtype=object)

    def column(self, name: str) -> np.ndarray:
        return self._columns[name]

    def present(self, name: str) -> np.ndarray:
        """Rows where the optional column `name` has a value."""
        return self._present[name]


def match(
    left: pd.DataFrame,
    right: pd.DataFrame,
    *,
    as_of: date,
    sides: Sequence[str] = ("ledger", "bank"),
    scope: str | None = None,
    tolerances: Tolerances | None = None,
    rules: RuleSet | None = None,
) -> MatchResult:
    """Match `left` against `right` tier by tier; everything left over becomes a break aged at `as_of`."""
    tol = tolerances or Tolerances()
    if len(sides) != 2 or sides[0] == sides[1]:
        raise MatchInputError(f"sides must be two different names, got {sides!r}")
    names = (str(sides[0]), str(sides[1]))
    scope = scope or f"{names[0]}~{names[1]}"
    rules = rules or RuleSet()
    rules.check_sides(names)
    clock = _Clock()
    a, b = _prepare(left, names[0]), _prepare(right, names[1])
    clock.lap("prepare")

    links: list[pd.DataFrame] = []
    for tier, pairs in (
        (1, lambda: _key_candidates(a, b, "reference", tol.amount_tolerance_fen, None)),
        (2, lambda: _key_candidates(a, b, "unit", tol.amount_tolerance_fen, tol.date_window_days)),
        (3, lambda: _text_candidates(a, b, tol, a.column("text"), b.column("text"), a.free, b.free)),
    ):
        if tier == 2 and tol.unit_text_first:
            agreeing = assign_one_to_one(_unit_text_candidates(a, b, tol), ["abs_da", "abs_dd", "neg_score"])
            links.append(_take_pairs(a, b, agreeing, tier, None, tol))
        if tier == 2 and tol.amount_tolerance_fen == 0:  # the same choice, without forming every pair
            chosen = exact_window_choice(a, b, "unit", tol.date_window_days)
        else:
            chosen = assign_one_to_one(pairs(), ["neg_score", "abs_da", "abs_dd"])
        links.append(_take_pairs(a, b, chosen, tier, None, tol))
        clock.lap(f"tier_{tier}")
    links.append(_split_tier(a, b, tol))
    clock.lap("tier_4")
    for rule in rules.rules:
        links.append(_apply_rule(a, b, rule, tol))
    clock.lap("tier_5")
    matches = _finish_matches(pd.concat(links, ignore_index=True), a, b, scope)
    clock.lap("matches")

    ignored = _ignored_frame(a, b)
    breaks = build_breaks(
        scope=scope,
        sides=names,
        left=_leftover(a),
        right=_leftover(b),
        invalid=pd.concat([a.invalid, b.invalid], ignore_index=True),
        window_days=tol.date_window_days,
        as_of=as_of,
    )
    clock.lap("breaks")
    first_of_match = ~matches["match_id"].duplicated().to_numpy()
    per_tier = np.bincount(matches["tier"].to_numpy()[first_of_match], minlength=6)
    counts = {f"tier_{t}_{n}": int(per_tier[t]) for t, n in TIER_NAMES.items()}
    counts["ignored"] = len(ignored)
    for reason, n in breaks["reason"].value_counts().sort_index().items():
        counts[f"break_{reason}"] = int(n)
    log.info("matched %s: %s in %.1f s", scope, counts, sum(clock.seconds.values()))
    return MatchResult(scope, names, as_of, matches, breaks, ignored, counts, clock.seconds)


class _Clock:
    """Seconds per phase of one match (for the benchmark and the run's log; not part of the result's identity)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = round(now - self._last, 3)
        self._last = now


# --- input -----------------------------------------------------------------------------------------


def _prepare(frame: pd.DataFrame, name: str) -> _Side:
    if not isinstance(frame, pd.DataFrame):
        raise MatchInputError(f"the {name} side must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise MatchInputError(
            f"the {name} side lacks column(s) {', '.join(missing)}; it needs {', '.join(REQUIRED_COLUMNS)} "
            f"(optional: {', '.join(OPTIONAL_COLUMNS)})"
        )
    if frame["id"].isna().any():
        raise MatchInputError(f"the {name} side has rows without an id; every line needs its warehouse key")
    ids = frame["id"].astype("str").to_numpy(dtype=object)
    order = _id_order(ids)  # every column in id order: a row's position becomes the rank of its id
    ids = ids[order]
    amount = _amounts(frame["amount_fen"], name).iloc[order].reset_index(drop=True)
    days = _days(frame["on"])[order]
    text = {
        c: _text(frame[c], strip=c in KEY_COLUMNS)[order]
        if c in frame.columns
        else np.full(len(frame), None, dtype=object)
        for c in OPTIONAL_COLUMNS
    }

    problem = np.full(len(frame), None, dtype=object)
    problem[pd.isna(days)] = "no readable date"
    problem[amount.isna().to_numpy()] = "no amount"
    same_as_next = np.zeros(len(ids), dtype=bool)
    same_as_next[:-1] = ids[1:] == ids[:-1] if len(ids) > 1 else False
    duplicated = same_as_next.copy()  # sorted: equal ids are neighbours
    duplicated[1:] |= same_as_next[:-1]
    problem[duplicated] = "its id occurs more than once on this side"
    bad = pd.notna(problem)
    invalid = pd.DataFrame(
        {
            "side": name,
            "id": ids[bad],
            "amount": amount[bad].to_numpy(),
            "day": pd.array(days[bad], dtype="Int64"),
            "problem": problem[bad],
        }
    )
    # one break per duplicated id (the key is made of ids): sum the lines, keep the earliest date
    invalid = (
        invalid.groupby(["side", "id", "problem"], sort=True, dropna=False)
        .agg(amount=("amount", lambda s: s.sum(min_count=1)), day=("day", "min"))
        .reset_index()
    )
    good = pd.DataFrame(
        {
            "id": ids[~bad],
            "amount": amount[~bad].to_numpy(dtype=np.int64),
            "day": days[~bad].astype(np.int64),
            **{c: pd.Series(text[c][~bad], dtype=object) for c in OPTIONAL_COLUMNS},
        }
    )
    return _Side(name, good, invalid, frozenset(c for c in OPTIONAL_COLUMNS if c in frame.columns))


def _amounts(column: pd.Series, name: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_float_dtype(column):
        raise MatchInputError(
            f"the {name} side's amount_fen is {column.dtype}: money must be integer fen, never float yuan "
            "(convert exactly where it is read, e.g. Decimal(yuan) * 100)"
        )
    if pd.api.types.is_integer_dtype(column):
        return column.astype("Int64").reset_index(drop=True)
    values = column.to_numpy(dtype=object)
    for value in values:
        if value is None or value is pd.NA:
            continue
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise MatchInputError(
                f"the {name} side's amount_fen holds {value!r} ({type(value).__name__}); money must be integer fen"
            )
    return pd.Series(pd.array(list(values), dtype="Int64"))


def _days(column: pd.Series) -> np.ndarray:
    stamps = pd.to_datetime(column, errors="coerce")
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_localize(None)
    values = stamps.to_numpy(dtype="datetime64[D]")
    days = values.astype(np.int64).astype(object)
    days[pd.isna(values)] = None
    return days


def _text(column: pd.Series, *, strip: bool) -> np.ndarray:
    """An optional column as an object array of str, None where missing or empty (keys also stripped:
    a reference or unit must compare equal; free text goes through rapidfuzz's own processor)."""
    present = ~column.isna().to_numpy()
    values = column.to_numpy(dtype=object)[present]
    if strip and len(values):
        width = max(map(len, map(str, values)))
        if width <= 64:  # fixed-width unicode: numpy strips in C
            values = np.strings.strip(values.astype(f"U{width}")).astype(object)
        else:
            values = np.array([str(v).strip() for v in values], dtype=object)
    elif len(values) and not isinstance(column.dtype, pd.StringDtype):  # str columns hold str already
        values = np.array([v if type(v) is str else str(v) for v in values], dtype=object)
    out = np.full(len(present), None, dtype=object)
    out[present] = values
    out[out == ""] = None
    return out


def _id_order(ids: np.ndarray) -> np.ndarray:
    """Positions that sort the ids (str); through fixed-width unicode when short (C compare, no objects)."""
    width = max(map(len, ids), default=0)
    if width <= 64:
        return np.argsort(ids.astype(f"U{max(width, 1)}"), kind="stable")
    return np.argsort(ids, kind="stable")


# --- candidates --------------------------------------------------------------------------------------


def _key_candidates(a: _Side, b: _Side, key: str, amount_tol: int, window: int | None) -> pd.DataFrame:
    """Pairs of free items with the same key, amount within the tolerance (and date within the window)."""
    lsel = np.flatnonzero(a.free & a.present(key))
    rsel = np.flatnonzero(b.free & b.present(key))
    if window is None:
        lf = pd.DataFrame({"key": a.column(key)[lsel], "l": lsel})
        rf = pd.DataFrame({"key": b.column(key)[rsel], "r": rsel})
        cand = lf.merge(rf, on="key")[["l", "r"]]
    else:  # join on (key, day) with the left spread over the window: a busy unit never forms all its pairs
        offsets = np.arange(-window, window + 1)
        lf = pd.DataFrame(
            {
                "key": np.repeat(a.column(key)[lsel], len(offsets)),
                "day": np.repeat(a.column("day")[lsel], len(offsets)) + np.tile(offsets, len(lsel)),
                "l": np.repeat(lsel, len(offsets)),
            }
        )
        rf = pd.DataFrame({"key": b.column(key)[rsel], "day": b.column("day")[rsel], "r": rsel})
        cand = lf.merge(rf, on=["key", "day"])[["l", "r"]]
    return _deltas(cand, a, b, amount_tol, window)


def exact_window_choice(a: _Side, b: _Side, key: str, window: int) -> pd.DataFrame:
    """What `assign_one_to_one` chooses among the candidates of `_key_candidates(a, b, key, 0, window)`
    (same key, same amount, dates at most `window` days apart; order: date gap, then l, then r), computed
    without forming them: on a busy account hundreds of equal amounts a day (every deposit of 50,000.00)
    make millions of candidate pairs, where this keeps one row per item.

    Items of one side with the same key, amount and day form a block. Greedy takes, gap by gap, for each
    free left in l order the smallest free right at that gap; a block's rights are therefore always taken
    in r order (smallest first), so each block needs a pointer, not a search. Gap 0 pairs the i-th
    free left of a block with the i-th right of the matching block, vectorised; the few left for the
    wider gaps go one by one. `tests/reconcile/test_tiers.py` checks it against the greedy on every
    candidate."""
    lsel = np.flatnonzero(a.free & a.present(key))
    rsel = np.flatnonzero(b.free & b.present(key))
    lf = pd.DataFrame({"key": a.column(key)[lsel], "amount": a.column("amount")[lsel], "day": a.column("day")[lsel]})
    rf = pd.DataFrame({"key": b.column(key)[rsel], "amount": b.column("amount")[rsel], "day": b.column("day")[rsel]})
    lf["l"], rf["r"] = lsel, rsel  # ascending: the ranks of the ids
    blocks = ["key", "amount", "day"]
    lf["rank"] = lf.groupby(blocks, sort=False).cumcount()
    rf["rank"] = rf.groupby(blocks, sort=False).cumcount()
    same_day = lf.merge(rf, on=[*blocks, "rank"])[["l", "r"]]
    pairs_l, pairs_r, gaps = [same_day["l"].to_numpy()], [same_day["r"].to_numpy()], [np.zeros(len(same_day), np.int64)]
    left_over = lf[~lf["l"].isin(same_day["l"])]
    if window > 0 and len(left_over):
        heads: dict[tuple, list[int]] = {}  # the block's free rights, largest r first (pop() = smallest)
        for k, amount, day, r in rf.loc[~rf["r"].isin(same_day["r"]), ["key", "amount", "day", "r"]].itertuples(
            index=False
        ):
            heads.setdefault((k, amount, day), []).append(r)
        for block in heads.values():
            block.reverse()
        waiting = list(left_over[["l", "key", "amount", "day"]].itertuples(index=False))
        found: list[tuple[int, int, int]] = []  # (l, r, date gap)
        for gap in range(1, window + 1):
            still = []
            for item in waiting:
                left, k, amount, day = item
                before, after = heads.get((k, amount, day - gap)), heads.get((k, amount, day + gap))
                if before and (not after or before[-1] < after[-1]):
                    found.append((left, before.pop(), -gap))
                elif after:
                    found.append((left, after.pop(), gap))
                else:
                    still.append(item)
            waiting = still
        found_l, found_r, found_gap = zip(*found, strict=True) if found else ((), (), ())
        pairs_l.append(np.asarray(found_l, np.int64))
        pairs_r.append(np.asarray(found_r, np.int64))
        gaps.append(np.asarray(found_gap, np.int64))
    li, ri, dd = np.concatenate(pairs_l), np.concatenate(pairs_r), np.concatenate(gaps)
    n = len(li)
    return pd.DataFrame(
        {
            "l": li,
            "r": ri,
            "da": np.zeros(n, np.int64),
            "dd": dd,
            "abs_da": np.zeros(n, np.int64),
            "abs_dd": np.abs(dd),
            "score": np.full(n, np.nan),
            "neg_score": np.zeros(n),
        }
    )


def _deltas(cand: pd.DataFrame, a: _Side, b: _Side, amount_tol: int, window: int | None) -> pd.DataFrame:
    li, ri = cand["l"].to_numpy(), cand["r"].to_numpy()
    da = b.column("amount")[ri] - a.column("amount")[li]
    dd = b.column("day")[ri] - a.column("day")[li]
    keep = np.abs(da) <= amount_tol
    if window is not None:
        keep &= np.abs(dd) <= window
    return pd.DataFrame(
        {
            "l": li[keep],
            "r": ri[keep],
            "da": da[keep],
            "dd": dd[keep],
            "abs_da": np.abs(da[keep]),
            "abs_dd": np.abs(dd[keep]),
            "score": np.full(int(keep.sum()), np.nan),
            "neg_score": np.zeros(int(keep.sum())),
        }
    )


def _text_candidates(
    a: _Side,
    b: _Side,
    tol: Tolerances,
    ltext: np.ndarray,
    rtext: np.ndarray,
    lfree: np.ndarray,
    rfree: np.ndarray,
    *,
    min_score: float | None = None,
) -> pd.DataFrame:
    """Pairs with amounts within the tolerance, dates within the text window, and texts scoring ≥ the minimum
    (`min_score`, else the tolerances').

    The join is on (amount bucket, day) with the left side spread over the window's days (and the
    neighbouring buckets when there is a tolerance), so it never forms all pairs of an amount.
    """
    lsel = np.flatnonzero(lfree & pd.notna(ltext))
    rsel = np.flatnonzero(rfree & pd.notna(rtext))
    if not len(lsel) or not len(rsel):
        return _deltas(pd.DataFrame({"l": [], "r": []}, dtype=np.int64), a, b, 0, 0)
    width = tol.amount_tolerance_fen + 1
    window = tol.text_date_window_days
    day_offsets = np.arange(-window, window + 1)
    bucket_offsets = np.array([0]) if width == 1 else np.array([-1, 0, 1])
    spread = len(day_offsets) * len(bucket_offsets)
    lamount, lday = a.column("amount")[lsel], a.column("day")[lsel]
    lf = pd.DataFrame(
        {
            "l": np.repeat(lsel, spread),
            "bucket": np.repeat(lamount // width, spread)
            + np.tile(np.repeat(bucket_offsets, len(day_offsets)), len(lsel)),
            "day": np.repeat(lday, spread) + np.tile(day_offsets, len(lsel) * len(bucket_offsets)),
        }
    )
    rf = pd.DataFrame({"r": rsel, "bucket": b.column("amount")[rsel] // width, "day": b.column("day")[rsel]})
    cand = lf.merge(rf, on=["bucket", "day"])[["l", "r"]]
    cand = _deltas(cand, a, b, tol.amount_tolerance_fen, window)
    if cand.empty:
        return cand
    scores = process.cpdist(
        list(ltext[cand["l"].to_numpy()]),
        list(rtext[cand["r"].to_numpy()]),
        scorer=fuzz.WRatio,
        processor=utils.default_process,
        workers=1,
    )
    cand["score"] = np.round(scores.astype(np.float64), 4)
    cand["neg_score"] = -cand["score"]
    floor = tol.text_min_score if min_score is None else min_score
    return cand[cand["score"] >= floor].reset_index(drop=True)


def _unit_text_candidates(a: _Side, b: _Side, tol: Tolerances) -> pd.DataFrame:
    """Tier 2's pairs (same unit, amount within the tolerance, date within the window) whose parties agree:
    scored ≥ the minimum, or one side's party written whole in the other side's memo (scored 100)."""
    within = replace(tol, text_date_window_days=tol.date_window_days)
    lparty, rparty = _party(a), _party(b)
    lfree, rfree = a.free & a.present("unit"), b.free & b.present("unit")
    cand = _text_candidates(a, b, within, lparty, rparty, lfree, rfree, min_score=0.0)
    if cand.empty:
        return cand
    li, ri = cand["l"].to_numpy(), cand["r"].to_numpy()
    same = a.column("unit")[li] == b.column("unit")[ri]
    written = _written_in(lparty[li], b.column("memo")[ri]) | _written_in(rparty[ri], a.column("memo")[li])
    cand.loc[written, "score"] = 100.0
    cand["neg_score"] = -cand["score"]
    return cand[same & (cand["score"].to_numpy() >= tol.text_min_score)].reset_index(drop=True)


def _party(side: _Side) -> np.ndarray:
    return side.column("party") if "party" in side.given else side.column("text")


def _written_in(names: np.ndarray, memos: np.ndarray) -> np.ndarray:
    """Per pair: the name (at least `PARTY_MIN_CHARS` long) occurs whole in the memo."""
    return np.array(
        [
            isinstance(n, str) and isinstance(m, str) and len(n) >= PARTY_MIN_CHARS and n in m
            for n, m in zip(names, memos, strict=True)
        ],
        dtype=bool,
    )


# --- taking matches ------------------------------------------------------------------------------------


def _confidence(tier: int, abs_da: np.ndarray, abs_dd: np.ndarray, score: np.ndarray, tol: Tolerances) -> np.ndarray:
    """base(tier) × (score/100 for text tiers) − 0.05·|Δamount|/(tolerance+1) − 0.10·min(|Δdays|/(window+1), 1)."""
    window = {1: tol.date_window_days, 2: tol.date_window_days, 3: tol.text_date_window_days}.get(
        tier, tol.split_date_window_days if tier == 4 else tol.text_date_window_days
    )
    value = np.full(len(abs_da), TIER_BASE_CONFIDENCE[tier], dtype=np.float64)
    if tier in (3, 5):
        value = value * score / 100.0
    value = value - 0.05 * abs_da / (tol.amount_tolerance_fen + 1)
    value = value - 0.10 * np.minimum(abs_dd / (window + 1), 1.0)
    return np.round(np.clip(value, 0.0, 1.0), 4)


def _take_pairs(a: _Side, b: _Side, chosen: pd.DataFrame, tier: int, rule: str | None, tol: Tolerances) -> pd.DataFrame:
    if chosen.empty:
        return _links_frame([], [], [], [], [], [], [], [], [])
    li, ri = chosen["l"].to_numpy(), chosen["r"].to_numpy()
    a.free[li] = False
    b.free[ri] = False
    score = chosen["score"].to_numpy()
    confidence = _confidence(tier, chosen["abs_da"].to_numpy(), chosen["abs_dd"].to_numpy(), score, tol)
    n = len(li)
    return _links_frame(
        group=np.full(n, -1),  # one-to-one: each pair its own group
        tier=np.full(n, tier),
        rule=np.full(n, rule, dtype=object),
        left=li,
        right=ri,
        da=chosen["da"].to_numpy(),
        dd=chosen["dd"].to_numpy(),
        score=score,
        confidence=confidence,
    )


def _links_frame(group, tier, rule, left, right, da, dd, score, confidence) -> pd.DataFrame:  # noqa: ANN001
    return pd.DataFrame(
        {
            "group": np.asarray(group, dtype=np.int64),
            "tier": np.asarray(tier, dtype=np.int64),
            "rule": np.asarray(rule, dtype=object),
            "l": np.asarray(left, dtype=np.int64),
            "r": np.asarray(right, dtype=np.int64),
            "da": np.asarray(da, dtype=np.int64),
            "dd": np.asarray(dd, dtype=np.int64),
            "score": np.asarray(score, dtype=np.float64),
            "confidence": np.asarray(confidence, dtype=np.float64),
        }
    )


@cache
def _combinations(n: int, k: int) -> np.ndarray:
    return np.array(list(combinations(range(n), k)), dtype=np.int64).reshape(-1, k)


def _best_subset(
    amounts: np.ndarray, abs_dd: np.ndarray, ranks: np.ndarray, target: int, tol: Tolerances
) -> tuple[tuple, np.ndarray] | None:
    """(key, positions) of the subset (2..max_group items) whose sum is nearest the target within the
    tolerance; the key orders it: smallest |delta|, then fewest items, then smallest total |Δdays|, then the
    smallest ranks."""
    best_key, best = None, None
    for k in range(2, min(tol.split_max_group, len(amounts)) + 1):
        combos = _combinations(len(amounts), k)
        delta = np.abs(amounts[combos].sum(axis=1) - target)
        ok = np.flatnonzero(delta <= tol.amount_tolerance_fen)
        for i in ok.tolist():
            members = combos[i]
            key = (int(delta[i]), k, int(abs_dd[members].sum()), tuple(sorted(ranks[members].tolist())))
            if best_key is None or key < best_key:
                best_key, best = key, members
    return None if best is None else (best_key, best)


@dataclass
class _SplitCandidates:
    """For one direction of the split tier (targets of one side, parts of the other): each target's nearest
    candidate parts, as slices of flat arrays."""

    target_is_left: bool
    t_side: _Side
    p_side: _Side
    slices: dict[int, slice]
    parts: np.ndarray
    abs_dd: np.ndarray
    amounts: np.ndarray

    def propose(self, target: int, tol: Tolerances) -> tuple[tuple, np.ndarray] | None:
        """The target's best group among the parts still free: (order key, the parts' positions)."""
        if not self.t_side.free[target]:
            return None
        sl = self.slices[target]
        parts = self.parts[sl]
        usable = self.p_side.free[parts]
        if usable.sum() < 2:
            return None
        amount = int(self.t_side.column("amount")[target])
        found = _best_subset(self.amounts[sl][usable], self.abs_dd[sl][usable], parts[usable], amount, tol)
        if found is None:
            return None
        (delta, k, dd, _), best = found
        members = np.sort(parts[usable][best])
        day = int(self.t_side.column("day")[target])
        return (delta, k, dd, day, amount, not self.target_is_left, target), members


def _split_candidates(t_side: _Side, p_side: _Side, target_is_left: bool, tol: Tolerances) -> _SplitCandidates | None:
    pieces = []
    for key in ("unit", "reference"):
        tsel = np.flatnonzero(t_side.free & t_side.present(key))
        psel = np.flatnonzero(p_side.free & p_side.present(key))
        if len(tsel) and len(psel):
            tf = pd.DataFrame({"key": t_side.column(key)[tsel], "t": tsel})
            pf = pd.DataFrame({"key": p_side.column(key)[psel], "p": psel})
            pieces.append(tf.merge(pf, on="key")[["t", "p"]])
    if not pieces:
        return None
    cand = pd.concat(pieces, ignore_index=True).drop_duplicates()
    t, p = cand["t"].to_numpy(), cand["p"].to_numpy()
    tamount, pamount = t_side.column("amount")[t], p_side.column("amount")[p]
    abs_dd = np.abs(p_side.column("day")[p] - t_side.column("day")[t])
    keep = (
        (np.sign(pamount) == np.sign(tamount))
        & (pamount != 0)
        & (np.abs(pamount) <= np.abs(tamount) + tol.amount_tolerance_fen)
        & (abs_dd <= tol.split_date_window_days)
    )
    t, p = t[keep], p[keep]
    cand = pd.DataFrame(
        {
            "t": t,
            "p": p,
            "abs_dd": abs_dd[keep],
            "amount": pamount[keep],
            "abs": np.abs(pamount[keep]),
            "unnamed": ~_named(t_side, p_side, t, p),
        }
    )
    # the parts the target names (or that name it) first, then the nearest dates: on a launch day an account has
    # dozens of lines within the window, and a batch entry's parts are the lines of its borrowers
    cand = cand.sort_values(["t", "unnamed", "abs_dd", "p"], kind="mergesort", ignore_index=True)
    cand = cand[cand.groupby("t").cumcount() < tol.split_max_candidates]
    size = cand.groupby("t")["p"].transform("size")
    reach = cand.groupby("t")["abs"].transform("sum")
    tabs = np.abs(t_side.column("amount")[cand["t"].to_numpy()])
    cand = cand[(size >= 2).to_numpy() & (reach.to_numpy() >= tabs - tol.amount_tolerance_fen)]
    if cand.empty:
        return None
    targets, starts, counts = np.unique(cand["t"].to_numpy(), return_index=True, return_counts=True)
    slices = {int(t): slice(int(s), int(s + n)) for t, s, n in zip(targets, starts, counts, strict=True)}
    return _SplitCandidates(
        target_is_left,
        t_side,
        p_side,
        slices,
        cand["p"].to_numpy(),
        cand["abs_dd"].to_numpy(),
        cand["amount"].to_numpy(),
    )


def _named(t_side: _Side, p_side: _Side, t: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Per (target, part) pair: one names the other — the target's party, or a name of its `names` (the
    customers of a batch entry), written whole in the part's memo, or the part's in the target's memo."""
    named = np.zeros(len(t), dtype=bool)
    for one, other, i, j in ((t_side, p_side, t, p), (p_side, t_side, p, t)):
        if "memo" not in other.given or not ("party" in one.given or "names" in one.given):
            continue
        memos = other.column("memo")[j]
        if "party" in one.given:
            named |= _written_in(one.column("party")[i], memos)
        if "names" in one.given:
            named |= _any_written_in(one.column("names")[i], memos)
    return named


def _any_written_in(names: np.ndarray, memos: np.ndarray) -> np.ndarray:
    """Per pair: one of the names (space-separated) occurs whole in the memo."""
    return np.array(
        [
            isinstance(ns, str) and isinstance(m, str) and any(len(n) >= PARTY_MIN_CHARS and n in m for n in ns.split())
            for ns, m in zip(names, memos, strict=True)
        ],
        dtype=bool,
    )


def _split_tier(a: _Side, b: _Side, tol: Tolerances) -> pd.DataFrame:
    """One item against several of the other side with the same unit or reference (explicit groups).

    Both directions compete: every target proposes its best group among the free parts, the best proposals
    are taken first (smallest |Δamount|, fewest items, smallest total |Δdays|, then date, amount, the left
    side's targets first, the ids), and a target whose parts another group took proposes again. So a ledger
    entry booking two bank lines of its day is not robbed of one by a line that two entries of the next day
    also happen to sum to."""
    directions = [
        found
        for target_is_left in (True, False)
        if (found := _split_candidates(*((a, b) if target_is_left else (b, a)), target_is_left, tol)) is not None
    ]
    pending = [(d, target) for d in directions for target in d.slices]
    groups: list[tuple[_SplitCandidates, int, np.ndarray]] = []
    while pending:
        proposals = [
            (found[0], index, d, target, found[1])
            for index, (d, target) in enumerate(pending)
            if (found := d.propose(target, tol)) is not None
        ]
        proposals.sort(key=lambda x: (x[0], x[1]))
        again = []
        for _, _, d, target, members in proposals:
            if d.t_side.free[target] and d.p_side.free[members].all():
                d.t_side.free[target] = False
                d.p_side.free[members] = False
                groups.append((d, target, members))
            else:
                again.append((d, target))
        pending = again
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("group", "left", "right", "da", "dd", "worst_dd")}
    for group_base, (d, target, members) in enumerate(sorted(groups, key=lambda g: (not g[0].target_is_left, g[1]))):
        t_side, p_side, target_is_left = d.t_side, d.p_side, d.target_is_left
        n = len(members)
        t_amount = int(t_side.column("amount")[target])
        total = int(p_side.column("amount")[members].sum())
        delta = (total - t_amount) if target_is_left else (t_amount - total)
        dd = p_side.column("day")[members] - t_side.column("day")[target]
        cols["group"].append(np.full(n, group_base))
        cols["left"].append(np.full(n, target) if target_is_left else members)
        cols["right"].append(members if target_is_left else np.full(n, target))
        cols["da"].append(np.full(n, delta))
        cols["dd"].append(dd if target_is_left else -dd)
        cols["worst_dd"].append(np.full(n, np.abs(dd).max()))
    if not cols["group"]:
        return _links_frame([], [], [], [], [], [], [], [], [])
    joined = {name: np.concatenate(parts) for name, parts in cols.items()}
    n = len(joined["group"])
    confidence = _confidence(4, np.abs(joined["da"]), joined["worst_dd"], np.full(n, np.nan), tol)
    return _links_frame(
        group=joined["group"],
        tier=np.full(n, 4),
        rule=np.full(n, None, dtype=object),
        left=joined["left"],
        right=joined["right"],
        da=joined["da"],
        dd=joined["dd"],
        score=np.full(n, np.nan),
        confidence=confidence,
    )


def _apply_rule(a: _Side, b: _Side, rule: Rule, tol: Tolerances) -> pd.DataFrame:
    side = a if rule.side == a.name else b
    free = np.flatnonzero(side.free)  # a rule reads only the lines still unmatched
    mask = np.zeros(len(side.free), dtype=bool)
    mask[free[rule.selects(side.column("text")[free], side.column("reference")[free], side.column("amount")[free])]] = (
        True
    )
    if rule.action == "ignore":
        side.free[mask] = False
        side.reason[mask] = _IGNORED
        side.rule[mask] = rule.name
        for position in np.flatnonzero(mask).tolist():
            side.category[position] = rule.category
        return _links_frame([], [], [], [], [], [], [], [], [])
    if rule.action == "classify":
        side.free[mask] = False
        side.reason[mask] = rule.reason
        side.rule[mask] = rule.name
        return _links_frame([], [], [], [], [], [], [], [], [])
    # alias: read the selected lines' payer as the alias, then match by name and amount like tier 3
    aliased = side.column("text").copy()
    aliased[mask] = rule.alias
    aliased[~mask] = None
    ltext, rtext = (aliased, b.column("text")) if side is a else (a.column("text"), aliased)
    lfree, rfree = (mask, b.free) if side is a else (a.free, mask)
    chosen = assign_one_to_one(
        _text_candidates(a, b, tol, ltext, rtext, lfree, rfree), ["neg_score", "abs_da", "abs_dd"]
    )
    return _take_pairs(a, b, chosen, 5, rule.name, tol)


_IGNORED = "\x00ignored"  # internal marker in _Side.reason: an ignore rule took the line


def _finish_matches(links: pd.DataFrame, a: _Side, b: _Side, scope: str) -> pd.DataFrame:
    lid, rid = a.column("id")[links["l"].to_numpy()], b.column("id")[links["r"].to_numpy()]
    links = links.assign(left_id=lid, right_id=rid)
    pairs = links["group"].to_numpy() < 0
    match_id = np.empty(len(links), dtype=object)
    # one-to-one: stable_key's text for one id a side, hashed inline (the same key, a million times faster to write)
    match_id[pairs] = [
        "m" + blake2b(f"{scope}\x1f{x}\x1f{y}".encode(), digest_size=8).hexdigest()
        for x, y in zip(lid[pairs], rid[pairs], strict=True)
    ]
    group_size = np.full(len(links), 2, dtype=np.int64)
    rows = np.flatnonzero(~pairs)
    rows = rows[np.argsort(links["group"].to_numpy()[rows], kind="stable")]
    starts = np.flatnonzero(np.diff(links["group"].to_numpy()[rows], prepend=-2))
    for members in np.split(rows, starts[1:]) if len(rows) else []:
        lefts, rights = sorted(set(lid[members].tolist())), sorted(set(rid[members].tolist()))
        match_id[members] = stable_key("m", scope, lefts, rights)
        group_size[members] = len(lefts) + len(rights)
    out = pd.DataFrame(
        {
            "match_id": match_id,
            "tier": links["tier"].to_numpy(),
            "tier_name": [TIER_NAMES[t] for t in links["tier"].tolist()] if len(links) else [],
            "rule": pd.Series(  # object, not str: None stays None where no rule made the match
                np.where(pd.isna(links["rule"].to_numpy(dtype=object)), None, links["rule"].to_numpy(dtype=object)),
                dtype=object,
            ),
            "left_id": lid,
            "right_id": rid,
            "left_amount_fen": a.column("amount")[links["l"].to_numpy()],
            "right_amount_fen": b.column("amount")[links["r"].to_numpy()],
            "amount_delta_fen": links["da"].to_numpy(),
            "date_delta_days": links["dd"].to_numpy(),
            "text_score": links["score"].to_numpy(),
            "confidence": links["confidence"].to_numpy(),
            "group_size": group_size,
        }
    )
    # ranks sort as the ids do (the sides are sorted by id), and integers sort fast
    order = np.lexsort((links["r"].to_numpy(), links["l"].to_numpy(), links["tier"].to_numpy()))
    return out.iloc[order].reset_index(drop=True)


def _leftover(side: _Side) -> Leftover:
    keep = side.free | np.array([r is not None and r != _IGNORED for r in side.reason], dtype=bool)
    return Leftover(
        ids=side.column("id")[keep],
        amount=side.column("amount")[keep],
        day=side.column("day")[keep],
        reference=pd.Series(side.column("reference")[keep], dtype=object),
        unit=pd.Series(side.column("unit")[keep], dtype=object),
        reason=side.reason[keep],
        rule=side.rule[keep],
    )


def _ignored_frame(a: _Side, b: _Side) -> pd.DataFrame:
    rows = []
    for side in (a, b):
        categories = side.category
        for position in sorted(categories):
            rows.append(
                (
                    side.name,
                    side.column("id")[position],
                    side.rule[position],
                    categories[position],
                    int(side.column("amount")[position]),
                    EPOCH + pd.Timedelta(days=int(side.column("day")[position])).to_pytimedelta(),
                )
            )
    return pd.DataFrame(rows, columns=list(IGNORED_COLUMNS))
