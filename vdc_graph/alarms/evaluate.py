"""One evaluation of every provider's alarm rules: raise what newly holds, resolve what
cleared, notify again what stays active and unacknowledged. Run by the background job
(``background.every``), so one process of the cluster does it at a time."""

from __future__ import annotations

import logging
from datetime import timedelta

from vdc_graph import clock
from vdc_graph.db.models import Alarm, AlarmRuleSetting, ServiceProvider
from vdc_graph.db.transactions import atomic
from vdc_graph.enums import AlarmRule, AlarmState

from . import lifecycle
from .rules import RULES

log = logging.getLogger("vdc_graph.alarms")


async def rule_settings(provider_id) -> dict[AlarmRule, tuple[bool, float]]:
    """Each rule's (enabled, threshold) for the provider: its own setting or the default."""
    own = {s.rule: s for s in await AlarmRuleSetting.filter(provider_id=provider_id)}
    return {
        rule: (own[rule].enabled, own[rule].threshold)
        if rule in own
        else (True, spec.default_threshold)
        for rule, spec in RULES.items()
    }


async def evaluate_provider(provider: ServiceProvider, renotify_after: timedelta) -> None:
    now = clock.now()
    settings = await rule_settings(provider.id)
    for rule, spec in RULES.items():
        enabled, threshold = settings[rule]
        holding = {c.key: c for c in await spec.find(provider, threshold, now)} if enabled else {}
        open_alarms = {
            a.open_key: a
            for a in await Alarm.filter(
                provider_id=provider.id, rule=rule, state__in=lifecycle.OPEN
            )
        }
        for key, alarm in open_alarms.items():
            if key not in holding:
                async with atomic():
                    await lifecycle.resolve(alarm)
            elif alarm.state is AlarmState.ACTIVE and now - alarm.notified_at >= renotify_after:  # type: ignore[operator]
                await lifecycle.renotify(alarm)
        for key, condition in holding.items():
            if key not in open_alarms:
                await lifecycle.raise_alarm(provider.id, rule, condition)


async def evaluate_alarms(renotify_hours: float = 24.0) -> None:
    after = timedelta(hours=renotify_hours)
    for provider in await ServiceProvider.all():
        try:
            await evaluate_provider(provider, after)
        except Exception:  # one provider's failure must not stop the others
            log.exception("alarm evaluation failed for provider %s", provider.id)
