"""Alarm queries: always from a Scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from tortoise.functions import Count
from tortoise.queryset import QuerySet

from vdc_graph.db.loaders import by_key, grouped
from vdc_graph.db.models import Alarm, AlarmEvent
from vdc_graph.db.pagination import SortKey
from vdc_graph.db.scope import Scope
from vdc_graph.enums import AlarmRule, AlarmSeverity, AlarmState

ALARM_SORT = SortKey("RAISED_AT", "raised_at")


@dataclass(frozen=True)
class AlarmFilter:
    customer_id: UUID | None = None
    states: tuple[AlarmState, ...] = ()
    severities: tuple[AlarmSeverity, ...] = ()
    rules: tuple[AlarmRule, ...] = ()


def visible_alarms(scope: Scope) -> QuerySet[Alarm]:
    """The provider's alarms; a caller limited to some customers sees only theirs (never the
    provider's own, such as its licence use)."""
    return scope.restrict(Alarm.filter(provider_id=scope.provider_id))


def filtered_alarms(scope: Scope, flt: AlarmFilter) -> QuerySet[Alarm]:
    qs = visible_alarms(scope)
    if flt.customer_id is not None:
        qs = qs.filter(customer_id=flt.customer_id)
    if flt.states:
        qs = qs.filter(state__in=list(flt.states))
    if flt.severities:
        qs = qs.filter(severity__in=list(flt.severities))
    if flt.rules:
        qs = qs.filter(rule__in=list(flt.rules))
    return qs


async def alarms_by_id(scope: Scope, ids: Sequence[UUID]) -> list[Alarm | None]:
    return by_key(await visible_alarms(scope).filter(id__in=list(ids)), ids)


async def histories_of(alarm_ids: Sequence[UUID]) -> list[list[AlarmEvent]]:
    """Each alarm's state changes, oldest first (for alarms the caller was allowed to see)."""
    rows = await AlarmEvent.filter(alarm_id__in=list(alarm_ids)).order_by("created_at", "id")
    return grouped(rows, alarm_ids, "alarm_id")


async def open_counts(scope: Scope) -> dict[tuple[AlarmState, AlarmSeverity], int]:
    rows = (
        await visible_alarms(scope)
        .filter(state__in=[AlarmState.ACTIVE, AlarmState.ACKNOWLEDGED])
        .annotate(n=Count("id"))
        .group_by("state", "severity")
        .values("state", "severity", "n")
    )
    return {(AlarmState(r["state"]), AlarmSeverity(r["severity"])): r["n"] for r in rows}
