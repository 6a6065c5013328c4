"""Work the server runs beside requests for as long as it lives (outbox, scheduler, …).

With several processes, what must happen once per cluster (the scheduler, the periodic jobs)
runs in the holder of a lease only; what is claimed row by row (sessions, outbox messages,
webhook deliveries) runs in every process.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from vdc_graph import licensing
from vdc_graph.alarms.evaluate import evaluate_alarms
from vdc_graph.approvals.holding import expire_overdue
from vdc_graph.cluster import leader_only
from vdc_graph.db.sqlite import refresh_planner_statistics
from vdc_graph.engine import engine_for
from vdc_graph.engine.scheduler import Scheduler
from vdc_graph.http.idempotency import forget_expired
from vdc_graph.notify.deliverers import deliverers
from vdc_graph.notify.outbox import OutboxWorker, RetryPolicy
from vdc_graph.notify.webhook_worker import WebhookWorker
from vdc_graph.resolvers.offboarding import complete_due
from vdc_graph.settings import Settings
from vdc_graph.usage_reports import generate_last_months_reports

Job = Callable[[], Awaitable[None]]
# The tables change slowly next to this: statistics a few hours old still describe them.
PLANNER_STATISTICS_SECONDS = 6 * 3600
log = logging.getLogger("vdc_graph.background")


def every(seconds: float, task: Callable[[], Awaitable[object]]) -> Job:
    """A job running ``task`` every ``seconds``; a failure is logged and tried again later."""

    async def job() -> None:
        while True:
            try:
                await task()
            except Exception:  # one failed round must not end the job
                log.exception("background task %s failed", getattr(task, "__name__", task))
            await asyncio.sleep(seconds)

    return job


def backup_engine_job(settings: Settings) -> Job:
    """Renew the leases of this process's sessions and take over those whose owner died."""
    return every(settings.lease_seconds / 3, engine_for(settings).keep)


def background_jobs(settings: Settings) -> list[Job]:
    lease = settings.lease_seconds
    jobs: list[Job] = [
        leader_only("idempotency-cleanup", lease, 3600, forget_expired),
        leader_only("approval-expiry", lease, 60, expire_overdue),
        leader_only(
            "planner-statistics", lease, PLANNER_STATISTICS_SECONDS, refresh_planner_statistics
        ),
        backup_engine_job(settings),
        leader_only(
            "scheduler", lease, settings.scheduler_interval_seconds, Scheduler(settings).run_once
        ),
    ]
    outbox = deliverers(settings)
    if outbox:
        jobs.append(OutboxWorker(outbox).run_forever)
    jobs.append(webhook_worker(settings).run_forever)
    if settings.licence_refresh_seconds > 0:
        refresh = functools.partial(licensing.refresh_customers, settings.engine_seed)
        jobs.append(
            leader_only("licence-refresh", lease, settings.licence_refresh_seconds, refresh)
        )
    if settings.offboarding_check_seconds > 0:
        jobs.append(
            leader_only("offboarding", lease, settings.offboarding_check_seconds, complete_due)
        )
    if settings.usage_report_check_seconds > 0:
        jobs.append(
            leader_only(
                "usage-reports",
                lease,
                settings.usage_report_check_seconds,
                generate_last_months_reports,
            )
        )
    if settings.alarm_check_seconds > 0:
        alarms = functools.partial(evaluate_alarms, settings.alarm_renotify_hours)
        jobs.append(leader_only("alarms", lease, settings.alarm_check_seconds, alarms))
    return jobs


def webhook_worker(settings: Settings) -> WebhookWorker:
    return WebhookWorker(
        retry=RetryPolicy(
            base_delay=timedelta(seconds=settings.webhook_retry_base_seconds),
            max_attempts=settings.webhook_max_attempts,
        ),
        timeout=settings.webhook_timeout_seconds,
        poll_interval=settings.webhook_poll_seconds,
        allowed_networks=tuple(settings.outbound_allowed_networks),
    )
