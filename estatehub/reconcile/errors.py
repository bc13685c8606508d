"""Errors of the matching engine: one root, two kinds a caller can act on.

    ReconcileError
     ├── MatchInputError   a side handed to `match` that breaks the input contract (a programming error
     │                     of the caller: missing column, float money, null id)
     └── RuleFileError     finance's rules file cannot be used as written (says which rule and why)

Bad *data* (a line without an amount or a date, a duplicated id) is not an error: it is quarantined as
an `invalid_input` break with its reason, never dropped.
"""

from __future__ import annotations


class ReconcileError(Exception):
    """Root of the matching engine's errors."""


class MatchInputError(ReconcileError, ValueError):
    """A side's frame does not follow the input contract of `estatehub.reconcile.match`."""


class RuleFileError(ReconcileError, ValueError):
    """A rules file that cannot be used: names the file, the rule (by position and name) and the fault."""

    def __init__(self, source: str, where: str, problem: str) -> None:
        self.source = source
        self.where = where
        self.problem = problem
        location = f"{source}, {where}" if where else source
        super().__init__(f"rules file {location}: {problem}")
