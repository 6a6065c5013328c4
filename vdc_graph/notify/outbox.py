"""The outbox: durable messages, claimed by one worker at a time, retried with backoff.

A message is written in the same transaction as the change that caused it, so it is sent if
and only if the change was kept. Several processes may run workers: a message is claimed with a
conditional update (a lease), so only one of them delivers it at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol
from uuid import UUID

from vdc_graph import clock, metrics
from vdc_graph.db.models import OutboxMessage
from vdc_graph.enums import DeliveryStatus, MessageTopic, OutboxKind

from .failure_reasons import generic_reason

log = logging.getLogger("vdc_graph.outbox")


class Deliverer(Protocol):
    """Sends one message of its kind; raises on failure (the message is retried)."""

    async def deliver(self, message: OutboxMessage) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    base_delay: timedelta = timedelta(seconds=10)
    max_delay: timedelta = timedelta(hours=1)
    max_attempts: int = 12
    # How long a claimed message is reserved for the worker that claimed it.
    lease: timedelta = timedelta(minutes=2)

    def delay_after(self, attempts: int) -> timedelta:
        """Exponential backoff: base, then twice that, then four times, up to the cap."""
        return min(self.base_delay * (2 ** max(0, attempts - 1)), self.max_delay)


async def enqueue(
    kind: OutboxKind,
    recipient: str,
    *,
    provider_id: UUID | None = None,
    subject: str = "",
    body: str = "",
    payload: dict[str, Any] | None = None,
    customer_id: UUID | None = None,
    topic: MessageTopic = MessageTopic.OTHER,
    resend_of_id: UUID | None = None,
) -> OutboxMessage:
    """Queue a message; call it inside the transaction of the change it reports.

    ``customer_id`` and ``topic`` place it in the notification history (the provider's, and
    that customer's when set)."""
    return await OutboxMessage.create(
        kind=kind,
        recipient=recipient,
        provider_id=provider_id,
        subject=subject,
        body=body,
        payload=payload,
        customer_id=customer_id,
        topic=topic,
        resend_of_id=resend_of_id,
        next_attempt_at=clock.now(),
    )


class OutboxWorker:
    def __init__(
        self,
        deliverers: Mapping[OutboxKind, Deliverer],
        *,
        retry: RetryPolicy | None = None,
        poll_interval: float = 1.0,
        batch_size: int = 20,
    ) -> None:
        self.deliverers = dict(deliverers)
        self.retry = retry or RetryPolicy()
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look for due messages now rather than at the next poll."""
        self._wake.set()

    async def run_once(self) -> int:
        """Deliver the messages that are due; returns how many were attempted."""
        now = clock.now()
        due = (
            await OutboxMessage.filter(
                status=DeliveryStatus.PENDING,
                next_attempt_at__lte=now,
                kind__in=list(self.deliverers),
            )
            .order_by("next_attempt_at", "id")
            .limit(self.batch_size)
        )
        attempted = 0
        for message in due:
            if await self._claim(message, now):
                attempted += 1
                await self._attempt(message)
        return attempted

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:  # a database hiccup must not end the worker
                log.exception("outbox pass failed; retrying")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    async def _claim(self, message: OutboxMessage, now: Any) -> bool:
        claimed = await OutboxMessage.filter(
            id=message.id,
            status=DeliveryStatus.PENDING,
            next_attempt_at=message.next_attempt_at,
        ).update(next_attempt_at=now + self.retry.lease)
        return claimed == 1

    async def _attempt(self, message: OutboxMessage) -> None:
        attempts = message.attempts + 1
        try:
            await self.deliverers[message.kind].deliver(message)
        except Exception as exc:  # any failure of the far side: retry later
            final = attempts >= self.retry.max_attempts
            # The recipient stays out of the log: a Teams webhook URL is itself a credential.
            metrics.delivery(message.kind.value, "failed" if final else "retry")
            log.warning(
                "outbox %s %s failed (attempt %d%s): %s",
                message.kind,
                message.id,
                attempts,
                ", giving up" if final else "",
                exc,
            )
            await OutboxMessage.filter(id=message.id).update(
                attempts=attempts,
                last_error=str(exc)[:2000],
                failure_reason=generic_reason(exc),
                last_attempt_at=clock.now(),
                status=DeliveryStatus.FAILED if final else DeliveryStatus.PENDING,
                next_attempt_at=None if final else clock.now() + self.retry.delay_after(attempts),
            )
            return
        metrics.delivery(message.kind.value, "succeeded")
        await OutboxMessage.filter(id=message.id).update(
            attempts=attempts,
            status=DeliveryStatus.SUCCEEDED,
            sent_at=clock.now(),
            last_attempt_at=clock.now(),
            next_attempt_at=None,
            last_error="",
            failure_reason="",
        )
