"""The slice of data a caller may reach; every query in db/ starts from one."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class Scope:
    provider_id: UUID
    # Set for a customer-scoped caller: only this customer's data is visible.
    customer_id: UUID | None = None
