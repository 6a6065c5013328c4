"""Session downloads: one session's log, and a customer's sessions of one month with their logs.

Both need BACKUP_MANAGEMENT; rights and the objects are checked when the download is prepared,
rows are read page by page while it is written.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from vdc_graph.context import RequestContext
from vdc_graph.db.models import BackupSession, Customer
from vdc_graph.db.pagination import every_row
from vdc_graph.db.queries import backup as queries
from vdc_graph.db.queries.customers import visible_customers
from vdc_graph.enums import LogStatus, Permission
from vdc_graph.exports.http import file_slug

from .access import changing
from .ids import Ref, global_id, key_of, not_found
from .sessions import get_session

LOG_HEADER = ["Sequence", "Time", "Status", "Message"]
SESSION_HEADER = [
    "Session ID",
    "Policy",
    "Status",
    "Trigger",
    "Started by",
    "Queued at",
    "Started at",
    "Ended at",
    "Progress (%)",
    "Processed objects",
    "Transferred bytes",
    "Transferred items",
    "Log file",
]

Rows = AsyncIterator[list[Any]]


def _exporting(ctx: RequestContext) -> Any:
    _, scope = changing(ctx, Permission.MONITORING_ACCESS, Permission.BACKUP_MANAGEMENT)
    return scope


async def _log_rows(session_id: Any, statuses: tuple[LogStatus, ...] = ()) -> Rows:
    async for record in every_row(queries.session_logs(session_id, statuses), queries.LOG_SORT):
        yield [record.seq, record.at, record.status, record.message]


async def export_session_log(
    ctx: RequestContext, ref: Ref, statuses: tuple[LogStatus, ...] = ()
) -> tuple[BackupSession, Rows]:
    _exporting(ctx)
    session = await get_session(ctx, ref)
    return session, _log_rows(session.id, statuses)


def log_file_name(session: BackupSession) -> str:
    when = (session.started_at or session.created_at).strftime("%Y-%m-%d_%H%M%S")
    return f"logs/{when}_{file_slug(session.policy_name, 'policy')}_{str(session.id)[:8]}.csv"


@dataclass(frozen=True)
class MonthExport:
    customer: Customer
    month: date

    def file_name(self) -> str:
        return (
            f"sessions_{file_slug(self.customer.display_name, 'customer')}_{self.month:%Y-%m}.zip"
        )


def _month_bounds(month: date) -> tuple[datetime, datetime]:
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    end = datetime(month.year + (month.month == 12), month.month % 12 + 1, 1, tzinfo=UTC)
    return start, end


async def prepare_month_export(ctx: RequestContext, customer_ref: Ref, month: date) -> MonthExport:
    scope = _exporting(ctx)
    customer = await visible_customers(scope).get_or_none(id=key_of(customer_ref, "Customer"))
    if customer is None:
        raise not_found("Customer")
    return MonthExport(customer, month.replace(day=1))


async def month_sessions(ctx: RequestContext, export: MonthExport) -> AsyncIterator[BackupSession]:
    """The customer's sessions queued in the month, oldest first."""
    scope = _exporting(ctx)
    start, end = _month_bounds(export.month)
    flt = queries.SessionFilter(customer_id=export.customer.id, created_from=start, created_to=end)
    async for session in every_row(queries.filtered_sessions(scope, flt), queries.SESSION_SORT):
        yield session


def session_row(session: BackupSession) -> list[Any]:
    return [
        global_id("BackupSession", session.id),
        session.policy_name,
        session.status.value,
        session.trigger.value,
        session.started_by_label,
        (session.created_at),
        (session.started_at),
        (session.ended_at),
        session.progress,
        session.processed_objects,
        session.transferred_bytes,
        session.transferred_items,
        log_file_name(session),
    ]


def log_rows(session: BackupSession) -> Rows:
    return _log_rows(session.id)
