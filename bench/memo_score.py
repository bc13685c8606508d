"""Score the memo parser against the sandbox's ground truth: `python -m bench.memo_score`.

The sandbox ledger (`sandbox.ledger`) writes, for every memo it books, the units the memo names as
written (building, 单元, room; None where the memo leaves a part out), the houses it means, and the
payment kinds it names. This module parses every memo and reports:

- units (what the parser is for): precision = units read that the memo names / units read, and
  recall = units named that were read / units named, over the memos that name a unit at all — and
  precision again over every memo, so units "found" in memos that name none count against it;
- houses: the units read resolved to a house of the memo's project (`RoomDirectory`), against the
  house meant (a memo that names the wrong room, a clerk's slip, cannot be right here);
- kinds: the share of memos whose kinds are read exactly;
- recall by style and precision by rule, to see where the parser is weak and how sure each rule is.

Exit code 1 when precision or recall on named memos falls below the targets (0.99 / 0.97).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from estatehub.memo.parser import parse_memo, room_number
from estatehub.memo.resolve import RoomDirectory

PRECISION_TARGET = 0.99
RECALL_TARGET = 0.97

Key = tuple[str | None, str | None, str]


def written_key(value: Sequence[str | None]) -> Key:
    building, unit, room = value
    return building, unit, room_number(room) or room


@dataclass
class Score:
    memos: int = 0
    named_memos: int = 0
    read: int = 0  # units read in named memos
    read_correct: int = 0
    named: int = 0  # units named
    named_found: int = 0
    false_alarms: int = 0  # units read in memos that name none
    houses_resolved: int = 0
    houses_correct: int = 0
    houses_meant: int = 0
    kinds_correct: int = 0
    by_style: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    by_rule: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    misses: list[tuple[str, str, list, list]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.read_correct / self.read if self.read else 1.0

    @property
    def precision_all(self) -> float:
        total = self.read + self.false_alarms
        return self.read_correct / total if total else 1.0

    @property
    def recall(self) -> float:
        return self.named_found / self.named if self.named else 1.0

    @property
    def house_precision(self) -> float:
        return self.houses_correct / self.houses_resolved if self.houses_resolved else 1.0

    @property
    def house_recall(self) -> float:
        return self.houses_correct / self.houses_meant if self.houses_meant else 1.0

    @property
    def kind_accuracy(self) -> float:
        return self.kinds_correct / self.memos if self.memos else 1.0

    def as_dict(self) -> dict[str, object]:
        return {
            "memos": self.memos,
            "memos_naming_a_unit": self.named_memos,
            "unit_precision": round(self.precision, 4),
            "unit_recall": round(self.recall, 4),
            "unit_precision_all_memos": round(self.precision_all, 4),
            "house_precision": round(self.house_precision, 4),
            "house_recall": round(self.house_recall, 4),
            "kind_accuracy": round(self.kind_accuracy, 4),
        }


def score_memos(
    rows: Iterable[tuple[str, str, str, str, str, str | None]],
    directories: dict[str, RoomDirectory] | None = None,
    *,
    keep_misses: int = 30,
) -> Score:
    """Score `(memo_id, text, style, written JSON, houses JSON, kinds JSON, project_code)` rows."""
    score = Score()
    directories = directories or {}
    for row in rows:
        memo_id, text, style, written_json, houses_json, kinds_json, project = row
        written = {written_key(item) for item in json.loads(written_json)}
        houses = set(json.loads(houses_json))
        reading = parse_memo(text)
        read = [ref for ref in reading.units]
        score.memos += 1
        if tuple(json.loads(kinds_json)) == reading.kinds:
            score.kinds_correct += 1
        if not written:
            score.false_alarms += len(read)
            if read and len(score.misses) < keep_misses:
                score.misses.append((memo_id, text, [], [r.key for r in read]))
            continue
        score.named_memos += 1
        keys = {ref.key for ref in read}
        correct = keys & written
        score.read += len(keys)
        score.read_correct += len(correct)
        score.named += len(written)
        score.named_found += len(correct)
        base_style = style.split("+")[0]
        score.by_style[base_style][0] += len(written)
        score.by_style[base_style][1] += len(correct)
        for ref in read:
            score.by_rule[ref.rule][0] += 1
            score.by_rule[ref.rule][1] += ref.key in written
        if (correct != written or keys != written) and len(score.misses) < keep_misses:
            score.misses.append((memo_id, text, sorted(written, key=str), sorted(keys, key=str)))
        directory = directories.get(project or "")
        if directory is not None:
            score.houses_meant += len(houses)
            resolved = {house for ref in read if (house := directory.resolve(ref))}
            score.houses_resolved += len(resolved)
            score.houses_correct += len(resolved & houses)
    return score


def directories_from_world(world: sqlite3.Connection) -> dict[str, RoomDirectory]:
    found: dict[str, RoomDirectory] = defaultdict(RoomDirectory)
    for house_id, project, building, unit, room in world.execute(
        "select house_id, project_code, building, unit, room from units"
    ):
        found[project].add(house_id, building, unit, room)
    return dict(found)


def score_ledger(ledger_path: Path, world_path: Path | None = None) -> Score:
    ledger = sqlite3.connect(ledger_path)
    try:
        directories = {}
        if world_path is not None:
            world = sqlite3.connect(f"file:{world_path}?mode=ro", uri=True)
            try:
                directories = directories_from_world(world)
            finally:
                world.close()
        rows = ledger.execute(
            "select memo_id, text, style, written, houses, kinds, project_code from memo_truth order by memo_id"
        )
        return score_memos(rows, directories)
    finally:
        ledger.close()


def _report(score: Score, out) -> None:  # noqa: ANN001 - a text stream
    figures = score.as_dict()
    print("memo parser against the sandbox ledger's ground truth", file=out)
    for key, value in figures.items():
        print(f"  {key:28} {value}", file=out)
    print("  recall by style (units named / read):", file=out)
    for style, (named, found) in sorted(score.by_style.items(), key=lambda item: -item[1][0]):
        print(f"    {style:16} {found:>7}/{named:<7} {found / named:.4f}", file=out)
    print("  precision by rule (units read / correct):", file=out)
    for rule, (read, correct) in sorted(score.by_rule.items(), key=lambda item: -item[1][0]):
        print(f"    {rule:32} {correct:>7}/{read:<7} {correct / read:.4f}", file=out)
    if score.misses:
        print(f"  first {len(score.misses)} misses (memo, named, read):", file=out)
        for memo_id, text, named, read in score.misses:
            print(f"    {memo_id}: {text!r} named={named} read={read}", file=out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memo_score", description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=3000, help="units in the generated world (default 3000)")
    parser.add_argument("--seed", type=int, default=7, help="world and ledger seed (default 7)")
    parser.add_argument("--world", type=Path, help="an existing world file instead of generating one")
    parser.add_argument("--cache", type=Path, help="folder for the world and ledger files (default: a temp folder)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON only")
    args = parser.parse_args(argv)

    from sandbox.banks.world import ensure_bank_world
    from sandbox.ledger.book import ensure_ledger
    from sandbox.world import ensure_world

    with tempfile.TemporaryDirectory(prefix="estatehub-memo-score-") as temp:
        cache = args.cache or Path(temp)
        world = args.world or ensure_world(cache, units=args.units, seed=args.seed)
        ledger = ensure_ledger(world, seed=args.seed, cache_dir=cache, bank_world=ensure_bank_world(world))
        score = score_ledger(ledger, world)
    if args.json:
        print(json.dumps(score.as_dict()))
    else:
        _report(score, sys.stdout)
    ok = score.precision >= PRECISION_TARGET and score.recall >= RECALL_TARGET
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
