"""Sending e-mail through the SMTP provider's hook: the policy alerts now, the KPI and reconciliation reports later.

    SmtpSender().send(message)                         # the `smtp_default` Connection, found by Airflow's lookup
    SmtpSender(conn).send(message)                     # a Connection already read (the command line's)
    SmtpSender(SmtpSettings(host, port)).send(message) # a server named in code (tests, the benchmarks)

`message` is a prepared `email.message.EmailMessage`: plain text and HTML alternatives, inline images
(`add_related` with a Content-ID), attachments from memory. How the Connection reads — host, port,
`disable_ssl` / `disable_tls`, `timeout`, `retry_limit`, `from_email`, `ssl_context`, `auth_type` — is
the provider's `SmtpHook` alone: it opens the session, upgrades it to TLS and logs in; this module hands
the prepared message to that session, which the hook's own `send_email_smtp` cannot do (it builds an
HTML-only message of its own). See docs/decisions/0009-mail-through-the-smtp-hook.md. Logs name the
server and the number of recipients, never the password or the message body.
"""

from __future__ import annotations

import json
import logging
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from typing import TYPE_CHECKING

from estatehub.connections import SMTP_CONN_ID, ConnectionLike

if TYPE_CHECKING:
    from airflow.providers.smtp.hooks.smtp import SmtpHook
    from airflow.sdk import Connection

log = logging.getLogger(__name__)


class MailError(Exception):
    """The message could not be handed to the SMTP server; the message says what to check."""


@dataclass(frozen=True)
class SmtpSettings:
    """An SMTP server named in code rather than in a Connection (tests, the benchmarks, a local relay).

    `connection()` writes it as the Connection the provider's hook reads: `ssl` is SMTP over TLS
    (port 465), `starttls` upgrades a plain session; `timeout` in whole seconds; `retry_limit` how often
    a message the server deferred (4xx) is offered again (None: the provider's default).
    """

    host: str
    port: int = 25
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    ssl: bool = False
    timeout: int = 30
    sender: str | None = None
    retry_limit: int | None = None

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError("expected the SMTP server's host name, got an empty one")
        if self.ssl and self.starttls:
            raise ValueError("choose ssl (SMTP over TLS, port 465) or starttls (port 587), not both")

    def connection(self, conn_id: str = SMTP_CONN_ID) -> Connection:
        from airflow.sdk import Connection

        extra: dict[str, object] = {"disable_ssl": not self.ssl, "disable_tls": not self.starttls}
        extra["timeout"] = self.timeout
        if self.retry_limit is not None:
            extra["retry_limit"] = self.retry_limit
        if self.sender:
            extra["from_email"] = self.sender
        return Connection(
            conn_id=conn_id,
            conn_type="smtp",
            host=self.host,
            port=self.port,
            login=self.login,
            password=self.password,
            extra=json.dumps(extra),
        )


def smtp_hook(server: str | ConnectionLike | SmtpSettings = SMTP_CONN_ID) -> SmtpHook:
    """The provider's `SmtpHook` for a Connection id, a Connection already read, or settings named in code.

    Airflow is imported here, when a message is about to be sent, not when this module is: a command
    that may send mail (`policy check`) starts without it (issue 13)."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    if isinstance(server, str):
        return SmtpHook(smtp_conn_id=server)

    class _ReadSmtpHook(SmtpHook):
        """The provider's hook on a Connection already read: it uses that one instead of looking its id up again."""

        def __init__(self, connection: ConnectionLike) -> None:
            super().__init__(smtp_conn_id=getattr(connection, "conn_id", None) or SMTP_CONN_ID)
            self._read_connection = connection

        def get_connection(self, conn_id: str) -> ConnectionLike:  # type: ignore[override]
            return self._read_connection

    return _ReadSmtpHook(server.connection() if isinstance(server, SmtpSettings) else server)


def _where(hook: SmtpHook) -> str:
    conn = hook.smtp_connection
    if conn is None:
        return "?"
    return f"{conn.host}:{conn.port}" if conn.port else str(conn.host)


