"""Deterministic fault injection for the sandbox servers.

Each server holds one `FaultSet`: an ordered list of rules set at start (`--faults` JSON or a file) or
at run time with `POST /_sandbox/faults {"rules": [...], "seed": 7}` (which replaces the rules and
resets their counters); `GET /_sandbox/faults` shows the rules, how often each matched and fired, and
the records that `malformed` corrupted. Paths under `/_sandbox/` are never faulted.

A rule is a JSON object:

    {"kind": "http_503", "path": "/api/v1/contracts", "method": "GET",
     "after": 2, "every": 3, "times": 4, "rate": 0.5, ...kind options}

- `path`: a prefix of the request path (default `/`, everything); `method`: only that method (default any).
- The rule counts the requests it matches: 1, 2, 3 ... It fires on a matching request when all its
  conditions hold: the count is past `after` (default 0); `every` n: the count past `after` is a
  multiple of n (default: every request); `rate` p: a draw of the rule's own RNG, seeded from the set's
  seed and the rule's position, is below p (default: always); `times` n: it has fired fewer than n
  times (default: no limit). The same requests in the same order fire the same faults.

Kinds, and what a client sees when one fires:

- `http_500`, `http_502`, `http_503`: that status instead of the answer; `body` is `"html"` (an
  nginx-style error page) or `"json"` (`{"code": 50000|50200|50300, "message": ...}`); default html for
  502/503, json for 500.
- `rate_limit`: 429 with `Retry-After: <retry_after>` (seconds, default 1) and a JSON body (code 42900).
- `slow`: the server sleeps `delay` seconds (default 5, meant to be longer than the client's timeout)
  before it answers as usual. Other faults that fire on the same request apply after the sleep.
- `truncate`: valid status and headers (the full `Content-Length`), then only the first `keep`
  fraction (default 0.5) of the body, cut in the middle of the JSON, and the connection is closed.
- `malformed`: on a list page (a response that carries records), `count` records (default 1, chosen by
  the rule's RNG) are corrupted, each with the next corruption of `corruptions` in turn (default all):
  `bad_id_check` (a resident ID number's GB 11643 check character replaced by a wrong one; a record
  without a resident ID number gets `bad_date` instead), `missing_key` (the key field, e.g.
  `contract_no`, removed), `bad_date` (`updated_at` set to `2026-02-30T25:61:00+08:00`),
  `negative_price` (the total price negated), `non_numeric_price` (the total price set to `"12万5千"`);
  asked for by name only (not among the default): `cut_character` (a free-text field, e.g. a ledger memo,
  ending in half an emoji, a lone UTF-16 surrogate sent as the escape `\\ud83c`: what a system that cuts
  text by UTF-16 units leaves; a record without such a field gets `bad_date`). The record stays readable.
  Each corrupted record is listed in `GET /_sandbox/faults` under `corrupted` with its original key.
- `duplicate`: on a list request that carries a `page_token`, the page starts one record early, so
  its first record repeats the last record of the page before; the following token is as usual.
  It has no effect on other requests.
- `expire_tokens`: every token issued so far becomes expired (the request itself, and every later one
  with an old token, gets the server's "expired" answer). `times: 1` expires them once, `every: n`
  every n requests.
- `down`: 503 with a maintenance page (`body` html, default, or json) on every matching request; bound
  an outage with `after` and `times`.

This module knows nothing of HTTP servers: it decides (`FaultSet.decide`) and it corrupts records;
`sandbox.http_base` acts on the decision.
"""

from __future__ import annotations

import copy
import json
import random
import re
import threading
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.identity import id_check_char

ERROR_KINDS = ("http_500", "http_502", "http_503", "rate_limit", "down")
KINDS = (*ERROR_KINDS, "slow", "truncate", "malformed", "duplicate", "expire_tokens")
DEFAULT_CORRUPTIONS = ("bad_id_check", "missing_key", "bad_date", "negative_price", "non_numeric_price")
CORRUPTIONS = (*DEFAULT_CORRUPTIONS, "cut_character")
HALF_AN_EMOJI = "\ud83c"  # the first half of 🏠 (U+1F3E0, \\ud83c\\udfe0 in UTF-16)

