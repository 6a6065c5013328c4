"""The notification history: ``notifications`` and ``notificationResend``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from vdc_graph import enums
from vdc_graph.db import models
from vdc_graph.db.queries.notifications import NotificationFilter as Filter
from vdc_graph.resolvers import notifications as resolve
from vdc_graph.resolvers.ids import Ref, key_of

from .common import Payload, UserError
from .customers import AFTER, BEFORE, FIRST, LAST, Customer
from .enums import MessageTopic, NotificationState, OutboxKind
from .relay import Connection, ModelNode, page_args

_STATUS_OF = {state: status for status, state in enums.NOTIFICATION_STATE_OF.items()}


@strawberry.type(description="One email or Microsoft Teams message the server sent or is sending.")
class Notification(ModelNode):
    model = models.OutboxMessage
    kind: OutboxKind = strawberry.field(description="Email or Teams.")
    topic: MessageTopic = strawberry.field(description="What it is about.")
    subject: str = strawberry.field(description="The subject line (the card's title for Teams).")
    attempts: int = strawberry.field(description="Delivery attempts made so far.")
    created_at: datetime = strawberry.field(description="When it was queued.")
    last_attempt_at: datetime | None = strawberry.field(
        description="When it was last tried; null before the first attempt."
    )
    next_attempt_at: datetime | None = strawberry.field(
        description="When the next attempt is due; null once it was sent or gave up."
    )
    sent_at: datetime | None = strawberry.field(description="When it was accepted.")

    @strawberry.field(
        description="The email address; for Teams, the webhook's host only (its URL is secret)."
    )
    def recipient(self) -> str:
        return resolve.shown_recipient(self)  # type: ignore[arg-type]

    @strawberry.field(description="Pending, sent or failed.")
    def state(self) -> NotificationState:
        return enums.NOTIFICATION_STATE_OF[self.status]  # type: ignore[attr-defined]

    @strawberry.field(
        description="Why the last attempt failed, in general terms; null when it did not fail."
    )
    def failure_reason(self) -> str | None:
        return self.failure_reason or None  # type: ignore[attr-defined]

    @strawberry.field(description="The customer it concerns; null for the provider's own.")
    async def customer(self, info: Info) -> Customer | None:
        return await resolve.notification_customer(info.context, self)  # type: ignore[arg-type,return-value]

    @strawberry.field(description="The failed message this one sends again, if it is a resend.")
    async def resend_of(self, info: Info) -> Notification | None:
        key = self.resend_of_id  # type: ignore[attr-defined]
        return None if key is None else await resolve.load_notification(info.context, key)  # type: ignore[return-value]


@strawberry.input(description="Which messages to list; all conditions must hold.")
class NotificationFilter:
    customer_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only this customer's messages."
    )
    states: list[NotificationState] | None = strawberry.field(
        default=None, description="Only messages in these states."
    )
    kinds: list[OutboxKind] | None = strawberry.field(
        default=None, description="Only email or only Teams messages."
    )
    topics: list[MessageTopic] | None = strawberry.field(
        default=None, description="Only messages about these topics."
    )
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="Only messages queued at or after this time."
    )
    to: datetime | None = strawberry.field(
        default=None, description="Only messages queued before this time."
    )


@strawberry.input(description="The failed message to send again.")
class NotificationResendInput:
    id: relay.GlobalID = strawberry.field(description="The failed message.")


@strawberry.type(description="The result of `notificationResend`.")
class NotificationResendPayload(Payload):
    notification: Notification | None = strawberry.field(description="The new message queued.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


def _filter(flt: NotificationFilter) -> Filter:
    customer = flt.customer_id
    return Filter(
        customer_id=None
        if customer is None
        else key_of(Ref(customer.type_name, customer.node_id), "Customer"),
        statuses=tuple(_STATUS_OF[s] for s in flt.states or ()),
        kinds=tuple(flt.kinds or ()),
        topics=tuple(flt.topics or ()),
        created_from=flt.from_,
        created_to=flt.to,
    )


@strawberry.type
class NotificationQueries:
    @strawberry.field(
        description="Every email and Teams message sent (or being sent), newest first: the "
        "provider's and its customers', or only a customer's for a caller limited to it."
    )
    async def notifications(
        self,
        info: Info,
        filter: Annotated[
            NotificationFilter | None, strawberry.argument(description="Which messages to list.")
        ] = None,
        first: FIRST = None,
        after: AFTER = None,
        last: LAST = None,
        before: BEFORE = None,
    ) -> Connection[Notification]:
        page = await resolve.list_notifications(
            info.context,
            _filter(filter or NotificationFilter()),
            page_args(info, first, after, last, before),
        )
        return Connection[Notification](page=page)


@strawberry.type
class NotificationMutations:
    @strawberry.mutation(
        description="Queue a failed message again, as a new message that names the failed one "
        "(`resendOf`). Needs CUSTOMER_MANAGEMENT."
    )
    async def notification_resend(
        self,
        info: Info,
        input: Annotated[
            NotificationResendInput, strawberry.argument(description="The message to resend.")
        ],
    ) -> NotificationResendPayload:
        from .mutations import run_mutation

        ref = Ref(input.id.type_name, input.id.node_id)
        return await run_mutation(
            info, NotificationResendPayload, lambda: resolve.resend(info.context, ref)
        )
