"""The events of backup sessions: their topics and JSON-safe snapshots of the rows.

Topics:
- ``session-log:<session id>``: ``{"records": [record…], "session": snapshot}`` each time a
  session's log grows or its state changes (records in sequence order, possibly none).
- ``session-updates:<provider id>``: ``{"session": snapshot}`` when a session is queued,
  progresses or ends.
- ``backup.session.finished`` (``SESSION_FINISHED``): ``{"sessionId", "providerId",
  "customerId", "policyId", "policyName", "status", "startedAt", "endedAt"}`` once per session
  when it ends, whatever the outcome; the domain event other parts (signed webhooks) listen to.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from uuid import UUID

from vdc_graph.db.models import BackupSession, SessionLogRecord
from vdc_graph.enums import LogStatus, SessionStatus, SessionTrigger

from . import Message, broker

SESSION_FINISHED = "backup.session.finished"

ENDED = frozenset(
    {
        SessionStatus.SUCCESS,
        SessionStatus.WARNING,
        SessionStatus.FAILED,
        SessionStatus.STOPPED,
        SessionStatus.DISCONNECTED,
    }
)

_SESSION_COLUMNS = (
    "provider_id",
    "customer_id",
    "policy_id",
    "policy_name",
    "status",
    "started_at",
    "ended_at",
    "progress",
    "processed_objects",
    "transferred_bytes",
    "transferred_items",
    "trigger",
    "started_by_id",
    "started_by_label",
    "retry_count",
    "service_counts",
    "stop_requested",
    "last_seq",
    "created_at",
)
_UUIDS = {"provider_id", "customer_id", "policy_id", "started_by_id"}
_TIMES = {"started_at", "ended_at", "created_at"}


def log_topic(session_id: UUID) -> str:
    return f"session-log:{session_id}"


def updates_topic(provider_id: UUID) -> str:
    return f"session-updates:{provider_id}"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def session_snapshot(session: BackupSession) -> dict[str, Any]:
    snapshot = {"id": str(session.id)}
    for column in _SESSION_COLUMNS:
        snapshot[column] = _plain(getattr(session, column))
    return snapshot


def session_from_snapshot(snapshot: dict[str, Any]) -> BackupSession:
    """An unsaved row equal to the snapshotted one (for resolving fields, never for saving)."""
    values: dict[str, Any] = {"id": UUID(snapshot["id"])}
    for column in _SESSION_COLUMNS:
        value = snapshot.get(column)
        if value is not None and column in _UUIDS:
            value = UUID(value)
        elif value is not None and column in _TIMES:
            value = datetime.fromisoformat(value)
        values[column] = value
    values["status"] = SessionStatus(values["status"])
    values["trigger"] = SessionTrigger(values["trigger"])
    return BackupSession(**values)


def record_from_snapshot(snapshot: dict[str, Any]) -> SessionLogRecord:
    """The record as if read from the database (what Tortoise's loading sets, with each value
    converted once here: its own loading converts them all again, and a subscriber reads tens
    of thousands a second)."""
    meta = SessionLogRecord._meta
    record = SessionLogRecord.__new__(SessionLogRecord)
    at = datetime.fromisoformat(snapshot["at"])
    created = snapshot["created_at"]
    record.__dict__.update(
        _partial=False,
        _saved_in_db=True,
        _custom_generated_pk=meta.db_pk_column not in meta.generated_db_fields,
        _await_when_save={},
        id=UUID(snapshot["id"]),
        session_id=UUID(snapshot["session_id"]),
        seq=snapshot["seq"],
        at=at,
        status=LogStatus(snapshot["status"]),
        message=snapshot["message"],
        # A record is created when it is written: the two times are one, parsed once.
        created_at=at if created == snapshot["at"] else datetime.fromisoformat(created),
    )
    return record


async def publish_session(session: BackupSession, records: list[dict] | None = None) -> None:
    """Announce a committed change of ``session`` (and its new log records, as snapshots:
    ``{id, session_id, seq, at, status, message, created_at}``, times in ISO 8601)."""
    snapshot = session_snapshot(session)
    now = time.time()  # subscribers measure the broker's lag from it
    message: Message = {
        "records": records or [],
        "session": snapshot,
        "publishedAt": now,
    }
    await broker().publish(log_topic(session.id), message)
    await broker().publish(
        updates_topic(session.provider_id),  # type: ignore[attr-defined]
        {"session": snapshot, "publishedAt": now},
    )


async def publish_finished(session: BackupSession) -> None:
    await broker().publish(
        SESSION_FINISHED,
        {
            "sessionId": str(session.id),
            "providerId": str(session.provider_id),  # type: ignore[attr-defined]
            "customerId": str(session.customer_id),  # type: ignore[attr-defined]
            "policyId": _plain(session.policy_id),  # type: ignore[attr-defined]
            "policyName": session.policy_name,
            "status": session.status.value,
            "startedAt": _plain(session.started_at),
            "endedAt": _plain(session.ended_at),
        },
    )