_COMMON_KEYS = {"kind", "path", "method", "every", "times", "after", "rate"}
_KIND_KEYS: dict[str, set[str]] = {
    "http_500": {"body"},
    "http_502": {"body"},
    "http_503": {"body"},
    "down": {"body"},
    "rate_limit": {"retry_after"},
    "slow": {"delay"},
    "truncate": {"keep"},
    "malformed": {"count", "corruptions"},
    "duplicate": set(),
    "expire_tokens": set(),
}

BAD_DATE = "2026-02-30T25:61:00+08:00"
NON_NUMERIC_PRICE = "12万5千"
_RESIDENT_ID_RE = re.compile(r"^\d{17}[\dX]$")
_CORRUPTED_KEPT = 1000

_HTML_PAGES = {
    500: "500 Internal Server Error",
    502: "502 Bad Gateway",
    503: "503 Service Temporarily Unavailable",
}
_JSON_MESSAGES = {500: "系统内部错误", 502: "网关错误", 503: "服务暂不可用"}


class FaultRuleError(ValueError):
    """A fault rule that cannot be understood: the message names the rule and the field."""


@dataclass(frozen=True, slots=True)
class FaultReply:
    """A complete answer that replaces the server's own (an error status)."""

    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class FaultDecision:
    """What the faults that fired on one request ask the server to do, in this order."""

    kinds: list[str] = field(default_factory=list)
    expire_tokens: bool = False
    delay: float = 0.0
    reply: FaultReply | None = None
    duplicate: bool = False
    malformed: list[FaultRule] = field(default_factory=list)
    truncate_keep: float | None = None


@dataclass(slots=True)
class FaultRule:
    """One validated rule with its counters."""

    kind: str
    path: str = "/"
    method: str | None = None
    every: int | None = None
    times: int | None = None
    after: int = 0
    rate: float | None = None
    options: dict[str, Any] = field(default_factory=dict)
    matched: int = 0
    fired: int = 0
    applied: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any], *, seed: int, position: int) -> FaultRule:
        where = f"fault rule {position + 1}"
        if not isinstance(spec, Mapping):
            raise FaultRuleError(f"{where}: expected a JSON object, got {type(spec).__name__}")
        kind = spec.get("kind")
        if kind not in KINDS:
            raise FaultRuleError(f"{where}: kind must be one of {', '.join(KINDS)}; got {kind!r}")
        unknown = set(spec) - _COMMON_KEYS - _KIND_KEYS[kind]
        if unknown:
            raise FaultRuleError(f"{where} ({kind}): unknown keys {sorted(unknown)}")
        path = spec.get("path", "/")
        if not isinstance(path, str) or not path.startswith("/"):
            raise FaultRuleError(f"{where}: path must be a prefix starting with '/'; got {path!r}")
        method = spec.get("method")
        if method is not None and not isinstance(method, str):
            raise FaultRuleError(f"{where}: method must be a string like 'GET'")
        rule = cls(
            kind=kind,
            path=path,
            method=method.upper() if method else None,
            every=_positive_int(spec, "every", where),
            times=_positive_int(spec, "times", where),
            after=_positive_int(spec, "after", where, minimum=0) or 0,
            rate=_fraction(spec, "rate", where),
            options=_options(kind, spec, where),
        )
        rule.rng = random.Random(f"{seed}:{position}:{kind}")
        return rule

    def fires(self, method: str, path: str) -> bool:
        """Count a request against this rule; True when the rule fires on it."""
        if not path.startswith(self.path) or (self.method and method != self.method):
            return False
        self.matched += 1
        beyond = self.matched - self.after
        if beyond <= 0:
            return False
        if self.every and beyond % self.every:
            return False
        if self.rate is not None and self.rng.random() >= self.rate:
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        self.fired += 1
        return True

    def describe(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"kind": self.kind, "path": self.path}
        for key in ("method", "every", "times", "rate"):
            if getattr(self, key) is not None:
                rule[key] = getattr(self, key)
        if self.after:
            rule["after"] = self.after
        rule.update(self.options)
        rule["matched"] = self.matched
        rule["fired"] = self.fired
        return rule


