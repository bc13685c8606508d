"""Fixtures of the policy monitor's tests: the sandbox bureau site, a mail sink, a monitor to drive.

Storage tests take `monitor`, which runs on the shared `engine` fixture (SQLite and PostgreSQL, a
throwaway database each, tests/conftest.py), migrated to head.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import Engine

from bench.policy_score import REDESIGNED_LIST, replay_config
from estatehub.mail import SmtpSender, SmtpSettings
from estatehub.policy.check import CheckResult, build_client, run_check
from estatehub.policy.config import PolicyConfig
from estatehub.policy.store import PolicyStore, StoredChange
from estatehub.warehouse.migrations import upgrade
from sandbox.bureau import BureauServer, TruthChange, start_bureau_server
from sandbox.smtp import MailSink

SEED = 7


@pytest.fixture
def bureau() -> Iterator[BureauServer]:
    server = start_bureau_server(seed=SEED)
    yield server
    server.stop()


@pytest.fixture
def mail_sink(tmp_path) -> Iterator[MailSink]:
    with MailSink(tmp_path / "mail") as sink:
        yield sink


@pytest.fixture
def policy_engine(engine: Engine) -> Engine:
    upgrade(engine)
    return engine


@dataclass
class Monitor:
    """The monitor against the sandbox site: `check(at)` moves the site's clock and runs one check.

    With `follow_redesign`, a check after the site's redesign uses the updated list selectors (the
    operator has read the selector alert); without it, the watch file stays as shipped.
    """

    bureau: BureauServer
    engine: Engine
    sink: MailSink
    config: PolicyConfig
    follow_redesign: bool = True
    results: list[CheckResult] = field(default_factory=list)

    def use_redesigned_selectors(self) -> None:
        for watch in self.config.watches:
            self.config = self.config.with_watch(watch.id, list=REDESIGNED_LIST)

    @property
    def store(self) -> PolicyStore:
        return PolicyStore(self.engine)

    def send(self, message: EmailMessage) -> None:
        SmtpSender(SmtpSettings(host=self.sink.host, port=self.sink.port)).send(message)

    def check(self, at: datetime) -> CheckResult:
        if self.follow_redesign and self.bureau.world.redesigned_at(at):
            self.use_redesigned_selectors()
        self.bureau.set_clock(at)
        with build_client(self.config, sleep=lambda _seconds: None) as client:
            result = run_check(self.config, self.engine, self.send, now=at, client=client)
        self.results.append(result)
        return result

    def changes(self) -> list[StoredChange]:
        world = self.bureau.world
        return self.store.changes_between(world.start - timedelta(days=365), world.end + timedelta(days=365))

    def mails(self) -> list[EmailMessage]:
        return self.sink.messages()

    def subjects(self) -> list[str]:
        return [str(message["Subject"]) for message in self.mails()]


@pytest.fixture
def monitor(bureau: BureauServer, policy_engine: Engine, mail_sink: MailSink) -> Monitor:
    return Monitor(bureau, policy_engine, mail_sink, replay_config(bureau.url))


def quiet(world, moment: datetime, step: timedelta = timedelta(minutes=10)) -> datetime:
    """The first moment from `moment` on that no outage or maintenance covers."""
    while world.incident_at(moment) is not None:
        moment += step
    return moment


def first_change(world, kind: str, *, before_redesign: bool = False, fmt: str | None = None) -> TruthChange:
    """The first true change of `kind` (optionally before the redesign, or of an attachment format)."""
    redesign = next(i.start for i in world.incidents if i.kind == "redesign")
    for change in world.truth:
        if change.kind != kind or (before_redesign and change.at >= redesign):
            continue
        if fmt and not change.detail.startswith(f"{fmt}:"):
            continue
        if world.incident_at(change.at - timedelta(minutes=1)) or world.incident_at(change.at + timedelta(minutes=1)):
            continue
        return change
    raise LookupError(f"seed {SEED}: no {kind} change{' of ' + fmt if fmt else ''} outside incidents")


def path_of(change: StoredChange) -> str:
    return "/" + change.notice_key.split(":", 1)[1]
