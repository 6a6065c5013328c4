"""Delivers TEAMS outbox messages: the message card POSTed to the contact's incoming webhook."""

from __future__ import annotations

import httpx

from vdc_graph.db.models import OutboxMessage


class TeamsRefused(Exception):
    pass


class TeamsDeliverer:
    def __init__(self, timeout_seconds: float = 10.0) -> None:
        self.timeout_seconds = timeout_seconds

    async def deliver(self, message: OutboxMessage) -> None:
        card = (message.payload or {}).get("card")
        if card is None:
            raise ValueError("the message carries no Teams card")
        async with httpx.AsyncClient(timeout=self.timeout_seconds) as client:
            response = await client.post(message.recipient, json=card)
        # Any non-2xx answer is a failure: the outbox retries it with backoff. The message
        # names the status only: the webhook URL is a credential and must not be stored.
        if not response.is_success:
            raise TeamsRefused(f"the Teams webhook answered HTTP {response.status_code}")