def _positive_int(spec: Mapping[str, Any], key: str, where: str, minimum: int = 1) -> int | None:
    value = spec.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise FaultRuleError(f"{where}: {key} must be an integer >= {minimum}; got {value!r}")
    return value


def _fraction(spec: Mapping[str, Any], key: str, where: str) -> float | None:
    value = spec.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise FaultRuleError(f"{where}: {key} must be a number from 0 to 1; got {value!r}")
    return float(value)


def _options(kind: str, spec: Mapping[str, Any], where: str) -> dict[str, Any]:
    if kind in ("http_500", "http_502", "http_503", "down"):
        body = spec.get("body", "json" if kind == "http_500" else "html")
        if body not in ("html", "json"):
            raise FaultRuleError(f"{where}: body must be 'html' or 'json'; got {body!r}")
        return {"body": body}
    if kind == "rate_limit":
        retry_after = spec.get("retry_after", 1)
        if isinstance(retry_after, bool) or not isinstance(retry_after, int) or retry_after < 0:
            raise FaultRuleError(f"{where}: retry_after must be whole seconds >= 0; got {retry_after!r}")
        return {"retry_after": retry_after}
    if kind == "slow":
        delay = spec.get("delay", 5.0)
        if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
            raise FaultRuleError(f"{where}: delay must be seconds >= 0; got {delay!r}")
        return {"delay": float(delay)}
    if kind == "truncate":
        keep = spec.get("keep", 0.5)
        if isinstance(keep, bool) or not isinstance(keep, int | float) or not 0 <= keep < 1:
            raise FaultRuleError(f"{where}: keep must be a fraction in [0, 1); got {keep!r}")
        return {"keep": float(keep)}
    if kind == "malformed":
        count = _positive_int(spec, "count", where) or 1
        corruptions = spec.get("corruptions", list(DEFAULT_CORRUPTIONS))
        if not isinstance(corruptions, list) or not corruptions or any(c not in CORRUPTIONS for c in corruptions):
            raise FaultRuleError(
                f"{where}: corruptions must be a non-empty list of {', '.join(CORRUPTIONS)}; got {corruptions!r}"
            )
        return {"count": count, "corruptions": list(corruptions)}
    return {}


def error_reply(status: int, body: str, *, maintenance: bool = False) -> FaultReply:
    """The error page or JSON error a faulty gateway answers with."""
    if body == "json":
        code = status * 100
        message = "系统维护中，请稍后再试" if maintenance else _JSON_MESSAGES.get(status, "错误")
        payload = {"code": code, "message": message, "data": None}
        text = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return FaultReply(status, text, "application/json; charset=utf-8")
    title = _HTML_PAGES.get(status, f"{status} Error")
    if maintenance:
        page = (
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>系统维护</title></head>"
            "<body><h1>系统维护中</h1><p>系统正在维护，请稍后再试。</p></body></html>"
        )
    else:
        page = (
            f"<html><head><title>{title}</title></head><body><center><h1>{title}</h1></center>"
            "<hr><center>nginx</center></body></html>"
        )
    return FaultReply(status, page.encode("utf-8"), "text/html; charset=utf-8")


def rate_limit_reply(retry_after: int) -> FaultReply:
    payload = {"code": 42900, "message": "请求过于频繁，请稍后再试", "data": None}
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return FaultReply(429, body, "application/json; charset=utf-8", (("Retry-After", str(retry_after)),))


