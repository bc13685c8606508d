"""How fresh every source is, from the warehouse alone, judged by the rules (`estatehub.freshness.rules`).

    statuses = freshness(conn, rules, now)      # one row per stream and per expected daily file
    found = findings(statuses)                  # only what is stale or late, as alert findings

What the warehouse says:
- a stream's last successful sync: `etl_run` (status succeeded, its `finished_at`);
- a source's newest data: the newest `raw_record.fetched_at` of the source (a record is only stored
  when it is new or changed, so this is when the source last brought something new);
- a bank's statements: `etl_bank_statement_file`, the newest day (`period_end_on`) loaded for each
  account (a replaced file counts: a newer version of it was loaded);
- the fund centre's loan list: the day in the file name (`_file`) of the newest raw record of the
  fund centre (the list's rows carry the name of the file they came from).

Pure reads: nothing here writes. Account numbers come out masked (developer's accounts, masked all
the same on pages and in mails).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, func, select

from connectors.identity import mask_account
from estatehub.banks.tables import etl_bank_statement_file
from estatehub.freshness.rules import DailyFileRule, FreshnessRules, SyncRule, format_duration
from estatehub.settings import BUSINESS_TZ
from estatehub.warehouse.tables import etl_run, etl_sync_state, raw_record

ARRIVED_FILE_STATUSES = ("loaded", "replaced")
_LIST_DAY = re.compile(r"(\d{8})")


def local(moment: datetime | None) -> str:
    """`2026-12-03 09:05` in Beijing time, or `—`."""
    return moment.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M") if moment else "—"


@dataclass(frozen=True)
class Finding:
    """One thing a supervisor must hear about once: its `key` stays the same while it lasts."""

    key: str
    kind: str  # sync_stale | no_new_data | file_late
    source: str
    subject: str
    detail: str
    last_good_at: datetime | None


@dataclass(frozen=True)
class StreamFreshness:
    rule: SyncRule
    stream: str | None  # None: the source has no stream that ever synced
    last_success_at: datetime | None
    last_data_at: datetime | None
    age: timedelta | None  # business time since the last success
    data_age: timedelta | None  # business time since the newest data

    @property
    def stale(self) -> bool:
        return self.age is None or self.age > self.rule.limit

    @property
    def quiet(self) -> bool:
        if self.rule.quiet is None:
            return False
        return self.data_age is None or self.data_age > self.rule.quiet

    @property
    def name(self) -> str:
        return f"{self.rule.source}/{self.stream}" if self.stream else self.rule.source

    def findings(self) -> list[Finding]:
        found = []
        if self.stale:
            if self.last_success_at is None:
                detail = f"{self.rule.label} {self.name}: 从未成功同步 (never synced successfully)"
            else:
                detail = (
                    f"{self.rule.label} {self.name}: 最后成功同步 {local(self.last_success_at)}，营业时间内已过 "
                    f"{format_duration(self.age or timedelta(0))}，允许 {format_duration(self.rule.limit)} "
                    f"(every {format_duration(self.rule.every)} + grace {format_duration(self.rule.grace)})"
                )
            found.append(
                Finding(
                    f"sync_stale:{self.name}", "sync_stale", self.rule.source, self.name, detail, self.last_success_at
                )
            )
        if self.quiet and self.rule.quiet is not None:
            detail = (
                f"{self.rule.label} {self.rule.source}: 最新数据 {local(self.last_data_at)}，营业时间内 "
                f"{format_duration(self.data_age or timedelta(0))} 无新数据，允许 {format_duration(self.rule.quiet)} "
                "(no new record)"
                if self.last_data_at
                else f"{self.rule.label} {self.rule.source}: 从未收到数据 (no record ever)"
            )
            found.append(
                Finding(
                    f"no_new_data:{self.rule.source}",
                    "no_new_data",
                    self.rule.source,
                    self.rule.source,
                    detail,
                    self.last_data_at,
                )
            )
        return found


@dataclass(frozen=True)
class FileFreshness:
    rule: DailyFileRule
    source: str  # bank_<code>
    subject: str  # the bank and the masked account, or the list's name
    newest_day: date | None
    expected_day: date | None

    @property
    def late(self) -> bool:
        if self.expected_day is None:
            return False
        return self.newest_day is None or self.newest_day < self.expected_day

    def findings(self) -> list[Finding]:
        if not self.late or self.expected_day is None:
            return []
        newest = self.newest_day.isoformat() if self.newest_day else "无 (none)"
        detail = (
            f"{self.rule.label} {self.subject}: {self.expected_day.isoformat()} 的文件应于 "
            f"{local(self.rule.due_at(self.expected_day))} 前到达，未到 (not arrived); 最新: {newest}"
        )
        return [
            Finding(f"file_late:{self.rule.name}:{self.subject}", "file_late", self.source, self.subject, detail, None)
        ]


def _last_successes(conn: Connection) -> dict[tuple[str, str], datetime]:
    rows = conn.execute(
        select(etl_run.c.source, etl_run.c.stream, func.max(etl_run.c.finished_at))
        .where(etl_run.c.status == "succeeded")
        .group_by(etl_run.c.source, etl_run.c.stream)
    )
    return {(source, stream): finished for source, stream, finished in rows if finished is not None}


def _known_streams(conn: Connection, source: str) -> list[str]:
    runs = select(etl_run.c.stream).where(etl_run.c.source == source)
    states = select(etl_sync_state.c.stream).where(etl_sync_state.c.source == source)
    return sorted({row[0] for row in conn.execute(runs.union(states))})


def newest_data_at(conn: Connection, source: str) -> datetime | None:
    """When `source` last brought a new or changed record (the newest raw record's `fetched_at`)."""
    return conn.execute(select(func.max(raw_record.c.fetched_at)).where(raw_record.c.source == source)).scalar()


def stream_freshness(conn: Connection, rules: FreshnessRules, now: datetime) -> list[StreamFreshness]:
    successes = _last_successes(conn)
    result = []
    for rule in rules.syncs:
        streams = list(rule.streams) if rule.streams is not None else _known_streams(conn, rule.source)
        last_data = newest_data_at(conn, rule.source)
        data_age = rule.window.elapsed(last_data, now) if last_data else None
        for stream in streams or [None]:
            last_ok = successes.get((rule.source, stream)) if stream else None
            age = rule.window.elapsed(last_ok, now) if last_ok else None
            result.append(StreamFreshness(rule, stream, last_ok, last_data, age, data_age))
    return result


def _statement_days(conn: Connection, rule: DailyFileRule, now: datetime) -> list[FileFreshness]:
    table = etl_bank_statement_file
    known_from = now.astimezone(BUSINESS_TZ).date() - timedelta(days=rule.known_days)
    rows = conn.execute(
        select(table.c.bank, table.c.account_no, func.max(table.c.period_end_on))
        .where(table.c.status.in_(ARRIVED_FILE_STATUSES), table.c.bank.in_(rule.banks))
        .group_by(table.c.bank, table.c.account_no)
    ).all()
    expected = rule.expected_day(now)
    result = []
    for bank in rule.banks:
        accounts = [
            (account, newest)
            for row_bank, account, newest in rows
            if row_bank == bank and newest is not None and newest >= known_from
        ]
        if not accounts:  # no account of this bank delivered anything lately: the bank is the subject
            subject = f"{bank} ({rule.known_days} 天内无文件 no file in {rule.known_days} days)"
            result.append(FileFreshness(rule, f"bank_{bank}", subject, None, expected))
        for account, newest in sorted(accounts, key=lambda item: item[0] or ""):
            masked = mask_account(account) if account else "?"
            result.append(FileFreshness(rule, f"bank_{bank}", f"{bank} {masked}", newest, expected))
    return result


def newest_fund_list_day(conn: Connection, source: str) -> date | None:
    """The day of the newest fund centre loan list whose rows reached the warehouse (from its file name)."""
    payload = conn.execute(
        select(raw_record.c.payload)
        .where(raw_record.c.source == source)
        .order_by(raw_record.c.fetched_at.desc(), raw_record.c.raw_record_id.desc())
        .limit(1)
    ).scalar()
    name = payload.get("_file") if isinstance(payload, dict) else None
    match = _LIST_DAY.search(name) if isinstance(name, str) else None
    if not match:
        return None
    try:
        return datetime.strptime(match[1], "%Y%m%d").date()
    except ValueError:
        return None


def file_freshness(conn: Connection, rules: FreshnessRules, now: datetime) -> list[FileFreshness]:
    result: list[FileFreshness] = []
    for rule in rules.files:
        if rule.kind == "bank_statement":
            result.extend(_statement_days(conn, rule, now))
        elif rule.source is not None:
            newest = newest_fund_list_day(conn, rule.source)
            result.append(FileFreshness(rule, rule.source, rule.name, newest, rule.expected_day(now)))
    return result


@dataclass(frozen=True)
class Freshness:
    streams: list[StreamFreshness]
    files: list[FileFreshness]

    def findings(self) -> list[Finding]:
        return findings(self.streams, self.files)


def freshness(conn: Connection, rules: FreshnessRules, now: datetime) -> Freshness:
    """Every stream and every expected daily file as of `now` (an aware instant)."""
    return Freshness(stream_freshness(conn, rules, now), file_freshness(conn, rules, now))


def findings(streams: Sequence[StreamFreshness], files: Sequence[FileFreshness]) -> list[Finding]:
    """What is stale or late, one finding per stream, source or file (ordered by key)."""
    found = [finding for status in [*streams, *files] for finding in status.findings()]
    return sorted({finding.key: finding for finding in found}.values(), key=lambda f: f.key)
