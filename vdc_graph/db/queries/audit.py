"""Audit-log queries: the scoped base set and its filter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from tortoise.queryset import QuerySet

from vdc_graph.db.loaders import by_key
from vdc_graph.db.models import AuditRecord
from vdc_graph.db.pagination import SortKey
from vdc_graph.db.scope import Scope

SORT_KEYS = (SortKey("CREATED_AT", "created_at"),)


@dataclass(frozen=True)
class AuditFilter:
    actor_user_id: UUID | None = None
    actor_api_key_id: UUID | None = None
    target_id: str | None = None
    action: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


def visible_records(scope: Scope) -> QuerySet[AuditRecord]:
    qs = AuditRecord.filter(provider_id=scope.provider_id)
    return scope.restrict(qs)


def filtered_records(scope: Scope, flt: AuditFilter) -> QuerySet[AuditRecord]:
    qs = visible_records(scope)
    if flt.actor_user_id is not None:
        qs = qs.filter(actor_user_id=flt.actor_user_id)
    if flt.actor_api_key_id is not None:
        qs = qs.filter(actor_api_key_id=flt.actor_api_key_id)
    if flt.target_id:
        qs = qs.filter(target_id=flt.target_id)
    if flt.action:
        qs = qs.filter(action=flt.action)
    if flt.since is not None:
        qs = qs.filter(created_at__gte=flt.since)
    if flt.until is not None:
        qs = qs.filter(created_at__lt=flt.until)
    return qs


async def records_by_id(scope: Scope, ids: Sequence[UUID]) -> list[AuditRecord | None]:
    return by_key(await visible_records(scope).filter(id__in=list(ids)), ids)
