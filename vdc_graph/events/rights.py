"""Rights changed: the event that ends open WebSocket operations of callers who lost them.

Topic ``rights-changed:<provider id>``: ``{"providerId", "reason"}`` after a change that can take
rights away from someone of the provider (a user deleted or given other roles, a role's
permissions changed or the role deleted, an API key revoked, rotated or limited, a customer's IP
restrictions). Every open socket of the provider re-authenticates when it hears one, so the
event needs no detail of who is affected; it crosses processes with the broker, and sockets also
re-check on a period as a backstop for a missed message.
"""

from __future__ import annotations

from uuid import UUID

from vdc_graph.db.transactions import after_commit

from . import broker

USER_DELETED = "USER_DELETED"
USER_ROLES_CHANGED = "USER_ROLES_CHANGED"
ROLE_CHANGED = "ROLE_CHANGED"
API_KEY_CHANGED = "API_KEY_CHANGED"
PROVIDER = "PROVIDER"  # provider-wide: anything else that narrows what callers may reach


def rights_topic(provider_id: UUID) -> str:
    return f"rights-changed:{provider_id}"


def rights_changed(provider_id: UUID, reason: str) -> None:
    """Announce, once the current transaction commits, that rights of the provider changed."""

    async def publish() -> None:
        await broker().publish(
            rights_topic(provider_id), {"providerId": str(provider_id), "reason": reason}
        )

    after_commit(publish)
