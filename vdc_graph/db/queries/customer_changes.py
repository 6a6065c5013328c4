"""Queries behind changes to one customer and the rows that hang off it."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from tortoise.queryset import QuerySet

from vdc_graph.db.loaders import by_key
from vdc_graph.db.models import (
    Customer,
    CustomerAdminUser,
    Invitation,
    IpRange,
    OffboardingRequest,
)
from vdc_graph.db.pagination import SortKey
from vdc_graph.db.scope import Scope
from vdc_graph.enums import OffboardingStatus

from .customers import visible_customers


async def customer_for_update(scope: Scope, key: UUID) -> Customer | None:
    # Locked on PostgreSQL so concurrent wizard steps on one customer run one after the other.
    return await visible_customers(scope).select_for_update().get_or_none(id=key)


def ip_ranges_of(customer_id: UUID) -> QuerySet[IpRange]:
    return IpRange.filter(customer_id=customer_id)


def admin_users_of(customer_id: UUID) -> QuerySet[CustomerAdminUser]:
    return CustomerAdminUser.filter(customer_id=customer_id)


def invitations_of(customer_id: UUID) -> QuerySet[Invitation]:
    return Invitation.filter(customer_id=customer_id)


async def admin_user_for_update(scope: Scope, key: UUID) -> CustomerAdminUser | None:
    qs = CustomerAdminUser.filter(
        id=key, customer__provider_id=scope.provider_id, customer__deleted_at__isnull=True
    )
    return await scope.restrict(qs).select_for_update().first()


def organizations_of(scope: Scope, email: str) -> QuerySet[Customer]:
    """The customers whose admin users include this email (the caller's, within its scope)."""
    return visible_customers(scope).filter(admin_users__email_key=email.strip().lower())


def offboarding_requests_of(customer_id: UUID) -> QuerySet[OffboardingRequest]:
    return OffboardingRequest.filter(customer_id=customer_id)


async def offboarding_request_for_update(scope: Scope, key: UUID) -> OffboardingRequest | None:
    qs = OffboardingRequest.filter(
        id=key, customer__provider_id=scope.provider_id, customer__deleted_at__isnull=True
    )
    return await scope.restrict(qs).select_for_update().first()


async def tenant_connected_elsewhere(tenant_id: str, customer_id: UUID) -> bool:
    """Whether another existing customer, of any provider, has this Microsoft tenant: the one
    deliberate cross-provider query, since a tenant is backed up for one customer only."""
    if not tenant_id:
        return False
    return (
        await Customer.filter(microsoft_tenant_id=tenant_id, deleted_at__isnull=True)
        .exclude(id=customer_id)
        .exists()
    )


OFFBOARDING_ORDER = SortKey("CREATED_AT", "created_at")


def provider_offboarding_requests(
    scope: Scope, status: OffboardingStatus | None, customer_id: UUID | None
) -> QuerySet[OffboardingRequest]:
    """The provider's requests, those of deleted customers included (they stay listed)."""
    qs = scope.restrict(OffboardingRequest.filter(customer__provider_id=scope.provider_id))
    if status is not None:
        qs = qs.filter(status=status)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    return qs


async def offboarding_requests_by_id(
    scope: Scope, ids: Sequence[UUID]
) -> list[OffboardingRequest | None]:
    rows = await provider_offboarding_requests(scope, None, None).filter(id__in=list(ids))
    return by_key(rows, ids)


async def customer_names_by_id(ids: Sequence[UUID]) -> list[str]:
    """Display names of customers, deleted ones included (for rows that outlive them)."""
    rows = dict(await Customer.filter(id__in=list(ids)).values_list("id", "display_name"))
    return [rows.get(i, "") for i in ids]
