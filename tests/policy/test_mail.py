"""Sending through SMTP: the sandbox mail sink receives what estatehub sends, as a relay would."""

from __future__ import annotations

import socket
from email.message import EmailMessage
from types import SimpleNamespace

import pytest

from estatehub.mail import MailError, SmtpSender, SmtpSettings, send_message, smtp_settings_from_connection


def _message() -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = "[政策监测] 1 项政策变化"
    message["From"] = "estatehub@estatehub.example"
    message["To"] = "cs-supervisor-1@estatehub.example, cs-supervisor-2@estatehub.example"
    message.set_content("正文：首付比例调整")
    message.add_alternative("<p>正文：首付比例调整</p>", subtype="html")
    return message


def test_a_message_reaches_the_mail_sink_with_both_parts(mail_sink):
    SmtpSender(SmtpSettings(host=mail_sink.host, port=mail_sink.port))(_message())
    [kept] = mail_sink.messages()
    assert kept["Subject"] == "[政策监测] 1 项政策变化"
    assert kept.get_body(("plain",)).get_content().strip() == "正文：首付比例调整"
    assert "<p>正文" in kept.get_body(("html",)).get_content()


def test_an_unreachable_server_raises_a_mail_error_that_names_the_connection():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(MailError, match="127.0.0.1:.*smtp_default"):
        send_message(_message(), SmtpSettings(host="127.0.0.1", port=port, timeout=2))


def test_a_message_without_recipients_is_refused_before_connecting():
    message = _message()
    del message["To"]
    with pytest.raises(MailError, match="From and To"):
        send_message(message, SmtpSettings(host="127.0.0.1", port=1))


def _conn(**extra):
    return SimpleNamespace(host="smtp.example.com", port=None, login="estatehub", password="pw", extra_dejson=extra)


def test_connection_extras_choose_tls_as_the_smtp_provider_does():
    assert smtp_settings_from_connection(_conn()).ssl is True
    assert smtp_settings_from_connection(_conn()).port == 465
    starttls = smtp_settings_from_connection(_conn(disable_ssl=True))
    assert (starttls.ssl, starttls.starttls, starttls.port) == (False, True, 587)
    plain = smtp_settings_from_connection(_conn(disable_ssl="true", disable_tls="true", from_email="a@b.example"))
    assert (plain.ssl, plain.starttls, plain.port, plain.sender) == (False, False, 25, "a@b.example")
    assert "pw" not in repr(plain)
