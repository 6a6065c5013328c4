"""Backup policy, session, log and restore queries, each starting from the caller's Scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet

from vdc_graph.db.loaders import by_key
from vdc_graph.db.models import BackupPolicy, BackupSession, Customer, Restore, SessionLogRecord
from vdc_graph.db.pagination import SortKey
from vdc_graph.db.scope import Scope
from vdc_graph.enums import LogStatus, PolicyStatus, SessionStatus

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ACTIVE_SESSION = (SessionStatus.QUEUED, SessionStatus.RUNNING)

POLICY_SORT_KEYS = (
    SortKey("NAME", "name_key"),  # the name ignoring case, as a person reads
    SortKey("LAST_STATUS", "last_status"),
    SortKey("LAST_RUN", "last_run", nullable=True),
)
SESSION_SORT = SortKey("CREATED_AT", "created_at")
LOG_SORT = SortKey("SEQUENCE", "seq")
RESTORE_SORT = SortKey("REQUESTED_AT", "requested_at")


def _scoped(qs: QuerySet, scope: Scope) -> QuerySet:
    # Leaving out the provider's few deleted customers (rather than joining every row to its
    # customer) lets a count read only the (provider_id, customer_id) index.
    # (A range, not "NOT … IS NULL", so SQLite seeks the customer index to the deleted ones.)
    deleted = Customer.filter(provider_id=scope.provider_id, deleted_at__gte=EPOCH)
    qs = qs.filter(provider_id=scope.provider_id).exclude(
        customer_id__in=Subquery(deleted.values("id"))
    )
    return scope.restrict(qs)


def visible_policies(scope: Scope) -> QuerySet[BackupPolicy]:
    return _scoped(BackupPolicy.all(), scope)


def visible_sessions(scope: Scope) -> QuerySet[BackupSession]:
    return _scoped(BackupSession.all(), scope)


def visible_restores(scope: Scope) -> QuerySet[Restore]:
    return _scoped(Restore.all(), scope)


@dataclass(frozen=True)
class PolicyFilter:
    customer_id: UUID | None = None
    status: PolicyStatus | None = None
    enabled: bool | None = None
    search: str | None = None


def filtered_policies(scope: Scope, flt: PolicyFilter) -> QuerySet[BackupPolicy]:
    qs = visible_policies(scope)
    if flt.customer_id is not None:
        qs = qs.filter(customer_id=flt.customer_id)
    if flt.status is not None:
        qs = qs.filter(last_status=flt.status)
    if flt.enabled is not None:
        qs = qs.filter(enabled=flt.enabled)
    if flt.search and flt.search.strip():
        qs = qs.filter(name__icontains=flt.search.strip())
    return qs


@dataclass(frozen=True)
class SessionFilter:
    customer_id: UUID | None = None
    policy_id: UUID | None = None
    statuses: tuple[SessionStatus, ...] = ()
    created_from: datetime | None = None
    created_to: datetime | None = None


def filtered_sessions(scope: Scope, flt: SessionFilter) -> QuerySet[BackupSession]:
    qs = visible_sessions(scope)
    if flt.customer_id is not None:
        qs = qs.filter(customer_id=flt.customer_id)
    if flt.policy_id is not None:
        qs = qs.filter(policy_id=flt.policy_id)
    if flt.statuses:
        qs = qs.filter(status__in=list(flt.statuses))
    if flt.created_from is not None:
        qs = qs.filter(created_at__gte=flt.created_from)
    if flt.created_to is not None:
        qs = qs.filter(created_at__lt=flt.created_to)
    return qs


def session_logs(session_id: UUID, statuses: Sequence[LogStatus] = ()) -> QuerySet:
    """The log of a session the caller was already allowed to see."""
    qs = SessionLogRecord.filter(session_id=session_id)
    if statuses:
        qs = qs.filter(status__in=list(statuses))
    return qs


async def log_records_after(session_id: UUID, seq: int) -> list[SessionLogRecord]:
    return list(await SessionLogRecord.filter(session_id=session_id, seq__gt=seq).order_by("seq"))


@dataclass(frozen=True)
class RestoreFilter:
    customer_id: UUID | None = None


def filtered_restores(scope: Scope, flt: RestoreFilter) -> QuerySet[Restore]:
    qs = visible_restores(scope)
    if flt.customer_id is not None:
        qs = qs.filter(customer_id=flt.customer_id)
    return qs


async def policies_by_id(scope: Scope, ids: Sequence[UUID]) -> list[BackupPolicy | None]:
    return by_key(await visible_policies(scope).filter(id__in=list(ids)), ids)


async def sessions_by_id(scope: Scope, ids: Sequence[UUID]) -> list[BackupSession | None]:
    return by_key(await visible_sessions(scope).filter(id__in=list(ids)), ids)


async def restores_by_id(scope: Scope, ids: Sequence[UUID]) -> list[Restore | None]:
    return by_key(await visible_restores(scope).filter(id__in=list(ids)), ids)


async def log_records_by_id(scope: Scope, ids: Sequence[UUID]) -> list[SessionLogRecord | None]:
    qs = SessionLogRecord.filter(
        id__in=list(ids),
        session__provider_id=scope.provider_id,
        session__customer__deleted_at__isnull=True,
    )
    return by_key(await scope.restrict(qs, "session__customer_id"), ids)


async def active_sessions_by_policy(ids: Sequence[UUID]) -> list[BackupSession | None]:
    rows = await BackupSession.filter(policy_id__in=list(ids), status__in=ACTIVE_SESSION)
    return by_key(rows, ids, "policy_id")


async def policy_counts_by_customer(customer_id: UUID) -> int:
    return await BackupPolicy.filter(customer_id=customer_id).count()
