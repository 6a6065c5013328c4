"""Backup sessions, their logs, and watching them live.

Live watching (``watch_log``) follows one rule that makes it exact: subscribe to the broker
first, then read what the database holds after the client's cursor, then forward live events,
dropping every record whose sequence number was already sent. Nothing committed after the
subscription can be missed (it is announced), and nothing is sent twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from strawberry.dataloader import DataLoader

from vdc_graph import metrics
from vdc_graph.context import RequestContext
from vdc_graph.db.loaders import load_each
from vdc_graph.db.models import BackupPolicy, BackupSession, Customer, SessionLogRecord
from vdc_graph.db.pagination import Page, PageArgs, decode_cursor, encode_cursor, paginate
from vdc_graph.db.queries import backup as queries
from vdc_graph.db.queries.customers import customers_by_id
from vdc_graph.enums import LogStatus
from vdc_graph.errors import BadUserInput
from vdc_graph.events import broker, is_resync, results_of
from vdc_graph.events.sessions import (
    ENDED,
    log_topic,
    record_from_snapshot,
    session_from_snapshot,
    updates_topic,
)

from .access import reading
from .customers import customer_loader
from .ids import Ref, key_of, not_found


async def list_sessions(
    ctx: RequestContext, flt: queries.SessionFilter, page: PageArgs
) -> Page[BackupSession]:
    """Newest first."""
    scope = reading(ctx)
    return await paginate(queries.filtered_sessions(scope, flt), queries.SESSION_SORT, True, page)


async def load_session(ctx: RequestContext, key: Any) -> BackupSession | None:
    scope = reading(ctx)
    loader = ctx.loaders.get(("session", scope), lambda ids: queries.sessions_by_id(scope, ids))
    return await loader.load(key)


async def get_session(ctx: RequestContext, ref: Ref) -> BackupSession:
    session = await load_session(ctx, key_of(ref, "BackupSession"))
    if session is None:
        raise not_found("BackupSession")
    return session


async def load_log_record(ctx: RequestContext, key: Any) -> SessionLogRecord | None:
    scope = reading(ctx)
    loader = ctx.loaders.get(
        ("log-record", scope), lambda ids: queries.log_records_by_id(scope, ids)
    )
    return await loader.load(key)


async def session_logs(
    ctx: RequestContext, session: BackupSession, statuses: tuple[LogStatus, ...], page: PageArgs
) -> Page[SessionLogRecord]:
    """In sequence order; cursors are the same as ``sessionLog``'s."""
    return await paginate(queries.session_logs(session.id, statuses), queries.LOG_SORT, False, page)


def _policies(ctx: RequestContext) -> DataLoader[Any, Any]:
    scope = reading(ctx)
    return ctx.loaders.get(("policy", scope), lambda ids: queries.policies_by_id(scope, ids))


async def session_policy(ctx: RequestContext, session: BackupSession) -> BackupPolicy | None:
    policy_id = session.policy_id  # type: ignore[attr-defined]
    if policy_id is None:
        return None
    return await _policies(ctx).load(policy_id)


async def sessions_policies(
    ctx: RequestContext, sessions: Sequence[BackupSession]
) -> list[BackupPolicy | None]:
    """``session_policy`` of each session, in one lookup."""
    return await load_each(_policies(ctx), [s.policy_id for s in sessions])  # type: ignore[attr-defined]


async def customer_of(ctx: RequestContext, row: Any) -> Customer:
    customer = await customer_loader(ctx).load(row.customer_id)
    if customer is None:
        raise not_found("Customer")
    return customer


async def customers_of(ctx: RequestContext, rows: Sequence[Any]) -> list[Customer | None]:
    """The customer of each row, in one lookup; None where ``customer_of`` would refuse."""
    return await load_each(customer_loader(ctx), [row.customer_id for row in rows])


def log_cursor(record: SessionLogRecord) -> str:
    return encode_cursor(queries.LOG_SORT, record)


