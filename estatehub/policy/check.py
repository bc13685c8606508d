"""One check of the bureau site: every watch read (`estatehub.policy.watch_check`), then the alerts sent.

    result = run_check(config, engine, SmtpSender(settings).send)

The digest goes out when there are changes not yet reported; the attachment alert when attachments
could not be read (too large, a bomb, broken) and nobody was told yet; the failure alert when a watch's checks
failed `failures_before_alert` times in a row; the selector alert when a page's markup stopped
matching; a recovery note when either is over. Each alert is sent once: what was sent is written
down only after the mail server took it, so a mail failure (which raises) leaves it due for the
next run.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from sqlalchemy import Engine

from connectors.bureau.client import BureauClient
from connectors.http import RetryPolicy
from estatehub.policy import alerts
from estatehub.policy.config import PolicyConfig
from estatehub.policy.store import PolicyStore, WatchState
from estatehub.policy.watch_check import WatchCheck, WatchResult

log = logging.getLogger(__name__)

SendMail = Callable[[EmailMessage], None]

__all__ = ["CheckResult", "SendMail", "WatchResult", "build_client", "run_check", "send_due_alerts"]


@dataclass
class CheckResult:
    run_id: str
    checked_at: datetime
    watches: list[WatchResult]
    alerts: list[str] = field(default_factory=list)
    purged: dict[str, int] = field(default_factory=dict)

    @property
    def changes(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for watch in self.watches:
            total.update(watch.changes)
        return total

    @property
    def failed(self) -> bool:
        return any(w.status == "failed" for w in self.watches)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "checked_at": self.checked_at.isoformat(),
            "changes": dict(self.changes),
            "alerts": list(self.alerts),
            "purged": dict(self.purged),
            "watches": [w.as_dict() for w in self.watches],
        }


def build_client(config: PolicyConfig, *, sleep: Callable[[float], None] = time.sleep) -> BureauClient:
    """The polite fetcher as the watch file sets it up."""
    site = config.site
    return BureauClient(
        allowed_hosts=site.allowed_hosts,
        user_agent=site.user_agent,
        min_interval=site.min_interval_seconds,
        timeout=site.timeout_seconds,
        retry=RetryPolicy(
            max_attempts=site.retries,
            backoff_initial=site.backoff_seconds,
            backoff_max=max(30.0, site.backoff_seconds),
        ),
        max_bytes=config.limits.download_bytes,
        body_deadline=config.limits.download_seconds,
        sleep=sleep,
    )


def run_check(
    config: PolicyConfig,
    engine: Engine,
    send_mail: SendMail,
    now: datetime | None = None,
    *,
    client: BureauClient | None = None,
) -> CheckResult:
    """Check every watch once, keep what was found, and send the due alerts through `send_mail`.

    `now` (aware; default: the current time) stamps snapshots, changes and alerts. The tables must
    exist (`estatehub.warehouse.migrations.upgrade`). Fetch errors do not raise: they are counted
    and alerted on; a failing database or mail server raises (the task's retries resend what is due).
    """
    now = (now or datetime.now(UTC)).astimezone(UTC)
    run_id = f"policy-{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    store = PolicyStore(engine)
    own_client = client is None
    client = client or build_client(config)
    results = []
    try:
        for watch in config.watches:
            results.append(WatchCheck(config, watch, client, store, run_id, now).run())
    finally:
        if own_client:
            client.close()
    result = CheckResult(run_id, now, results)
    result.purged = store.purge(config.retention, now)
    result.alerts = send_due_alerts(config, store, send_mail, now, results)
    log.info(
        "policy check %s: %s; alerts sent: %d",
        run_id,
        ", ".join(f"{w.watch_id} {w.status} ({dict(w.changes) or 'no changes'})" for w in results),
        len(result.alerts),
    )
    return result


def send_due_alerts(
    config: PolicyConfig,
    store: PolicyStore,
    send_mail: SendMail,
    now: datetime,
    results: Iterable[WatchResult] = (),
) -> list[str]:
    """Send the digest of unreported changes, then the attachment, failure, selector and recovery alerts due."""
    sent: list[str] = []
    pending = store.pending_changes()
    if pending:
        message = alerts.digest(config, pending, now)
        send_mail(message)
        store.mark_alerted([c.change_id for c in pending], now)
        sent.append(message["Subject"])
    failures = store.pending_failures()
    if failures:
        message = alerts.attachment_failure_alert(config, failures, now)
        send_mail(message)
        store.mark_failures_alerted([f.failure_id for f in failures], now)
        sent.append(message["Subject"])
    states = {w.id: store.load_state(w.id) for w in config.watches}
    last_errors = {r.watch_id: r.error for r in results}
    threshold = config.alerts.failures_before_alert
    failing = [
        (config.watch(i), s)
        for i, s in states.items()
        if s.consecutive_failures >= threshold and s.failure_alerted_at is None
    ]
    if failing:
        message = alerts.failure_alert(config, failing, now, last_errors)
        send_mail(message)
        _update_states(store, now, [s for _, s in failing], failure_alerted_at=now)
        sent.append(message["Subject"])
    broken = [(config.watch(i), s) for i, s in states.items() if s.selector_missing and s.selector_alerted_at is None]
    if broken:
        message = alerts.selector_alert(config, broken, now)
        send_mail(message)
        _update_states(store, now, [s for _, s in broken], selector_alerted_at=now)
        sent.append(message["Subject"])
    fetching_again = [
        (config.watch(i), s)
        for i, s in states.items()
        if s.consecutive_failures == 0 and s.failure_alerted_at is not None
    ]
    matching_again = [
        (config.watch(i), s) for i, s in states.items() if not s.selector_missing and s.selector_alerted_at is not None
    ]
    if fetching_again or matching_again:
        message = alerts.recovery(config, fetching_again, matching_again, now)
        send_mail(message)
        _update_states(store, now, [s for _, s in fetching_again], failure_alerted_at=None)
        _update_states(store, now, [s for _, s in matching_again], selector_alerted_at=None)
        sent.append(message["Subject"])
    return sent


def _update_states(store: PolicyStore, now: datetime, states: list[WatchState], **values: Any) -> None:
    for state in states:
        for name, value in values.items():
            setattr(state, name, value)
        store.save_state(state, now)
