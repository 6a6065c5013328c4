"""Access: roles, users, API keys, switching into a customer, and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from vdc_graph import enums
from vdc_graph.db import models
from vdc_graph.db.queries.audit import AuditFilter as AuditFilterQuery
from vdc_graph.resolvers import api_keys as keys
from vdc_graph.resolvers import audit, switch
from vdc_graph.resolvers import roles as resolve_roles
from vdc_graph.resolvers import users as resolve_users
from vdc_graph.resolvers.ids import Ref

from .approvals import HeldForApproval
from .common import OrderDirection, Payload, UserError
from .customers import AFTER, BEFORE, FIRST, LAST, Customer
from .enums import Permission
from .mutations import run_mutation
from .relay import Connection, ModelNode, page_args
from .viewer import PortalUser

AuditOutcome = strawberry.enum(
    enums.AuditOutcome, description="Whether an audited action was done or refused."
)
for _value in AuditOutcome.__strawberry_definition__.values:  # type: ignore[attr-defined]
    _value.description = {
        "SUCCESS": "The change was made.",
        "DENIED": "The attempt was refused (not signed in, or not permitted).",
    }[_value.name]


def ref(gid: relay.GlobalID) -> Ref:
    return Ref(gid.type_name, gid.node_id)


INPUT = strawberry.argument(description="What to change, and how.")


@strawberry.type(description="A named set of permissions given to users.")
class Role(ModelNode):
    model = models.Role
    name: str = strawberry.field(description="The role's name (unique per provider, any case).")
    built_in: bool = strawberry.field(
        description="The built-in Administrator: every permission, cannot be reduced or deleted."
    )
    created_at: datetime = strawberry.field(description="When the role was created.")

    @strawberry.field(description="What the role allows; MONITORING_ACCESS is always included.")
    def permissions(self) -> list[Permission]:
        return [Permission(p) for p in self.permissions]  # type: ignore[attr-defined]

    @strawberry.field(description="How many users hold this role.")
    async def user_count(self, info: Info) -> int:
        return await resolve_roles.role_user_count(info.context, self)  # type: ignore[arg-type]


@strawberry.type(description="A credential for automation: `Authorization: Bearer <key>`.")
class ApiKey(ModelNode):
    model = models.ApiKey
    name: str = strawberry.field(description="What the key is for.")
    read_only: bool = strawberry.field(description="The key may run no mutation.")
    expires_at: datetime | None = strawberry.field(description="When the key stops working.")
    last_used_at: datetime | None = strawberry.field(
        description="When the key was last used (to the minute)."
    )
    revoked_at: datetime | None = strawberry.field(description="When the key was revoked.")
    created_at: datetime = strawberry.field(description="When the key was created.")

    @strawberry.field(description="The key's public beginning, to recognise it (`vdck_…_`).")
    def prefix(self) -> str:
        return keys.display_prefix(self)  # type: ignore[arg-type]

    @strawberry.field(
        description="The key's permissions; it never uses more than its creator holds now."
    )
    def permissions(self) -> list[Permission]:
        return [Permission(p) for p in self.permissions]  # type: ignore[attr-defined]

    @strawberry.field(description="True when the key sees only `customers`.")
    def limited_to_customers(self) -> bool:
        return self.limited_to_customers  # type: ignore[attr-defined]

    @strawberry.field(description="The customers the key is limited to (when it is).")
    async def customers(self, info: Info) -> list[Customer]:
        return await keys.key_customers(info.context, self)  # type: ignore[arg-type,return-value]


@strawberry.type(description="One change, or one refused attempt, as the audit log keeps it.")
class AuditRecord(ModelNode):
    model = models.AuditRecord
    created_at: datetime = strawberry.field(description="When it happened.")
    outcome: AuditOutcome = strawberry.field(description="Done, or refused.")
    action: str = strawberry.field(description="The operation, such as `roleCreate`.")
    actor_label: str = strawberry.field(description="Who: the user's email or the API key.")
    client_address: str = strawberry.field(description="The caller's IP address.")
    target_type: str = strawberry.field(description="The kind of object, such as `Role`.")

    @strawberry.field(description="The object's ID, when the action named one.")
    def target_id(self) -> relay.GlobalID | None:
        r: Any = self
        if not r.target_type or not r.target_id:
            return None
        return relay.GlobalID(r.target_type, r.target_id)

    @strawberry.field(description="The acting user's ID (null for an API key or anonymous).")
    def actor_user_id(self) -> relay.GlobalID | None:
        r: Any = self
        return relay.GlobalID("PortalUser", str(r.actor_user_id)) if r.actor_user_id else None

    @strawberry.field(description="The acting API key's ID, if any.")
    def actor_api_key_id(self) -> relay.GlobalID | None:
        r: Any = self
        key = r.actor_api_key_id
        return relay.GlobalID("ApiKey", str(key)) if key else None

    @strawberry.field(description="The object before the change (no secrets).")
    def before(self) -> JSON | None:
        return self.before  # type: ignore[attr-defined]

    @strawberry.field(
        description="The object after the change (no secrets); for a refusal, why it was refused."
    )
    def after(self) -> JSON | None:
        return self.after  # type: ignore[attr-defined]


@strawberry.input(description="Which roles to list.")
class RoleFilter:
    search: str | None = strawberry.field(default=None, description="Text in the role's name.")


@strawberry.input(description="Which users to list; all conditions must hold.")
class UserFilter:
    search: str | None = strawberry.field(
        default=None, description="Text in the first name, last name or email."
    )
    role_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only users holding this role."
    )


@strawberry.input(description="Which audit records to list; all conditions must hold.")
class AuditLogFilter:
    actor: relay.GlobalID | None = strawberry.field(
        default=None, description="A user's or API key's ID."
    )
    target: relay.GlobalID | None = strawberry.field(
        default=None, description="The object acted on."
    )
    action: str | None = strawberry.field(default=None, description="The operation's name.")
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="From this time (inclusive)."
    )
    to: datetime | None = strawberry.field(default=None, description="Until this time (exclusive).")


def audit_filter(flt: AuditLogFilter | None) -> AuditFilterQuery:
    flt = flt or AuditLogFilter()
    user_id, key_id = audit.actor_filter(ref(flt.actor) if flt.actor else None)
    return AuditFilterQuery(
        actor_user_id=user_id,
        actor_api_key_id=key_id,
        target_id=flt.target.node_id if flt.target else None,
        action=flt.action,
        since=flt.from_,
        until=flt.to,
    )


@strawberry.type
class AccessQueries:
    @strawberry.field(description="The provider's roles by name (needs USER_MANAGEMENT).")
    async def roles(
        self,
        info: Info,
        filter: Annotated[
            RoleFilter | None, strawberry.argument(description="Which roles.")
        ] = None,
        first: FIRST = None,
        after: AFTER = None,
        last: LAST = None,
        before: BEFORE = None,
    ) -> Connection[Role]:
        page = await resolve_roles.list_roles(
            info.context,
            (filter or RoleFilter()).search,
            page_args(info, first, after, last, before),
        )
        return Connection[Role](page=page)

    @strawberry.field(description="The provider's users by email (needs USER_MANAGEMENT).")
    async def users(
        self,
        info: Info,
        filter: Annotated[
            UserFilter | None, strawberry.argument(description="Which users.")
        ] = None,
        first: FIRST = None,
        after: AFTER = None,
        last: LAST = None,
        before: BEFORE = None,
    ) -> Connection[PortalUser]:
        flt = filter or UserFilter()
        page = await resolve_users.list_users(
            info.context,
            flt.search,
            ref(flt.role_id) if flt.role_id else None,
            page_args(info, first, after, last, before),
        )
        return Connection[PortalUser](page=page)

    @strawberry.field(description="The provider's API keys, newest first (USER_MANAGEMENT).")
    async def api_keys(
        self,
        info: Info,
        first: FIRST = None,
        after: AFTER = None,
        last: LAST = None,
        before: BEFORE = None,
    ) -> Connection[ApiKey]:
        page = await keys.list_api_keys(info.context, page_args(info, first, after, last, before))
        return Connection[ApiKey](page=page)

    @strawberry.field(
        description="Changes and refused attempts, newest first by default (USER_MANAGEMENT)."
    )
    async def audit_log(
        self,
        info: Info,
        filter: Annotated[
            AuditLogFilter | None, strawberry.argument(description="Which records.")
        ] = None,
        direction: Annotated[
            OrderDirection,
            strawberry.argument(description="DESC (newest first, the default) or ASC."),
        ] = OrderDirection.DESC,
        first: FIRST = None,
        after: AFTER = None,
        last: LAST = None,
        before: BEFORE = None,
    ) -> Connection[AuditRecord]:
        page = await audit.list_audit_records(
            info.context,
            audit_filter(filter),
            direction is OrderDirection.DESC,
            page_args(info, first, after, last, before),
        )
        return Connection[AuditRecord](page=page)


# --- mutations -------------------------------------------------------------------------------


@strawberry.input(description="A new role.")
class RoleCreateInput:
    name: str = strawberry.field(description="Its name, unique ignoring case.")
    permissions: list[Permission] = strawberry.field(
        description="What it allows; MONITORING_ACCESS is added when missing."
    )


@strawberry.input(description="Changes to a role; omitted fields stay as they are.")
class RoleUpdateInput:
    id: relay.GlobalID = strawberry.field(description="The role.")
    name: str | None = strawberry.field(default=None, description="A new name.")
    permissions: list[Permission] | None = strawberry.field(
        default=None, description="The new permissions (replacing the old ones)."
    )


@strawberry.input(description="The role to delete.")
class RoleDeleteInput:
    id: relay.GlobalID = strawberry.field(description="The role.")


@strawberry.type(description="The result of a role change.")
class RolePayload(HeldForApproval):
    role: Role | None = strawberry.field(description="The role as it is now.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


@strawberry.type(description="The result of `roleDelete`.")
class RoleDeletePayload(HeldForApproval):
    deleted_role_id: relay.GlobalID | None = strawberry.field(description="The deleted role.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")

    @classmethod
    def done(cls, key: int) -> Self:
        return cls(deleted_role_id=relay.GlobalID("Role", str(key)), user_errors=[])


@strawberry.input(description="A new portal user.")
class UserCreateInput:
    email: str = strawberry.field(description="Microsoft 365 sign-in address (a UPN).")
    first_name: str = strawberry.field(description="First name.")
    last_name: str = strawberry.field(description="Last name.")
    role_ids: list[relay.GlobalID] = strawberry.field(
        default_factory=list, description="The user's roles."
    )


@strawberry.input(description="Changes to a user; omitted fields stay as they are.")
class UserUpdateInput:
    id: relay.GlobalID = strawberry.field(description="The user.")
    first_name: str | None = strawberry.field(default=None, description="First name.")
    last_name: str | None = strawberry.field(default=None, description="Last name.")
    role_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="The user's roles (replacing the old ones)."
    )


@strawberry.input(description="Set the roles of many users at once (all or nothing).")
class UsersBulkEditInput:
    user_ids: list[relay.GlobalID] = strawberry.field(description="The users.")
    role_ids: list[relay.GlobalID] = strawberry.field(
        description="The roles each of them will hold (replacing their old ones)."
    )


@strawberry.input(description="The user to delete.")
class UserDeleteInput:
    id: relay.GlobalID = strawberry.field(description="The user.")


@strawberry.type(description="The result of a user change.")
class UserPayload(HeldForApproval):
    user: PortalUser | None = strawberry.field(description="The user as it is now.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


@strawberry.type(description="The result of `usersBulkEdit`.")
class UsersBulkEditPayload(HeldForApproval):
    users: list[PortalUser] = strawberry.field(description="The users as they are now.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


@strawberry.type(description="The result of `userDelete`.")
class UserDeletePayload(HeldForApproval):
    deleted_user_id: relay.GlobalID | None = strawberry.field(description="The deleted user.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")

    @classmethod
    def done(cls, key: int) -> Self:
        return cls(deleted_user_id=relay.GlobalID("PortalUser", str(key)), user_errors=[])


@strawberry.input(description="The customer to switch into.")
class CustomerSwitchInput:
    customer_id: relay.GlobalID = strawberry.field(description="A customer you are an admin of.")


@strawberry.type(description="The result of `customerSwitch`.")
class CustomerSwitchPayload(Payload):
    token: str | None = strawberry.field(
        description="A bearer token limited to the customer; send it instead of your own."
    )
    expires_at: datetime | None = strawberry.field(description="When the token expires.")
    customer: Customer | None = strawberry.field(description="The customer switched into.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


@strawberry.input(description="A new API key.")
class ApiKeyCreateInput:
    name: str = strawberry.field(description="What the key is for.")
    permissions: list[Permission] = strawberry.field(
        description="What it may do: only permissions you hold (MONITORING_ACCESS is added)."
    )
    customer_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="Limit the key to these customers (omit for all)."
    )
    read_only: bool = strawberry.field(default=False, description="Refuse every mutation.")
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the key stops working (omit for never)."
    )


@strawberry.input(description="The API key to rotate or revoke.")
class ApiKeyInput:
    id: relay.GlobalID = strawberry.field(description="The key.")


@strawberry.type(description="The result of `apiKeyCreate` or `apiKeyRotate`.")
class ApiKeySecretPayload(HeldForApproval):
    api_key: ApiKey | None = strawberry.field(description="The key.")
    secret: str | None = strawberry.field(
        description="The whole key, shown this once: it is stored only as a hash."
    )
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


@strawberry.type(description="The result of `apiKeyRevoke`.")
class ApiKeyRevokePayload(Payload):
    api_key: ApiKey | None = strawberry.field(description="The revoked key.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


@strawberry.type
class AccessMutations:
    @strawberry.mutation(description="Create a role (USER_MANAGEMENT).")
    async def role_create(
        self, info: Info, input: Annotated[RoleCreateInput, INPUT]
    ) -> RolePayload:
        return await run_mutation(
            info,
            RolePayload,
            lambda: resolve_roles.create_role(info.context, input.name, input.permissions),
        )

    @strawberry.mutation(description="Rename a role or change its permissions (USER_MANAGEMENT).")
    async def role_update(
        self, info: Info, input: Annotated[RoleUpdateInput, INPUT]
    ) -> RolePayload:
        change = resolve_roles.RoleChange(name=input.name, permissions=input.permissions)
        return await run_mutation(
            info,
            RolePayload,
            lambda: resolve_roles.update_role(info.context, ref(input.id), change),
        )

    @strawberry.mutation(description="Delete a role; its users lose it (USER_MANAGEMENT).")
    async def role_delete(
        self, info: Info, input: Annotated[RoleDeleteInput, INPUT]
    ) -> RoleDeletePayload:
        return await run_mutation(
            info, RoleDeletePayload, lambda: resolve_roles.delete_role(info.context, ref(input.id))
        )

    @strawberry.mutation(description="Add a portal user (USER_MANAGEMENT).")
    async def user_create(
        self, info: Info, input: Annotated[UserCreateInput, INPUT]
    ) -> UserPayload:
        user = resolve_users.NewUser(
            email=input.email,
            first_name=input.first_name,
            last_name=input.last_name,
            role_ids=[ref(r) for r in input.role_ids],
        )
        return await run_mutation(
            info, UserPayload, lambda: resolve_users.create_user(info.context, user)
        )

    @strawberry.mutation(description="Change a user's names or roles (USER_MANAGEMENT).")
    async def user_update(
        self, info: Info, input: Annotated[UserUpdateInput, INPUT]
    ) -> UserPayload:
        change = resolve_users.UserChange(
            first_name=input.first_name,
            last_name=input.last_name,
            role_ids=[ref(r) for r in input.role_ids] if input.role_ids is not None else None,
        )
        return await run_mutation(
            info,
            UserPayload,
            lambda: resolve_users.update_user(info.context, ref(input.id), change),
        )

    @strawberry.mutation(description="Set the roles of many users in one step (USER_MANAGEMENT).")
    async def users_bulk_edit(
        self, info: Info, input: Annotated[UsersBulkEditInput, INPUT]
    ) -> UsersBulkEditPayload:
        return await run_mutation(
            info,
            UsersBulkEditPayload,
            lambda: resolve_users.bulk_edit_roles(
                info.context, [ref(u) for u in input.user_ids], [ref(r) for r in input.role_ids]
            ),
        )

    @strawberry.mutation(description="Delete a portal user (USER_MANAGEMENT).")
    async def user_delete(
        self, info: Info, input: Annotated[UserDeleteInput, INPUT]
    ) -> UserDeletePayload:
        return await run_mutation(
            info, UserDeletePayload, lambda: resolve_users.delete_user(info.context, ref(input.id))
        )

    @strawberry.mutation(
        description="A short-lived token limited to a customer whose admin users include your "
        "email (CUSTOMER_MANAGEMENT)."
    )
    async def customer_switch(
        self, info: Info, input: Annotated[CustomerSwitchInput, INPUT]
    ) -> CustomerSwitchPayload:
        return await run_mutation(
            info,
            CustomerSwitchPayload,
            lambda: switch.switch_customer(info.context, ref(input.customer_id)),
        )

    @strawberry.mutation(description="Create an API key; its secret is shown once.")
    async def api_key_create(
        self, info: Info, input: Annotated[ApiKeyCreateInput, INPUT]
    ) -> ApiKeySecretPayload:
        key = keys.NewApiKey(
            name=input.name,
            permissions=input.permissions,
            customer_ids=[ref(c) for c in input.customer_ids]
            if input.customer_ids is not None
            else None,
            read_only=input.read_only,
            expires_at=input.expires_at,
        )
        return await run_mutation(
            info, ApiKeySecretPayload, lambda: keys.create_api_key(info.context, key)
        )

    @strawberry.mutation(description="Give an API key a new secret; the old one stops at once.")
    async def api_key_rotate(
        self, info: Info, input: Annotated[ApiKeyInput, INPUT]
    ) -> ApiKeySecretPayload:
        return await run_mutation(
            info, ApiKeySecretPayload, lambda: keys.rotate_api_key(info.context, ref(input.id))
        )

    @strawberry.mutation(description="Revoke an API key; it is refused from now on.")
    async def api_key_revoke(
        self, info: Info, input: Annotated[ApiKeyInput, INPUT]
    ) -> ApiKeyRevokePayload:
        return await run_mutation(
            info, ApiKeyRevokePayload, lambda: keys.revoke_api_key(info.context, ref(input.id))
        )