async def _seq_of(session: BackupSession, cursor: str | None) -> int:
    """The sequence number ``cursor`` points at, when it is a cursor of this session's log."""
    if cursor is None:
        return 0
    seq, key = decode_cursor(SessionLogRecord, queries.LOG_SORT, cursor, "after")
    if not isinstance(seq, int) or not await SessionLogRecord.exists(
        id=key, session_id=session.id, seq=seq
    ):
        raise BadUserInput("after is not a cursor of this session's log", field=["after"])
    return seq


@dataclass
class LogBatch:
    """One event of ``sessionLog``: new records (maybe none) and the session's state."""

    records: list[SessionLogRecord]
    session: BackupSession
    cursor: str | None
    # The results kept on the broker's message when this batch is that message as published
    # (the same for every subscriber that is up to date), else None.
    shared: dict | None = None


async def watch_log(ctx: RequestContext, ref: Ref, after: str | None) -> AsyncIterator[LogBatch]:
    """The session's records after ``after``, then live ones, until the session has ended and
    every record was sent."""
    session = await get_session(ctx, ref)
    sent = await _seq_of(session, after)
    cursor = after
    async with broker().subscribe(log_topic(session.id)) as live:
        # Read after subscribing: whatever commits from now on is also announced.
        session = await BackupSession.get(id=session.id)
        replay = await queries.log_records_after(session.id, sent)
        if replay or sent == 0:
            if replay:
                sent, cursor = replay[-1].seq, log_cursor(replay[-1])
            yield LogBatch(replay, session, cursor)
        if session.status in ENDED and sent >= session.last_seq:
            return
        async for message in live:
            shared = None
            if is_resync(message):
                # The broker was cut off: what it missed is read from the database.
                state = await BackupSession.get(id=session.id)
                records = await queries.log_records_after(session.id, sent)
            else:
                metrics.broker_lag(message)
                records = [record_from_snapshot(r) for r in message["records"]]
                state = session_from_snapshot(message["session"])
                shared = results_of(message)
            if records and records[0].seq > sent + 1:
                # A gap (a backend that dropped messages): fill it from the database.
                records = await queries.log_records_after(session.id, sent)
                shared = None
            fresh = [r for r in records if r.seq > sent]
            if len(fresh) != len(records):
                shared = None  # part of it was sent before: this subscriber's own event
            if fresh:
                sent, cursor = fresh[-1].seq, log_cursor(fresh[-1])
            if fresh or not records:
                yield LogBatch(fresh, state, cursor, shared)
            if state.status in ENDED and sent >= state.last_seq:
                return


@dataclass(frozen=True)
class UpdatesFilter:
    customer_id: UUID | None = None
    policy_id: UUID | None = None


async def watch_updates(ctx: RequestContext, flt: UpdatesFilter) -> AsyncIterator[BackupSession]:
    """Sessions of the caller's scope as they are queued, progress and end.

    A filter naming a customer or policy the caller may not see is NOT_FOUND, as in queries.
    """
    scope = reading(ctx)
    if flt.customer_id is not None and (await customers_by_id(scope, [flt.customer_id]))[0] is None:
        raise not_found("Customer")
    if (
        flt.policy_id is not None
        and (await queries.policies_by_id(scope, [flt.policy_id]))[0] is None
    ):
        raise not_found("BackupPolicy")
    async with broker().subscribe(updates_topic(scope.provider_id)) as live:
        async for message in live:
            if is_resync(message):
                continue  # updates are of the moment: the next change is sent as it comes
            metrics.broker_lag(message)
            state = session_from_snapshot(message["session"])
            customer_id = state.customer_id  # type: ignore[attr-defined]
            if not scope.allows_customer(customer_id):
                continue
            if flt.customer_id is not None and customer_id != flt.customer_id:
                continue
            if flt.policy_id is not None and state.policy_id != flt.policy_id:  # type: ignore[attr-defined]
                continue
            yield state