class Corrupter:
    """Applies the `malformed` corruptions to one kind of record, given where its fields are.

    `price_paths` and `id_paths` are dotted paths; `[]` walks every element of a list
    (`buyers[].id_number`). The first path present in a record is the one corrupted.
    """

    def __init__(
        self,
        *,
        key_field: str | Sequence[str],
        date_field: str = "updated_at",
        price_paths: Sequence[str] = (),
        id_paths: Sequence[str] = (),
    ) -> None:
        self.key_field = key_field
        self.date_field = date_field
        self.price_paths = tuple(price_paths)
        self.id_paths = tuple(id_paths)

    @property
    def key_fields(self) -> tuple[str, ...]:
        return (self.key_field,) if isinstance(self.key_field, str) else tuple(self.key_field)

    def key_of(self, record: dict[str, Any]) -> Any:
        """The record's key: the first of the key fields it has."""
        return next((record[name] for name in self.key_fields if name in record), None)

    def corrupt(self, record: dict[str, Any], corruption: str) -> str:
        """Corrupt `record` in place; return the corruption applied (may differ: see `bad_id_check`)."""
        if corruption == "bad_id_check" and self._break_id_check(record):
            return corruption
        if corruption == "missing_key":
            for name in self.key_fields:
                record.pop(name, None)  # the key of whichever kind of record the page lists
            return corruption
        if corruption in ("negative_price", "non_numeric_price"):
            for path in self.price_paths:
                holder, key = _locate(record, path)
                if holder is not None:
                    value = holder[key]
                    if corruption == "negative_price":
                        text = str(value)
                        holder[key] = text[1:] if text.startswith("-") else "-" + text
                    else:
                        holder[key] = NON_NUMERIC_PRICE
                    return corruption
        record[self.date_field] = BAD_DATE
        return "bad_date"

    def _break_id_check(self, record: dict[str, Any]) -> bool:
        for path in self.id_paths:
            for holder, key in _locate_all(record, path):
                value = holder.get(key)
                if isinstance(value, str) and _RESIDENT_ID_RE.match(value):
                    right = id_check_char(value[:17])
                    wrong = "0" if right != "0" else "1"
                    holder[key] = value[:17] + wrong
                    return True
        return False


def _locate(record: dict[str, Any], path: str) -> tuple[dict[str, Any] | None, str]:
    found = _locate_all(record, path)
    return found[0] if found else (None, "")


def _locate_all(record: Any, path: str) -> list[tuple[dict[str, Any], str]]:
    parts = path.split(".")
    holders: list[Any] = [record]
    for part in parts[:-1]:
        step: list[Any] = []
        name, many = (part[:-2], True) if part.endswith("[]") else (part, False)
        for holder in holders:
            value = holder.get(name) if isinstance(holder, dict) else None
            if many and isinstance(value, list):
                step.extend(v for v in value if isinstance(v, dict))
            elif not many and isinstance(value, dict):
                step.append(value)
        holders = step
    last = parts[-1]
    return [(h, last) for h in holders if isinstance(h, dict) and h.get(last) is not None]


