"""Writing a session as it happens: queue it, append log records, finish it.

Every change is committed before it is announced on the events broker, so a subscriber that
reads the database after subscribing misses nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from tortoise import connections

from vdc_graph import clock
from vdc_graph.db.models import BackupPolicy, BackupSession, Customer, SessionLogRecord
from vdc_graph.db.transactions import after_commit, atomic
from vdc_graph.enums import (
    SCHEDULE_STARTER,
    LogStatus,
    PolicyStatus,
    SessionStatus,
    SessionTrigger,
)
from vdc_graph.events.sessions import ENDED, publish_finished, publish_session
from vdc_graph.notify import backup as notifications
from vdc_graph.notify import webhook_events
from vdc_graph.settings import Settings

Entry = tuple[LogStatus, str]


async def queue_session(
    settings: Settings,
    policy: BackupPolicy,
    trigger: SessionTrigger,
    *,
    started_by_id: UUID | None = None,
    started_by_label: str = "",
) -> BackupSession:
    """Create a QUEUED session of ``policy``; the engine starts it once this commits.

    Call inside ``atomic()`` (a mutation, the scheduler).
    """
    from . import engine_for

    session = await BackupSession.create(
        provider_id=policy.provider_id,  # type: ignore[attr-defined]
        customer_id=policy.customer_id,  # type: ignore[attr-defined]
        policy=policy,
        policy_name=policy.name,
        status=SessionStatus.QUEUED,
        trigger=trigger,
        started_by_id=started_by_id,
        started_by_label=started_by_label or SCHEDULE_STARTER,
    )
    policy.last_status = PolicyStatus.RUNNING
    await policy.save(update_fields=["last_status"])
    engine = engine_for(settings)

    async def announce_and_start() -> None:
        await publish_session(session)
        await engine.start(session.id)

    after_commit(announce_and_start)
    return session


async def append(session: BackupSession, entries: Sequence[Entry], **changes: object) -> None:
    """Commit ``entries`` as the next log records together with ``changes`` to the session,
    then announce them (one event for them all)."""
    async with atomic():
        records = await _write_records(session, entries, clock.now())
        for name, value in changes.items():
            setattr(session, name, value)
        # Only what the engine changed: a stop requested meanwhile must not be written over.
        await session.save(update_fields=["last_seq", *changes])
    await publish_session(session, records)


async def _write_records(
    session: BackupSession, entries: Sequence[Entry], now: datetime
) -> list[dict]:
    """The entries as the session's next records, inserted together (no ORM object per
    record: a fast engine writes thousands a second); returns their snapshots, as events
    carry them."""
    if not entries:
        return []
    connection = connections.get("default")  # inside atomic(): the transaction's
    executor = connection.executor_class(model=SessionLogRecord, db=connection)
    fields = SessionLogRecord._meta.fields_map
    columns = executor.regular_columns_all
    # A batch shares its session and its time: those columns are converted once, and each
    # status once; the sequence is checked once, at its highest (it only grows).
    template = {
        "created_at": fields["created_at"].to_db_value(now, None),
        "session_id": fields["session_id"].to_db_value(session.id, None),
        "at": fields["at"].to_db_value(now, None),
    }
    fields["seq"].validate(session.last_seq + len(entries))
    statuses = {status: fields["status"].to_db_value(status, None) for status in LogStatus}
    record_key = fields["id"].to_db_value
    slot = {column: position for position, column in enumerate(columns)}
    assert set(slot) == {*template, "id", "seq", "status", "message"}, columns
    blank = [template.get(column) for column in columns]
    id_at, seq_at, status_at, message_at = (slot[c] for c in ("id", "seq", "status", "message"))
    at, session_id = now.isoformat(), str(session.id)
    rows, snapshots = [], []
    for status, message in entries:
        session.last_seq += 1
        record_id = uuid4()
        row = blank.copy()
        row[id_at], row[seq_at] = record_key(record_id, None), session.last_seq
        row[status_at], row[message_at] = statuses[status], message
        rows.append(row)
        snapshots.append(
            {
                "id": str(record_id),
                "session_id": session_id,
                "seq": session.last_seq,
                "at": at,
                "status": status.value,
                "message": message,
                "created_at": at,
            }
        )
    if connection.capabilities.dialect == "postgres":
        # One statement whatever the batch's size (a statement per row costs PostgreSQL a
        # round of parse, bind and execute each): the columns as arrays, unnested.
        arrays = ", ".join(
            f"${n}::{fields[c].get_for_dialect('postgres', 'SQL_TYPE')}[]"
            for n, c in enumerate(columns, 1)
        )
        names = ", ".join(f'"{c}"' for c in columns)
        table = SessionLogRecord._meta.db_table  # names from the model, never from input
        await connection.execute_query(
            f'INSERT INTO "{table}" ({names}) SELECT * FROM unnest({arrays})',  # noqa: S608
            [list(values) for values in zip(*rows, strict=True)],
        )
    else:
        await connection.execute_many(executor.insert_query_all, rows)
    return snapshots


async def finish(
    session: BackupSession,
    status: SessionStatus,
    entries: Sequence[Entry],
    on_end: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """End the session with ``status``: its last records, the policy's figures, what
    ``on_end`` records (the customer's licences), the notifications and the webhook
    deliveries in one transaction; then the announcements."""
    assert status in ENDED
    async with atomic():
        now = clock.now()
        records = await _write_records(session, entries, now)
        session.status, session.ended_at = status, now
        if status is SessionStatus.SUCCESS:
            session.progress = 100
        await session.save(update_fields=["last_seq", "status", "ended_at", "progress"])
        await _update_policy(session)
        if on_end is not None:
            await on_end()
        await notifications.session_finished(session)
        customer = await Customer.get(id=session.customer_id)  # type: ignore[attr-defined]
        await webhook_events.session_ended(session, customer)
    await publish_session(session, records)
    await publish_finished(session)


async def _update_policy(session: BackupSession) -> None:
    policy_id = session.policy_id  # type: ignore[attr-defined]
    if policy_id is None:
        return  # the policy was deleted; its history stays
    policy = await BackupPolicy.get_or_none(id=policy_id)
    if policy is None:
        return
    policy.last_run = session.started_at or session.ended_at
    policy.last_status = PolicyStatus(session.status.value)
    if session.started_at is not None and session.ended_at is not None:
        took = (session.ended_at - session.started_at).total_seconds()
        ended = await BackupSession.filter(
            policy_id=policy_id, started_at__isnull=False, ended_at__isnull=False
        ).count()
        previous = policy.average_processing_seconds or 0.0
        policy.average_processing_seconds = previous + (took - previous) / max(ended, 1)
    await policy.save(update_fields=["last_run", "last_status", "average_processing_seconds"])


def every(policy: BackupPolicy) -> timedelta:
    return timedelta(hours=policy.schedule_interval_hours)
