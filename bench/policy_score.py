"""Precision and recall of the policy monitor against the sandbox bureau site's ground truth.

    python -m bench.policy_score [--seed 7] [--days 28] [--warehouse-url URL] [--mail-dir DIR]

Replays the demo period: the sandbox site (`sandbox.bureau`) on loopback, its clock moved to every
scheduled check (08:00–20:00 every 2 hours, Beijing time), `run_check` each time against a fresh
warehouse, alerts sent over real SMTP to a local mail sink. When the site's redesign makes the
selectors fail, the selector alert goes out and, two checks later, the "operator" updates the
selectors (as a person would after reading the alert). Then every change the site's ground truth
records is matched to what the monitor detected (same notice, same kind, detected at or after the
change, within `MAX_LATENCY`), and the leftovers on either side are listed.

A development tool: it imports the sandbox, which production code never does.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from connectors.bureau.records import ListSelectors
from estatehub.mail import SmtpSender, SmtpSettings
from estatehub.policy.check import CheckResult, build_client, run_check
from estatehub.policy.config import DEFAULT_CONFIG_PATH, ListConfig, PolicyConfig, load_config
from estatehub.policy.store import PolicyStore, StoredChange
from estatehub.settings import BUSINESS_TZ

log = logging.getLogger(__name__)

MAX_LATENCY = timedelta(days=3)
FIX_SELECTORS_AFTER_CHECKS = 2
# what an operator writes into the watch file after looking at the redesigned list pages
REDESIGNED_LIST = ListConfig(
    selectors=ListSelectors(
        item="div.list-content div.list-item",
        link="a.list-title",
        date="p.list-time",
        page_count_pattern=r'data-pages="(\d+)"',
    ),
    page_url="index_{n}.html",
)


@dataclass
class Match:
    kind: str
    path: str
    title: str
    at: datetime
    detected_at: datetime | None = None


@dataclass
class Score:
    seed: int
    checks: int
    truth: list[Match]
    detected: list[StoredChange]
    false_alerts: list[StoredChange]
    alerts: Counter[str] = field(default_factory=Counter)
    incidents: list[str] = field(default_factory=list)
    seconds: float = 0.0
    mail_dir: str = ""

    @property
    def found(self) -> list[Match]:
        return [m for m in self.truth if m.detected_at is not None]

    @property
    def missed(self) -> list[Match]:
        return [m for m in self.truth if m.detected_at is None]

    @property
    def recall(self) -> float:
        return len(self.found) / len(self.truth) if self.truth else 1.0

    @property
    def precision(self) -> float:
        if not self.detected:
            return 1.0
        return (len(self.detected) - len(self.false_alerts)) / len(self.detected)


def check_times(start: datetime, days: int, cron: str) -> list[datetime]:
    """The moments of `cron` (minute and hour fields; the others must be `*`) over `days` days from `start`."""
    fields = cron.split()
    if len(fields) != 5 or fields[2:] != ["*", "*", "*"]:
        raise ValueError(f"expected a daily cron expression like '0 8-20/2 * * *', got {cron!r}")
    minutes, hours = _cron_field(fields[0], 60), _cron_field(fields[1], 24)
    first = start.astimezone(BUSINESS_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    return [
        first + timedelta(days=day, hours=hour, minutes=minute)
        for day in range(days)
        for hour in hours
        for minute in minutes
        if first + timedelta(days=day, hours=hour, minutes=minute) >= start
    ]


def _cron_field(text: str, size: int) -> list[int]:
    values: set[int] = set()
    for part in text.split(","):
        span, _, step = part.partition("/")
        if span == "*":
            low, high = 0, size - 1
        elif "-" in span:
            low, high = (int(v) for v in span.split("-"))
        else:
            low = high = int(span)
        values.update(range(low, high + 1, int(step or 1)))
    return sorted(values)


def replay_config(base_url: str, path: str | Path | None = None) -> PolicyConfig:
    """The watch file pointed at the sandbox, without pauses between requests or retries."""
    config = load_config(path or DEFAULT_CONFIG_PATH, base_url=base_url)
    site = replace(config.site, min_interval_seconds=0.0, retries=2, backoff_seconds=0.0, timeout_seconds=10.0)
    return replace(config, site=site)


def replay(
    seed: int = 7,
    *,
    days: int | None = None,
    warehouse_url: str | None = None,
    mail_dir: str | Path | None = None,
    config_path: str | Path | None = None,
) -> Score:
    """Run the monitor over the sandbox's demo period and score it (see the module docstring)."""
    from estatehub.warehouse.engine import create_warehouse_engine
    from estatehub.warehouse.migrations import upgrade
    from sandbox.bureau.server import BureauServer
    from sandbox.bureau.world import DEFAULT_DAYS
    from sandbox.smtp import MailSink

    started = time.perf_counter()
    work = tempfile.TemporaryDirectory(prefix="estatehub-policy-score-")
    mail_folder = Path(mail_dir) if mail_dir else Path(work.name) / "mail"
    url = warehouse_url or f"sqlite:///{Path(work.name) / 'warehouse.db'}"
    period_days = days or DEFAULT_DAYS
    server = BureauServer(seed=seed, days=period_days).start()
    world = server.world
    engine = create_warehouse_engine(url)
    sink = MailSink(mail_folder).start()
    try:
        upgrade(engine)
        config = replay_config(server.url, config_path)
        send = SmtpSender(SmtpSettings(host=sink.host, port=sink.port)).send
        times = check_times(world.start, period_days, config.schedule_cron)
        alerts: Counter[str] = Counter()
        fix_at: int | None = None
        with build_client(config, sleep=lambda _seconds: None) as client:
            for number, moment in enumerate(times):
                server.set_clock(moment)
                if fix_at is not None and number >= fix_at:
                    for watch in config.watches:
                        config = config.with_watch(watch.id, list=REDESIGNED_LIST)
                    fix_at = None
                    log.info("operator: list selectors updated at %s", moment.isoformat())
                result = run_check(config, engine, send, now=moment, client=client)
                _count_alerts(result, alerts)
                if any("选择器失效" in subject for subject in result.alerts) and fix_at is None:
                    fix_at = number + FIX_SELECTORS_AFTER_CHECKS
        last = times[-1]
        detected = PolicyStore(engine).changes_between(world.start, last + timedelta(seconds=1))
        truth = [
            Match(change.kind, change.path, change.title, change.at)
            for change in world.truth
            if world.start <= change.at <= last
        ]
        false_alerts = _match(truth, detected)
        incidents = [
            f"{i.kind} {i.start.strftime('%m-%d %H:%M')}" + (f"–{i.end.strftime('%m-%d %H:%M')}" if i.end else "")
            for i in world.incidents
        ]
        return Score(
            seed=seed,
            checks=len(times),
            truth=truth,
            detected=detected,
            false_alerts=false_alerts,
            alerts=alerts,
            incidents=incidents,
            seconds=time.perf_counter() - started,
            mail_dir=str(mail_folder) if mail_dir else "",
        )
    finally:
        sink.stop()
        engine.dispose()
        server.stop()
        work.cleanup()