class FaultSet:
    """The rules of one server, thread-safe; `decide` is called once per request."""

    def __init__(
        self,
        rules: Iterable[Mapping[str, Any]] = (),
        *,
        seed: int = 0,
        corrupter: Corrupter | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self.corrupter = corrupter
        self.seed = seed
        self.rules: list[FaultRule] = []
        self.corrupted: deque[dict[str, Any]] = deque(maxlen=_CORRUPTED_KEPT)
        self.replace(list(rules), seed=seed)

    def replace(self, rules: Sequence[Mapping[str, Any]], *, seed: int | None = None) -> None:
        """Validate every rule, then swap them in (counters start again); raise `FaultRuleError`."""
        seed = self.seed if seed is None else seed
        if not isinstance(rules, Sequence) or isinstance(rules, str | bytes):
            raise FaultRuleError(f"fault rules must be a list of objects; got {type(rules).__name__}")
        parsed = [FaultRule.from_dict(spec, seed=seed, position=i) for i, spec in enumerate(rules)]
        with self._lock:
            self.seed = seed
            self.rules = parsed
            self.corrupted.clear()

    def decide(self, method: str, path: str) -> FaultDecision | None:
        """Count the request against every rule; None when no rule fires."""
        if path.startswith("/_sandbox/") or not self.rules:
            return None
        decision: FaultDecision | None = None
        with self._lock:
            for rule in self.rules:
                if not rule.fires(method, path):
                    continue
                decision = decision or FaultDecision()
                decision.kinds.append(rule.kind)
                _apply(rule, decision)
        return decision

    def corrupt_records(self, records: list[Any], rules: Sequence[FaultRule], path: str) -> None:
        """Corrupt some records of a list page in place, as the `malformed` rules that fired ask."""
        if self.corrupter is None or not records:
            return
        with self._lock:
            for rule in rules:
                count = min(rule.options["count"], len(records))
                for index in sorted(rule.rng.sample(range(len(records)), count)):
                    if not isinstance(records[index], dict):
                        continue
                    corruptions = rule.options["corruptions"]
                    wanted = corruptions[rule.applied % len(corruptions)]
                    rule.applied += 1
                    record = copy.deepcopy(records[index])
                    key = self.corrupter.key_of(record)
                    applied = self.corrupter.corrupt(record, wanted)
                    records[index] = record
                    self.corrupted.append({"path": path, "index": index, "key": key, "corruption": applied})

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "seed": self.seed,
                "rules": [rule.describe() for rule in self.rules],
                "corrupted": list(self.corrupted),
            }


def _apply(rule: FaultRule, decision: FaultDecision) -> None:
    kind = rule.kind
    if kind == "expire_tokens":
        decision.expire_tokens = True
    elif kind == "slow":
        decision.delay += rule.options["delay"]
    elif kind == "duplicate":
        decision.duplicate = True
    elif kind == "malformed":
        decision.malformed.append(rule)
    elif kind == "truncate":
        decision.truncate_keep = rule.options["keep"]
    elif decision.reply is None:  # the first error rule that fires answers
        if kind == "rate_limit":
            decision.reply = rate_limit_reply(rule.options["retry_after"])
        elif kind == "down":
            decision.reply = error_reply(503, rule.options["body"], maintenance=True)
        else:
            decision.reply = error_reply(int(kind.removeprefix("http_")), rule.options["body"])


def load_rules(spec: str | Path | Sequence[Any] | Mapping[str, Any] | None) -> dict[str, Any]:
    """Read fault rules from JSON text, a JSON file, a list of rules or `{"rules": [...], "seed": n}`.

    Returns `{"rules": [...], "seed": n}` (seed 0 when not given). Validation happens in `FaultSet`.
    """
    if spec is None:
        return {"rules": [], "seed": 0}
    if isinstance(spec, Path) or (isinstance(spec, str) and not spec.lstrip().startswith(("[", "{"))):
        spec = Path(spec).read_text(encoding="utf-8")
    if isinstance(spec, str):
        try:
            spec = json.loads(spec)
        except json.JSONDecodeError as exc:
            raise FaultRuleError(f"fault rules are not valid JSON: {exc}") from exc
    if isinstance(spec, Mapping):
        rules = spec.get("rules", [])
        seed = spec.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise FaultRuleError(f"fault seed must be an integer; got {seed!r}")
        return {"rules": list(rules), "seed": seed}
    if isinstance(spec, Sequence) and not isinstance(spec, bytes):
        return {"rules": list(spec), "seed": 0}
    raise FaultRuleError(f"fault rules must be a list or {{'rules': [...]}}; got {type(spec).__name__}")
