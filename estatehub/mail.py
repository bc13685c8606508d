"""Sending e-mail through an SMTP server: the policy alerts now, the KPI and reconciliation reports later.

    settings = SmtpSettings(host="smtp.example.com", port=587, login="estatehub", password="...", starttls=True)
    SmtpSender(settings).send(message)

The settings come from the `smtp_default` Connection (`smtp_settings_from_connection`), read by the
Airflow task or the command line; this module never reads the environment. Logs name the server and
the number of recipients, never the password or the message body.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any, Protocol

log = logging.getLogger(__name__)


class MailError(Exception):
    """The message could not be handed to the SMTP server; the message says what to check."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send: `ssl` is SMTP over TLS (port 465), `starttls` upgrades a plain session."""

    host: str
    port: int = 25
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    ssl: bool = False
    timeout: float = 30.0
    sender: str | None = None

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError("expected the SMTP server's host name, got an empty one")
        if self.ssl and self.starttls:
            raise ValueError("choose ssl (SMTP over TLS, port 465) or starttls (port 587), not both")


class ConnectionLike(Protocol):
    host: str | None
    port: int | None
    login: str | None
    password: str | None

    @property
    def extra_dejson(self) -> dict[str, Any]: ...


def smtp_settings_from_connection(conn: ConnectionLike) -> SmtpSettings:
    """Settings from an Airflow SMTP Connection, with the SMTP provider's extras.

    extra: `disable_ssl` (default false: SMTP over TLS, as the provider does), `disable_tls`
    (default false: STARTTLS when not over TLS), `timeout`, `from_email`. For a plain local relay
    (the sandbox's MailSink) set both `disable_ssl` and `disable_tls` to true.
    """
    if not conn.host:
        raise ValueError("the smtp_default Connection has no host: set it to the SMTP server's name")
    extra = conn.extra_dejson or {}
    use_ssl = not _flag(extra.get("disable_ssl", False))
    use_starttls = not use_ssl and not _flag(extra.get("disable_tls", False))
    return SmtpSettings(
        host=conn.host,
        port=int(conn.port or (465 if use_ssl else 587 if use_starttls else 25)),
        login=conn.login or None,
        password=conn.password or None,
        starttls=use_starttls,
        ssl=use_ssl,
        timeout=float(extra.get("timeout", 30)),
        sender=extra.get("from_email") or None,
    )


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def send_message(message: EmailMessage, settings: SmtpSettings) -> None:
    """Hand `message` to the SMTP server (its From and To headers say who from and to whom)."""
    if settings.sender and not message["From"]:
        message["From"] = settings.sender
    recipients = [
        address for _, address in getaddresses(message.get_all("To", []) + message.get_all("Cc", [])) if address
    ]
    if not message["From"] or not recipients:
        raise MailError("expected a message with From and To headers, got one without; set them before sending")
    where = f"{settings.host}:{settings.port}"
    try:
        if settings.ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with client:
            if settings.starttls:
                client.starttls(context=ssl.create_default_context())
            if settings.login:
                client.login(settings.login, settings.password or "")
            refused = client.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(
            f"expected the SMTP server {where} to accept the login, it refused ({exc.smtp_code}); "
            "check login and password of the smtp_default Connection"
        ) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(
            f"expected to hand the message to the SMTP server {where}, got {type(exc).__name__}: {exc}; "
            "check host, port and TLS settings of the smtp_default Connection, and that the server is up"
        ) from exc
    if refused:
        log.warning("SMTP server %s refused %d of the recipients", where, len(refused))
    log.info("sent %r through %s to %d recipients", str(message["Subject"]), where, len(recipients))


class SmtpSender:
    """A callable mail sender bound to one server: `SmtpSender(settings)(message)` or `.send(message)`."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, message: EmailMessage) -> None:
        send_message(message, self.settings)

    __call__ = send
