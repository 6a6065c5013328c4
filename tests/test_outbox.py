"""The outbox: delivered once, retried with backoff, kept across a worker restart."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from vdc_graph import clock
from vdc_graph.db.models import OutboxMessage
from vdc_graph.enums import DeliveryStatus, OutboxKind
from vdc_graph.notify.outbox import OutboxWorker, RetryPolicy, enqueue


class FlakyReceiver:
    """A far side that fails a number of times, then accepts."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[str] = []

    async def deliver(self, message: OutboxMessage) -> None:
        await asyncio.sleep(0.01)
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("receiver unavailable")
        self.received.append(message.recipient)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def fixed_clock() -> Clock:
    c = Clock()
    clock.set_clock(lambda: c.now)
    return c


async def test_a_message_is_retried_with_backoff_until_delivered(db):
    now = fixed_clock()
    receiver = FlakyReceiver(failures=2)
    retry = RetryPolicy(base_delay=timedelta(seconds=10))
    worker = OutboxWorker({OutboxKind.EMAIL: receiver}, retry=retry)
    message = await enqueue(OutboxKind.EMAIL, "ops@contoso.com", subject="Hi")

    assert await worker.run_once() == 1  # fails
    stored = await OutboxMessage.get(id=message.id)
    assert stored.attempts == 1 and stored.status == DeliveryStatus.PENDING
    assert stored.next_attempt_at == now.now + timedelta(seconds=10)
    assert await worker.run_once() == 0  # not due yet

    now.advance(seconds=10)
    assert await worker.run_once() == 1  # fails again: next delay doubles
    stored = await OutboxMessage.get(id=message.id)
    assert stored.next_attempt_at == now.now + timedelta(seconds=20)

    now.advance(seconds=20)
    # A restarted process: a new worker finds the message where the old one left it.
    restarted = OutboxWorker({OutboxKind.EMAIL: receiver}, retry=retry)
    assert await restarted.run_once() == 1
    stored = await OutboxMessage.get(id=message.id)
    assert stored.status == DeliveryStatus.SUCCEEDED and stored.attempts == 3
    assert receiver.received == ["ops@contoso.com"]


async def test_a_message_gives_up_after_the_last_attempt(db):
    now = fixed_clock()
    worker = OutboxWorker(
        {OutboxKind.EMAIL: FlakyReceiver(failures=99)},
        retry=RetryPolicy(base_delay=timedelta(seconds=1), max_attempts=3),
    )
    message = await enqueue(OutboxKind.EMAIL, "x@y.com")
    for _ in range(3):
        await worker.run_once()
        now.advance(hours=1)
    stored = await OutboxMessage.get(id=message.id)
    assert stored.status == DeliveryStatus.FAILED
    assert stored.attempts == 3 and "unavailable" in stored.last_error


async def test_two_workers_deliver_each_message_once(db):
    fixed_clock()
    receiver = FlakyReceiver()
    for i in range(10):
        await enqueue(OutboxKind.EMAIL, f"user{i}@x.com")
    first = OutboxWorker({OutboxKind.EMAIL: receiver})
    second = OutboxWorker({OutboxKind.EMAIL: receiver})
    attempted = await asyncio.gather(first.run_once(), second.run_once())
    assert sum(attempted) == 10
    assert sorted(receiver.received) == sorted(f"user{i}@x.com" for i in range(10))


async def test_kinds_without_a_deliverer_are_left_alone(db):
    fixed_clock()
    await enqueue(OutboxKind.TEAMS, "https://example.com/hook")
    worker = OutboxWorker({OutboxKind.EMAIL: FlakyReceiver()})
    assert await worker.run_once() == 0
    assert await OutboxMessage.filter(status=DeliveryStatus.PENDING).count() == 1
