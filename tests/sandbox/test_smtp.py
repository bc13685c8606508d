"""The sandbox mail relay keeps what it receives, as a real SMTP server would deliver it."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from sandbox.smtp import MailSink


def test_mail_sink_keeps_each_message_as_an_eml_file(tmp_path):
    with MailSink(tmp_path / "mail") as sink:
        message = EmailMessage()
        message["From"] = "estatehub@estatehub.example"
        message["To"] = "finance@estatehub.example"
        message["Subject"] = "对账报告 2026-03-31"
        message.set_content("正文")
        with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
            client.send_message(message)
        kept = sink.messages()
    assert len(kept) == 1
    assert kept[0]["Subject"] == "对账报告 2026-03-31"
    assert kept[0].get_content().strip() == "正文"
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1
