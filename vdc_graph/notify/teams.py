"""Delivers TEAMS outbox messages: the message card POSTed to the contact's incoming webhook."""

from __future__ import annotations

from vdc_graph import outbound
from vdc_graph.db.models import OutboxMessage


class TeamsRefused(Exception):
    pass


class TeamsDeliverer:
    def __init__(
        self, timeout_seconds: float = 10.0, allowed_networks: tuple[str, ...] = ()
    ) -> None:
        self.timeout_seconds = timeout_seconds
        self.allowed_networks = allowed_networks

    async def deliver(self, message: OutboxMessage) -> None:
        card = (message.payload or {}).get("card")
        if card is None:
            raise ValueError("the message carries no Teams card")
        async with outbound.client(self.allowed_networks, timeout=self.timeout_seconds) as client:
            try:
                response = await client.post(message.recipient, json=card)
            except outbound.FAILURES as exc:
                # A fixed reason: the URL is a credential, and details would map the network.
                raise TeamsRefused(outbound.failure_reason(exc)) from None
        # Any non-2xx answer is a failure: the outbox retries it with backoff. The message
        # names the status only: the webhook URL is a credential and must not be stored.
        if not response.is_success:
            raise TeamsRefused(f"the Teams webhook: {outbound.status_reason(response.status_code)}")
