"""The provider's settings: account, default system notifications, customer-portal support."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vdc_graph.context import RequestContext
from vdc_graph.db.models import Customer, NotificationContact, ServiceProvider
from vdc_graph.db.queries.customers import provider_notification_defaults
from vdc_graph.enums import ContactKind, NotificationTopic, Permission
from vdc_graph.errors import UserError, UserErrorCode, UserErrors
from vdc_graph.notify.backup import recipient_key
from vdc_graph.notify.languages import SUPPORTED_LANGUAGES, canonical_language

from . import audit
from .access import provider_changing, provider_reading, reading
from .validation import is_email, is_https_url, is_web_url

MAX_DISPLAY_NAME = 200
MAX_SUPPORT_TEXT = 200


async def _default_contacts(provider: ServiceProvider) -> dict[str, Any]:
    contacts = await NotificationContact.filter(
        provider_id=provider.id, customer_id__isnull=True
    ).order_by("created_at", "id")
    return {"contacts": [{"address": c.address, "topics": c.topics} for c in contacts]}


audit.SUMMARY_EXTRAS[ServiceProvider] = _default_contacts


@dataclass(frozen=True)
class ProviderSettings:
    provider: ServiceProvider
    contacts: list[NotificationContact]


async def _settings_of(provider_id: object) -> ProviderSettings:
    provider = await ServiceProvider.get(id=provider_id)
    contacts = await NotificationContact.filter(
        provider_id=provider.id, customer_id__isnull=True
    ).order_by("created_at", "id")
    return ProviderSettings(provider, list(contacts))


async def get_settings(ctx: RequestContext) -> ProviderSettings:
    scope = provider_reading(ctx, Permission.SITE_SETTINGS)
    return await _settings_of(scope.provider_id)


async def update_account(ctx: RequestContext, display_name: str) -> ProviderSettings:
    _, scope = provider_changing(ctx, Permission.SITE_SETTINGS)
    name = display_name.strip()
    if not name:
        raise UserErrors(
            [UserError("Enter the display name", ["input", "displayName"], UserErrorCode.REQUIRED)]
        )
    if len(name) > MAX_DISPLAY_NAME:
        raise UserErrors(
            [
                UserError(
                    f"The display name is longer than {MAX_DISPLAY_NAME} characters",
                    ["input", "displayName"],
                    UserErrorCode.TOO_LONG,
                )
            ]
        )
    await ServiceProvider.filter(id=scope.provider_id).update(display_name=name)
    return await _settings_of(scope.provider_id)


@dataclass(frozen=True)
class ContactInput:
    kind: ContactKind
    address: str
    topics: list[NotificationTopic]


def contact_problems(contacts: list[ContactInput], field: str = "contacts") -> list[UserError]:
    """An email address, or a Microsoft Teams incoming-webhook URL over https; some topic; each
    recipient once (email addresses compared ignoring case)."""
    problems = []
    seen: set[tuple[ContactKind, str]] = set()
    for index, contact in enumerate(contacts):
        path = ["input", field, str(index)]
        address = contact.address.strip()
        if contact.kind is ContactKind.EMAIL and not is_email(address):
            problems.append(
                UserError(
                    f"{address!r} is not an email address",
                    [*path, "address"],
                    UserErrorCode.INVALID_EMAIL,
                )
            )
        elif contact.kind is ContactKind.TEAMS_WEBHOOK and not is_https_url(address):
            problems.append(
                UserError(
                    f"{address!r} is not an https URL (Teams webhooks must use https)",
                    [*path, "address"],
                    UserErrorCode.INVALID_URL,
                )
            )
        elif (key := recipient_key(contact.kind, address)) in seen:
            problems.append(
                UserError(
                    f"{address} is listed twice; give it every topic in one contact",
                    [*path, "address"],
                    UserErrorCode.DUPLICATE,
                )
            )
        else:
            seen.add(key)
        if not contact.topics:
            problems.append(
                UserError("Choose at least one topic", [*path, "topics"], UserErrorCode.REQUIRED)
            )
    return problems


def notification_languages(ctx: RequestContext) -> dict[str, str]:
    reading(ctx)  # any signed-in caller that may read
    return SUPPORTED_LANGUAGES


def language_problem(language: str | None) -> list[UserError]:
    """A language notifications can be sent in (``notificationLanguages`` lists them)."""
    if language is None or canonical_language(language) is not None:
        return []
    codes = ", ".join(SUPPORTED_LANGUAGES)
    return [
        UserError(
            f"{language!r} is not a supported language; use one of {codes}",
            ["input", "language"],
            UserErrorCode.INVALID,
        )
    ]


@dataclass(frozen=True)
class NotificationDefaults:
    # None leaves a setting as it is (every settings update is partial).
    language: str | None = None
    allow_customer_admin_notifications: bool | None = None
    contacts: list[ContactInput] | None = None  # given: replaces every default contact


async def update_system_notifications(
    ctx: RequestContext, data: NotificationDefaults
) -> ProviderSettings:
    """Change the provider's notification defaults (they seed new customers)."""
    _, scope = provider_changing(ctx, Permission.SITE_SETTINGS)
    problems = contact_problems(data.contacts or []) + language_problem(data.language)
    if problems:
        raise UserErrors(problems)
    changes: dict[str, Any] = {}
    if data.language is not None:
        changes["notification_language"] = canonical_language(data.language)
    if data.allow_customer_admin_notifications is not None:
        changes["allow_customer_admin_notifications"] = data.allow_customer_admin_notifications
    if changes:
        await ServiceProvider.filter(id=scope.provider_id).update(**changes)
    if data.contacts is not None:
        await NotificationContact.filter(
            provider_id=scope.provider_id, customer_id__isnull=True
        ).delete()
        for contact in data.contacts:
            await NotificationContact.create(
                provider_id=scope.provider_id,
                kind=contact.kind,
                address=contact.address.strip(),
                topics=sorted({t.value for t in contact.topics}),
            )
    return await _settings_of(scope.provider_id)


