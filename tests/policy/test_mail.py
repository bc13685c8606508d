"""Sending through SMTP: the sandbox mail sink receives what estatehub sends, as a relay would."""

from __future__ import annotations

import socket
from email.message import EmailMessage

import pytest

from estatehub.mail import MailError, SmtpSender, SmtpSettings


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
        SmtpSender(SmtpSettings(host="127.0.0.1", port=port, timeout=2)).send(_message())


def test_a_message_without_recipients_is_refused_before_connecting():
    message = _message()
    del message["To"]
    with pytest.raises(MailError, match="From and To"):
        SmtpSender(SmtpSettings(host="127.0.0.1", port=1)).send(message)
