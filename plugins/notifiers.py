"""Notifiers: who hears about a failed task, and how.

Every DAG file imports this module (through `dag_defaults`) while Airflow parses it, so it imports
nothing heavy at its top (decision 0026): the SMTP provider's notifier is imported and built when a
task has failed, in that task's process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from estatehub.dag_settings import MAIL_FROM, SMTP_CONN_ID, SUPERVISORS

if TYPE_CHECKING:
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

FAILED_SUBJECT = "[estatehub] {{ dag.dag_id }}.{{ ti.task_id }} failed ({{ ds }})"


def supervisors_mail(subject: str, html_content: str | None = None) -> dict[str, Any]:
    """The arguments of an `SmtpNotifier` that e-mails the supervisors (`estatehub.settings.SUPERVISORS`)
    through the `smtp_default` Connection: a failed task's notifier, and the Deadline Alerts' callback."""
    mail = {"to": list(SUPERVISORS), "from_email": MAIL_FROM, "smtp_conn_id": SMTP_CONN_ID, "subject": subject}
    if html_content is not None:
        mail["html_content"] = html_content
    return mail


def supervisors_notifier() -> SmtpNotifier:
    """The notifier of a failed task: its subject names the DAG, the task and the day."""
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    return SmtpNotifier(**supervisors_mail(FAILED_SUBJECT))


def notify_supervisors(context: Any) -> None:
    """A task's failure callback: the supervisors' notifier, built now, renders its subject from the
    task's context and sends."""
    supervisors_notifier()(context)
