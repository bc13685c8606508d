"""The freshness rules (`config/freshness.yaml`) → validated `FreshnessRules`, and the clock they use.

    rules = load_rules()                       # config/freshness.yaml
    rule.window.elapsed(last_ok, now)          # business time between two instants
    file_rule.expected_day(now)                # the newest day whose file must have arrived by `now`

Business time is counted in Beijing time (`settings.BUSINESS_TZ`), inside each rule's hours on its
days only: a stream that synced at 18:50 on Friday and is checked at 09:20 on Monday, with hours
09:00–19:00 on Monday to Friday, is 30 minutes old. A limit is reached, not passed, at the exact
instant: stale means strictly older than `every` + `grace`, late strictly after `due` + `grace`.
A typo in the file fails at load with its place (`syncs[2].every: expected a duration like 45m, 1h30m`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from estatehub.settings import BUSINESS_TZ, CONFIG_DIR, read_yaml

DEFAULT_RULES_PATH = CONFIG_DIR / "freshness.yaml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FILE_KINDS = ("bank_statement", "fund_loan_list")
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")
_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_CLOCK = re.compile(r"^(\d{2}):(\d{2})$")
MAX_BUSINESS_DAYS_COUNTED = 400  # older than this, a source is simply very stale: stop counting


class FreshnessRulesError(ValueError):
    """The rules file cannot be used as written; the message names the place and what to write."""


def parse_duration(text: Any, where: str) -> timedelta:
    match = _DURATION.match(str(text).strip()) if text is not None else None
    if not match or not any(match.groups()):
        raise FreshnessRulesError(f"{where}: expected a duration like 45m, 1h, 1h30m or 2d, got {text!r}")
    days, hours, minutes = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


def format_duration(value: timedelta) -> str:
    """`2h05m`, `45m`, `3d4h`: how long, for a person (whole minutes)."""
    minutes = int(value.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    text = (f"{days}d" if days else "") + (f"{hours}h" if hours else "")
    if minutes or not text:
        text += f"{minutes:02d}m" if text else f"{minutes}m"
    return text


def _clock(text: Any, where: str) -> time:
    match = _CLOCK.match(str(text).strip()) if text is not None else None
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise FreshnessRulesError(f"{where}: expected a time of day like 07:30, got {text!r}")
    return time(int(match[1]), int(match[2]))


def _days(value: Any, where: str) -> frozenset[int]:
    if value is None or value == "all":
        return frozenset(range(7))
    if not isinstance(value, list) or not value or any(str(day).lower() not in WEEKDAYS for day in value):
        raise FreshnessRulesError(
            f"{where}: expected a list of days among {', '.join(WEEKDAYS)} (or all), got {value!r}"
        )
    return frozenset(WEEKDAYS.index(str(day).lower()) for day in value)


@dataclass(frozen=True)
class BusinessWindow:
    """Business hours [`start`, `end`) in Beijing time on the `days` (0 = Monday); `end` 24:00 allowed."""

    start: timedelta  # since midnight
    end: timedelta
    days: frozenset[int]

    @classmethod
    def parse(cls, hours: Any, days: Any, where: str) -> BusinessWindow:
        text = "00:00-24:00" if hours is None else str(hours).strip()
        match = _HOURS.match(text)
        if not match:
            raise FreshnessRulesError(f"{where}.hours: expected business hours like 09:00-19:00, got {hours!r}")
        start = timedelta(hours=int(match[1]), minutes=int(match[2]))
        end = timedelta(hours=int(match[3]), minutes=int(match[4]))
        if not (timedelta(0) <= start < end <= timedelta(hours=24)) or int(match[2]) > 59 or int(match[4]) > 59:
            raise FreshnessRulesError(f"{where}.hours: expected a start before the end within one day, got {hours!r}")
        return cls(start, end, _days(days, f"{where}.days"))

    def elapsed(self, since: datetime, now: datetime) -> timedelta:
        """Business time between `since` and `now` (aware instants); zero when `since` is not before `now`."""
        if since >= now:
            return timedelta(0)
        first = since.astimezone(BUSINESS_TZ).date()
        last = now.astimezone(BUSINESS_TZ).date()
        if (last - first).days > MAX_BUSINESS_DAYS_COUNTED:
            first = last - timedelta(days=MAX_BUSINESS_DAYS_COUNTED)
        total = timedelta(0)
        day = first
        while day <= last:
            if day.weekday() in self.days:
                midnight = datetime.combine(day, time(0), tzinfo=BUSINESS_TZ)
                # wall-clock hours of the day (Asia/Shanghai has no daylight saving time)
                opens, closes = midnight + self.start, midnight + self.end
                overlap = min(closes, now) - max(opens, since)
                if overlap > timedelta(0):
                    total += overlap
            day += timedelta(days=1)
        return total


@dataclass(frozen=True)
class SyncRule:
    source: str
    label: str
    streams: tuple[str, ...] | None  # None: every stream the source has synced
    every: timedelta
    grace: timedelta
    window: BusinessWindow
    quiet: timedelta | None = None

    @property
    def limit(self) -> timedelta:
        return self.every + self.grace


@dataclass(frozen=True)
class DailyFileRule:
    name: str
    label: str
    kind: str
    due: time
    grace: timedelta
    days: frozenset[int]
    banks: tuple[str, ...] = ()
    source: str | None = None
    known_days: int = 30

    def due_at(self, day: date) -> datetime:
        """When the file of business day `day` is late: the next day at `due`, plus the grace."""
        return datetime.combine(day + timedelta(days=1), self.due, tzinfo=BUSINESS_TZ) + self.grace

    def expected_day(self, now: datetime) -> date | None:
        """The newest day on the rule's days whose file is late by `now` if it has not arrived."""
        day = now.astimezone(BUSINESS_TZ).date()
        for _ in range(8):
            if day.weekday() in self.days and now > self.due_at(day):
                return day
            day -= timedelta(days=1)
        return None