def _count_alerts(result: CheckResult, alerts: Counter[str]) -> None:
    for subject in result.alerts:
        if "政策变化" in subject:
            alerts["digest"] += 1
        elif "抓取连续失败" in subject:
            alerts["failure"] += 1
        elif "选择器失效" in subject:
            alerts["selector"] += 1
        elif "已恢复" in subject:
            alerts["recovery"] += 1
        else:
            alerts["other"] += 1


def _path(notice_key: str) -> str:
    return "/" + notice_key.split(":", 1)[1] if ":" in notice_key else urlsplit(notice_key).path


def _match(truth: Sequence[Match], detected: Sequence[StoredChange]) -> list[StoredChange]:
    """Pair each true change with the earliest unpaired detection of it; returns the unpaired detections."""
    unpaired = sorted(detected, key=lambda c: (c.detected_at, c.change_id))
    for change in sorted(truth, key=lambda m: m.at):
        for candidate in unpaired:
            if (
                candidate.kind == change.kind
                and _path(candidate.notice_key) == change.path
                and change.at <= candidate.detected_at <= change.at + MAX_LATENCY
            ):
                change.detected_at = candidate.detected_at
                unpaired.remove(candidate)
                break
    return unpaired


def report(score: Score) -> str:
    kinds = ("new", "changed", "attachment_changed", "withdrawn")
    lines = [
        f"policy monitor against the sandbox bureau site, seed {score.seed}: {score.checks} checks "
        f"in {score.seconds:.1f} s",
        f"incidents (not changes): {', '.join(score.incidents)}",
        "",
        f"{'kind':<20}{'truth':>7}{'found':>7}{'missed':>8}{'false':>7}",
    ]
    for kind in kinds:
        truth = sum(m.kind == kind for m in score.truth)
        found = sum(m.kind == kind and m.detected_at is not None for m in score.found)
        false = sum(c.kind == kind for c in score.false_alerts)
        lines.append(f"{kind:<20}{truth:>7}{found:>7}{truth - found:>8}{false:>7}")
    lines.append(
        f"{'all':<20}{len(score.truth):>7}{len(score.found):>7}{len(score.missed):>8}{len(score.false_alerts):>7}"
    )
    lines += [
        "",
        f"recall    {score.recall:.3f}  (real changes reported)",
        f"precision {score.precision:.3f}  (reported changes that are real)",
        f"false change alerts: {len(score.false_alerts)}",
    ]
    if score.found:
        latency = [(m.detected_at - m.at).total_seconds() / 3600 for m in score.found if m.detected_at]
        lines.append(f"detection delay: median {sorted(latency)[len(latency) // 2]:.1f} h, max {max(latency):.1f} h")
    lines.append("alerts sent: " + ", ".join(f"{k} {v}" for k, v in sorted(score.alerts.items())))
    for match in score.missed:
        lines.append(f"MISSED {match.kind} {match.path} {match.at.isoformat()} {match.title}")
    for change in score.false_alerts:
        lines.append(f"FALSE  {change.kind} {change.notice_key} {change.detected_at.isoformat()} {change.title}")
    if score.mail_dir:
        lines.append(f"mail kept in {score.mail_dir}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.policy_score",
        description="Replay the sandbox bureau site's demo period and print the monitor's precision and recall.",
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the sandbox site (default 7)")
    parser.add_argument("--days", type=int, default=None, help="days of the period (default: the sandbox's 28)")
    parser.add_argument("--warehouse-url", help="warehouse SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--mail-dir", type=Path, help="keep the alerts sent as .eml files in this folder")
    parser.add_argument("--config", type=Path, help="watch file (default: config/policy_watches.yaml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    args = parser.parse_args(argv)
    if args.days is not None and args.days < 14:
        parser.error(f"--days: expected at least 14 (room for every kind of change), got {args.days}")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    score = replay(
        args.seed, days=args.days, warehouse_url=args.warehouse_url, mail_dir=args.mail_dir, config_path=args.config
    )
    print(report(score))
    return 0 if score.recall == 1.0 and not score.false_alerts else 1


if __name__ == "__main__":
    sys.exit(main())
