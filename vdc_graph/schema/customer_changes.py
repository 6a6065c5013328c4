"""Changing a customer: settings, IP ranges, notifications and the onboarding wizard."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from vdc_graph.resolvers import customer_settings as settings_resolve
from vdc_graph.resolvers import onboarding as wizard
from vdc_graph.resolvers.ids import Ref

from .common import Payload, UserError
from .customers import Customer
from .enums import ContactKind, M365Service, NotificationTopic, Region
from .mutations import run_mutation


def ref(gid: relay.GlobalID) -> Ref:
    return Ref(gid.type_name, gid.node_id)


CUSTOMER_ID = strawberry.field(description="The customer to change.")


def _managed(info: Info, input: Any) -> Awaitable[wizard.Wizard]:
    """The provider's wizard of the customer the input names."""
    return wizard.managed(info.context, ref(input.customer_id))


def _payload(name: str, what: str) -> type:
    @strawberry.type(name=name, description=f"The result of `{what}`.")
    class _Payload(Payload):
        customer: Customer | None = strawberry.field(
            description="The customer after the change; null when it was refused."
        )
        user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")

    return _Payload


CustomerUpdateSettingsPayload = _payload("CustomerUpdateSettingsPayload", "customerUpdateSettings")
CustomerSetIpRangesPayload = _payload("CustomerSetIpRangesPayload", "customerSetIpRanges")
CustomerUpdateNotificationsPayload = _payload(
    "CustomerUpdateNotificationsPayload", "customerUpdateNotifications"
)
OnboardingAcceptLegalAgreementPayload = _payload(
    "OnboardingAcceptLegalAgreementPayload", "onboardingAcceptLegalAgreement"
)
OnboardingConnectTenantPayload = _payload(
    "OnboardingConnectTenantPayload", "onboardingConnectTenant"
)
OnboardingRenewDeviceCodePayload = _payload(
    "OnboardingRenewDeviceCodePayload", "onboardingRenewDeviceCode"
)
OnboardingCheckDeviceLoginPayload = _payload(
    "OnboardingCheckDeviceLoginPayload", "onboardingCheckDeviceLogin"
)
OnboardingGoBackPayload = _payload("OnboardingGoBackPayload", "onboardingGoBack")
OnboardingSimulateDeviceLoginPayload = _payload(
    "OnboardingSimulateDeviceLoginPayload", "onboardingSimulateDeviceLogin"
)


@strawberry.input(description="Settings to change; a field left out keeps its value.")
class CustomerUpdateSettingsInput:
    customer_id: relay.GlobalID = CUSTOMER_ID
    region: Region | None = strawberry.field(default=None, description="Storage region.")
    enable_self_service: bool | None = strawberry.field(
        default=None, description="Customer users may sign in and restore their own data."
    )
    allow_create_delete_policy: bool | None = strawberry.field(
        default=None, description="The customer may create and delete policies."
    )
    allow_edit_trigger_policy: bool | None = strawberry.field(
        default=None, description="The customer may edit and start policies."
    )
    auto_create_policies: bool | None = strawberry.field(
        default=None, description="Create recommended policies when onboarding finishes."
    )
    allow_multiple_regions: bool | None = strawberry.field(
        default=None, description="Data may be kept in more than one region."
    )
    enable_email_previews: bool | None = strawberry.field(
        default=None, description="Show email previews."
    )
    restrict_access_to_ip_ranges: bool | None = strawberry.field(
        default=None, description="Only the customer's IP ranges may reach the customer portal."
    )


@strawberry.input(description="An address range: start and end of the same family, start ≤ end.")
class IpRangeInput:
    start_address: str = strawberry.field(description="First IPv4 or IPv6 address.")
    end_address: str = strawberry.field(description="Last address (same family).")


@strawberry.input(
    description="The IP ranges added by the caller's side (the provider, or the customer with a "
    "customer-scoped token); the other side's ranges are kept."
)
class CustomerSetIpRangesInput:
    customer_id: relay.GlobalID = CUSTOMER_ID
    ip_ranges: list[IpRangeInput] | None = strawberry.field(
        default=None,
        description="The complete list of the caller's side to keep; left out, "
        "its ranges stay as they are.",
    )
    restrict_access: bool | None = strawberry.field(
        default=None, description="Also switch the restriction to these ranges on or off."
    )


