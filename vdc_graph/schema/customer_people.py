"""People around a customer: email invitations, admin users, and the caller's organizations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from vdc_graph.db import models
from vdc_graph.db.pagination import PageArgs
from vdc_graph.resolvers import admin_users as admins
from vdc_graph.resolvers import invitations as invites

from .common import Payload, UserError
from .customer_changes import CUSTOMER_ID, ref
from .customers import Customer, CustomerAdminUser, CustomerConnection
from .enums import M365Service, Region
from .mutations import run_mutation
from .relay import ModelNode


@strawberry.type(description="An email invitation to onboard a customer by itself.")
class Invitation(ModelNode):
    model = models.Invitation
    email: str = strawberry.field(description="The invited address.")
    sent_at: datetime = strawberry.field(description="When it was last sent.")
    send_count: int = strawberry.field(description="How often it was sent (1, then resends).")
    expires_at: datetime = strawberry.field(description="When the latest link stops working.")
    accepted_at: datetime | None = strawberry.field(description="When it was accepted.")


@strawberry.input(description="Whom to invite to onboard a pending customer.")
class CustomerInviteInput:
    customer_id: relay.GlobalID = CUSTOMER_ID
    emails: str = strawberry.field(
        description="One or more email addresses separated by commas or spaces; an address "
        "invited before is sent a new link (a resend)."
    )


@strawberry.type(description="The result of `customerInvite`.")
class CustomerInvitePayload(Payload):
    customer: Customer | None = strawberry.field(description="The customer.")
    invitations: list[Invitation] = strawberry.field(description="The invitations just sent.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


@strawberry.input(description="Accept an invitation and finish onboarding.")
class InvitationAcceptInput:
    token: str = strawberry.field(description="The token from the invitation link.")
    region: Region = strawberry.field(description="Where the backups are stored.")
    retention_years: int | None = strawberry.field(
        default=None, description="Retention in whole years, 1 to 25 (or `retentionUnlimited`)."
    )
    retention_unlimited: bool = strawberry.field(
        default=False, description="Keep backups without a time limit."
    )
    services: list[M365Service] | None = strawberry.field(
        default=None, description="Services to protect; all when left out."
    )


@strawberry.type(description="The result of `invitationAccept`.")
class InvitationAcceptPayload(Payload):
    customer_display_name: str | None = strawberry.field(description="The onboarded customer.")
    activation_date: datetime | None = strawberry.field(description="When it became active.")
    policies_created: int = strawberry.field(
        default=0, description="Backup policies created (when the customer auto-creates them)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")

    @classmethod
    def done(cls, result: tuple[Any, list[Any]]) -> Self:
        customer, policies = result
        return cls(
            customer_display_name=customer.display_name,
            activation_date=customer.activation_date,
            policies_created=len(policies),
            user_errors=[],
        )


@strawberry.input(description="A new admin user of a customer.")
class CustomerAdminUserAddInput:
    customer_id: relay.GlobalID = CUSTOMER_ID
    email: str = strawberry.field(
        description="Microsoft 365 sign-in name (UPN); no alias (`a+b@`) or group address."
    )
    first_name: str = strawberry.field(description="First name.")
    last_name: str = strawberry.field(description="Last name.")
    send_welcome_email: bool = strawberry.field(
        default=True, description="Email a welcome message now."
    )


@strawberry.type(description="The result of `customerAdminUserAdd`.")
class CustomerAdminUserAddPayload(Payload):
    customer: Customer | None = strawberry.field(description="The customer.")
    admin_user: CustomerAdminUser | None = strawberry.field(description="The new admin user.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


@strawberry.input(description="Changes to an admin user; a field left out keeps its value.")
class CustomerAdminUserUpdateInput:
    admin_user_id: relay.GlobalID = strawberry.field(description="The admin user.")
    first_name: str | None = strawberry.field(default=None, description="First name.")
    last_name: str | None = strawberry.field(default=None, description="Last name.")
    send_welcome_email: bool | None = strawberry.field(
        default=None, description="Whether a welcome email is sent."
    )


@strawberry.type(description="The result of `customerAdminUserUpdate`.")
class CustomerAdminUserUpdatePayload(Payload):
    admin_user: CustomerAdminUser | None = strawberry.field(description="The admin user.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


@strawberry.input(description="The admin user to remove.")
class CustomerAdminUserRemoveInput:
    admin_user_id: relay.GlobalID = strawberry.field(description="The admin user.")


@strawberry.type(description="The result of `customerAdminUserRemove`.")
class CustomerAdminUserRemovePayload(Payload):
    customer: Customer | None = strawberry.field(description="The customer it was removed from.")
    removed_admin_user_id: relay.GlobalID | None = strawberry.field(
        description="The ID of the removed admin user (to evict it from a client cache)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")

    @classmethod
    def done(cls, result: tuple[Any, Any]) -> Self:
        customer, removed = result
        return cls(
            customer=customer,
            removed_admin_user_id=relay.GlobalID("CustomerAdminUser", str(removed)),
            user_errors=[],
        )


FIRST = Annotated[
    int | None, strawberry.argument(description="Page size from the start (1..100, default 20).")
]
AFTER = Annotated[str | None, strawberry.argument(description="Start after this cursor.")]
LAST = Annotated[int | None, strawberry.argument(description="Page size from the end (1..100).")]
BEFORE = Annotated[str | None, strawberry.argument(description="End before this cursor.")]


@strawberry.type
class CustomerPeopleQueries:
    @strawberry.field(
        description="Customers the caller may switch into: those whose admin users include the "
        "caller's email, in display-name order."
    )
    async def organizations(
        self,
        info: Info,
        first: FIRST = None,
        after: AFTER = None,
        last: LAST = None,
        before: BEFORE = None,
    ) -> CustomerConnection:
        page = await admins.organizations(info.context, PageArgs(first, after, last, before))
        return CustomerConnection(page=page)


@strawberry.type
class CustomerPeopleMutations:
    @strawberry.mutation(
        description="Invite a pending customer to onboard itself: each address gets a link "
        "(sent the first time, resent after)."
    )
    async def customer_invite(
        self, info: Info, input: CustomerInviteInput
    ) -> CustomerInvitePayload:
        return await run_mutation(
            info,
            CustomerInvitePayload,
            lambda: invites.invite(info.context, ref(input.customer_id), input.emails),
        )

    @strawberry.mutation(
        description="Accept an invitation (no sign-in needed: the token is the credential) and "
        "finish onboarding; recommended policies are created when the customer auto-creates them."
    )
    async def invitation_accept(
        self, info: Info, input: InvitationAcceptInput
    ) -> InvitationAcceptPayload:
        data = invites.AcceptInput(
            token=input.token,
            region=input.region,
            retention_years=input.retention_years,
            retention_unlimited=input.retention_unlimited,
            services=None if input.services is None else list(input.services),
        )
        return await run_mutation(info, InvitationAcceptPayload, lambda: invites.accept(data))

    @strawberry.mutation(description="Add an admin user to a customer (also while pending).")
    async def customer_admin_user_add(
        self, info: Info, input: CustomerAdminUserAddInput
    ) -> CustomerAdminUserAddPayload:
        user = admins.AdminUserInput(
            input.email, input.first_name, input.last_name, input.send_welcome_email
        )
        return await run_mutation(
            info,
            CustomerAdminUserAddPayload,
            lambda: admins.add_admin_user(info.context, ref(input.customer_id), user),
        )

    @strawberry.mutation(description="Change an admin user's names or welcome-email flag.")
    async def customer_admin_user_update(
        self, info: Info, input: CustomerAdminUserUpdateInput
    ) -> CustomerAdminUserUpdatePayload:
        change = admins.AdminUserChange(input.first_name, input.last_name, input.send_welcome_email)
        return await run_mutation(
            info,
            CustomerAdminUserUpdatePayload,
            lambda: admins.update_admin_user(info.context, ref(input.admin_user_id), change),
        )

    @strawberry.mutation(description="Remove an admin user from its customer.")
    async def customer_admin_user_remove(
        self, info: Info, input: CustomerAdminUserRemoveInput
    ) -> CustomerAdminUserRemovePayload:
        return await run_mutation(
            info,
            CustomerAdminUserRemovePayload,
            lambda: admins.remove_admin_user(info.context, ref(input.admin_user_id)),
        )
