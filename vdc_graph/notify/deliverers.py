"""The deliverers this process runs, by message kind."""

from __future__ import annotations

from vdc_graph.enums import OutboxKind
from vdc_graph.settings import Settings

from .email import SmtpDeliverer
from .outbox import Deliverer
from .teams import TeamsDeliverer


def deliverers(settings: Settings) -> dict[OutboxKind, Deliverer]:
    # Each kind's deliverer is added here as it is built (email, Teams, signed webhooks).
    found: dict[OutboxKind, Deliverer] = {
        OutboxKind.TEAMS: TeamsDeliverer(
            timeout_seconds=settings.teams_timeout_seconds,
            allowed_networks=tuple(settings.outbound_allowed_networks),
        )
    }
    if settings.smtp_host:
        found[OutboxKind.EMAIL] = SmtpDeliverer(settings)
    return found
