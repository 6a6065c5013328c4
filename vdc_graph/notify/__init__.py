"""Notifications leave through the outbox: written with the change that causes them, then
delivered (email, Teams, signed webhooks) by a worker that retries with backoff."""
