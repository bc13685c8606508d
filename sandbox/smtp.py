"""A real SMTP server on loopback that keeps every message it receives as an `.eml` file.

Plays the mail relay in the demo and the tests: estatehub sends through the `smtp_default` Connection
exactly as it would in production, and people (or tests) read what was sent from the mail folder.
"""

from __future__ import annotations

import itertools
import logging
import threading
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller

log = logging.getLogger(__name__)

# aiosmtpd logs every connection and command at INFO on "mail.log", from its own thread: after a test
# (or Airflow) has closed the handlers' streams those lines end as "Logging error" noise. The sandbox
# keeps them at WARNING unless someone set the logger's level on purpose.
_AIOSMTPD_LOG = logging.getLogger("mail.log")


class _KeepAsFiles:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self._lock:
            number = next(self._counter)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = self.folder / f"{stamp}-{number:05d}.eml"
        path.write_bytes(envelope.original_content or envelope.content)
        log.info("kept a message for %d recipients as %s", len(envelope.rcpt_tos), path.name)
        return "250 Message accepted for delivery"


class MailSink:
    """`MailSink(folder).start()` → listening on 127.0.0.1:`port`; `messages()` reads what came."""

    def __init__(self, folder: Path, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.host = host
        self._requested_port = port
        self._controller: Controller | None = None

    @property
    def port(self) -> int:
        if self._controller is None:
            raise RuntimeError("the mail sink is not started")
        return self._controller.server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> MailSink:
        if _AIOSMTPD_LOG.level == logging.NOTSET:
            _AIOSMTPD_LOG.setLevel(logging.WARNING)
        port = self._requested_port or _free_port(self.host)
        self._controller = Controller(_KeepAsFiles(self.folder), hostname=self.host, port=port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> MailSink:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def messages(self) -> list[EmailMessage]:
        return [
            message_from_bytes(path.read_bytes(), policy=policy.default) for path in sorted(self.folder.glob("*.eml"))
        ]


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
