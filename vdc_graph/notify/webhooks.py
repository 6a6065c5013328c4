"""Signed webhooks: recording deliveries of an event, and how each request is signed.

``emit`` is the one entry point for the rest of the code: call it inside the transaction of
the change, and every enabled webhook of the provider subscribed to the event gets a delivery
row, sent (and retried) by the webhook worker if and only if the change is kept.

Signature (Stripe-like): the header ``Vdc-Signature: t=<unix seconds>,v1=<hex>`` where
``<hex>`` is HMAC-SHA256, keyed with the webhook's secret, over ``"<t>.<raw body>"``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from urllib.parse import urlparse
from uuid import UUID

from vdc_graph import clock
from vdc_graph.db.models import Webhook, WebhookDelivery
from vdc_graph.enums import WebhookEvent
from vdc_graph.resolvers.validation import is_internal_host

SIGNATURE_HEADER = "Vdc-Signature"
DELIVERY_HEADER = "Vdc-Delivery-Id"
EVENT_HEADER = "Vdc-Event"
# Plain http is accepted only for these hosts, and only in development mode.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the signature header for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """What a receiver does: recompute the HMAC and refuse stale timestamps (replays)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return abs(now - timestamp) <= tolerance and hmac.compare_digest(expected, parts.get("v1", ""))


def url_problem(url: str, *, development: bool) -> str | None:
    """Why ``url`` cannot receive webhooks, or None when it can."""
    try:
        parsed = urlparse(url.strip())
        host = parsed.hostname
    except ValueError:
        return "Enter an absolute https:// URL"
    if not host or parsed.scheme not in ("https", "http"):
        return "Enter an absolute https:// URL"
    local = development and host in LOCAL_HOSTS
    if parsed.scheme == "http" and not local:
        return "Webhook URLs must use https"
    if not local and is_internal_host(host):
        return "Webhook URLs must reach a public address, not a private or local one"
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def body_of(delivery: WebhookDelivery) -> bytes:
    """The exact bytes sent (and signed) for a delivery."""
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()


async def emit(provider_id: UUID, event: WebhookEvent, payload: dict[str, Any]) -> int:
    """Record a delivery of ``event`` to each of the provider's enabled webhooks subscribed
    to it; call inside the transaction of the change. Returns how many were recorded."""
    hooks = await Webhook.filter(provider_id=provider_id, enabled=True)
    targets = [h for h in hooks if event.value in h.event_types]
    if not targets:
        return 0
    now = clock.now()
    envelope = json.loads(
        json.dumps(
            {
                "id": str(uuid.uuid4()),
                "type": event.value,
                "createdAt": now,
                "data": payload,
            },
            default=_plain,
        )
    )
    await WebhookDelivery.bulk_create(
        [
            WebhookDelivery(
                webhook_id=h.id, event_type=event.value, payload=envelope, next_attempt_at=now
            )
            for h in targets
        ]
    )
    return len(targets)
