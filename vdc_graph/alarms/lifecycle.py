"""Raising, acknowledging and resolving an alarm: each step recorded in its history, announced
to ``alarmUpdates`` subscribers after commit, and sent to the webhooks subscribed to ALARM.

Raising and resolving are idempotent: an alarm is open under its condition's key (unique per
provider), and a state change is a conditional update, so whichever process gets there second
changes nothing.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from tortoise.exceptions import IntegrityError

from vdc_graph import clock
from vdc_graph.db.models import Alarm, AlarmEvent
from vdc_graph.db.transactions import after_commit, atomic
from vdc_graph.enums import AlarmState, WebhookEvent
from vdc_graph.events import broker
from vdc_graph.notify.alarms import notify_alarm
from vdc_graph.notify.webhooks import emit

from .rules import Condition

OPEN = (AlarmState.ACTIVE, AlarmState.ACKNOWLEDGED)


def updates_topic(provider_id: UUID) -> str:
    return f"alarm-updates:{provider_id}"


async def raise_alarm(provider_id: UUID, rule: Any, condition: Condition) -> Alarm | None:
    """Opens an alarm for ``condition`` unless one is open already; returns the new alarm."""
    now = clock.now()
    try:
        async with atomic():
            alarm = await Alarm.create(
                provider_id=provider_id,
                customer_id=condition.customer_id,
                rule=rule,
                severity=condition.severity,
                object_type=condition.object_type,
                object_id=condition.object_id,
                object_name=condition.object_name,
                message=condition.message,
                open_key=condition.key,
                raised_at=now,
                notified_at=now,
            )
            await _changed(alarm, AlarmState.ACTIVE, "", "")
            await notify_alarm(alarm)
    except IntegrityError:  # open already (raised by another process meanwhile)
        return None
    return alarm


async def renotify(alarm: Alarm) -> bool:
    """Sends an ACTIVE alarm's notification again; False when another process just did."""
    async with atomic():
        claimed = await Alarm.filter(
            id=alarm.id, state=AlarmState.ACTIVE, notified_at=alarm.notified_at
        ).update(notified_at=clock.now())
        if claimed:
            await notify_alarm(alarm)
    return bool(claimed)


async def acknowledge(alarm: Alarm, actor: str, comment: str) -> Alarm | None:
    """ACTIVE → ACKNOWLEDGED; None when it is not active (nothing changes)."""
    now = clock.now()
    changed = await Alarm.filter(id=alarm.id, state=AlarmState.ACTIVE).update(
        state=AlarmState.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=actor
    )
    if not changed:
        return None
    await alarm.refresh_from_db()
    await _changed(alarm, AlarmState.ACKNOWLEDGED, actor, comment)
    return alarm


async def resolve(alarm: Alarm, actor: str = "", comment: str = "") -> Alarm | None:
    """ACTIVE or ACKNOWLEDGED → RESOLVED (``actor`` empty: its condition cleared); None when it
    was resolved already."""
    changed = await Alarm.filter(id=alarm.id, state__in=OPEN).update(
        state=AlarmState.RESOLVED, resolved_at=clock.now(), open_key=None
    )
    if not changed:
        return None
    await alarm.refresh_from_db()
    await _changed(alarm, AlarmState.RESOLVED, actor, comment)
    if not actor:
        await notify_alarm(alarm)
    return alarm


async def _changed(alarm: Alarm, state: AlarmState, actor: str, comment: str) -> None:
    await AlarmEvent.create(alarm_id=alarm.id, state=state, actor=actor, comment=comment)
    await emit(alarm.provider_id, WebhookEvent.ALARM, {"alarm": alarm_payload(alarm)})  # type: ignore[attr-defined]
    message = {"alarmId": str(alarm.id), "customerId": _plain(alarm.customer_id)}

    async def announce() -> None:
        await broker().publish(updates_topic(alarm.provider_id), message)  # type: ignore[attr-defined]

    after_commit(announce)


def alarm_payload(alarm: Alarm) -> dict[str, Any]:
    """The alarm as webhooks receive it (IDs are the API's global IDs)."""
    from strawberry.relay import to_base64

    return {
        "id": to_base64("Alarm", str(alarm.id)),
        "rule": alarm.rule.value,
        "severity": alarm.severity.value,
        "state": alarm.state.value,
        "object": {
            "type": alarm.object_type,
            "id": to_base64(alarm.object_type, alarm.object_id),
            "name": alarm.object_name,
        },
        "customerId": None
        if alarm.customer_id is None
        else to_base64("Customer", str(alarm.customer_id)),
        "message": alarm.message,
        "raisedAt": alarm.raised_at,
        "acknowledgedAt": alarm.acknowledged_at,
        "acknowledgedBy": alarm.acknowledged_by or None,
        "resolvedAt": alarm.resolved_at,
    }


def _plain(value: UUID | None) -> str | None:
    return None if value is None else str(value)
