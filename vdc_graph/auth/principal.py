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
    # An API key limited to some customers sees only these (None: all of its provider's).
    customer_ids: frozenset[uuid.UUID] | None = None
    # A read-only API key may not run any mutation.
    read_only: bool = False
    # The API key's name, for the audit log.
    api_key_name: str | None = None

    def has(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def actor_label(self) -> str:
        """How the audit log names this caller."""
        if self.api_key_id is not None:
            return f"API key {self.api_key_name or self.api_key_id}"
        return self.email or str(self.user_id)