@dataclass(frozen=True)
class SupportSettings:
    # None leaves a setting as it is; the rules apply to the settings as they end up.
    display_button: bool | None = None
    link: str | None = None
    text: str | None = None


async def update_support(ctx: RequestContext, data: SupportSettings) -> ProviderSettings:
    """The support button of the customer portal: link and text are required when shown."""
    _, scope = provider_changing(ctx, Permission.SITE_SETTINGS)
    saved = await ServiceProvider.get(id=scope.provider_id)
    display = saved.support_button_enabled if data.display_button is None else data.display_button
    link = (saved.support_link if data.link is None else data.link).strip()
    text = (saved.support_text if data.text is None else data.text).strip()
    problems = []
    if link and not is_web_url(link, ("http", "https")):
        problems.append(
            UserError("Enter an http or https URL", ["input", "link"], UserErrorCode.INVALID_URL)
        )
    elif display and not link:
        problems.append(
            UserError("Enter the button's link", ["input", "link"], UserErrorCode.REQUIRED)
        )
    if display and not text:
        problems.append(
            UserError("Enter the button's text", ["input", "text"], UserErrorCode.REQUIRED)
        )
    if len(text) > MAX_SUPPORT_TEXT:
        problems.append(
            UserError(
                f"The text is longer than {MAX_SUPPORT_TEXT} characters",
                ["input", "text"],
                UserErrorCode.TOO_LONG,
            )
        )
    if problems:
        raise UserErrors(problems)
    await ServiceProvider.filter(id=scope.provider_id).update(
        support_button_enabled=display, support_link=link, support_text=text
    )
    return await _settings_of(scope.provider_id)


async def apply_provider_notification_defaults(customer: Customer) -> None:
    """A new customer takes its provider's notification defaults: language, whether customer
    admins get system notifications, and a copy of the default contacts."""
    defaults = await provider_notification_defaults(customer.provider_id)
    customer.notification_language = defaults.language
    customer.allow_system_notifications = defaults.allow_system_notifications
    await customer.save(update_fields=["notification_language", "allow_system_notifications"])
    for contact in defaults.contacts:
        await NotificationContact.create(
            provider_id=customer.provider_id,
            customer_id=customer.id,
            kind=contact.kind,
            address=contact.address,
            topics=list(contact.topics),
        )
