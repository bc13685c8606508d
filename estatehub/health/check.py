"""The hourly health check: staleness findings stored in the warehouse, the supervisors told once.

    result = check_health(warehouse, rules, send, now=now)

1. The findings of `estatehub.freshness.status` as of `now`.
2. In one transaction: a finding already open is seen again (`last_seen_at`, its detail refreshed);
   a new one gets a row; an open row no longer found is resolved (`resolved_at`).
3. The open findings the supervisors were not yet told about go out in one mail through `send`
   (`SmtpSender(...).send`: the SMTP provider's hook, docs/decisions/0009); only once the server
   took it are they marked `alerted_at`. A mail that fails raises: the task's retry sends what is
   still due, and a finding is never told twice while it lasts. A finding that ends and comes back
   is a new row and is told again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from html import escape

from sqlalchemy import Connection, select, update

from estatehub import settings
from estatehub.freshness.rules import FreshnessRules
from estatehub.freshness.status import Finding, freshness, local
from estatehub.health.tables import etl_health_finding
from estatehub.warehouse.engine import Warehouse

log = logging.getLogger(__name__)

SendMail = Callable[[EmailMessage], None]
KIND_LABELS = {
    "sync_stale": "同步过期 (sync stale)",
    "no_new_data": "无新数据 (no new data)",
    "file_late": "文件未到 (file late)",
}


@dataclass(frozen=True)
class HealthResult:
    found: int
    new: int
    resolved: int
    alerted: int

    def as_dict(self) -> dict[str, int]:
        return {"found": self.found, "new": self.new, "resolved": self.resolved, "alerted": self.alerted}


def record_findings(conn: Connection, found: Sequence[Finding], now: datetime) -> tuple[int, int]:
    """Store `found` against the open findings: (new, resolved)."""
    table = etl_health_finding
    open_rows = {
        row.finding_key: row.finding_id
        for row in conn.execute(select(table.c.finding_key, table.c.finding_id).where(table.c.resolved_at.is_(None)))
    }
    new = 0
    for finding in found:
        values = {"detail": finding.detail, "last_good_at": finding.last_good_at, "last_seen_at": now}
        finding_id = open_rows.pop(finding.key, None)
        if finding_id is not None:
            conn.execute(update(table).where(table.c.finding_id == finding_id).values(**values))
            continue
        conn.execute(
            table.insert().values(
                finding_key=finding.key,
                kind=finding.kind,
                source=finding.source,
                subject=finding.subject,
                first_seen_at=now,
                **values,
            )
        )
        new += 1
    if open_rows:
        conn.execute(update(table).where(table.c.finding_id.in_(list(open_rows.values()))).values(resolved_at=now))
    return new, len(open_rows)


def alert_message(rows: Sequence, still_open: int, now: datetime, recipients: Sequence[str]) -> EmailMessage:
    """The staleness alert: the new findings, in Chinese with the English term, times in Beijing time."""
    message = EmailMessage()
    message["Subject"] = f"[estatehub] 数据时效告警 (staleness alert): {len(rows)} 项新问题 — {local(now)}"
    message["From"] = settings.MAIL_FROM
    message["To"] = ", ".join(recipients)
    lines = [f"以下数据源或文件未按计划更新（{local(now)} 北京时间检查）：", ""]
    items = []
    for row in rows:
        label = KIND_LABELS.get(row.kind, row.kind)
        lines.append(f"- [{label}] {row.detail}")
        items.append(f"<li><b>{escape(label)}</b> {escape(row.detail)}</li>")
    if still_open:
        note = f"另有 {still_open} 项此前已告警、仍未恢复 (still open, told before)。"
        lines += ["", note]
    else:
        note = ""
    footer = "详情见 Airflow 界面中的 Supervisors 页面 (the supervisors' page in the Airflow UI)。"
    lines += ["", footer]
    message.set_content("\n".join(lines))
    message.add_alternative(
        "<html><body style=\"font-family:'Microsoft YaHei','PingFang SC',sans-serif;font-size:14px\">"
        f"<p>以下数据源或文件未按计划更新（{escape(local(now))} 北京时间检查）：</p><ul>{''.join(items)}</ul>"
        f"<p>{escape(note)}</p><p>{escape(footer)}</p></body></html>",
        subtype="html",
    )
    return message


def check_health(
    warehouse: Warehouse,
    rules: FreshnessRules,
    send: SendMail,
    *,
    now: datetime | None = None,
    recipients: Sequence[str] = settings.SUPERVISORS,
) -> HealthResult:
    """One check (see the module doc). The warehouse is brought to head first."""
    now = now or datetime.now(UTC)
    warehouse.prepare()
    table = etl_health_finding
    with warehouse.begin() as conn:
        found = freshness(conn, rules, now).findings()
        new, resolved = record_findings(conn, found, now)
    with warehouse.engine.connect() as conn:
        due = conn.execute(
            select(table)
            .where(table.c.resolved_at.is_(None), table.c.alerted_at.is_(None))
            .order_by(table.c.finding_key)
        ).all()
        still_open = conn.execute(
            select(table.c.finding_id).where(table.c.resolved_at.is_(None), table.c.alerted_at.is_not(None))
        ).all()
    if due:
        send(alert_message(due, len(still_open), now, recipients))
        with warehouse.begin() as conn:
            conn.execute(
                update(table).where(table.c.finding_id.in_([row.finding_id for row in due])).values(alerted_at=now)
            )
    log.info("health: %d findings, %d new, %d resolved, %d told", len(found), new, resolved, len(due))
    return HealthResult(len(found), new, resolved, len(due))
