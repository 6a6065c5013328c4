"""``settings``: the provider's account, default system notifications and support button."""

from __future__ import annotations

from typing import Annotated, Any, Self

import strawberry
from strawberry.types import Info

from vdc_graph.resolvers import settings as resolve

from .common import Payload, UserError
from .customer_changes import NotificationContactInput
from .customers import NotificationContact
from .mutations import run_mutation

INPUT = strawberry.argument(description="What to change, and how.")


@strawberry.type(description="The provider's account details.")
class AccountSettings:
    display_name: str = strawberry.field(description="The provider's name (editable).")
    pro_partner_id: str = strawberry.field(description="The ProPartner ID (read-only).")


@strawberry.type(description="Default system notifications; new customers start with them.")
class SystemNotificationSettings:
    language: str = strawberry.field(description="Language of notifications, such as `en`.")
    allow_customer_admin_notifications: bool = strawberry.field(
        description="Customer admins receive system notifications."
    )
    contacts: list[NotificationContact] = strawberry.field(
        description="Email and Teams-webhook contacts with their topics."
    )


@strawberry.type(description="The support button of the customer portal.")
class SupportSettings:
    display_button: bool = strawberry.field(description="The button is shown.")
    link: str = strawberry.field(description="Where it leads (an http or https URL).")
    text: str = strawberry.field(description="Its text.")


@strawberry.type(description="The provider's settings (SITE_SETTINGS).")
class ProviderSettings:
    data: strawberry.Private[Any]

    @strawberry.field(description="Account details.")
    def account(self) -> AccountSettings:
        p = self.data.provider
        return AccountSettings(display_name=p.display_name, pro_partner_id=p.pro_partner_id)

    @strawberry.field(description="Default system notifications.")
    def system_notifications(self) -> SystemNotificationSettings:
        p = self.data.provider
        return SystemNotificationSettings(
            language=p.notification_language,
            allow_customer_admin_notifications=p.allow_customer_admin_notifications,
            contacts=self.data.contacts,
        )

    @strawberry.field(description="The customer portal's support button.")
    def support(self) -> SupportSettings:
        p = self.data.provider
        return SupportSettings(
            display_button=p.support_button_enabled, link=p.support_link, text=p.support_text
        )


@strawberry.type
class SettingsQueries:
    @strawberry.field(description="The provider's settings (needs SITE_SETTINGS).")
    async def settings(self, info: Info) -> ProviderSettings:
        return ProviderSettings(data=await resolve.get_settings(info.context))

    @strawberry.field(
        description="The languages notifications can be sent in, for the provider's defaults and "
        "each customer's setting."
    )
    def notification_languages(self, info: Info) -> list[NotificationLanguage]:
        return [
            NotificationLanguage(code=code, name=name)
            for code, name in resolve.notification_languages(info.context).items()
        ]


@strawberry.type(description="A language notifications can be sent in.")
class NotificationLanguage:
    code: str = strawberry.field(description="Its code, such as `en` or `pt-BR`.")
    name: str = strawberry.field(description="Its name, in the language itself.")


@strawberry.input(description="New account details.")
class AccountUpdateInput:
    display_name: str = strawberry.field(description="The provider's name.")


@strawberry.input(
    description="Changes to the default system notifications; a field left out keeps its value."
)
class SystemNotificationsUpdateInput:
    language: str | None = strawberry.field(
        default=None, description="Language code, such as `en` or `de`."
    )
    allow_customer_admin_notifications: bool | None = strawberry.field(
        default=None, description="Customer admins receive system notifications."
    )
    contacts: list[NotificationContactInput] | None = strawberry.field(
        default=None, description="The default contacts; replaces them all when given."
    )


@strawberry.input(
    description="Changes to the support button; a field left out keeps its value (link and "
    "text are required while the button is displayed)."
)
class SupportSettingsUpdateInput:
    display_button: bool | None = strawberry.field(default=None, description="Show the button.")
    link: str | None = strawberry.field(default=None, description="An http or https URL.")
    text: str | None = strawberry.field(default=None, description="The button's text.")


@strawberry.type(description="The result of a settings change.")
class SettingsPayload(Payload):
    settings: ProviderSettings | None = strawberry.field(description="The settings now.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")
    provider: strawberry.Private[Any] = None  # the changed row, for the audit log

    @classmethod
    def done(cls, data: Any) -> Self:
        return cls(settings=ProviderSettings(data=data), user_errors=[], provider=data.provider)


async def _run(info: Info, change: Any) -> SettingsPayload:
    """A settings change, audited as a change of the caller's provider."""
    principal = info.context.principal
    target = ("ServiceProvider", str(principal.provider_id)) if principal else None
    return await run_mutation(info, SettingsPayload, change, target)


@strawberry.type
class SettingsMutations:
    @strawberry.mutation(description="Change the account's display name (SITE_SETTINGS).")
    async def account_update(
        self, info: Info, input: Annotated[AccountUpdateInput, INPUT]
    ) -> SettingsPayload:
        return await _run(info, lambda: resolve.update_account(info.context, input.display_name))

    @strawberry.mutation(description="Set the default system notifications (SITE_SETTINGS).")
    async def system_notifications_update(
        self, info: Info, input: Annotated[SystemNotificationsUpdateInput, INPUT]
    ) -> SettingsPayload:
        data = resolve.NotificationDefaults(
            language=input.language,
            allow_customer_admin_notifications=input.allow_customer_admin_notifications,
            contacts=None
            if input.contacts is None
            else [
                resolve.ContactInput(kind=c.kind, address=c.address, topics=list(c.topics))
                for c in input.contacts
            ],
        )
        return await _run(info, lambda: resolve.update_system_notifications(info.context, data))

    @strawberry.mutation(description="Set the customer portal's support button (SITE_SETTINGS).")
    async def support_settings_update(
        self, info: Info, input: Annotated[SupportSettingsUpdateInput, INPUT]
    ) -> SettingsPayload:
        data = resolve.SupportSettings(
            display_button=input.display_button, link=input.link, text=input.text
        )
        return await _run(info, lambda: resolve.update_support(info.context, data))
