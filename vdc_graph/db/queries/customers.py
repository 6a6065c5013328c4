"""Customer queries: the scoped base set, filters, orders and batch lookups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from tortoise.models import Model
from tortoise.queryset import QuerySet

from vdc_graph.db.loaders import by_key, grouped
from vdc_graph.db.models import (
    Customer,
    CustomerAdminUser,
    Invitation,
    IpRange,
    LicensedUsersMonth,
    NotificationContact,
    OffboardingRequest,
    Onboarding,
    ServiceProvider,
    Subscription,
)
from vdc_graph.db.pagination import SortKey
from vdc_graph.db.queries import customer_search
from vdc_graph.db.scope import Scope
from vdc_graph.enums import ContractType, SourceType

SORT_KEYS = (
    # Text columns order as a person reads them: ignoring case.
    SortKey("DISPLAY_NAME", "display_name", case_insensitive=True),
    SortKey("M365_ACCOUNT", "m365_account", case_insensitive=True),
    SortKey("EXTERNAL_ID", "external_id", nullable=True, case_insensitive=True),
    SortKey("CONTRACT_TYPE", "contract_type"),
    SortKey("LICENSE_MODEL", "license_model"),
    SortKey("SOURCE_TYPE", "source_type"),
    SortKey("LICENSES_USED", "licenses_used"),
    SortKey("ACTIVATION_DATE", "activation_date", nullable=True),
    SortKey("STORAGE_CONSUMED", "storage_consumed_gb"),
    SortKey("BACKED_UP_ACCOUNTS", "backed_up_accounts"),
    SortKey("TOTAL_ACTIVE_ACCOUNTS", "total_active_accounts"),
    SortKey("USER_CHANGE", "user_change"),
    SortKey("CREATED_AT", "created_at"),
)


@dataclass(frozen=True)
class CustomerFilter:
    search: str | None = None
    source_types: tuple[SourceType, ...] = ()
    contract_types: tuple[ContractType, ...] = ()


def visible_customers(scope: Scope) -> QuerySet[Customer]:
    """The customers a caller may see: its provider's, not deleted, within its customer scope."""
    qs = Customer.filter(provider_id=scope.provider_id, deleted_at__isnull=True)
    return scope.restrict(qs, "id")


def filtered_customers(scope: Scope, flt: CustomerFilter) -> QuerySet[Customer]:
    qs = visible_customers(scope)
    if flt.search and flt.search.strip():
        qs = qs.filter(customer_search.matching(flt.search.strip()))
    if flt.source_types:
        qs = qs.filter(source_type__in=list(flt.source_types))
    if flt.contract_types:
        qs = qs.filter(contract_type__in=list(flt.contract_types))
    return qs


async def customers_by_id(scope: Scope, ids: Sequence[UUID]) -> list[Customer | None]:
    rows = await visible_customers(scope).filter(id__in=list(ids))
    return by_key(rows, ids)


async def children_by_id(model: type[Model], scope: Scope, ids: Sequence[UUID]) -> list[Any]:
    """Rows of ``model`` (each belonging to a customer) that the scope may see."""
    qs = model.filter(
        id__in=list(ids),
        customer__provider_id=scope.provider_id,
        customer__deleted_at__isnull=True,
    )
    return by_key(await scope.restrict(qs), ids)


async def onboardings_by_customer(ids: Sequence[UUID]) -> list[Onboarding | None]:
    rows = await Onboarding.filter(customer_id__in=list(ids))
    return by_key(rows, ids, "customer_id")


async def subscriptions_by_customer(ids: Sequence[UUID]) -> list[list[Subscription]]:
    rows = await Subscription.filter(customer_id__in=list(ids)).order_by("plan", "id")
    return grouped(rows, ids, "customer_id")


async def admin_users_by_customer(ids: Sequence[UUID]) -> list[list[CustomerAdminUser]]:
    rows = await CustomerAdminUser.filter(customer_id__in=list(ids)).order_by("email_key", "id")
    return grouped(rows, ids, "customer_id")


async def ip_ranges_by_customer(ids: Sequence[UUID]) -> list[list[IpRange]]:
    rows = await IpRange.filter(customer_id__in=list(ids)).order_by("created_at", "id")
    return grouped(rows, ids, "customer_id")


async def contacts_by_customer(ids: Sequence[UUID]) -> list[list[NotificationContact]]:
    rows = await NotificationContact.filter(customer_id__in=list(ids)).order_by("created_at", "id")
    return grouped(rows, ids, "customer_id")


async def licensed_months_by_customer(ids: Sequence[UUID]) -> list[list[LicensedUsersMonth]]:
    rows = await LicensedUsersMonth.filter(customer_id__in=list(ids)).order_by("month", "id")
    return grouped(rows, ids, "customer_id")


async def invitations_by_customer(ids: Sequence[UUID]) -> list[list[Invitation]]:
    rows = await Invitation.filter(customer_id__in=list(ids)).order_by("email_key", "id")
    return grouped(rows, ids, "customer_id")


async def offboarding_requests_by_customer(ids: Sequence[UUID]) -> list[list[OffboardingRequest]]:
    rows = await OffboardingRequest.filter(customer_id__in=list(ids)).order_by("-created_at", "id")
    return grouped(rows, ids, "customer_id")


@dataclass(frozen=True)
class NotificationDefaults:
    language: str
    allow_system_notifications: bool
    contacts: list[NotificationContact]


async def provider_notification_defaults(provider_id: UUID) -> NotificationDefaults:
    """A provider's system-notification settings, which seed each new customer's."""
    provider = await ServiceProvider.get(id=provider_id)
    contacts = await NotificationContact.filter(
        provider_id=provider_id, customer_id__isnull=True
    ).order_by("created_at", "id")
    return NotificationDefaults(
        provider.notification_language, provider.allow_customer_admin_notifications, contacts
    )
