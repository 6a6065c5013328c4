"""Webhook queries: the provider's endpoints and their delivery log, always from a Scope."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from tortoise.queryset import QuerySet

from vdc_graph.db.loaders import by_key
from vdc_graph.db.models import Webhook, WebhookDelivery
from vdc_graph.db.pagination import SortKey
from vdc_graph.db.scope import Scope

WEBHOOK_SORT = SortKey("CREATED_AT", "created_at")
DELIVERY_SORT = SortKey("CREATED_AT", "created_at")


def visible_webhooks(scope: Scope) -> QuerySet[Webhook]:
    """The provider's webhooks; a caller limited to some customers sees none (they are the
    provider's, and their deliveries carry every customer's events)."""
    return scope.provider_wide(Webhook.filter(provider_id=scope.provider_id))


def visible_deliveries(scope: Scope) -> QuerySet[WebhookDelivery]:
    return scope.provider_wide(WebhookDelivery.filter(webhook__provider_id=scope.provider_id))


async def webhooks_by_id(scope: Scope, ids: Sequence[UUID]) -> list[Webhook | None]:
    return by_key(await visible_webhooks(scope).filter(id__in=list(ids)), ids)


async def deliveries_by_id(scope: Scope, ids: Sequence[UUID]) -> list[WebhookDelivery | None]:
    return by_key(await visible_deliveries(scope).filter(id__in=list(ids)), ids)