@dataclass(frozen=True)
class FreshnessRules:
    syncs: tuple[SyncRule, ...]
    files: tuple[DailyFileRule, ...]
    path: Path | None = None


def _text(entry: dict, key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise FreshnessRulesError(f"{where}.{key}: expected a non-empty text, got {value!r}")
    return value.strip()


def _sync_rule(entry: Any, where: str) -> SyncRule:
    if not isinstance(entry, dict):
        raise FreshnessRulesError(f"{where}: expected a mapping with source, streams, every, hours, grace")
    source = _text(entry, "source", where)
    streams = entry.get("streams", "*")
    if streams == "*":
        names = None
    elif isinstance(streams, list) and streams and all(isinstance(s, str) and s for s in streams):
        names = tuple(streams)
    else:
        raise FreshnessRulesError(f'{where}.streams: expected a list of stream names or "*", got {streams!r}')
    quiet = entry.get("quiet")
    return SyncRule(
        source=source,
        label=str(entry.get("label") or source),
        streams=names,
        every=parse_duration(entry.get("every"), f"{where}.every"),
        grace=parse_duration(entry.get("grace", "0m"), f"{where}.grace") if entry.get("grace") else timedelta(0),
        window=BusinessWindow.parse(entry.get("hours"), entry.get("days"), where),
        quiet=parse_duration(quiet, f"{where}.quiet") if quiet is not None else None,
    )


def _file_rule(entry: Any, where: str) -> DailyFileRule:
    if not isinstance(entry, dict):
        raise FreshnessRulesError(f"{where}: expected a mapping with name, kind, due, grace")
    kind = _text(entry, "kind", where)
    if kind not in FILE_KINDS:
        raise FreshnessRulesError(f"{where}.kind: expected one of {', '.join(FILE_KINDS)}, got {kind!r}")
    banks = entry.get("banks") or []
    if kind == "bank_statement" and (not isinstance(banks, list) or not banks):
        raise FreshnessRulesError(f"{where}.banks: expected the list of banks whose statements are expected")
    known_days = entry.get("known_days", 30)
    if not isinstance(known_days, int) or known_days < 1:
        raise FreshnessRulesError(f"{where}.known_days: expected a whole number of days, got {known_days!r}")
    return DailyFileRule(
        name=_text(entry, "name", where),
        label=str(entry.get("label") or entry["name"]),
        kind=kind,
        due=_clock(entry.get("due"), f"{where}.due"),
        grace=parse_duration(entry["grace"], f"{where}.grace") if entry.get("grace") else timedelta(0),
        days=_days(entry.get("days"), f"{where}.days"),
        banks=tuple(str(bank) for bank in banks),
        source=_text(entry, "source", where) if kind == "fund_loan_list" else None,
        known_days=known_days,
    )


def parse_rules(data: Any, path: Path | None = None) -> FreshnessRules:
    if not isinstance(data, dict):
        raise FreshnessRulesError("expected a mapping with `syncs` and `daily_files` at the top of the rules file")
    syncs = data.get("syncs") or []
    files = data.get("daily_files") or []
    if not isinstance(syncs, list) or not isinstance(files, list):
        raise FreshnessRulesError("expected `syncs` and `daily_files` to be lists")
    return FreshnessRules(
        syncs=tuple(_sync_rule(entry, f"syncs[{i}]") for i, entry in enumerate(syncs)),
        files=tuple(_file_rule(entry, f"daily_files[{i}]") for i, entry in enumerate(files)),
        path=path,
    )


def load_rules(path: str | Path | None = None) -> FreshnessRules:
    """The rules of `path` (default: config/freshness.yaml in the project)."""
    path = Path(path) if path is not None else DEFAULT_RULES_PATH
    data = read_yaml(path, "the freshness rules", FreshnessRulesError)
    try:
        return parse_rules(data, path)
    except FreshnessRulesError as exc:
        raise FreshnessRulesError(f"{path}: {exc}") from exc
