"""Signed webhooks: ``webhooks``, ``webhookDeliveries`` and the mutations that manage them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from vdc_graph.db import models
from vdc_graph.resolvers import webhooks as resolve
from vdc_graph.resolvers.ids import Ref

from .approvals import HeldForApproval
from .common import Payload, UserError
from .customers import AFTER, BEFORE, FIRST, LAST
from .enums import DeliveryStatus, WebhookEvent
from .relay import Connection, ModelNode, page_args


@strawberry.type(
    description="An HTTPS endpoint of the provider that receives signed JSON POSTs of events."
)
class Webhook(ModelNode):
    model = models.Webhook
    url: str = strawberry.field(description="Where events are posted.")
    enabled: bool = strawberry.field(description="Disabled webhooks receive nothing.")
    description: str = strawberry.field(description="A note for people.")
    created_at: datetime = strawberry.field(description="When it was created.")

    @strawberry.field(description="The events it receives.")
    def event_types(self) -> list[WebhookEvent]:
        return [WebhookEvent(e) for e in self.event_types]  # type: ignore[attr-defined]


@strawberry.type(description="One event sent (or being sent) to a webhook, with its attempts.")
class WebhookDelivery(ModelNode):
    model = models.WebhookDelivery
    status: DeliveryStatus = strawberry.field(description="Pending, succeeded or failed.")
    attempts: int = strawberry.field(description="Attempts made so far.")
    next_attempt_at: datetime | None = strawberry.field(
        description="When the next attempt is due; null once it succeeded or gave up."
    )
    last_status_code: int | None = strawberry.field(
        description="The HTTP status of the last attempt; null when no answer came."
    )
    last_duration_ms: int | None = strawberry.field(
        description="How long the last attempt took, in milliseconds."
    )
    delivered_at: datetime | None = strawberry.field(description="When it succeeded.")
    created_at: datetime = strawberry.field(description="When the event was recorded.")

    @strawberry.field(description="The event.")
    def event_type(self) -> WebhookEvent:
        return WebhookEvent(self.event_type)  # type: ignore[attr-defined]

    @strawberry.field(description="Why the last attempt failed; null when it did not.")
    def last_error(self) -> str | None:
        return self.last_error or None  # type: ignore[attr-defined]

    @strawberry.field(description="The JSON body posted (signed as sent).")
    def body(self) -> str:
        return json.dumps(self.payload, separators=(",", ":"), sort_keys=True)  # type: ignore[attr-defined]

    @strawberry.field(description="The delivery this one sends again, if it is a redelivery.")
    async def redelivery_of(self, info: Info) -> WebhookDelivery | None:
        key = self.redelivery_of_id  # type: ignore[attr-defined]
        return None if key is None else await resolve.load_delivery(info.context, key)  # type: ignore[return-value]


WebhookConnection = Connection[Webhook]
WebhookDeliveryConnection = Connection[WebhookDelivery]


@strawberry.type
class WebhookQueries:
    @strawberry.field(description="The provider's webhooks, oldest first.")
    async def webhooks(
        self,
        info: Info,
        first: FIRST = None,
        after: AFTER = None,
        last: LAST = None,
        before: BEFORE = None,
    ) -> WebhookConnection:
        page = await resolve.list_webhooks(
            info.context, page_args(info, first, after, last, before)
        )
        return WebhookConnection(page=page)

    @strawberry.field(description="A webhook's delivery log, newest first.")
    async def webhook_deliveries(
        self,
        info: Info,
        webhook_id: Annotated[relay.GlobalID, strawberry.argument(description="The webhook's ID.")],
        first: FIRST = None,
        after: AFTER = None,
        last: LAST = None,
        before: BEFORE = None,
    ) -> WebhookDeliveryConnection:
        page = await resolve.list_deliveries(
            info.context,
            Ref(webhook_id.type_name, webhook_id.node_id),
            page_args(info, first, after, last, before),
        )
        return WebhookDeliveryConnection(page=page)


@strawberry.input(description="A new webhook.")
class WebhookCreateInput:
    url: str = strawberry.field(description="An https:// URL.")
    event_types: list[WebhookEvent] = strawberry.field(description="The events to receive.")
    description: str = strawberry.field(default="", description="A note (up to 200 characters).")
    enabled: bool = strawberry.field(default=True, description="Whether it receives events.")


@strawberry.input(description="Changes to a webhook; omitted fields are left as they are.")
class WebhookUpdateInput:
    id: relay.GlobalID = strawberry.field(description="The webhook.")
    url: str | None = strawberry.field(default=None, description="An https:// URL.")
    event_types: list[WebhookEvent] | None = strawberry.field(
        default=None, description="The events to receive."
    )
    description: str | None = strawberry.field(default=None, description="A note.")
    enabled: bool | None = strawberry.field(default=None, description="Whether it receives events.")
    rotate_secret: bool = strawberry.field(
        default=False, description="Issue a new signing secret (returned once, in the payload)."
    )


@strawberry.input(description="The webhook to delete.")
class WebhookDeleteInput:
    id: relay.GlobalID = strawberry.field(description="The webhook.")


@strawberry.input(description="The delivery to send again.")
class WebhookRedeliverInput:
    delivery_id: relay.GlobalID = strawberry.field(description="The delivery.")


@strawberry.type(description="The result of `webhookCreate`.")
class WebhookCreatePayload(Payload):
    webhook: Webhook | None = strawberry.field(description="The new webhook.")
    secret: str | None = strawberry.field(
        description="The signing secret: shown this once, keep it to verify signatures."
    )
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


@strawberry.type(description="The result of `webhookUpdate`.")
class WebhookUpdatePayload(HeldForApproval):
    webhook: Webhook | None = strawberry.field(description="The changed webhook.")
    secret: str | None = strawberry.field(
        description="The new signing secret when `rotateSecret` was set (shown this once)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


@strawberry.type(description="The result of `webhookDelete`.")
class WebhookDeletePayload(HeldForApproval):
    deleted_webhook_id: relay.GlobalID | None = strawberry.field(
        description="The ID of the deleted webhook."
    )
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")

    @classmethod
    def done(cls, webhook: Any) -> Self:
        return cls(deleted_webhook_id=relay.GlobalID("Webhook", str(webhook.id)), user_errors=[])


@strawberry.type(description="The result of `webhookRedeliver`.")
class WebhookRedeliverPayload(Payload):
    delivery: WebhookDelivery | None = strawberry.field(description="The new delivery.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


def _ref(gid: relay.GlobalID) -> Ref:
    return Ref(gid.type_name, gid.node_id)


def _events(events: list[WebhookEvent] | None) -> tuple | None:
    return None if events is None else tuple(events)


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(description="Register a webhook. Needs SITE_SETTINGS.")
    async def webhook_create(
        self,
        info: Info,
        input: Annotated[WebhookCreateInput, strawberry.argument(description="The new webhook.")],
    ) -> WebhookCreatePayload:
        from .mutations import run_mutation

        change = resolve.WebhookChange(
            url=input.url,
            event_types=tuple(input.event_types),
            description=input.description,
            enabled=input.enabled,
        )
        return await run_mutation(
            info, WebhookCreatePayload, lambda: resolve.create_webhook(info.context, change)
        )

    @strawberry.mutation(description="Change a webhook. Needs SITE_SETTINGS.")
    async def webhook_update(
        self,
        info: Info,
        input: Annotated[WebhookUpdateInput, strawberry.argument(description="The changes.")],
    ) -> WebhookUpdatePayload:
        from .mutations import run_mutation

        change = resolve.WebhookChange(
            url=input.url,
            event_types=_events(input.event_types),
            description=input.description,
            enabled=input.enabled,
        )
        return await run_mutation(
            info,
            WebhookUpdatePayload,
            lambda: resolve.update_webhook(
                info.context, _ref(input.id), change, input.rotate_secret
            ),
        )

    @strawberry.mutation(description="Delete a webhook and its delivery log. Needs SITE_SETTINGS.")
    async def webhook_delete(
        self,
        info: Info,
        input: Annotated[
            WebhookDeleteInput, strawberry.argument(description="The webhook to delete.")
        ],
    ) -> WebhookDeletePayload:
        from .mutations import run_mutation

        return await run_mutation(
            info, WebhookDeletePayload, lambda: resolve.delete_webhook(info.context, _ref(input.id))
        )

    @strawberry.mutation(
        description="Send a delivery's event again as a new delivery (same event ID in the body, "
        "new delivery ID). Needs SITE_SETTINGS."
    )
    async def webhook_redeliver(
        self,
        info: Info,
        input: Annotated[
            WebhookRedeliverInput, strawberry.argument(description="The delivery to send again.")
        ],
    ) -> WebhookRedeliverPayload:
        from .mutations import run_mutation

        return await run_mutation(
            info,
            WebhookRedeliverPayload,
            lambda: resolve.redeliver(info.context, _ref(input.delivery_id)),
        )
