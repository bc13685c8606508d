"""Mail goes through the SMTP provider's hook (docs/decisions/0009): the provider alone reads the
`smtp_default` Connection (TLS, timeout, retry limit, sender, login), and estatehub hands a prepared
message — alternatives, an inline chart, an attachment — to the session the hook opened. Real SMTP
servers on loopback: the sandbox's mail sink, and a scripted relay for answers the sink never gives."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from airflow.providers.smtp.hooks.smtp import SmtpHook

from estatehub.mail import MailError, SmtpSender, SmtpSettings, send_message, smtp_hook
from sandbox.smtp import MailSink

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"chart-bytes"
XLSX = b"PK\x03\x04 workbook bytes \x00\x01\x02"
SUPERVISORS = "cs-supervisor-1@estatehub.example, cs-supervisor-2@estatehub.example"


@pytest.fixture(autouse=True)
def _no_outside_connections(monkeypatch):
    for name in [name for name in os.environ if name.startswith("AIRFLOW_CONN_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def mail_sink(tmp_path) -> Iterator[MailSink]:
    with MailSink(tmp_path / "mail") as sink:
        yield sink


def plain_relay(host: str, port: int, **extra: str) -> str:
    """`AIRFLOW_CONN_SMTP_DEFAULT` of a plain relay (no TLS) with more extras."""
    query = "&".join(
        f"{name}={value}" for name, value in {"disable_ssl": "true", "disable_tls": "true", **extra}.items()
    )
    return f"smtp://{host}:{port}?{query}"


def report() -> EmailMessage:
    """A report as the KPI and reconciliation mails will be: text and HTML, an inline chart, a workbook."""
    message = EmailMessage()
    message["Subject"] = "[回款日报] 2025-06-30 对账结果"
    message["To"] = SUPERVISORS
    message.set_content("今日回款 12 笔，差异 1 笔。")
    message.add_alternative('<p>今日回款 12 笔</p><img src="cid:chart-1@estatehub">', subtype="html")
    message.get_payload()[1].add_related(PNG, "image", "png", cid="<chart-1@estatehub>", filename="chart.png")
    message.add_attachment(
        XLSX,
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename="对账结果-2025-06-30.xlsx",
    )
    return message


def test_a_prepared_report_reaches_the_server_of_the_connection_intact(mail_sink, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_DEFAULT",
        plain_relay(mail_sink.host, mail_sink.port, from_email="estatehub@estatehub.example"),
    )
    SmtpSender().send(report())  # the DAG's path: Airflow's lookup finds the Connection

    [kept] = mail_sink.messages()
    assert kept["Subject"] == "[回款日报] 2025-06-30 对账结果"
    assert kept["From"] == "estatehub@estatehub.example", "the Connection's from_email, as the provider reads it"
    assert kept.get_body(("plain",)).get_content().strip() == "今日回款 12 笔，差异 1 笔。"
    assert 'src="cid:chart-1@estatehub"' in kept.get_body(("html",)).get_content()
    [chart] = [part for part in kept.walk() if part.get_content_type() == "image/png"]
    assert chart["Content-ID"] == "<chart-1@estatehub>"
    assert chart.get_content() == PNG
    [workbook] = list(kept.iter_attachments())
    assert workbook.get_filename() == "对账结果-2025-06-30.xlsx"
    assert workbook.get_content() == XLSX


def test_the_command_line_hands_the_connection_it_read_to_the_hook_which_does_not_look_it_up_again(
    mail_sink, monkeypatch
):
    from airflow.sdk import BaseHook

    from estatehub.policy.runtime import smtp_sender

    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", plain_relay(mail_sink.host, mail_sink.port))
    sender = smtp_sender()
    assert isinstance(sender.hook(), SmtpHook)

    def second_lookup(conn_id):
        raise AssertionError(f"the Connection {conn_id!r} was looked up a second time")

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(lambda cls, conn_id: second_lookup(conn_id)))
    message = report()
    message["From"] = "estatehub@estatehub.example"
    sender(message)
    assert len(mail_sink.messages()) == 1


def test_the_provider_reads_the_tls_extras(mail_sink, monkeypatch):
    # without disable_tls the session is upgraded with STARTTLS, which the plain sink does not offer
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", f"smtp://{mail_sink.host}:{mail_sink.port}?disable_ssl=true")
    with pytest.raises(MailError, match=rf"(?i){mail_sink.host}:{mail_sink.port}.*starttls.*smtp_default"):
        SmtpSender().send(report())
    # without disable_ssl it speaks SMTP over TLS from the first byte (the provider's default)
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", f"smtp://{mail_sink.host}:{mail_sink.port}?timeout=5")
    with pytest.raises(MailError, match=rf"{mail_sink.host}:{mail_sink.port}.*SSL.*smtp_default"):
        SmtpSender().send(report())
    assert mail_sink.messages() == []


def test_a_missing_connection_is_a_mail_error_that_names_it():
    with pytest.raises(MailError, match=r"no Connection 'smtp_default'.*AIRFLOW_CONN_SMTP_DEFAULT"):
        SmtpSender().send(report())


def test_a_message_without_from_is_refused_when_the_connection_names_no_sender(mail_sink, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", plain_relay(mail_sink.host, mail_sink.port))
    with pytest.raises(MailError, match="without From.*from_email"):
        SmtpSender().send(report())
    assert mail_sink.messages() == []


def test_settings_named_in_code_are_written_as_the_connection_the_provider_reads():
    def read(settings: SmtpSettings) -> tuple:
        hook = smtp_hook(settings)
        hook.smtp_connection = hook.get_connection(hook.smtp_conn_id)
        return hook.host, hook.port, hook.use_ssl, hook.smtp_starttls, hook.timeout, hook.from_email

    assert read(SmtpSettings("smtp.example.com", 465, ssl=True, timeout=9)) == (
        "smtp.example.com",
        465,
        True,
        False,
        9,
        None,
    )
    assert read(SmtpSettings("smtp.example.com", 587, starttls=True, sender="a@b.example")) == (
        "smtp.example.com",
        587,
        False,
        True,
        30,
        "a@b.example",
    )
    assert read(SmtpSettings("127.0.0.1", 1025))[2:4] == (False, False)
    assert "pw" not in repr(SmtpSettings("smtp.example.com", login="estatehub", password="pw"))


# -- a scripted relay: answers the sink never gives -------------------------------------------------


class ScriptedRelay:
    """An SMTP server on loopback that answers DATA from a script (then 250) and may require a login."""

    def __init__(self, answers: list[str], logins: dict[str, str] | None = None) -> None:
        self.answers = list(answers)
        self.attempts = 0
        self.kept: list[EmailMessage] = []
        self.logged_in: list[str] = []
        self._lock = threading.Lock()
        self.logins = logins
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        options = {}
        if logins is not None:
            options = {"authenticator": self._authenticate, "auth_require_tls": False, "auth_required": True}
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and self.logins.get(auth_data.login.decode()) == (
            auth_data.password.decode()
        )
        if ok:
            self.logged_in.append(auth_data.login.decode())
        return AuthResult(success=ok)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self._lock:
            self.attempts += 1
            answer = self.answers.pop(0) if self.answers else "250 OK"
        if answer.startswith("250"):
            self.kept.append(message_from_bytes(envelope.original_content or envelope.content, policy=policy.default))
        return answer

    def __enter__(self) -> ScriptedRelay:
        self.controller.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.controller.stop()


def _from_estatehub() -> EmailMessage:
    message = report()
    message["From"] = "estatehub@estatehub.example"
    return message


def test_a_deferred_message_is_offered_again_up_to_the_connections_retry_limit(monkeypatch):
    with ScriptedRelay(["451 4.3.0 try again later"]) as relay:
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", plain_relay("127.0.0.1", relay.port, retry_limit="1"))
        SmtpSender().send(_from_estatehub())
        assert (relay.attempts, len(relay.kept)) == (2, 1)
    with ScriptedRelay(["451 4.3.0 try again later"]) as relay:
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", plain_relay("127.0.0.1", relay.port, retry_limit="0"))
        with pytest.raises(MailError, match="SMTPDataError"):
            SmtpSender().send(_from_estatehub())
        assert (relay.attempts, relay.kept) == (1, [])


def test_a_refused_message_is_not_offered_again(monkeypatch):
    with ScriptedRelay(["554 5.7.1 rejected"]) as relay:
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", plain_relay("127.0.0.1", relay.port, retry_limit="3"))
        with pytest.raises(MailError, match="554"):
            SmtpSender().send(_from_estatehub())
        assert relay.attempts == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_the_hook_logs_in_with_the_connections_credentials(monkeypatch):
    with ScriptedRelay([], logins={"estatehub": "smtp-pw"}) as relay:
        monkeypatch.setenv(
            "AIRFLOW_CONN_SMTP_DEFAULT",
            plain_relay("127.0.0.1", relay.port).replace("smtp://", "smtp://estatehub:smtp-pw@"),
        )
        SmtpSender().send(_from_estatehub())
        assert relay.logged_in == ["estatehub"] and len(relay.kept) == 1


def test_send_message_takes_any_hook_of_the_provider(mail_sink):
    message = _from_estatehub()
    send_message(message, smtp_hook(SmtpSettings(mail_sink.host, mail_sink.port)))
    assert [m["Subject"] for m in mail_sink.messages()] == ["[回款日报] 2025-06-30 对账结果"]
