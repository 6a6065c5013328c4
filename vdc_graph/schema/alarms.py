"""Alarms: ``alarms``, ``alarmRules``, ``alarmUpdates`` and the mutations that act on them."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from vdc_graph.db import models
from vdc_graph.db.queries.alarms import AlarmFilter as Filter
from vdc_graph.resolvers import alarms as resolve
from vdc_graph.resolvers.ids import Ref, key_of

from .common import Payload, UserError
from .customers import AFTER, BEFORE, FIRST, LAST, Customer
from .enums import AlarmRule, AlarmSeverity, AlarmState
from .relay import Connection, ModelNode, page_args


@strawberry.type(description="One change of an alarm's state.")
class AlarmStateChange:
    state: AlarmState = strawberry.field(description="The state it entered.")
    at: datetime = strawberry.field(description="When.")
    actor: str | None = strawberry.field(description="Who; null when the server did it.")
    comment: str | None = strawberry.field(description="Their comment, if any.")


@strawberry.type(description="The object an alarm is about.")
class AlarmObject:
    type_name: str = strawberry.field(description="Its type: BackupPolicy, Customer, …")
    id: relay.GlobalID = strawberry.field(description="Its ID (resolve it with `node`).")
    name: str = strawberry.field(description="Its name when the alarm was raised.")


@strawberry.type(
    description="A condition one of the alarm rules found, raised once until it clears."
)
class Alarm(ModelNode):
    model = models.Alarm
    rule: AlarmRule = strawberry.field(description="The rule that raised it.")
    severity: AlarmSeverity = strawberry.field(description="How serious it is.")
    state: AlarmState = strawberry.field(description="Active, acknowledged or resolved.")
    message: str = strawberry.field(description="What holds, in words.")
    raised_at: datetime = strawberry.field(description="When it was raised.")
    acknowledged_at: datetime | None = strawberry.field(description="When it was acknowledged.")
    resolved_at: datetime | None = strawberry.field(description="When it was resolved.")

    @strawberry.field(description="Who acknowledged it; null when nobody did.")
    def acknowledged_by(self) -> str | None:
        return self.acknowledged_by or None  # type: ignore[attr-defined]

    @strawberry.field(description="The object it is about.")
    def object(self) -> AlarmObject:
        return AlarmObject(
            type_name=self.object_type,  # type: ignore[attr-defined]
            id=relay.GlobalID(self.object_type, self.object_id),  # type: ignore[attr-defined]
            name=self.object_name,  # type: ignore[attr-defined]
        )

    @strawberry.field(description="The customer it concerns; null for the provider's own.")
    async def customer(self, info: Info) -> Customer | None:
        from vdc_graph.resolvers.customers import load_customer

        key = self.customer_id  # type: ignore[attr-defined]
        return None if key is None else await load_customer(info.context, key)  # type: ignore[return-value]

    @strawberry.field(description="Its state changes, oldest first.")
    async def history(self, info: Info) -> list[AlarmStateChange]:
        return [
            AlarmStateChange(
                state=e.state, at=e.created_at, actor=e.actor or None, comment=e.comment or None
            )
            for e in await resolve.alarm_history(info.context, self)  # type: ignore[arg-type]
        ]


@strawberry.type(description="A built-in alarm rule as the provider has tuned it.")
class AlarmRuleSetting:
    rule: AlarmRule = strawberry.field(description="The rule.")
    enabled: bool = strawberry.field(description="Whether it is evaluated.")
    threshold: float = strawberry.field(description="Its threshold, in `unit`.")
    default_threshold: float = strawberry.field(description="The threshold it ships with.")
    unit: str = strawberry.field(description="runs, hours, percent or days.")


@strawberry.type(description="How many open alarms there are in a state and severity.")
class AlarmCount:
    state: AlarmState = strawberry.field(description="ACTIVE or ACKNOWLEDGED.")
    severity: AlarmSeverity = strawberry.field(description="The severity.")
    count: int = strawberry.field(description="How many.")


@strawberry.input(description="Which alarms to list; all conditions must hold.")
class AlarmFilter:
    customer_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only this customer's alarms."
    )
    states: list[AlarmState] | None = strawberry.field(
        default=None, description="Only alarms in these states."
    )
    severities: list[AlarmSeverity] | None = strawberry.field(
        default=None, description="Only alarms of these severities."
    )
    rules: list[AlarmRule] | None = strawberry.field(
        default=None, description="Only alarms raised by these rules."
    )


def _ref(gid: relay.GlobalID) -> Ref:
    return Ref(gid.type_name, gid.node_id)


def _filter(flt: AlarmFilter) -> Filter:
    return Filter(
        customer_id=None if flt.customer_id is None else key_of(_ref(flt.customer_id), "Customer"),
        states=tuple(flt.states or ()),
        severities=tuple(flt.severities or ()),
        rules=tuple(flt.rules or ()),
    )


def _setting(s: resolve.RuleSetting) -> AlarmRuleSetting:
    return AlarmRuleSetting(
        rule=s.rule,
        enabled=s.enabled,
        threshold=s.threshold,
        default_threshold=s.default_threshold,
        unit=s.unit,
    )


@strawberry.type
class AlarmQueries:
    @strawberry.field(
        description="Alarms, newest first: the provider's and its customers', or "
        "only a customer's for a caller limited to it."
    )
    async def alarms(
        self,
        info: Info,
        filter: Annotated[
            AlarmFilter | None, strawberry.argument(description="Which alarms to list.")
        ] = None,
        first: FIRST = None,
        after: AFTER = None,
        last: LAST = None,
        before: BEFORE = None,
    ) -> Connection[Alarm]:
        page = await resolve.list_alarms(
            info.context,
            _filter(filter or AlarmFilter()),
            page_args(info, first, after, last, before),
        )
        return Connection[Alarm](page=page)

    @strawberry.field(description="The built-in alarm rules with the provider's thresholds.")
    async def alarm_rules(self, info: Info) -> list[AlarmRuleSetting]:
        return [_setting(s) for s in await resolve.list_rules(info.context)]


async def open_alarm_counts(info: Info) -> list[AlarmCount]:
    """The dashboard's count of open alarms, per state and severity."""
    return [
        AlarmCount(state=c.state, severity=c.severity, count=c.count)
        for c in await resolve.open_counts(info.context)
    ]


