"""Backup policies, their sessions and logs, and restore activity: types and queries."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from vdc_graph.db import models
from vdc_graph.db.queries import backup as queries
from vdc_graph.resolvers import downloads, hints
from vdc_graph.resolvers import policies as resolve_policies
from vdc_graph.resolvers import restores as resolve_restores
from vdc_graph.resolvers import sessions as resolve_sessions
from vdc_graph.resolvers.ids import Ref, key_of

from .batching import batched
from .common import OrderDirection
from .customers import AFTER, BEFORE, FIRST, LAST, Customer
from .enums import (
    BackupObjectType,
    BackupType,
    LogStatus,
    M365Service,
    PolicyStatus,
    PolicyType,
    RestoreStatus,
    RestoreType,
    SessionService,
    SessionStatus,
    SessionTrigger,
    described,
)
from .relay import Connection, ModelNode, page_args
from .scalars import BigInt


def _ref(gid: relay.GlobalID) -> Ref:
    return Ref(gid.type_name, gid.node_id)


@strawberry.type(description="A Microsoft 365 object a policy selects or excludes.")
class BackupObject:
    type: BackupObjectType = strawberry.field(description="User, group, site or team.")
    external_id: str = strawberry.field(description="The object's ID in Microsoft 365.")
    name: str = strawberry.field(description="The object's display name.")

    @classmethod
    def from_stored(cls, stored: dict) -> BackupObject:
        return cls(
            type=BackupObjectType(stored["type"]),
            external_id=stored["externalId"],
            name=stored["name"],
        )


@strawberry.type(description="A backup policy (Flex) of one customer.")
class BackupPolicy(ModelNode):
    model = models.BackupPolicy
    name: str = strawberry.field(description="The policy's name, unique within its customer.")
    backup_type: BackupType = strawberry.field(description="Entire organization or selected items.")
    policy_type: PolicyType = strawberry.field(description="The kind of policy (always FLEX).")
    enabled: bool = strawberry.field(description="Whether the schedule runs it.")
    schedule_interval_hours: int = strawberry.field(description="Hours between scheduled runs.")
    last_run: datetime | None = strawberry.field(description="When it last ran; null if never.")
    last_status: PolicyStatus = strawberry.field(description="The result of its last run.")
    average_processing_seconds: float | None = strawberry.field(
        description="Average duration of its finished runs, in seconds; null before the first."
    )
    created_at: datetime = strawberry.field(description="When the policy was created.")

    @strawberry.field(description="When the schedule runs it next; null while disabled.")
    def next_run(self) -> datetime | None:
        return resolve_policies.next_run_shown(self)  # type: ignore[arg-type]

    @strawberry.field(description="The services it protects.")
    def services(self) -> list[M365Service]:
        return [M365Service(s) for s in self.services]  # type: ignore[attr-defined]

    @strawberry.field(description="Objects it backs up (selected items policies).")
    def selected_objects(self) -> list[BackupObject]:
        return [BackupObject.from_stored(o) for o in self.selected_objects]  # type: ignore[attr-defined]

    @strawberry.field(description="Objects it leaves out.")
    def excluded_objects(self) -> list[BackupObject]:
        return [BackupObject.from_stored(o) for o in self.excluded_objects]  # type: ignore[attr-defined]

    @strawberry.field(
        description="The customer the policy belongs to.",
        metadata=batched(resolve_sessions.customers_of),
    )
    async def customer(self, info: Info) -> Customer:
        return await resolve_sessions.customer_of(info.context, self)  # type: ignore[return-value]

    @strawberry.field(description="The session running now (queued or running); null when idle.")
    async def running_session(self, info: Info) -> BackupSession | None:
        return await resolve_policies.policy_active_session(info.context, self)  # type: ignore[arg-type, return-value]

    @strawberry.field(description="Whether `backupPolicyStart` would start it for you now.")
    async def viewer_can_start(self, info: Info) -> bool:
        return await hints.start_policy(info.context, self)  # type: ignore[arg-type]

    @strawberry.field(description="Whether `backupPolicyStop` would stop it for you now.")
    async def viewer_can_stop(self, info: Info) -> bool:
        return await hints.stop_policy(info.context, self)  # type: ignore[arg-type]

    @strawberry.field(
        description="Whether you may change it now (`backupPolicyUpdate`, `backupPolicyEnable`, "
        "`backupPolicyDisable`)."
    )
    async def viewer_can_edit(self, info: Info) -> bool:
        return await hints.edit_policy(info.context, self)  # type: ignore[arg-type]

    @strawberry.field(description="Whether `backupPolicyDelete` would delete it for you now.")
    async def viewer_can_delete(self, info: Info) -> bool:
        return await hints.delete_policy(info.context, self)  # type: ignore[arg-type]


@strawberry.type(description="Objects of one service a session processed, by outcome.")
class ServiceCount:
    service: SessionService = strawberry.field(description="The service.")
    total: int = strawberry.field(description="Objects processed.")
    success: int = strawberry.field(description="Processed without a problem.")
    warning: int = strawberry.field(description="Processed with a warning.")
    error: int = strawberry.field(description="Failed.")


@strawberry.type(description="One line of a session's log.")
class SessionLogRecord(ModelNode):
    model = models.SessionLogRecord
    seq: int = strawberry.field(
        name="sequence", description="Position in the session's log (increases by one)."
    )
    at: datetime = strawberry.field(description="When it was written.")
    status: LogStatus = strawberry.field(description="Info, success, warning or failure.")
    message: str = strawberry.field(description="The text, such as `Found 3 objects`.")


@strawberry.input(description="Which log records to list.")
class SessionLogFilter:
    statuses: list[LogStatus] | None = strawberry.field(
        default=None, description="Only records with these statuses."
    )


@strawberry.type(description="One run of a backup policy.")
class BackupSession(ModelNode):
    model = models.BackupSession
    policy_name: str = strawberry.field(
        description="The policy's name when it ran (kept after the policy is deleted)."
    )
    status: SessionStatus = strawberry.field(description="Where the session stands.")
    started_at: datetime | None = strawberry.field(description="When it began running.")
    ended_at: datetime | None = strawberry.field(description="When it ended; null until then.")
    progress: int = strawberry.field(description="Percent of the objects processed (0 to 100).")
    processed_objects: int = strawberry.field(description="Objects processed so far.")
    transferred_bytes: BigInt = strawberry.field(description="Bytes transferred so far.")
    transferred_items: BigInt = strawberry.field(description="Items transferred so far.")
    trigger: SessionTrigger = strawberry.field(description="What started it.")
    retry_count: int = strawberry.field(description="How many times it was retried.")
    created_at: datetime = strawberry.field(description="When it was queued.")

    @strawberry.field(description="Who started it: `Schedule`, or the user's email.")
    def started_by(self) -> str:
        return self.started_by_label  # type: ignore[attr-defined]

    @strawberry.field(description="Objects processed per service, by outcome.")
    def service_counts(self) -> list[ServiceCount]:
        counts = self.service_counts or {}  # type: ignore[attr-defined]
        return [
            ServiceCount(service=SessionService(name), **counts[name])
            for name in (s.value for s in SessionService)
            if name in counts
        ]

    @strawberry.field(
        description="The policy that ran; null once the policy is deleted.",
        metadata=batched(resolve_sessions.sessions_policies),
    )
    async def policy(self, info: Info) -> BackupPolicy | None:
        return await resolve_sessions.session_policy(info.context, self)  # type: ignore[arg-type, return-value]

    @strawberry.field(
        description="The customer whose policy ran.",
        metadata=batched(resolve_sessions.customers_of),
    )
    async def customer(self, info: Info) -> Customer:
        return await resolve_sessions.customer_of(info.context, self)  # type: ignore[return-value]

    @strawberry.field(
        description="A link to the session's log as CSV (`/exports/session-log.csv`): signed for "
        "you, usable without a header (an `<a href download>`), valid for "
        "`VDC_DOWNLOAD_URL_TTL_SECONDS`; the download needs BACKUP_MANAGEMENT."
    )
    def download_url(self, info: Info) -> str:
        return downloads.link(
            info.context,
            "/exports/session-log.csv",
            {"sessionId": relay.to_base64("BackupSession", self.id)},  # type: ignore[attr-defined]
        )

    @strawberry.field(description="The session's log in order, a page at a time.")
    async def logs(
        self,
        info: Info,
        filter: Annotated[
            SessionLogFilter | None, strawberry.argument(description="Which records to list.")
        ] = None,
        first: FIRST = None,
        after: AFTER = None,
        last: LAST = None,
        before: BEFORE = None,
    ) -> Connection[SessionLogRecord]:
        statuses = tuple((filter.statuses if filter else None) or ())
        page = await resolve_sessions.session_logs(
            info.context,
            self,  # type: ignore[arg-type]
            statuses,
            page_args(info, first, after, last, before),
        )
        return Connection[SessionLogRecord](page=page)


@strawberry.type(description="A restore done in the customer portal.")
class Restore(ModelNode):
    model = models.Restore
    requested_at: datetime = strawberry.field(description="When it was requested.")
    requested_by: str = strawberry.field(description="Who requested it.")
    restore_type: RestoreType = strawberry.field(description="What was restored.")
    item_count: int = strawberry.field(description="How many items.")
    status: RestoreStatus = strawberry.field(description="Where it stands.")
    finished_at: datetime | None = strawberry.field(
        description="When it ended; null while in progress."
    )

    @strawberry.field(
        description="The customer whose data was restored.",
        metadata=batched(resolve_sessions.customers_of),
    )
    async def customer(self, info: Info) -> Customer:
        return await resolve_sessions.customer_of(info.context, self)  # type: ignore[return-value]


class BackupPolicyOrderField(Enum):
    NAME = "NAME"
    LAST_STATUS = "LAST_STATUS"
    LAST_RUN = "LAST_RUN"


described(
    BackupPolicyOrderField,
    "Columns the policy list can be ordered by.",
    NAME="The policy's name (the default order).",
    LAST_STATUS="The result of the last run.",
    LAST_RUN="When it last ran (policies that never ran come last ascending).",
)


@strawberry.input(description="How to order policies; ties are broken by ID.")
class BackupPolicyOrder:
    field: BackupPolicyOrderField = strawberry.field(description="The column to order by.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description="Ascending or descending."
    )


@strawberry.input(description="Which policies to list; all conditions must hold.")
class BackupPolicyFilter:
    customer_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only this customer's policies."
    )
    status: PolicyStatus | None = strawberry.field(
        default=None, description="Only policies whose last result is this."
    )
    enabled: bool | None = strawberry.field(default=None, description="Only enabled (or disabled).")
    search: str | None = strawberry.field(
        default=None, description="Text in the name (case-insensitive)."
    )


@strawberry.input(description="Which sessions to list; all conditions must hold.")
class BackupSessionFilter:
    customer_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only this customer's sessions."
    )
    policy_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only this policy's sessions."
    )
    statuses: list[SessionStatus] | None = strawberry.field(
        default=None, description="Only sessions with these statuses."
    )
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="Only sessions queued at or after this time."
    )
    to: datetime | None = strawberry.field(
        default=None, description="Only sessions queued before this time."
    )


@strawberry.input(description="Which restores to list.")
class RestoreFilter:
    customer_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only this customer's restores."
    )


def _key(gid: relay.GlobalID | None, type_name: str):
    return key_of(_ref(gid), type_name) if gid is not None else None


@strawberry.type
class BackupQueries:
    @strawberry.field(description="The backup policies the caller may see, a page at a time.")
    async def backup_policies(
        self,
        info: Info,
        filter: Annotated[
            BackupPolicyFilter | None, strawberry.argument(description="Which policies to list.")
        ] = None,
        order_by: Annotated[
            BackupPolicyOrder | None,
            strawberry.argument(description="The order (default: name ascending)."),
        ] = None,
        first: FIRST = None,
        after: AFTER = None,
        last: LAST = None,
        before: BEFORE = None,
    ) -> Connection[BackupPolicy]:
        flt = filter or BackupPolicyFilter()
        order = order_by or BackupPolicyOrder(field=BackupPolicyOrderField.NAME)
        page = await resolve_policies.list_policies(
            info.context,
            queries.PolicyFilter(
                customer_id=_key(flt.customer_id, "Customer"),
                status=flt.status,
                enabled=flt.enabled,
                search=flt.search,
            ),
            order.field.value,
            order.direction is OrderDirection.DESC,
            page_args(info, first, after, last, before),
        )
        return Connection[BackupPolicy](page=page)

    @strawberry.field(description="One backup policy by ID.")
    async def backup_policy(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The policy's ID.")],
    ) -> BackupPolicy | None:
        return await resolve_policies.get_policy(info.context, _ref(id))  # type: ignore[return-value]

    @strawberry.field(description="Backup sessions, newest first, a page at a time.")
    async def backup_sessions(
        self,
        info: Info,
        filter: Annotated[
            BackupSessionFilter | None, strawberry.argument(description="Which sessions to list.")
        ] = None,
        first: FIRST = None,
        after: AFTER = None,
        last: LAST = None,
        before: BEFORE = None,
    ) -> Connection[BackupSession]:
        flt = filter or BackupSessionFilter()
        page = await resolve_sessions.list_sessions(
            info.context,
            queries.SessionFilter(
                customer_id=_key(flt.customer_id, "Customer"),
                policy_id=_key(flt.policy_id, "BackupPolicy"),
                statuses=tuple(flt.statuses or ()),
                created_from=flt.from_,
                created_to=flt.to,
            ),
            page_args(info, first, after, last, before),
        )
        return Connection[BackupSession](page=page)

    @strawberry.field(description="One backup session by ID.")
    async def backup_session(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The session's ID.")],
    ) -> BackupSession | None:
        return await resolve_sessions.get_session(info.context, _ref(id))  # type: ignore[return-value]

    @strawberry.field(description="Restore activity, newest first, a page at a time.")
    async def restores(
        self,
        info: Info,
        filter: Annotated[
            RestoreFilter | None, strawberry.argument(description="Which restores to list.")
        ] = None,
        first: FIRST = None,
        after: AFTER = None,
        last: LAST = None,
        before: BEFORE = None,
    ) -> Connection[Restore]:
        flt = filter or RestoreFilter()
        page = await resolve_restores.list_restores(
            info.context,
            queries.RestoreFilter(customer_id=_key(flt.customer_id, "Customer")),
            page_args(info, first, after, last, before),
        )
        return Connection[Restore](page=page)
