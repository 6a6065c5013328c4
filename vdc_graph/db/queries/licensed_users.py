"""Licensed users of a customer: filters and orders (each backed by an index)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from vdc_graph.db.models import LicensedUser
from vdc_graph.db.pagination import SortKey
from vdc_graph.enums import ProtectionStatus

SORT_KEYS = (
    SortKey("DISPLAY_NAME", "display_name", case_insensitive=True),
    SortKey("EMAIL", "email", case_insensitive=True),
    SortKey("PROTECTION_STATUS", "protection_status"),
    SortKey("LAST_BACKUP_AT", "last_backup_at", nullable=True),
)


@dataclass(frozen=True)
class LicensedUserFilter:
    search: str | None = None
    protection_statuses: tuple[ProtectionStatus, ...] = ()


def licensed_users(customer_id: UUID, flt: LicensedUserFilter) -> QuerySet[LicensedUser]:
    """A visible customer's licensed users (the caller has loaded the customer in its scope)."""
    qs = LicensedUser.filter(customer_id=customer_id)
    if flt.search and flt.search.strip():
        term = flt.search.strip()
        qs = qs.filter(Q(display_name__icontains=term) | Q(email__icontains=term))
    if flt.protection_statuses:
        qs = qs.filter(protection_status__in=list(flt.protection_statuses))
    return qs