def _deliver(client: smtplib.SMTP, message: EmailMessage, retry_limit: int, where: str) -> dict:
    """`client.send_message`, offered again up to `retry_limit` times while the server defers it (4xx)."""
    for attempt in range(retry_limit + 1):
        try:
            return client.send_message(message)
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500 or attempt == retry_limit:
                raise
            log.warning("SMTP server %s deferred the message (%d); offering it again", where, exc.smtp_code)
    raise AssertionError("unreachable")  # pragma: no cover


def send_message(message: EmailMessage, hook: SmtpHook) -> None:
    """Hand a prepared `message` to the server of `hook`'s Connection, in a session of its own.

    Its From header, else the Connection's `from_email`, says who from; To, Cc and Bcc to whom.
    """
    recipients = [
        address
        for _, address in getaddresses(
            message.get_all("To", []) + message.get_all("Cc", []) + message.get_all("Bcc", [])
        )
        if address
    ]
    if not recipients:
        raise MailError("expected a message with From and To headers, got one without To; set them before sending")
    from airflow.sdk.exceptions import AirflowException

    name = hook.smtp_conn_id
    try:
        with hook:  # the provider: reads the Connection, connects (over TLS or with STARTTLS), logs in
            if not message["From"] and hook.from_email:
                message["From"] = hook.from_email
            if not message["From"]:
                raise MailError(
                    f"expected a message with From and To headers, got one without From; set it, or extra "
                    f"from_email of the {name} Connection"
                )
            # the session the hook opened and logged in (the provider keeps it there; version pinned)
            client = hook._smtp_client
            refused = _deliver(client, message, hook.smtp_retry_limit, _where(hook))
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(
            f"expected the SMTP server {_where(hook)} to accept the login, it refused ({exc.smtp_code}); "
            f"check login and password of the {name} Connection"
        ) from exc
    except (smtplib.SMTPException, OSError, AirflowException) as exc:
        if hook.smtp_connection is None:
            raise MailError(
                f"no Connection {name!r}: define it in Airflow or as AIRFLOW_CONN_{name.upper()}, e.g. "
                "'smtp://USER:PASSWORD@smtp.example.com:465?disable_tls=true' (SMTP over TLS)"
            ) from exc
        raise MailError(
            f"expected to hand the message to the SMTP server {_where(hook)}, got {type(exc).__name__}: {exc}; "
            f"check host, port and the TLS extras (disable_ssl, disable_tls) of the {name} Connection, and that "
            "the server is up"
        ) from exc
    if refused:
        log.warning("SMTP server %s refused %d of the recipients", _where(hook), len(refused))
    log.info("sent %r through %s to %d recipients", str(message["Subject"]), _where(hook), len(recipients))


class SmtpSender:
    """A callable mail sender bound to one SMTP Connection: `SmtpSender(server)(message)` or `.send(message)`.

    `server`: a Connection id (looked up by Airflow at each send: the DAG tasks), a Connection already
    read (the command line's), or `SmtpSettings`. One session per message: a check sends a handful.
    """

    def __init__(self, server: str | ConnectionLike | SmtpSettings = SMTP_CONN_ID) -> None:
        self.server = server

    def hook(self) -> SmtpHook:
        return smtp_hook(self.server)

    def send(self, message: EmailMessage) -> None:
        send_message(message, self.hook())

    __call__ = send


def command_line_sender() -> SmtpSender:
    """A mail sender for the `smtp_default` Connection the command line finds (`AIRFLOW_CONN_SMTP_DEFAULT`,
    or Airflow's lookup where it is configured); `ConnectionConfigError` when it is defined nowhere. The
    Connection is read once and handed to the provider's hook."""
    from estatehub.connections import ConnectionConfigError, get_connection

    conn = get_connection(SMTP_CONN_ID)
    if conn is None:
        raise ConnectionConfigError(
            "no 'smtp_default' Connection: set AIRFLOW_CONN_SMTP_DEFAULT, e.g. "
            "'smtp://USER:PASSWORD@smtp.example.com:465?disable_tls=true' (SMTP over TLS), or for a local relay "
            "'smtp://127.0.0.1:1025?disable_ssl=true&disable_tls=true'"
        )
    return SmtpSender(conn)
