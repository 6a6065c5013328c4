"""Alarm notifications: email and Teams to the contacts subscribed to ALARM, via the outbox."""

from __future__ import annotations

from vdc_graph.db.models import Alarm, Customer
from vdc_graph.enums import AlarmState, NotificationTopic

from .backup import send_to_contacts

_VERB = {
    AlarmState.ACTIVE: "Alarm",
    AlarmState.ACKNOWLEDGED: "Alarm acknowledged",
    AlarmState.RESOLVED: "Alarm resolved",
}


async def notify_alarm(alarm: Alarm) -> int:
    """Queue the alarm's notification in its state; returns how many messages were queued."""
    customer = None
    if alarm.customer_id is not None:
        customer = await Customer.get_or_none(id=alarm.customer_id)
    title = f"{_VERB[alarm.state]} ({alarm.severity.value}): {alarm.message}"
    facts = [
        ("Rule", alarm.rule.value),
        ("Severity", alarm.severity.value),
        ("State", alarm.state.value),
        ("Object", f"{alarm.object_type} {alarm.object_name}".strip()),
        ("Raised", alarm.raised_at.strftime("%Y-%m-%d %H:%M:%S UTC")),
    ]
    if customer is not None:
        facts.insert(0, ("Customer", customer.display_name))
    return await send_to_contacts(
        alarm.provider_id,  # type: ignore[attr-defined]
        customer,
        NotificationTopic.ALARM,
        title,
        facts,
    )
