"""Subscriptions: a session's log as it is written, and sessions as they change."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from vdc_graph import metrics
from vdc_graph.resolvers import sessions as resolve
from vdc_graph.resolvers.ids import Ref, key_of

from .alarms import Alarm, watch_alarm_updates
from .approvals import Approval, watch_approval_updates
from .backup import BackupSession, SessionLogRecord


@strawberry.type(description="New records of a session's log and the session's state.")
class SessionLogEvent:
    records: list[SessionLogRecord] = strawberry.field(
        description="Records not sent before, in sequence order (empty for a state change)."
    )
    session: BackupSession = strawberry.field(description="The session as it is now.")
    cursor: str | None = strawberry.field(
        description="Pass as `after` to resume after the last record sent (null before any)."
    )
    # Results shared by the subscribers of the same broker message (schema/shared_events.py).
    shared_results: strawberry.Private[dict | None] = None


@strawberry.input(description="Which sessions to watch.")
class SessionUpdatesFilter:
    customer_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only this customer's sessions."
    )
    policy_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only this policy's sessions."
    )


# Named apart from the customers' VDC ``Subscription`` type.
@strawberry.type(
    name="SubscriptionRoot", description="Live data, over WebSocket (graphql-transport-ws)."
)
class Subscription:
    @strawberry.subscription(
        description="A session's log and state: first every record after `after` (all of them "
        "without it), then new ones as they are written, with no gap and no duplicate. Completes "
        "when the session has ended and every record was sent."
    )
    async def session_log(
        self,
        info: Info,
        session_id: Annotated[
            relay.GlobalID, strawberry.argument(description="The session to watch.")
        ],
        after: Annotated[
            str | None,
            strawberry.argument(
                description="Resume after this cursor (an event's `cursor`, or a cursor of "
                "`backupSession.logs`)."
            ),
        ] = None,
    ) -> AsyncGenerator[SessionLogEvent, None]:
        ref = Ref(session_id.type_name, session_id.node_id)
        with metrics.SUBSCRIPTIONS.track_inprogress():
            async for batch in resolve.watch_log(info.context, ref, after):
                yield SessionLogEvent(
                    records=batch.records,  # type: ignore[arg-type]
                    session=batch.session,  # type: ignore[arg-type]
                    cursor=batch.cursor,
                    shared_results=batch.shared,
                )

    @strawberry.subscription(
        description="Sessions as they are queued, progress and end (never completes)."
    )
    async def session_updates(
        self,
        info: Info,
        filter: Annotated[
            SessionUpdatesFilter | None,
            strawberry.argument(description="Which sessions (default: all the caller may see)."),
        ] = None,
    ) -> AsyncGenerator[BackupSession, None]:
        flt = filter or SessionUpdatesFilter()
        customer = (
            key_of(Ref(flt.customer_id.type_name, flt.customer_id.node_id), "Customer")
            if flt.customer_id
            else None
        )
        policy = (
            key_of(Ref(flt.policy_id.type_name, flt.policy_id.node_id), "BackupPolicy")
            if flt.policy_id
            else None
        )
        with metrics.SUBSCRIPTIONS.track_inprogress():
            async for session in resolve.watch_updates(
                info.context, resolve.UpdatesFilter(customer_id=customer, policy_id=policy)
            ):
                yield session  # type: ignore[misc]

    @strawberry.subscription(
        description="Alarms the caller may see, each time one is raised, acknowledged or "
        "resolved (never completes)."
    )
    async def alarm_updates(self, info: Info) -> AsyncGenerator[Alarm, None]:
        async for alarm in watch_alarm_updates(info):
            yield alarm

    @strawberry.subscription(
        description="Requests for approval, each time one is made, decided, run or fails "
        "(provider-level callers; never completes)."
    )
    async def approval_updates(self, info: Info) -> AsyncGenerator[Approval, None]:
        async for approval in watch_approval_updates(info):
            yield approval
