"""Dashboard aggregates: counted and grouped by the database, bucketed by UTC day or month.

The same queries run on SQLite and PostgreSQL; only the expression that turns a timestamp
into its UTC day or month differs (SQLite's ``strftime`` converts a stored offset to UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from tortoise.connection import get_connection
from tortoise.expressions import Q, RawSQL
from tortoise.functions import Count, Sum
from tortoise.queryset import QuerySet

from vdc_graph.db.models import BackupPolicy, BackupSession, Customer, LicensedUsersMonth, Restore
from vdc_graph.db.scope import Scope
from vdc_graph.enums import ContractType, PolicyStatus, SessionStatus

RESULT_STATUSES = (SessionStatus.SUCCESS, SessionStatus.WARNING, SessionStatus.FAILED)


def _bucket(column: str, unit: str) -> RawSQL:
    """``YYYY-MM-DD`` (unit "day") or ``YYYY-MM`` (unit "month") of ``column`` in UTC."""
    sqlite_format, postgres_format = {
        "day": ("%Y-%m-%d", "YYYY-MM-DD"),
        "month": ("%Y-%m", "YYYY-MM"),
    }[unit]
    if get_connection("default").capabilities.dialect == "sqlite":
        return RawSQL(f"strftime('{sqlite_format}', \"{column}\")")
    return RawSQL(f"to_char(\"{column}\" AT TIME ZONE 'UTC', '{postgres_format}')")


def _scoped(qs: QuerySet, scope: Scope) -> QuerySet:
    return scope.restrict(qs.filter(provider_id=scope.provider_id))


async def policy_results(scope: Scope) -> tuple[int, dict[PolicyStatus, int]]:
    """How many backup jobs (policies) there are, and how many have each last status."""
    rows = (
        await _scoped(BackupPolicy.all(), scope)
        .annotate(n=Count("id"))
        .group_by("last_status")
        .values("last_status", "n")
    )
    by_status = {PolicyStatus(r["last_status"]): int(r["n"]) for r in rows}
    return sum(by_status.values()), by_status


async def daily_session_results(
    scope: Scope, start: datetime, end: datetime
) -> dict[tuple[str, SessionStatus], int]:
    """Sessions that ended in [start, end) with a result, counted per UTC day and status."""
    rows = (
        await _scoped(BackupSession.all(), scope)
        .filter(ended_at__gte=start, ended_at__lt=end, status__in=list(RESULT_STATUSES))
        .annotate(day=_bucket("ended_at", "day"), n=Count("id"))
        .group_by("day", "status")
        .values("day", "status", "n")
    )
    return {(r["day"], SessionStatus(r["status"])): int(r["n"]) for r in rows}


async def monthly_restores(
    scope: Scope, start: datetime, end: datetime
) -> list[tuple[UUID, str, int]]:
    """Restores requested in [start, end), counted per customer and UTC month."""
    rows = (
        await _scoped(Restore.all(), scope)
        .filter(requested_at__gte=start, requested_at__lt=end)
        .annotate(month=_bucket("requested_at", "month"), n=Count("id"))
        .group_by("customer_id", "month")
        .values("customer_id", "month", "n")
    )
    return [(r["customer_id"], r["month"], int(r["n"])) for r in rows]


async def customers_in_month(scope: Scope, start: datetime, end: datetime) -> int:
    """Customers the month [start, end) averages restores over: activated before its end and
    not deleted before its start (a customer deleted since still counts for its months)."""
    qs = (
        Customer.filter(provider_id=scope.provider_id)
        # Activated before the month's end (a customer without a date: created before it).
        .filter(Q(activation_date__lt=end) | Q(activation_date__isnull=True, created_at__lt=end))
        .filter(Q(deleted_at__isnull=True) | Q(deleted_at__gte=start))
        .exclude(contract_type=ContractType.PENDING)
    )
    return await scope.restrict(qs, "id").count()


@dataclass(frozen=True)
class LicenceMonth:
    month: date
    customers: int
    licenses: int


async def monthly_licences(scope: Scope, first: date, last: date) -> dict[date, LicenceMonth]:
    """Per month in [first, last]: customers with licensed users, and the licences they use."""
    rows: list[dict[str, Any]] = (
        await _scoped(LicensedUsersMonth.all(), scope)
        .filter(month__gte=first, month__lte=last, licensed_users__gt=0)
        .annotate(customers=Count("customer_id"), licenses=Sum("licensed_users"))
        .group_by("month")
        .values("month", "customers", "licenses")
    )
    result = {}
    for r in rows:
        month = r["month"] if isinstance(r["month"], date) else date.fromisoformat(str(r["month"]))
        result[month] = LicenceMonth(month, int(r["customers"]), int(r["licenses"] or 0))
    return result
