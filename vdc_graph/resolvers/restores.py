"""Restore activity: restores happen in the customer portal; this API records them per
customer (for the dashboard) and raises RESTORE_ACTIVITY notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vdc_graph import clock
from vdc_graph.context import RequestContext
from vdc_graph.contracts import refuse_restores
from vdc_graph.db.models import BackupSession, Restore
from vdc_graph.db.pagination import Page, PageArgs, paginate
from vdc_graph.db.queries import backup as queries
from vdc_graph.db.queries.customers import visible_customers
from vdc_graph.enums import Permission, RestoreStatus, RestoreType, SessionStatus
from vdc_graph.errors import UserError, UserErrorCode, UserErrors
from vdc_graph.notify import backup as notifications
from vdc_graph.notify import webhook_events

from .access import changing, reading
from .ids import Ref, key_of, not_found


async def list_restores(
    ctx: RequestContext, flt: queries.RestoreFilter, page: PageArgs
) -> Page[Restore]:
    """Newest first."""
    scope = reading(ctx)
    return await paginate(queries.filtered_restores(scope, flt), queries.RESTORE_SORT, True, page)


async def load_restore(ctx: RequestContext, key: Any) -> Restore | None:
    scope = reading(ctx)
    loader = ctx.loaders.get(("restore", scope), lambda ids: queries.restores_by_id(scope, ids))
    return await loader.load(key)


@dataclass(frozen=True)
class RecordRestoreInput:
    customer: Ref
    requested_by: str
    restore_type: RestoreType
    item_count: int = 0
    status: RestoreStatus = RestoreStatus.IN_PROGRESS
    requested_at: datetime | None = None


async def record_restore(ctx: RequestContext, data: RecordRestoreInput) -> Restore:
    """Record a restore done in the customer portal (BACKUP_MANAGEMENT; a customer-scoped caller
    records its own customer's)."""
    _, scope = changing(ctx, Permission.BACKUP_MANAGEMENT)
    customer = await visible_customers(scope).get_or_none(id=key_of(data.customer, "Customer"))
    if customer is None:
        raise not_found("Customer")
    problems = []
    if not data.requested_by.strip():
        problems.append(
            UserError("Say who requested it", ["input", "requestedBy"], UserErrorCode.REQUIRED)
        )
    elif len(data.requested_by.strip()) > 254:
        problems.append(
            UserError(
                "Longer than 254 characters", ["input", "requestedBy"], UserErrorCode.TOO_LONG
            )
        )
    if data.item_count < 0:
        problems.append(
            UserError("Cannot be negative", ["input", "itemCount"], UserErrorCode.OUT_OF_RANGE)
        )
    if data.requested_at is not None and data.requested_at > clock.now():
        problems.append(
            UserError("Cannot be in the future", ["input", "requestedAt"], UserErrorCode.INVALID)
        )
    refuse_restores(customer.contract_type, ["input", "customerId"])
    if not await _ever_backed_up(customer.id):
        problems.append(
            UserError(
                "This customer has never been backed up, so there is nothing to restore",
                ["input", "customerId"],
                UserErrorCode.INVALID_STATE,
            )
        )
    if problems:
        raise UserErrors(problems)
    ended = data.status is not RestoreStatus.IN_PROGRESS
    restore = await Restore.create(
        provider_id=customer.provider_id,  # type: ignore[attr-defined]
        customer=customer,
        requested_at=data.requested_at or clock.now(),
        requested_by=data.requested_by.strip(),
        restore_type=data.restore_type,
        item_count=data.item_count,
        status=data.status,
        finished_at=clock.now() if ended else None,
    )
    await notifications.restore_recorded(restore)
    await webhook_events.restore_recorded(restore, customer)
    return restore


async def _ever_backed_up(customer_id: Any) -> bool:
    """A session of the customer's processed data (a pending customer has none)."""
    return await BackupSession.filter(
        customer_id=customer_id,
        status__in=[SessionStatus.SUCCESS, SessionStatus.WARNING],
    ).exists()


async def finish_restore(
    ctx: RequestContext, ref: Ref, status: RestoreStatus, item_count: int
) -> Restore:
    """IN_PROGRESS -> SUCCESS, WARNING or FAILED, with the items restored."""
    _, scope = changing(ctx, Permission.BACKUP_MANAGEMENT)
    key = key_of(ref, "Restore")
    if not await queries.visible_restores(scope).filter(id=key).exists():
        raise not_found("Restore")
    # Locked by key: the scoped query joins, and a lock cannot reach across an outer join.
    restore = await Restore.select_for_update().get(id=key)
    problems = []
    if status is RestoreStatus.IN_PROGRESS:
        problems.append(
            UserError(
                "A restore ends as SUCCESS, WARNING or FAILED",
                ["input", "status"],
                UserErrorCode.INVALID,
            )
        )
    if item_count < 0:
        problems.append(
            UserError("Cannot be negative", ["input", "itemCount"], UserErrorCode.OUT_OF_RANGE)
        )
    if restore.status is not RestoreStatus.IN_PROGRESS:
        problems.append(
            UserError(
                f"This restore already ended ({restore.status.value})",
                ["input", "id"],
                UserErrorCode.INVALID_STATE,
            )
        )
    if problems:
        raise UserErrors(problems)
    restore.status, restore.item_count, restore.finished_at = status, item_count, clock.now()
    await restore.save(update_fields=["status", "item_count", "finished_at"])
    customer = await restore.customer
    await notifications.restore_recorded(restore)
    await webhook_events.restore_recorded(restore, customer)
    return restore
