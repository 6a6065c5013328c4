"""People around a customer: email invitations, admin users, and the caller's organizations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from vdc_graph.db import models
from vdc_graph.resolvers import admin_users as admins
from vdc_graph.resolvers import invitations as invites
from vdc_graph.resolvers import onboarding as wizard
from vdc_graph.resolvers.onboarding import Wizard

from .common import Payload, UserError
from .customer_changes import CUSTOMER_ID, ref
from .customers import Customer, CustomerAdminUser, CustomerConnection, DeviceLogin, device_login_of
from .enums import M365Service, OnboardingStep, Region
from .mutations import run_mutation
from .relay import ModelNode, page_args


@strawberry.type(description="An email invitation to onboard a customer by itself.")
class Invitation(ModelNode):
    model = models.Invitation
    email: str = strawberry.field(description="The invited address.")
    sent_at: datetime = strawberry.field(description="When it was last sent.")
    send_count: int = strawberry.field(description="How often it was sent (1, then resends).")
    expires_at: datetime = strawberry.field(description="When the latest link stops working.")
    accepted_at: datetime | None = strawberry.field(description="When it was accepted.")
    invited_by: str = strawberry.field(description="Who sent the latest link.")


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


@strawberry.type(
    description="What the holder of an invitation link may see: the customer to onboard, who "
    "invited them, until when, and where onboarding stands (no IDs, nothing else)."
)
class InvitationOnboarding:
    email: str = strawberry.field(description="The invited address.")
    customer_name: str = strawberry.field(description="The customer to onboard.")
    invited_by: str = strawberry.field(description="Who sent the invitation.")
    expires_at: datetime = strawberry.field(description="When the link stops working.")
    expired: bool = strawberry.field(description="The link has expired: ask for a new one.")
    step: OnboardingStep = strawberry.field(description="The current onboarding step.")
    device_login: DeviceLogin | None = strawberry.field(
        description="The device code to enter at Microsoft, while onboarding waits for it."
    )

    @classmethod
    def of(cls, view: invites.InvitationView | None) -> InvitationOnboarding | None:
        if view is None:
            return None
        return cls(
            email=view.email,
            customer_name=view.customer_name,
            invited_by=view.invited_by,
            expires_at=view.expires_at,
            expired=view.expired,
            step=view.onboarding.step,
            device_login=device_login_of(view.onboarding),
        )


TOKEN = strawberry.field(description="The token from the invitation link.")


@strawberry.input(description="An onboarding step taken with an invitation link.")
class InvitationStepInput:
    token: str = TOKEN


@strawberry.input(description="How the invitee connects the Microsoft 365 tenant.")
class InvitationConnectTenantInput:
    token: str = TOKEN
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


@strawberry.type(description="The result of an onboarding step taken with an invitation link.")
class InvitationStepPayload(Payload):
    invitation: InvitationOnboarding | None = strawberry.field(
        description="Where onboarding stands after the step; null when it was refused."
    )
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


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


async def _invitation_step(
    info: Info, token: str, step: Callable[[Awaitable[Wizard]], Awaitable[object]]
) -> InvitationStepPayload:
    async def act() -> InvitationOnboarding | None:
        await invites.as_token_step(step(invites.by_token(token)))
        return InvitationOnboarding.of(await invites.view(token))

    return await run_mutation(info, InvitationStepPayload, act)


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
        description="What an invitation link opens, for the accept page (no sign-in needed: the "
        "token is the credential); null when the link is unknown, used or replaced."
    )
    async def invitation(
        self, token: Annotated[str, strawberry.argument(description="The link's token.")]
    ) -> InvitationOnboarding | None:
        return InvitationOnboarding.of(await invites.view(token))

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
        page = await admins.organizations(info.context, page_args(info, first, after, last, before))
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
        description="Invitee: confirm the legal agreement (recorded as the invited address). "
        "No sign-in needed: the invitation token is the credential."
    )
    async def invitation_accept_legal_agreement(
        self, info: Info, input: InvitationStepInput
    ) -> InvitationStepPayload:
        return await _invitation_step(info, input.token, wizard.accept_legal_agreement)

    @strawberry.mutation(
        description="Invitee: choose region, retention and services, and get a device code."
    )
    async def invitation_connect_tenant(
        self, info: Info, input: InvitationConnectTenantInput
    ) -> InvitationStepPayload:
        data = wizard.ConnectTenantInput(
            region=input.region,
            retention_years=input.retention_years,
            retention_unlimited=input.retention_unlimited,
            services=None if input.services is None else list(input.services),
        )
        return await _invitation_step(
            info, input.token, lambda opening: wizard.connect_tenant(info.context, opening, data)
        )

    @strawberry.mutation(description="Invitee: replace an expired device code with a new one.")
    async def invitation_renew_device_code(
        self, info: Info, input: InvitationStepInput
    ) -> InvitationStepPayload:
        return await _invitation_step(
            info, input.token, lambda opening: wizard.renew_device_code(info.context, opening)
        )

    @strawberry.mutation(
        description="Invitee: check whether the Global Administrator signed in with the device "
        "code; the tenant is connected when they did (it must be the registered M365 account)."
    )
    async def invitation_check_device_login(
        self, info: Info, input: InvitationStepInput
    ) -> InvitationStepPayload:
        return await _invitation_step(
            info, input.token, lambda opening: wizard.check_device_login(info.context, opening)
        )

    @strawberry.mutation(description="Invitee: go back one step (until the tenant is connected).")
    async def invitation_go_back(
        self, info: Info, input: InvitationStepInput
    ) -> InvitationStepPayload:
        return await _invitation_step(info, input.token, wizard.go_back)

    @strawberry.mutation(
        description="Invitee: finish onboarding once the tenant is connected; the customer becomes "
        "active, with the recommended policies when it auto-creates them. The link then stops "
        "working."
    )
    async def invitation_accept(
        self, info: Info, input: InvitationStepInput
    ) -> InvitationAcceptPayload:
        return await run_mutation(
            info, InvitationAcceptPayload, lambda: invites.accept(input.token)
        )

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
