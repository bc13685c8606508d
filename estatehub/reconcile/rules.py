"""Rules finance adds as data: a condition on the lines of one side → an action (the last tier).

A rules file is YAML (a list under `rules:`) or CSV (one rule a row), for example::

    rules:
      - name: bank-fees
        side: bank                      # the side whose lines the condition reads
        when: {text_contains: [手续费, 工本费], amount_max_fen: 20000}
        action: ignore                  # not a break: listed as ignored with its category
        category: bank_fee
      - name: unknown-transfer
        side: bank
        when: {text_regex: "^跨行转入"}
        action: classify                # still a break, with the rule's reason code
        reason: needs_payer_lookup
      - name: acme-pays-for-zhang
        side: bank
        when: {text_contains: [Acme Trading]}
        action: alias                   # read the payer as this name, then match by name and amount
        alias: 张三

Conditions (all given ones must hold): `text_contains` (any of the words, case-insensitive),
`text_regex`, `reference_regex` (Python regular expressions, searched), `amount_min_fen`,
`amount_max_fen` (whole fen, inclusive). A rule with no condition is refused (it would swallow every
line). Rules apply in file order, each only to the lines earlier tiers and rules left.

CSV columns: name, side, action, text_contains (words separated by `|`), text_regex, reference_regex,
amount_min_fen, amount_max_fen, category, reason, alias.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from estatehub.reconcile.errors import RuleFileError

ACTIONS = ("ignore", "classify", "alias")
CONDITIONS = ("text_contains", "text_regex", "reference_regex", "amount_min_fen", "amount_max_fen")
RULE_KEYS = ("name", "side", "action", "when", "category", "reason", "alias")
CSV_COLUMNS = ("name", "side", "action", *CONDITIONS, "category", "reason", "alias")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_WHOLE = re.compile(r"^-?[0-9]+$")


@dataclass(frozen=True)
class Rule:
    """One rule: on lines of `side` where every condition holds, do `action`."""

    name: str
    side: str
    action: str
    text_contains: tuple[str, ...] = ()
    text_regex: str | None = None
    reference_regex: str | None = None
    amount_min_fen: int | None = None
    amount_max_fen: int | None = None
    category: str | None = None  # ignore: what the lines are (bank_fee, interest, ...)
    reason: str | None = None  # classify: the break's reason code
    alias: str | None = None  # alias: the payer name to read instead

    def selects(self, text: np.ndarray, reference: np.ndarray, amount: np.ndarray) -> np.ndarray:
        """Boolean mask of the lines (object arrays of str or None, int64 fen) this rule's condition holds for."""
        mask = np.ones(len(amount), dtype=bool)
        if self.amount_min_fen is not None:
            mask &= amount >= self.amount_min_fen
        if self.amount_max_fen is not None:
            mask &= amount <= self.amount_max_fen
        if self.text_contains:
            words = [word.lower() for word in self.text_contains]
            mask &= _each(text, lambda value: any(word in value.lower() for word in words))
        if self.text_regex is not None:
            mask &= _each(text, re.compile(self.text_regex).search)
        if self.reference_regex is not None:
            mask &= _each(reference, re.compile(self.reference_regex).search)
        return mask


def _each(values: np.ndarray, test: Callable[[str], object]) -> np.ndarray:
    """test(value) for each present value; False where the value is missing."""
    return np.fromiter((value is not None and bool(test(value)) for value in values), dtype=bool, count=len(values))


@dataclass(frozen=True)
class RuleSet:
    """Rules in the order they apply, with where they came from (for error messages)."""

    rules: tuple[Rule, ...] = ()
    source: str = "<rules>"

    def check_sides(self, sides: Sequence[str]) -> None:
        """Refuse a rule that names a side this reconciliation does not have."""
        for position, rule in enumerate(self.rules, start=1):
            if rule.side not in sides:
                raise RuleFileError(
                    self.source,
                    f"rule {position} ({rule.name!r})",
                    f"side {rule.side!r} is not a side of this reconciliation; use one of {', '.join(sides)}",
                )


