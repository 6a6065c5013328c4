"""Signed webhooks: the provider's endpoints, their delivery log and redelivery."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vdc_graph import clock
from vdc_graph.context import RequestContext
from vdc_graph.db.models import Webhook, WebhookDelivery
from vdc_graph.db.pagination import Page, PageArgs, paginate
from vdc_graph.db.queries import webhooks as queries
from vdc_graph.db.scope import Scope
from vdc_graph.enums import Permission, WebhookEvent
from vdc_graph.errors import Forbidden, UserError, UserErrorCode, UserErrors
from vdc_graph.notify.webhooks import new_secret, url_problem

from .access import changing, reading
from .ids import Ref, key_of, not_found


async def list_webhooks(ctx: RequestContext, page: PageArgs) -> Page[Webhook]:
    scope = reading(ctx)
    return await paginate(queries.visible_webhooks(scope), queries.WEBHOOK_SORT, False, page)


async def load_webhook(ctx: RequestContext, key: Any) -> Webhook | None:
    scope = reading(ctx)
    loader = ctx.loaders.get(("webhook", scope), lambda ids: queries.webhooks_by_id(scope, ids))
    return await loader.load(key)


async def load_delivery(ctx: RequestContext, key: Any) -> WebhookDelivery | None:
    scope = reading(ctx)
    loader = ctx.loaders.get(
        ("webhook-delivery", scope), lambda ids: queries.deliveries_by_id(scope, ids)
    )
    return await loader.load(key)


async def get_webhook(ctx: RequestContext, ref: Ref) -> Webhook:
    webhook = await load_webhook(ctx, key_of(ref, "Webhook"))
    if webhook is None:
        raise not_found("Webhook")
    return webhook


async def list_deliveries(
    ctx: RequestContext, webhook_ref: Ref, page: PageArgs
) -> Page[WebhookDelivery]:
    """A webhook's delivery log, newest first."""
    webhook = await get_webhook(ctx, webhook_ref)
    return await paginate(
        WebhookDelivery.filter(webhook_id=webhook.id), queries.DELIVERY_SORT, True, page
    )


@dataclass(frozen=True)
class WebhookChange:
    url: str | None = None
    event_types: tuple[WebhookEvent, ...] | None = None
    description: str | None = None
    enabled: bool | None = None


def _validate(ctx: RequestContext, change: WebhookChange) -> list[UserError]:
    problems = []
    if change.url is not None:
        problem = url_problem(change.url, development=ctx.settings.is_development)
        if problem is None and len(change.url.strip()) > 2000:
            problem = "The URL is longer than 2000 characters"
        if problem:
            problems.append(UserError(problem, ["input", "url"], UserErrorCode.INVALID_URL))
    if change.event_types is not None and not change.event_types:
        problems.append(
            UserError(
                "Choose at least one event type", ["input", "eventTypes"], UserErrorCode.REQUIRED
            )
        )
    if change.description is not None and len(change.description.strip()) > 200:
        problems.append(
            UserError(
                "The description is longer than 200 characters",
                ["input", "description"],
                UserErrorCode.TOO_LONG,
            )
        )
    return problems


def _managing(ctx: RequestContext) -> Scope:
    principal, scope = changing(ctx, Permission.SITE_SETTINGS)
    if principal.customer_scope is not None:
        raise Forbidden("A customer-scoped caller cannot manage webhooks")
    return scope


def _events(events: tuple[WebhookEvent, ...]) -> list[str]:
    return sorted({e.value for e in events})


async def create_webhook(ctx: RequestContext, change: WebhookChange) -> tuple[Webhook, str]:
    """A new endpoint and its signing secret (returned this once, never shown again)."""
    scope = _managing(ctx)
    if change.url is None or change.event_types is None:
        raise ValueError("a new webhook needs a URL and event types")
    if problems := _validate(ctx, change):
        raise UserErrors(problems)
    secret = new_secret()
    webhook = await Webhook.create(
        provider_id=scope.provider_id,
        url=change.url.strip(),
        event_types=_events(change.event_types),
        description=(change.description or "").strip(),
        enabled=True if change.enabled is None else change.enabled,
        secret=secret,
    )
    return webhook, secret


async def _owned(scope: Scope, ref: Ref) -> Webhook:
    webhook = await queries.visible_webhooks(scope).get_or_none(id=key_of(ref, "Webhook"))
    if webhook is None:
        raise not_found("Webhook")
    return webhook


async def update_webhook(
    ctx: RequestContext, ref: Ref, change: WebhookChange, rotate_secret: bool
) -> tuple[Webhook, str | None]:
    """Changes the given fields; with ``rotate_secret`` a new secret is returned (once)."""
    scope = _managing(ctx)
    webhook = await _owned(scope, ref)
    if problems := _validate(ctx, change):
        raise UserErrors(problems)
    if change.url is not None:
        webhook.url = change.url.strip()
    if change.event_types is not None:
        webhook.event_types = _events(change.event_types)
    if change.description is not None:
        webhook.description = change.description.strip()
    if change.enabled is not None:
        webhook.enabled = change.enabled
    secret = new_secret() if rotate_secret else None
    if secret:
        webhook.secret = secret
    await webhook.save()
    return webhook, secret


async def delete_webhook(ctx: RequestContext, ref: Ref) -> Webhook:
    """Deletes the endpoint with its delivery log; pending deliveries are not sent."""
    scope = _managing(ctx)
    webhook = await _owned(scope, ref)
    await webhook.delete()
    return webhook


async def redeliver(ctx: RequestContext, ref: Ref) -> WebhookDelivery:
    """Sends a delivery's event again, as a new delivery (same event ID, new delivery ID)."""
    scope = _managing(ctx)
    original = await queries.visible_deliveries(scope).get_or_none(
        id=key_of(ref, "WebhookDelivery")
    )
    if original is None:
        raise not_found("WebhookDelivery")
    return await WebhookDelivery.create(
        webhook_id=original.webhook_id,
        event_type=original.event_type,
        payload=original.payload,
        redelivery_of_id=original.id,
        next_attempt_at=clock.now(),
    )
