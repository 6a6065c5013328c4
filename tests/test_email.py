"""Email through a real SMTP server: sent once, retried while the server is down or refusing."""

from __future__ import annotations

from datetime import timedelta

from tests.smtp_server import SmtpServer, free_port
from tests.test_outbox import fixed_clock
from vdc_graph.db.models import OutboxMessage
from vdc_graph.enums import DeliveryStatus, OutboxKind
from vdc_graph.notify.deliverers import deliverers
from vdc_graph.notify.outbox import OutboxWorker, RetryPolicy, enqueue
from vdc_graph.settings import Settings, SmtpTls


def smtp_settings(settings: Settings, port: int) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_tls": SmtpTls.NONE,
            "smtp_sender": "Portal <portal@provider.example>",
            "smtp_timeout_seconds": 5.0,
        }
    )


async def test_no_smtp_host_means_no_email_deliverer(settings):
    assert OutboxKind.EMAIL not in deliverers(settings)


async def test_an_email_reaches_the_smtp_server(db, settings):
    server = SmtpServer().start()
    try:
        worker = OutboxWorker(deliverers(smtp_settings(settings, server.port)))
        message = await enqueue(
            OutboxKind.EMAIL, "anna@contoso.com", subject="Hello", body="Welcome aboard"
        )
        assert await worker.run_once() == 1
    finally:
        server.stop()
    [received] = server.messages
    assert received["To"] == "anna@contoso.com"
    assert received["From"] == "Portal <portal@provider.example>"
    assert received["Subject"] == "Hello"
    assert received["Message-ID"] == f"<{message.id}@vdc-graph>"
    assert "Welcome aboard" in received.get_content()
    stored = await OutboxMessage.get(id=message.id)
    assert stored.status == DeliveryStatus.SUCCEEDED


async def test_a_server_that_is_down_then_up_still_gets_the_email(db, settings):
    now = fixed_clock()
    port = free_port()  # nothing listens yet
    retry = RetryPolicy(base_delay=timedelta(seconds=10))
    worker = OutboxWorker(deliverers(smtp_settings(settings, port)), retry=retry)
    message = await enqueue(OutboxKind.EMAIL, "anna@contoso.com", subject="S", body="B")
    assert await worker.run_once() == 1
    stored = await OutboxMessage.get(id=message.id)
    assert stored.status == DeliveryStatus.PENDING and stored.attempts == 1
    assert stored.last_error
    assert await worker.run_once() == 0  # backing off: not due yet
    server = SmtpServer(port=port).start()
    try:
        now.advance(seconds=11)
        assert await worker.run_once() == 1
    finally:
        server.stop()
    assert [m["To"] for m in server.messages] == ["anna@contoso.com"]
    stored = await OutboxMessage.get(id=message.id)
    assert stored.status == DeliveryStatus.SUCCEEDED and stored.attempts == 2


async def test_a_server_that_refuses_then_accepts_gets_the_email_once(db, settings):
    now = fixed_clock()
    server = SmtpServer(refusals=2).start()
    try:
        worker = OutboxWorker(
            deliverers(smtp_settings(settings, server.port)),
            retry=RetryPolicy(base_delay=timedelta(seconds=1)),
        )
        message = await enqueue(OutboxKind.EMAIL, "bob@contoso.com", subject="S", body="B")
        for _ in range(3):
            await worker.run_once()
            now.advance(minutes=5)
    finally:
        server.stop()
    assert [m["To"] for m in server.messages] == ["bob@contoso.com"]
    stored = await OutboxMessage.get(id=message.id)
    assert stored.status == DeliveryStatus.SUCCEEDED and stored.attempts == 3
