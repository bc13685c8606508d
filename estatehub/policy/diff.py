"""What changed between two snapshots: the added and removed lines, and within a replaced line the
characters that changed (for the digest's highlighting)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LineDiff:
    added: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.added and not self.removed


def diff_lines(old: Sequence[str], new: Sequence[str]) -> LineDiff:
    """Lines of `new` that are not in `old` (added) and the reverse (removed), in document order."""
    matcher = difflib.SequenceMatcher(None, list(old), list(new), autojunk=False)
    added: list[str] = []
    removed: list[str] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            removed.extend(old[i1:i2])
        if tag in ("replace", "insert"):
            added.extend(new[j1:j2])
    return LineDiff(tuple(added), tuple(removed))


def pair_lines(removed: Sequence[str], added: Sequence[str], threshold: float = 0.5) -> dict[str, str]:
    """For each added line, the removed line it most resembles (ratio above `threshold`), if any."""
    pairs: dict[str, str] = {}
    for line in added:
        best, best_ratio = None, threshold
        for old in removed:
            ratio = difflib.SequenceMatcher(None, old, line, autojunk=False).ratio()
            if ratio > best_ratio:
                best, best_ratio = old, ratio
        if best is not None:
            pairs[line] = best
    return pairs


def inline_diff(old: str, new: str) -> list[tuple[str, str]]:
    """`new` as runs of (`same` | `added`, text) against `old`, character by character."""
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    runs: list[tuple[str, str]] = []
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if j1 == j2:
            continue
        runs.append(("same" if tag == "equal" else "added", new[j1:j2]))
    return runs
