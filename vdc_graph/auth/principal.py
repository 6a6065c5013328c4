"""Who is calling: the outcome of authentication, handed to every resolver."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from vdc_graph.enums import Permission


@dataclass(frozen=True)
class Principal:
    provider_id: uuid.UUID
    user_id: uuid.UUID | None  # None for an API key
    api_key_id: uuid.UUID | None
    email: str | None
    permissions: frozenset[Permission]
    customer_scope: uuid.UUID | None  # set when the token is scoped to one customer
    expires_at: datetime | None  # when the credential stops being valid

    def has(self, permission: Permission) -> bool:
        return permission in self.permissions
