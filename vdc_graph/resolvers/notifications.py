"""The notification history: every email and Teams message, its state, and resending one."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from vdc_graph.context import RequestContext
from vdc_graph.db.models import Customer, OutboxMessage
from vdc_graph.db.pagination import Page, PageArgs, paginate
from vdc_graph.db.queries import notifications as queries
from vdc_graph.enums import DeliveryStatus, OutboxKind, Permission
from vdc_graph.errors import UserError, UserErrorCode, UserErrors
from vdc_graph.notify.outbox import enqueue

from .access import changing, reading
from .ids import Ref, key_of, not_found


async def list_notifications(
    ctx: RequestContext, flt: queries.NotificationFilter, page: PageArgs
) -> Page[OutboxMessage]:
    """Newest first."""
    scope = reading(ctx)
    if flt.customer_id is not None and not scope.allows_customer(flt.customer_id):
        raise not_found("Customer")
    return await paginate(
        queries.filtered_notifications(scope, flt), queries.NOTIFICATION_SORT, True, page
    )


async def load_notification(ctx: RequestContext, key: Any) -> OutboxMessage | None:
    scope = reading(ctx)
    loader = ctx.loaders.get(
        ("notification", scope), lambda ids: queries.notifications_by_id(scope, ids)
    )
    return await loader.load(key)


def shown_recipient(message: OutboxMessage) -> str:
    """An email address as is; a Teams webhook by its host only (its URL is a credential)."""
    if message.kind is OutboxKind.TEAMS:
        return f"Teams webhook at {urlsplit(message.recipient).hostname or 'an unknown host'}"
    return message.recipient


async def notification_customer(ctx: RequestContext, message: OutboxMessage) -> Customer | None:
    from .customers import load_customer

    return None if message.customer_id is None else await load_customer(ctx, message.customer_id)


async def resend(ctx: RequestContext, ref: Ref) -> OutboxMessage:
    """Queues a failed message again as a new message (the failed one stays in the history)."""
    _, scope = changing(ctx, Permission.CUSTOMER_MANAGEMENT)
    original = await queries.visible_notifications(scope).get_or_none(
        id=key_of(ref, "Notification")
    )
    if original is None:
        raise not_found("Notification")
    if original.status is not DeliveryStatus.FAILED:
        raise UserErrors(
            [
                UserError(
                    "Only a message whose delivery failed can be resent",
                    ["input", "id"],
                    UserErrorCode.INVALID_STATE,
                )
            ]
        )
    return await enqueue(
        original.kind,
        original.recipient,
        provider_id=original.provider_id,  # type: ignore[attr-defined]
        subject=original.subject,
        body=original.body,
        payload=original.payload,
        customer_id=original.customer_id,
        topic=original.topic,
        resend_of_id=original.id,
    )
