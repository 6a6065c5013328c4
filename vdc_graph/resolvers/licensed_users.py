"""A customer's licensed users, as a list and as a CSV download."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from vdc_graph.context import RequestContext
from vdc_graph.db.models import Customer, LicensedUser
from vdc_graph.db.pagination import Page, PageArgs, every_row, paginate, sort_key
from vdc_graph.db.queries import licensed_users as queries

from .customers import get_customer
from .ids import Ref, global_id


async def list_licensed_users(
    ctx: RequestContext,
    customer: Customer,
    flt: queries.LicensedUserFilter,
    order_by: str,
    descending: bool,
    page: PageArgs,
) -> Page[LicensedUser]:
    # ``customer`` was loaded through the caller's scope (it is the parent field).
    key = sort_key(queries.SORT_KEYS, order_by)
    return await paginate(queries.licensed_users(customer.id, flt), key, descending, page)


CSV_COLUMNS = ("ID", "Display name", "Email", "Protection status", "Last backup")


def _when(value: datetime | None) -> str:
    return value.isoformat().replace("+00:00", "Z") if value else ""


async def export_licensed_users(
    ctx: RequestContext, ref: Ref, flt: queries.LicensedUserFilter
) -> tuple[str, list[str], AsyncIterator[list[Any]]]:
    """One customer's licensed users, in display-name order; rights are checked now."""
    customer = await get_customer(ctx, ref)  # NOT_FOUND outside the caller's scope
    key = sort_key(queries.SORT_KEYS, "DISPLAY_NAME")

    async def rows() -> AsyncIterator[list[Any]]:
        async for user in every_row(queries.licensed_users(customer.id, flt), key):
            yield [
                global_id("LicensedUser", user.id),
                user.display_name,
                user.email,
                user.protection_status.value,
                _when(user.last_backup_at),
            ]

    return customer.display_name, list(CSV_COLUMNS), rows()