@strawberry.input(description="The alarm to acknowledge.")
class AlarmAcknowledgeInput:
    id: relay.GlobalID = strawberry.field(description="The active alarm.")
    comment: str = strawberry.field(default="", description="A note (up to 1000 characters).")


@strawberry.input(description="The alarm to resolve by hand.")
class AlarmResolveInput:
    id: relay.GlobalID = strawberry.field(description="The open alarm.")
    comment: str = strawberry.field(default="", description="A note (up to 1000 characters).")


@strawberry.input(description="Changes to an alarm rule; omitted fields are left as they are.")
class AlarmRuleUpdateInput:
    rule: AlarmRule = strawberry.field(description="The rule.")
    enabled: bool | None = strawberry.field(default=None, description="Evaluate it or not.")
    threshold: float | None = strawberry.field(default=None, description="Its new threshold.")


@strawberry.type(description="The result of `alarmAcknowledge` or `alarmResolve`.")
class AlarmPayload(Payload):
    alarm: Alarm | None = strawberry.field(description="The changed alarm.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


@strawberry.type(description="The result of `alarmRuleUpdate`.")
class AlarmRuleUpdatePayload(Payload):
    setting: AlarmRuleSetting | None = strawberry.field(description="The rule as it is now.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")

    @classmethod
    def done(cls, result: resolve.RuleSetting) -> AlarmRuleUpdatePayload:
        return cls(setting=_setting(result), user_errors=[])


@strawberry.type
class AlarmMutations:
    @strawberry.mutation(
        description="Take an active alarm on: it is no longer notified again. Needs "
        "BACKUP_MANAGEMENT."
    )
    async def alarm_acknowledge(
        self,
        info: Info,
        input: Annotated[AlarmAcknowledgeInput, strawberry.argument(description="The alarm.")],
    ) -> AlarmPayload:
        from .mutations import run_mutation

        return await run_mutation(
            info,
            AlarmPayload,
            lambda: resolve.acknowledge(info.context, _ref(input.id), input.comment),
        )

    @strawberry.mutation(
        description="Resolve an open alarm by hand (it is raised again if its condition still "
        "holds at the next evaluation). Needs BACKUP_MANAGEMENT."
    )
    async def alarm_resolve(
        self,
        info: Info,
        input: Annotated[AlarmResolveInput, strawberry.argument(description="The alarm.")],
    ) -> AlarmPayload:
        from .mutations import run_mutation

        return await run_mutation(
            info, AlarmPayload, lambda: resolve.resolve(info.context, _ref(input.id), input.comment)
        )

    @strawberry.mutation(description="Tune or turn off an alarm rule. Needs SITE_SETTINGS.")
    async def alarm_rule_update(
        self,
        info: Info,
        input: Annotated[AlarmRuleUpdateInput, strawberry.argument(description="The changes.")],
    ) -> AlarmRuleUpdatePayload:
        from .mutations import run_mutation

        return await run_mutation(
            info,
            AlarmRuleUpdatePayload,
            lambda: resolve.update_rule(info.context, input.rule, input.enabled, input.threshold),
            target=("AlarmRuleSetting", input.rule.value),
        )


async def watch_alarm_updates(info: Info) -> AsyncGenerator[Alarm, None]:
    async for alarm in resolve.watch_alarms(info.context):
        yield alarm  # type: ignore[misc]
