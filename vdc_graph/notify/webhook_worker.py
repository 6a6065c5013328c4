"""Sends recorded webhook deliveries: signed POSTs, retried with backoff, logged per attempt.

Deliveries are rows in the database (``WebhookDelivery``), so they survive a restart. Like the
outbox, a due delivery is claimed with a conditional update (a lease) before it is sent, so
several workers never send the same attempt, and the backoff is the outbox's ``RetryPolicy``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime

import httpx

from vdc_graph import clock, metrics, outbound
from vdc_graph.db.models import Webhook, WebhookDelivery
from vdc_graph.enums import DeliveryStatus

from .outbox import RetryPolicy
from .webhooks import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, body_of, sign

log = logging.getLogger("vdc_graph.webhooks")


class WebhookWorker:
    def __init__(
        self,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 10.0,
        poll_interval: float = 1.0,
        batch_size: int = 20,
        allowed_networks: tuple[str, ...] = (),
    ) -> None:
        self.allowed_networks = allowed_networks
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.batch_size = batch_size

    async def run_once(self) -> int:
        """Send the deliveries that are due; returns how many were attempted."""
        now = clock.now()
        due = (
            await WebhookDelivery.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .limit(self.batch_size)
        )
        attempted = 0
        async with outbound.client(self.allowed_networks, timeout=self.timeout) as http:
            for delivery in due:
                if await self._claim(delivery, now):
                    attempted += 1
                    await self._attempt(http, delivery)
        return attempted

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:  # a database hiccup must not end the worker
                log.exception("webhook pass failed; retrying")
            await asyncio.sleep(self.poll_interval)

    async def _claim(self, delivery: WebhookDelivery, now: datetime) -> bool:
        claimed = await WebhookDelivery.filter(
            id=delivery.id,
            status=DeliveryStatus.PENDING,
            next_attempt_at=delivery.next_attempt_at,
        ).update(next_attempt_at=now + self.retry.lease)
        return claimed == 1

    async def _attempt(self, http: httpx.AsyncClient, delivery: WebhookDelivery) -> None:
        attempts = delivery.attempts + 1
        webhook = await Webhook.get_or_none(id=delivery.webhook_id)
        status_code: int | None = None
        started = time.monotonic()
        error = ""
        if webhook is None or not webhook.enabled:
            error = "the webhook is disabled"
        else:
            body = body_of(delivery)
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "vdc-graph-webhooks/1",
                SIGNATURE_HEADER: sign(webhook.secret, int(clock.now().timestamp()), body),
                DELIVERY_HEADER: str(delivery.id),
                EVENT_HEADER: delivery.event_type,
            }
            try:
                response = await http.post(webhook.url, content=body, headers=headers)
                status_code = response.status_code
                if not 200 <= status_code < 300:
                    error = outbound.status_reason(status_code)
            except outbound.FAILURES as exc:
                error = outbound.failure_reason(exc)
        duration_ms = int((time.monotonic() - started) * 1000)
        common = {
            "attempts": attempts,
            "last_status_code": status_code,
            "last_duration_ms": duration_ms,
            "last_error": error,
        }
        if not error:
            metrics.delivery("webhook", "succeeded")
            await WebhookDelivery.filter(id=delivery.id).update(
                **common,
                status=DeliveryStatus.SUCCEEDED,
                delivered_at=clock.now(),
                next_attempt_at=None,
            )
            return
        final = attempts >= self.retry.max_attempts or webhook is None or not webhook.enabled
        metrics.delivery("webhook", "failed" if final else "retry")
        log.warning(
            "webhook delivery %s failed (attempt %d%s): %s",
            delivery.id,
            attempts,
            ", giving up" if final else "",
            error,
        )
        await WebhookDelivery.filter(id=delivery.id).update(
            **common,
            status=DeliveryStatus.FAILED if final else DeliveryStatus.PENDING,
            next_attempt_at=None if final else clock.now() + self.retry.delay_after(attempts),
        )
