"""Notifiers: who hears about a failed task, and how."""

from __future__ import annotations

from airflow.providers.smtp.notifications.smtp import SmtpNotifier

from estatehub import settings
from estatehub.connections import SMTP_CONN_ID


def notify_supervisors() -> SmtpNotifier:
    """E-mail to the supervisors (`estatehub.settings.SUPERVISORS`) through the `smtp_default` Connection."""
    return SmtpNotifier(
        to=list(settings.SUPERVISORS),
        from_email=settings.MAIL_FROM,
        smtp_conn_id=SMTP_CONN_ID,
        subject="[estatehub] {{ dag.dag_id }}.{{ ti.task_id }} failed ({{ ds }})",
    )
