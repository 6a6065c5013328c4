"""The notification history: the outbox's email and Teams messages, always from a Scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from tortoise.queryset import QuerySet

from vdc_graph.db.loaders import by_key
from vdc_graph.db.models import OutboxMessage
from vdc_graph.db.pagination import SortKey
from vdc_graph.db.scope import Scope
from vdc_graph.enums import DeliveryStatus, MessageTopic, OutboxKind

NOTIFICATION_SORT = SortKey("CREATED_AT", "created_at")
# Signed webhooks keep their own delivery log (``webhookDeliveries``).
HISTORY_KINDS = (OutboxKind.EMAIL, OutboxKind.TEAMS)


@dataclass(frozen=True)
class NotificationFilter:
    customer_id: UUID | None = None
    statuses: tuple[DeliveryStatus, ...] = ()
    kinds: tuple[OutboxKind, ...] = ()
    topics: tuple[MessageTopic, ...] = ()
    created_from: datetime | None = None
    created_to: datetime | None = None


def visible_notifications(scope: Scope) -> QuerySet[OutboxMessage]:
    """The provider's messages; a caller limited to some customers sees only theirs (never
    the provider's own messages, which have no customer)."""
    qs = OutboxMessage.filter(provider_id=scope.provider_id, kind__in=list(HISTORY_KINDS))
    return scope.restrict(qs)


def filtered_notifications(scope: Scope, flt: NotificationFilter) -> QuerySet[OutboxMessage]:
    qs = visible_notifications(scope)
    if flt.customer_id is not None:
        qs = qs.filter(customer_id=flt.customer_id)
    if flt.statuses:
        qs = qs.filter(status__in=list(flt.statuses))
    if flt.kinds:
        qs = qs.filter(kind__in=list(flt.kinds))
    if flt.topics:
        qs = qs.filter(topic__in=list(flt.topics))
    if flt.created_from is not None:
        qs = qs.filter(created_at__gte=flt.created_from)
    if flt.created_to is not None:
        qs = qs.filter(created_at__lt=flt.created_to)
    return qs


async def notifications_by_id(scope: Scope, ids: Sequence[UUID]) -> list[OutboxMessage | None]:
    return by_key(await visible_notifications(scope).filter(id__in=list(ids)), ids)
