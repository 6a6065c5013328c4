"""Restore activity: restores happen in the customer portal; this API records them per
customer (for the dashboard) and raises RESTORE_ACTIVITY notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vdc_graph import clock
from vdc_graph.context import RequestContext
from vdc_graph.db.models import Restore
from vdc_graph.db.pagination import Page, PageArgs, paginate
from vdc_graph.db.queries import backup as queries
from vdc_graph.db.queries.customers import visible_customers
from vdc_graph.enums import Permission, RestoreStatus
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
    restore_type: str
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
    if not data.restore_type.strip():
        problems.append(
            UserError("Say what was restored", ["input", "restoreType"], UserErrorCode.REQUIRED)
        )
    elif len(data.restore_type.strip()) > 64:
        problems.append(
            UserError("Longer than 64 characters", ["input", "restoreType"], UserErrorCode.TOO_LONG)
        )
    if data.item_count < 0:
        problems.append(
            UserError("Cannot be negative", ["input", "itemCount"], UserErrorCode.OUT_OF_RANGE)
        )
    if data.requested_at is not None and data.requested_at > clock.now():
        problems.append(
            UserError("Cannot be in the future", ["input", "requestedAt"], UserErrorCode.INVALID)
        )
    if problems:
        raise UserErrors(problems)
    restore = await Restore.create(
        provider_id=customer.provider_id,  # type: ignore[attr-defined]
        customer=customer,
        requested_at=data.requested_at or clock.now(),
        requested_by=data.requested_by.strip(),
        restore_type=data.restore_type.strip(),
        item_count=data.item_count,
        status=data.status,
    )
    await notifications.restore_recorded(restore)
    await webhook_events.restore_recorded(restore, customer)
    return restore