def load_rules(path: str | Path) -> RuleSet:
    """Read and validate a rules file (`.yaml`/`.yml` or `.csv`); RuleFileError says what is wrong."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RuleFileError(source, "", "no such file; give the path of a .yaml or .csv rules file") from None
    except UnicodeDecodeError as exc:
        raise RuleFileError(source, "", f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return parse_yaml_rules(text, source)
    if suffix == ".csv":
        return parse_csv_rules(text, source)
    raise RuleFileError(source, "", f"unknown file type {suffix or '(none)'!r}; use .yaml, .yml or .csv")


def parse_yaml_rules(text: str, source: str = "<yaml>") -> RuleSet:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise RuleFileError(source, where, f"not valid YAML: {problem}") from None
    if document is None:
        return RuleSet((), source)
    if not isinstance(document, Mapping) or set(document) != {"rules"}:
        raise RuleFileError(source, "", "expected a mapping with one key, 'rules', holding a list of rules")
    entries = document["rules"] or []
    if not isinstance(entries, list):
        raise RuleFileError(source, "'rules'", f"expected a list of rules, got {type(entries).__name__}")
    rules = []
    for position, entry in enumerate(entries, start=1):
        where = f"rule {position}"
        if not isinstance(entry, Mapping):
            raise RuleFileError(source, where, f"expected a mapping, got {type(entry).__name__}")
        if isinstance(entry.get("name"), str):
            where = f"rule {position} ({entry['name']!r})"
        unknown = sorted(set(map(str, entry)) - set(RULE_KEYS))
        if unknown:
            raise RuleFileError(
                source, where, f"unknown key(s) {', '.join(unknown)}; a rule has {', '.join(RULE_KEYS)}"
            )
        when = entry.get("when")
        if when is None:
            when = {}
        if not isinstance(when, Mapping):
            raise RuleFileError(source, where, f"'when' must be a mapping of conditions, got {type(when).__name__}")
        unknown = sorted(set(map(str, when)) - set(CONDITIONS))
        if unknown:
            raise RuleFileError(
                source, where, f"unknown condition(s) {', '.join(unknown)}; use {', '.join(CONDITIONS)}"
            )
        fields = {key: entry.get(key) for key in RULE_KEYS if key != "when"}
        rules.append(_build_rule(source, where, fields, dict(when)))
    return _finish(source, rules)


def parse_csv_rules(text: str, source: str = "<csv>") -> RuleSet:
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [name for name in ("name", "side", "action") if name not in header]
    if missing:
        raise RuleFileError(
            source, "line 1", f"missing column(s) {', '.join(missing)}; columns are {', '.join(CSV_COLUMNS)}"
        )
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        raise RuleFileError(
            source, "line 1", f"unknown column(s) {', '.join(unknown)}; columns are {', '.join(CSV_COLUMNS)}"
        )
    rules = []
    for row in reader:
        where = f"line {reader.line_num}"
        if None in row:
            raise RuleFileError(source, where, f"more cells than the {len(header)} columns of the header")
        cells = {key.strip(): (value or "").strip() for key, value in row.items()}
        if not any(cells.values()):
            continue
        if cells.get("name"):
            where = f"{where} ({cells['name']!r})"
        when: dict[str, object] = {}
        if cells.get("text_contains"):
            when["text_contains"] = [word.strip() for word in cells["text_contains"].split("|")]
        for key in ("text_regex", "reference_regex"):
            if cells.get(key):
                when[key] = cells[key]
        for key in ("amount_min_fen", "amount_max_fen"):
            if cells.get(key):
                if not _WHOLE.match(cells[key]):
                    raise RuleFileError(source, where, f"{key} {cells[key]!r} is not a whole number of fen")
                when[key] = int(cells[key])
        fields = {key: (cells.get(key) or None) for key in RULE_KEYS if key != "when"}
        rules.append(_build_rule(source, where, fields, when))
    return _finish(source, rules)


def _build_rule(source: str, where: str, fields: Mapping[str, object], when: Mapping[str, object]) -> Rule:
    def fail(problem: str) -> RuleFileError:
        return RuleFileError(source, where, problem)

    name, side, action = fields.get("name"), fields.get("side"), fields.get("action")
    if not isinstance(name, str) or not _NAME.match(name):
        raise fail(f"'name' {name!r} must be lowercase letters, digits, '-', '_' or '.' (up to 64)")
    if not isinstance(side, str) or not side.strip():
        raise fail("'side' is required: the side whose lines the condition reads (e.g. bank, ledger)")
    if action not in ACTIONS:
        raise fail(f"'action' {action!r} is not one of {', '.join(ACTIONS)}")
    if not when:
        raise fail("no condition under 'when': a rule without one would take every line of its side")

    words = when.get("text_contains")
    if words is not None:
        if isinstance(words, str):
            words = [words]
        if not isinstance(words, list) or not words or not all(isinstance(w, str) and w.strip() for w in words):
            raise fail("'text_contains' must be a word or a list of non-empty words")
        words = tuple(w.strip() for w in words)
    regexes = {}
    for key in ("text_regex", "reference_regex"):
        pattern = when.get(key)
        if pattern is None:
            continue
        if not isinstance(pattern, str) or not pattern:
            raise fail(f"{key!r} must be a non-empty regular expression")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise fail(f"{key!r} {pattern!r} is not a valid regular expression: {exc}") from None
        regexes[key] = pattern
    bounds = {}
    for key in ("amount_min_fen", "amount_max_fen"):
        value = when.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail(f"{key} {value!r} must be a whole number of fen (no decimals, no yuan)")
        bounds[key] = value
    if len(bounds) == 2 and bounds["amount_min_fen"] > bounds["amount_max_fen"]:
        raise fail("amount_min_fen is above amount_max_fen: the rule could never apply")

    extra = {key: fields.get(key) for key in ("category", "reason", "alias")}
    needed = {"ignore": "category", "classify": "reason", "alias": "alias"}[action]
    for key, value in extra.items():
        if value is not None and key != needed:
            raise fail(f"{key!r} does not belong to action {action!r} (it takes {needed!r})")
    value = extra[needed]
    if not isinstance(value, str) or not value.strip():
        raise fail(f"action {action!r} needs {needed!r}")
    if needed in ("category", "reason") and not _CODE.match(value):
        raise fail(f"{needed} {value!r} must be a code: lowercase letters, digits and '_', starting with a letter")
    return Rule(
        name=name,
        side=side.strip(),
        action=str(action),
        text_contains=words or (),
        text_regex=regexes.get("text_regex"),
        reference_regex=regexes.get("reference_regex"),
        amount_min_fen=bounds.get("amount_min_fen"),
        amount_max_fen=bounds.get("amount_max_fen"),
        category=extra["category"],
        reason=extra["reason"],
        alias=value.strip() if needed == "alias" else None,
    )


def _finish(source: str, rules: list[Rule]) -> RuleSet:
    seen: dict[str, int] = {}
    for position, rule in enumerate(rules, start=1):
        if rule.name in seen:
            raise RuleFileError(
                source, f"rule {position} ({rule.name!r})", f"the name is already used by rule {seen[rule.name]}"
            )
        seen[rule.name] = position
    return RuleSet(tuple(rules), source)