@strawberry.input(description="A notification contact: an email address or a Teams webhook.")
class NotificationContactInput:
    kind: ContactKind = strawberry.field(description="Email or Teams incoming webhook.")
    address: str = strawberry.field(description="The email address, or the webhook's https URL.")
    topics: list[NotificationTopic] = strawberry.field(description="What the contact receives.")


@strawberry.input(description="Notification settings to change; a field left out keeps its value.")
class CustomerUpdateNotificationsInput:
    customer_id: relay.GlobalID = CUSTOMER_ID
    allow_system_notifications: bool | None = strawberry.field(
        default=None, description="Send system notifications for this customer."
    )
    language: str | None = strawberry.field(
        default=None, description="Language code of notifications, such as `en` or `de`."
    )
    contacts: list[NotificationContactInput] | None = strawberry.field(
        default=None, description="Replaces every contact when given."
    )


@strawberry.input(description="Which customer's wizard to act on.")
class OnboardingStepInput:
    customer_id: relay.GlobalID = CUSTOMER_ID


@strawberry.input(description="A custom app registration used instead of one the service creates.")
class CustomAppInput:
    application_id: str = strawberry.field(description="The app's application (client) ID.")
    credential_reference: str = strawberry.field(
        description="A reference to its certificate or secret (never the secret itself)."
    )


@strawberry.input(description="How to connect the customer's Microsoft 365 tenant.")
class OnboardingConnectTenantInput:
    customer_id: relay.GlobalID = CUSTOMER_ID
    region: Region = strawberry.field(description="Where the backups are stored.")
    retention_years: int | None = strawberry.field(
        default=None, description="Retention in whole years, 1 to 25 (or set `retentionUnlimited`)."
    )
    retention_unlimited: bool = strawberry.field(
        default=False, description="Keep backups without a time limit."
    )
    services: list[M365Service] | None = strawberry.field(
        default=None, description="Services to protect; all when left out."
    )
    custom_app: CustomAppInput | None = strawberry.field(
        default=None, description="Use this app registration instead of creating one."
    )


@strawberry.input(description="How to finish onboarding.")
class OnboardingFinishInput:
    customer_id: relay.GlobalID = CUSTOMER_ID
    apply_recommended_policies: bool = strawberry.field(
        description="Create the recommended policies for all resources; false finishes with none."
    )


@strawberry.type(description="The result of `onboardingFinish`.")
class OnboardingFinishPayload(Payload):
    customer: Customer | None = strawberry.field(description="The customer, now active.")
    policies_created: int = strawberry.field(
        default=0, description="How many backup policies were created."
    )
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")

    @classmethod
    def done(cls, result: tuple[Any, list[Any]]) -> Self:
        customer, policies = result
        return cls(customer=customer, policies_created=len(policies), user_errors=[])


@strawberry.input(description="Complete the pending device login at the simulated Microsoft.")
class OnboardingSimulateDeviceLoginInput:
    customer_id: relay.GlobalID = CUSTOMER_ID
    tenant_id: str | None = strawberry.field(
        default=None, description="The tenant ID to report; a new one when left out."
    )
    tenant_domain: str = strawberry.field(
        default="", description="The tenant's domain, such as `contoso.onmicrosoft.com`."
    )


