"""Reconciliation: the matching engine the five reconciliations share (pure: frames in, frames out).

`match(left, right, as_of=...)` runs the tiers and returns matches, breaks and ignored lines;
`load_rules(path)` reads finance's rules; `carry_over(previous, today_keys, on=...)` keeps break
statuses across runs. See docs/decisions/0014-reconciliation-matching.md.
"""

from estatehub.reconcile.breaks import (
    BREAK_COLUMNS,
    BREAK_STATUS_COLUMNS,
    BreakStatus,
    CarryOver,
    Status,
    StatusError,
    acknowledge,
    carry_over,
    resolve,
    statuses_frame,
    statuses_from_frame,
)
from estatehub.reconcile.errors import MatchInputError, ReconcileError, RuleFileError
from estatehub.reconcile.matching import MATCH_COLUMNS, TIER_NAMES, MatchResult, Tolerances, match
from estatehub.reconcile.rules import Rule, RuleSet, load_rules, parse_csv_rules, parse_yaml_rules

__all__ = [
    "BREAK_COLUMNS",
    "BREAK_STATUS_COLUMNS",
    "MATCH_COLUMNS",
    "TIER_NAMES",
    "BreakStatus",
    "CarryOver",
    "MatchInputError",
    "MatchResult",
    "ReconcileError",
    "Rule",
    "RuleFileError",
    "RuleSet",
    "Status",
    "StatusError",
    "Tolerances",
    "acknowledge",
    "carry_over",
    "load_rules",
    "match",
    "parse_csv_rules",
    "parse_yaml_rules",
    "resolve",
    "statuses_frame",
    "statuses_from_frame",
]
