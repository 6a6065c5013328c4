"""Backup policy and restore mutations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from vdc_graph.resolvers import policies as resolve
from vdc_graph.resolvers import restores as resolve_restores
from vdc_graph.resolvers.ids import Ref

from .approvals import HeldForApproval
from .backup import BackupPolicy, BackupSession, Restore
from .common import Payload, UserError
from .enums import BackupObjectType, BackupType, M365Service, RestoreStatus, RestoreType
from .mutations import run_mutation


def _ref(gid: relay.GlobalID) -> Ref:
    return Ref(gid.type_name, gid.node_id)


@strawberry.input(description="A Microsoft 365 object to select or exclude.")
class BackupObjectInput:
    type: BackupObjectType = strawberry.field(description="User, group, site or team.")
    external_id: str = strawberry.field(description="The object's ID in Microsoft 365.")
    name: str = strawberry.field(description="The object's display name.")


def _objects(items: list[BackupObjectInput] | None) -> tuple[resolve.BackupObject, ...]:
    return tuple(
        resolve.BackupObject(type=o.type, external_id=o.external_id.strip(), name=o.name.strip())
        for o in items or ()
    )


@strawberry.input(description="A new backup policy.")
class BackupPolicyCreateInput:
    customer_id: relay.GlobalID = strawberry.field(description="The customer it belongs to.")
    name: str = strawberry.field(description="Its name, unique within the customer.")
    backup_type: BackupType = strawberry.field(description="Entire organization or selected items.")
    services: list[M365Service] | None = strawberry.field(
        default=None, description="The services to protect (default: all)."
    )
    selected_objects: list[BackupObjectInput] | None = strawberry.field(
        default=None, description="Objects to back up (selected items only)."
    )
    excluded_objects: list[BackupObjectInput] | None = strawberry.field(
        default=None, description="Objects to leave out."
    )
    enabled: bool = strawberry.field(default=True, description="Whether the schedule runs it.")


@strawberry.input(description="Changes to a backup policy; absent fields stay as they are.")
class BackupPolicyUpdateInput:
    id: relay.GlobalID = strawberry.field(description="The policy.")
    name: str | None = strawberry.field(default=None, description="A new name.")
    services: list[M365Service] | None = strawberry.field(
        default=None, description="The services to protect instead."
    )
    add_selected_objects: list[BackupObjectInput] | None = strawberry.field(
        default=None, description="Objects to add to the selection."
    )
    remove_selected_objects: list[str] | None = strawberry.field(
        default=None, description="External IDs of objects to remove from the selection."
    )
    add_excluded_objects: list[BackupObjectInput] | None = strawberry.field(
        default=None, description="Objects to exclude."
    )
    remove_excluded_objects: list[str] | None = strawberry.field(
        default=None, description="External IDs of objects to stop excluding."
    )


@strawberry.input(description="The policy an action applies to.")
class BackupPolicyActionInput:
    id: relay.GlobalID = strawberry.field(description="The policy.")


@strawberry.type(description="The result of a change to a backup policy.")
class BackupPolicyPayload(HeldForApproval):
    policy: BackupPolicy | None = strawberry.field(description="The policy as it is now.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


@strawberry.type(description="The result of starting or stopping a backup policy.")
class BackupPolicyRunPayload(Payload):
    policy: BackupPolicy | None = strawberry.field(description="The policy.")
    session: BackupSession | None = strawberry.field(
        description="The session started (or asked to stop)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


@strawberry.type(description="The result of `backupPolicyDelete`.")
class BackupPolicyDeletePayload(HeldForApproval):
    deleted_policy_id: relay.GlobalID | None = strawberry.field(
        description="The ID of the deleted policy."
    )
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")

    @classmethod
    def done(cls, key: int) -> Self:
        return cls(deleted_policy_id=relay.GlobalID("BackupPolicy", str(key)), user_errors=[])


@strawberry.input(description="A restore done in the customer portal.")
class RestoreRecordInput:
    customer_id: relay.GlobalID = strawberry.field(description="The customer.")
    requested_by: str = strawberry.field(description="Who requested it (an email or a name).")
    restore_type: RestoreType = strawberry.field(description="What is being restored.")
    item_count: int = strawberry.field(default=0, description="How many items (so far).")
    status: RestoreStatus = strawberry.field(
        default=RestoreStatus.IN_PROGRESS,
        description="Where it stands: IN_PROGRESS (then `restoreFinish`), or already ended.",
    )
    requested_at: datetime | None = strawberry.field(
        default=None, description="When it was requested (default: now)."
    )


@strawberry.type(description="The result of `restoreRecord`.")
class RestoreRecordPayload(Payload):
    restore: Restore | None = strawberry.field(description="The recorded restore.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


@strawberry.input(description="The end of a restore in progress.")
class RestoreFinishInput:
    id: relay.GlobalID = strawberry.field(description="The restore (IN_PROGRESS).")
    status: RestoreStatus = strawberry.field(description="SUCCESS, WARNING or FAILED.")
    item_count: int = strawberry.field(description="How many items were restored.")


@strawberry.type(description="The result of `restoreFinish`.")
class RestoreFinishPayload(Payload):
    restore: Restore | None = strawberry.field(description="The restore, ended.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


@strawberry.type
class BackupMutations:
    @strawberry.mutation(
        description="Create a backup policy. A customer's first policy needs BACKUP_MANAGEMENT; "
        "any further one also ADVANCED_BACKUP_MANAGEMENT."
    )
    async def backup_policy_create(
        self,
        info: Info,
        input: Annotated[BackupPolicyCreateInput, strawberry.argument(description="What to do.")],
    ) -> BackupPolicyPayload:
        data = resolve.CreatePolicyInput(
            customer=_ref(input.customer_id),
            name=input.name,
            backup_type=input.backup_type,
            services=tuple(input.services) if input.services is not None else tuple(M365Service),
            selected_objects=_objects(input.selected_objects),
            excluded_objects=_objects(input.excluded_objects),
            enabled=input.enabled,
        )
        return await run_mutation(
            info, BackupPolicyPayload, lambda: resolve.create_policy(info.context, data)
        )

    @strawberry.mutation(description="Rename a policy, change its services, add or remove objects.")
    async def backup_policy_update(
        self,
        info: Info,
        input: Annotated[BackupPolicyUpdateInput, strawberry.argument(description="What to do.")],
    ) -> BackupPolicyPayload:
        data = resolve.UpdatePolicyInput(
            policy=_ref(input.id),
            name=input.name,
            services=tuple(input.services) if input.services is not None else None,
            add_selected_objects=_objects(input.add_selected_objects),
            remove_selected_objects=tuple(input.remove_selected_objects or ()),
            add_excluded_objects=_objects(input.add_excluded_objects),
            remove_excluded_objects=tuple(input.remove_excluded_objects or ()),
        )
        return await run_mutation(
            info, BackupPolicyPayload, lambda: resolve.update_policy(info.context, data)
        )

    @strawberry.mutation(description="Run a policy now (also when disabled).")
    async def backup_policy_start(
        self,
        info: Info,
        input: Annotated[BackupPolicyActionInput, strawberry.argument(description="What to do.")],
    ) -> BackupPolicyRunPayload:
        return await run_mutation(
            info, BackupPolicyRunPayload, lambda: resolve.start_policy(info.context, _ref(input.id))
        )

    @strawberry.mutation(description="Stop a policy's running session (it ends STOPPED).")
    async def backup_policy_stop(
        self,
        info: Info,
        input: Annotated[BackupPolicyActionInput, strawberry.argument(description="What to do.")],
    ) -> BackupPolicyRunPayload:
        return await run_mutation(
            info, BackupPolicyRunPayload, lambda: resolve.stop_policy(info.context, _ref(input.id))
        )

    @strawberry.mutation(description="Let the schedule run a policy again.")
    async def backup_policy_enable(
        self,
        info: Info,
        input: Annotated[BackupPolicyActionInput, strawberry.argument(description="What to do.")],
    ) -> BackupPolicyPayload:
        return await run_mutation(
            info,
            BackupPolicyPayload,
            lambda: resolve.set_policy_enabled(info.context, _ref(input.id), True),
        )

    @strawberry.mutation(description="Stop the schedule from running a policy.")
    async def backup_policy_disable(
        self,
        info: Info,
        input: Annotated[BackupPolicyActionInput, strawberry.argument(description="What to do.")],
    ) -> BackupPolicyPayload:
        return await run_mutation(
            info,
            BackupPolicyPayload,
            lambda: resolve.set_policy_enabled(info.context, _ref(input.id), False),
        )

    @strawberry.mutation(description="Delete a policy that is not running; its sessions are kept.")
    async def backup_policy_delete(
        self,
        info: Info,
        input: Annotated[BackupPolicyActionInput, strawberry.argument(description="What to do.")],
    ) -> BackupPolicyDeletePayload:
        return await run_mutation(
            info,
            BackupPolicyDeletePayload,
            lambda: resolve.delete_policy(info.context, _ref(input.id)),
        )

    @strawberry.mutation(
        description="Record a restore done in the customer portal (raises RESTORE_ACTIVITY "
        "notifications). Needs BACKUP_MANAGEMENT."
    )
    async def restore_record(
        self,
        info: Info,
        input: Annotated[RestoreRecordInput, strawberry.argument(description="What to do.")],
    ) -> RestoreRecordPayload:
        data = resolve_restores.RecordRestoreInput(
            customer=_ref(input.customer_id),
            requested_by=input.requested_by,
            restore_type=input.restore_type,
            item_count=input.item_count,
            status=input.status,
            requested_at=input.requested_at,
        )
        return await run_mutation(
            info, RestoreRecordPayload, lambda: resolve_restores.record_restore(info.context, data)
        )

    @strawberry.mutation(
        description="End a restore in progress as SUCCESS, WARNING or FAILED with its item "
        "count (raises RESTORE_ACTIVITY notifications). Needs BACKUP_MANAGEMENT."
    )
    async def restore_finish(
        self,
        info: Info,
        input: Annotated[RestoreFinishInput, strawberry.argument(description="How it ended.")],
    ) -> RestoreFinishPayload:
        return await run_mutation(
            info,
            RestoreFinishPayload,
            lambda: resolve_restores.finish_restore(
                info.context,
                _ref(input.id),
                input.status,  # type: ignore[arg-type]
                input.item_count,
            ),
        )
