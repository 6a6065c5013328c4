"""Alarms: listing, counting and watching them, acknowledging and resolving, tuning the rules."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from vdc_graph.alarms import lifecycle
from vdc_graph.alarms.evaluate import rule_settings
from vdc_graph.alarms.rules import RULES
from vdc_graph.context import RequestContext
from vdc_graph.db.models import Alarm, AlarmEvent, AlarmRuleSetting
from vdc_graph.db.pagination import Page, PageArgs, paginate
from vdc_graph.db.queries import alarms as queries
from vdc_graph.enums import AlarmRule, AlarmSeverity, AlarmState, Permission
from vdc_graph.errors import UserError, UserErrorCode, UserErrors
from vdc_graph.events import broker

from .access import changing, provider_changing, provider_reading, reading
from .ids import Ref, key_of, not_found
from .validation import checked_comment


async def list_alarms(ctx: RequestContext, flt: queries.AlarmFilter, page: PageArgs) -> Page[Alarm]:
    """Newest first."""
    scope = reading(ctx)
    if flt.customer_id is not None and not scope.allows_customer(flt.customer_id):
        raise not_found("Customer")
    return await paginate(queries.filtered_alarms(scope, flt), queries.ALARM_SORT, True, page)


async def load_alarm(ctx: RequestContext, key: Any) -> Alarm | None:
    scope = reading(ctx)
    loader = ctx.loaders.get(("alarm", scope), lambda ids: queries.alarms_by_id(scope, ids))
    return await loader.load(key)


async def alarm_history(ctx: RequestContext, alarm: Alarm) -> list[AlarmEvent]:
    # Batched: a page of alarms costs one query for all their histories.
    return await ctx.loaders.get("alarm-history", queries.histories_of).load(alarm.id)


@dataclass(frozen=True)
class OpenCount:
    state: AlarmState
    severity: AlarmSeverity
    count: int


async def open_counts(ctx: RequestContext) -> list[OpenCount]:
    counts = await queries.open_counts(reading(ctx))
    return [
        OpenCount(state, severity, counts.get((state, severity), 0))
        for state in (AlarmState.ACTIVE, AlarmState.ACKNOWLEDGED)
        for severity in AlarmSeverity
    ]


async def _open_alarm(ctx: RequestContext, ref: Ref) -> tuple[str, Alarm]:
    # Taking an alarm on is operations work: the people who manage backups.
    principal, scope = changing(ctx, Permission.BACKUP_MANAGEMENT)
    alarm = await queries.visible_alarms(scope).get_or_none(id=key_of(ref, "Alarm"))
    if alarm is None:
        raise not_found("Alarm")
    return principal.actor_label, alarm


async def acknowledge(ctx: RequestContext, ref: Ref, comment: str) -> Alarm:
    return await _step(ctx, ref, comment, lifecycle.acknowledge, "active")


async def resolve(ctx: RequestContext, ref: Ref, comment: str) -> Alarm:
    return await _step(ctx, ref, comment, lifecycle.resolve, "open")


async def _step(ctx: RequestContext, ref: Ref, comment: str, step: Any, needed: str) -> Alarm:
    """One state change by a person; INVALID_STATE when the alarm is not ``needed``."""
    actor, alarm = await _open_alarm(ctx, ref)
    changed = await step(alarm, actor, checked_comment(comment))
    if changed is None:
        raise UserErrors(
            [UserError(f"The alarm is not {needed}", ["input", "id"], UserErrorCode.INVALID_STATE)]
        )
    return changed


@dataclass(frozen=True)
class RuleSetting:
    rule: AlarmRule
    enabled: bool
    threshold: float
    default_threshold: float
    unit: str


async def list_rules(ctx: RequestContext) -> list[RuleSetting]:
    scope = provider_reading(ctx)
    settings = await rule_settings(scope.provider_id)
    return [
        RuleSetting(rule, *settings[rule], spec.default_threshold, spec.unit)
        for rule, spec in RULES.items()
    ]


async def update_rule(
    ctx: RequestContext, rule: AlarmRule, enabled: bool | None, threshold: float | None
) -> RuleSetting:
    """Changes take effect at the next evaluation (a rule turned off resolves its alarms)."""
    _, scope = provider_changing(ctx, Permission.SITE_SETTINGS)
    spec = RULES[rule]
    if threshold is not None and not spec.minimum <= threshold <= 1_000_000:
        raise UserErrors(
            [
                UserError(
                    f"The threshold must be between {spec.minimum:g} and 1000000 {spec.unit}",
                    ["input", "threshold"],
                    UserErrorCode.OUT_OF_RANGE,
                )
            ]
        )
    current_enabled, current_threshold = (await rule_settings(scope.provider_id))[rule]
    values = {
        "enabled": current_enabled if enabled is None else enabled,
        "threshold": current_threshold if threshold is None else threshold,
    }
    setting = await AlarmRuleSetting.get_or_none(provider_id=scope.provider_id, rule=rule)
    if setting is None:
        setting = await AlarmRuleSetting.create(provider_id=scope.provider_id, rule=rule, **values)
    else:
        await AlarmRuleSetting.filter(id=setting.id).update(**values)
    return RuleSetting(
        rule, values["enabled"], values["threshold"], spec.default_threshold, spec.unit
    )


async def watch_alarms(ctx: RequestContext) -> AsyncIterator[Alarm]:
    """The caller's alarms as they are raised, acknowledged and resolved (read back from the
    database, so a subscriber sees exactly what a query would)."""
    scope = reading(ctx)
    async with broker().subscribe(lifecycle.updates_topic(scope.provider_id)) as live:
        async for message in live:
            [alarm] = await queries.alarms_by_id(scope, [UUID(message["alarmId"])])
            if alarm is not None:
                yield alarm
