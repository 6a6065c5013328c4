"""Email through SMTP (aiosmtplib): one message per outbox row."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from vdc_graph.db.models import OutboxMessage
from vdc_graph.settings import Settings, SmtpTls


class SmtpDeliverer:
    """Sends an outbox email through the configured SMTP server; raises on any refusal."""

    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host:
            raise ValueError("SMTP delivery needs VDC_SMTP_HOST")
        self.settings = settings

    def compose(self, message: OutboxMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.settings.smtp_sender
        email["To"] = message.recipient
        email["Subject"] = message.subject
        # The outbox row's key: a receiver can drop a duplicate after a retried delivery.
        email["Message-ID"] = f"<{message.id}@vdc-graph>"
        email.set_content(message.body)
        return email

    async def deliver(self, message: OutboxMessage) -> None:
        s = self.settings
        password = s.smtp_password.get_secret_value() if s.smtp_password else None
        await aiosmtplib.send(
            self.compose(message),
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=password,
            use_tls=s.smtp_tls is SmtpTls.TLS,
            start_tls=s.smtp_tls is SmtpTls.STARTTLS,
            timeout=s.smtp_timeout_seconds,
        )