@strawberry.type
class CustomerChangeMutations:
    @strawberry.mutation(description="Change an onboarded customer's settings.")
    async def customer_update_settings(
        self, info: Info, input: CustomerUpdateSettingsInput
    ) -> CustomerUpdateSettingsPayload:  # type: ignore[valid-type]
        change = settings_resolve.SettingsChange(
            **{name: getattr(input, name) for name in ("region", *settings_resolve.SETTING_FLAGS)}
        )
        return await run_mutation(
            info,
            CustomerUpdateSettingsPayload,
            lambda: settings_resolve.update_settings(info.context, ref(input.customer_id), change),
        )

    @strawberry.mutation(description="Set the IP ranges that may reach the customer portal.")
    async def customer_set_ip_ranges(
        self, info: Info, input: CustomerSetIpRangesInput
    ) -> CustomerSetIpRangesPayload:  # type: ignore[valid-type]
        ranges = (
            None
            if input.ip_ranges is None
            else [
                settings_resolve.RangeInput(r.start_address, r.end_address) for r in input.ip_ranges
            ]
        )
        return await run_mutation(
            info,
            CustomerSetIpRangesPayload,
            lambda: settings_resolve.set_ip_ranges(
                info.context, ref(input.customer_id), ranges, input.restrict_access
            ),
        )

    @strawberry.mutation(description="Change who is notified about a customer, and how.")
    async def customer_update_notifications(
        self, info: Info, input: CustomerUpdateNotificationsInput
    ) -> CustomerUpdateNotificationsPayload:  # type: ignore[valid-type]
        contacts = (
            None
            if input.contacts is None
            else [
                settings_resolve.ContactInput(c.kind, c.address, list(c.topics))
                for c in input.contacts
            ]
        )
        change = settings_resolve.NotificationsChange(
            input.allow_system_notifications, input.language, contacts
        )
        return await run_mutation(
            info,
            CustomerUpdateNotificationsPayload,
            lambda: settings_resolve.update_notifications(
                info.context, ref(input.customer_id), change
            ),
        )

    @strawberry.mutation(description="Onboarding: confirm the legal agreement (who and when).")
    async def onboarding_accept_legal_agreement(
        self, info: Info, input: OnboardingStepInput
    ) -> OnboardingAcceptLegalAgreementPayload:  # type: ignore[valid-type]
        return await run_mutation(
            info,
            OnboardingAcceptLegalAgreementPayload,
            lambda: wizard.accept_legal_agreement(_managed(info, input)),
        )

    @strawberry.mutation(
        description="Onboarding: choose region, retention and services, and get a device code."
    )
    async def onboarding_connect_tenant(
        self, info: Info, input: OnboardingConnectTenantInput
    ) -> OnboardingConnectTenantPayload:  # type: ignore[valid-type]
        data = wizard.ConnectTenantInput(
            region=input.region,
            retention_years=input.retention_years,
            retention_unlimited=input.retention_unlimited,
            services=None if input.services is None else list(input.services),
            custom_app_id=input.custom_app.application_id if input.custom_app else None,
            custom_app_credential_ref=(
                input.custom_app.credential_reference if input.custom_app else None
            ),
        )
        return await run_mutation(
            info,
            OnboardingConnectTenantPayload,
            lambda: wizard.connect_tenant(info.context, _managed(info, input), data),
        )

    @strawberry.mutation(description="Onboarding: replace an expired device code with a new one.")
    async def onboarding_renew_device_code(
        self, info: Info, input: OnboardingStepInput
    ) -> OnboardingRenewDeviceCodePayload:  # type: ignore[valid-type]
        return await run_mutation(
            info,
            OnboardingRenewDeviceCodePayload,
            lambda: wizard.renew_device_code(info.context, _managed(info, input)),
        )

    @strawberry.mutation(
        description="Onboarding: check whether the administrator signed in with the device code; "
        "the tenant is connected when they did."
    )
    async def onboarding_check_device_login(
        self, info: Info, input: OnboardingStepInput
    ) -> OnboardingCheckDeviceLoginPayload:  # type: ignore[valid-type]
        return await run_mutation(
            info,
            OnboardingCheckDeviceLoginPayload,
            lambda: wizard.check_device_login(info.context, _managed(info, input)),
        )

    @strawberry.mutation(
        description="Onboarding: go back one step (until the tenant is connected)."
    )
    async def onboarding_go_back(
        self, info: Info, input: OnboardingStepInput
    ) -> OnboardingGoBackPayload:  # type: ignore[valid-type]
        return await run_mutation(
            info,
            OnboardingGoBackPayload,
            lambda: wizard.go_back(_managed(info, input)),
        )

    @strawberry.mutation(description="Onboarding: finish; the customer becomes active.")
    async def onboarding_finish(
        self, info: Info, input: OnboardingFinishInput
    ) -> OnboardingFinishPayload:
        return await run_mutation(
            info,
            OnboardingFinishPayload,
            lambda: wizard.finish(_managed(info, input), input.apply_recommended_policies),
        )

    @strawberry.mutation(
        description="Development only: complete the pending device login at the simulated "
        "Microsoft identity platform."
    )
    async def onboarding_simulate_device_login(
        self, info: Info, input: OnboardingSimulateDeviceLoginInput
    ) -> OnboardingSimulateDeviceLoginPayload:  # type: ignore[valid-type]
        return await run_mutation(
            info,
            OnboardingSimulateDeviceLoginPayload,
            lambda: wizard.simulate_device_login(
                info.context, ref(input.customer_id), input.tenant_id, input.tenant_domain
            ),
        )
