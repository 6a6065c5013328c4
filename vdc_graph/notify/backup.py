"""Notifications about backups and restores, queued in the outbox with the change.

Recipients: the customer's contacts subscribed to the topic (only while the customer allows
system notifications) and the provider's own contacts subscribed to it, each address once.
Email contacts get an EMAIL message; Teams contacts a TEAMS message whose payload is a Teams
message card.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from vdc_graph.db.models import BackupSession, Customer, NotificationContact, Restore
from vdc_graph.enums import (
    ContactKind,
    MessageTopic,
    NotificationTopic,
    OutboxKind,
    SessionStatus,
)

from .outbox import enqueue

TOPIC_OF_SESSION = {
    SessionStatus.SUCCESS: NotificationTopic.BACKUP_COMPLETE,
    SessionStatus.WARNING: NotificationTopic.BACKUP_COMPLETE,
    SessionStatus.FAILED: NotificationTopic.BACKUP_FAILED,
    SessionStatus.DISCONNECTED: NotificationTopic.BACKUP_FAILED,
    # A stopped session was ended by a person on purpose: nobody is notified.
}

_COLOURS = {
    NotificationTopic.BACKUP_COMPLETE: "2E7D32",
    NotificationTopic.BACKUP_FAILED: "C62828",
    NotificationTopic.RESTORE_ACTIVITY: "1565C0",
    NotificationTopic.ALARM: "EF6C00",
}


def recipient_key(kind: ContactKind, address: str) -> tuple[ContactKind, str]:
    """When two contacts are one recipient: an email address ignoring case; a webhook URL as
    written (its path may be case-sensitive)."""
    address = address.strip()
    return kind, address.lower() if kind is ContactKind.EMAIL else address


async def _recipients(
    provider_id: UUID, customer: Customer | None, topic: NotificationTopic
) -> list[NotificationContact]:
    """Each recipient once per event, although it may be both a provider default contact and a
    (copied) customer contact."""
    contacts = await NotificationContact.filter(
        provider_id=provider_id, customer_id__isnull=True
    ).order_by("created_at", "id")
    if customer is not None and customer.allow_system_notifications:
        contacts += await NotificationContact.filter(customer_id=customer.id).order_by(
            "created_at", "id"
        )
    unique: dict[tuple[ContactKind, str], NotificationContact] = {}
    for contact in contacts:
        if topic.value in (contact.topics or []):
            unique.setdefault(recipient_key(contact.kind, contact.address), contact)
    return list(unique.values())


def teams_card(topic: NotificationTopic, title: str, facts: list[tuple[str, str]]) -> dict:
    """A Microsoft Teams (Office 365 connector) message card."""
    return {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "themeColor": _COLOURS[topic],
        "summary": title,
        "title": title,
        "sections": [{"facts": [{"name": n, "value": v} for n, v in facts], "markdown": False}],
    }


async def send_to_contacts(
    provider_id: UUID,
    customer: Customer | None,
    topic: NotificationTopic,
    title: str,
    facts: list[tuple[str, str]],
) -> int:
    """Queue ``title`` and ``facts`` for the contacts subscribed to ``topic``: the provider's,
    and the customer's (when there is one and it allows system notifications)."""
    recipients = await _recipients(provider_id, customer, topic)
    body = title + "\n\n" + "\n".join(f"{name}: {value}" for name, value in facts) + "\n"
    customer_id = None if customer is None else customer.id
    payload: dict[str, Any] = {"topic": topic.value, "customerId": _plain(customer_id)}
    history = {"customer_id": customer_id, "topic": MessageTopic(topic.value)}
    for contact in recipients:
        if contact.kind is ContactKind.TEAMS_WEBHOOK:
            await enqueue(
                OutboxKind.TEAMS,
                contact.address,
                provider_id=provider_id,
                subject=title,
                payload={**payload, "card": teams_card(topic, title, facts)},
                **history,
            )
        else:
            await enqueue(
                OutboxKind.EMAIL,
                contact.address,
                provider_id=provider_id,
                subject=title,
                body=body,
                payload=payload,
                **history,
            )
    return len(recipients)


def _time(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "-"


async def session_finished(session: BackupSession) -> int:
    """Queue BACKUP_COMPLETE or BACKUP_FAILED for a session that ended; returns the count."""
    topic = TOPIC_OF_SESSION.get(session.status)
    if topic is None:
        return 0
    customer = await Customer.get(id=session.customer_id)  # type: ignore[attr-defined]
    outcome = "completed" if topic is NotificationTopic.BACKUP_COMPLETE else "failed"
    title = f"Backup {outcome}: {session.policy_name} ({customer.display_name})"
    facts = [
        ("Customer", customer.display_name),
        ("Policy", session.policy_name),
        ("Status", session.status.value),
        ("Started", _time(session.started_at)),
        ("Finished", _time(session.ended_at)),
        ("Processed objects", str(session.processed_objects)),
    ]
    return await send_to_contacts(customer.provider_id, customer, topic, title, facts)  # type: ignore[attr-defined]


async def restore_recorded(restore: Restore) -> int:
    """Queue RESTORE_ACTIVITY for a recorded restore; returns the count."""
    customer = await Customer.get(id=restore.customer_id)  # type: ignore[attr-defined]
    title = f"Restore {restore.status.value.lower().replace('_', ' ')}: {customer.display_name}"
    facts = [
        ("Customer", customer.display_name),
        ("Requested by", restore.requested_by),
        ("Requested at", _time(restore.requested_at)),
        ("Type", restore.restore_type),
        ("Items", str(restore.item_count)),
        ("Status", restore.status.value),
    ]
    return await send_to_contacts(
        customer.provider_id,  # type: ignore[attr-defined]
        customer,
        NotificationTopic.RESTORE_ACTIVITY,
        title,
        facts,
    )


def _plain(value: UUID | None) -> str | None:
    return None if value is None else str(value)
