"""The slice of data a caller may reach; every query in db/ starts from one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

from tortoise.queryset import QuerySet

M = TypeVar("M")


@dataclass(frozen=True)
class Scope:
    provider_id: UUID
    # Set for a customer-scoped caller: only this customer's data is visible.
    customer_id: UUID | None = None
    # Set for an API key limited to some customers: only theirs are visible.
    customer_ids: frozenset[UUID] | None = None

    @property
    def limited(self) -> bool:
        """Whether the caller sees only some of its provider's customers."""
        return self.customer_id is not None or self.customer_ids is not None

    def allows_customer(self, customer_id: UUID | None) -> bool:
        if self.customer_id is not None and customer_id != self.customer_id:
            return False
        return self.customer_ids is None or customer_id in self.customer_ids

    def restrict(self, qs: QuerySet[M], field: str = "customer_id") -> QuerySet[M]:  # type: ignore[type-var]
        """``qs`` limited to the customers of this scope (``field`` names the customer key)."""
        if self.customer_id is not None:
            qs = qs.filter(**{field: self.customer_id})
        if self.customer_ids is not None:
            qs = qs.filter(**{f"{field}__in": list(self.customer_ids)})
        return qs

    def provider_wide(self, qs: QuerySet[M]) -> QuerySet[M]:  # type: ignore[type-var]
        """``qs`` of data that belongs to the provider as a whole (it spans all its customers):
        nothing of it for a caller limited to some customers."""
        return qs.filter(id__in=[]) if self.limited else qs
