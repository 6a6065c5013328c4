"""Work the server runs beside requests for as long as it lives (outbox, scheduler, …)."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from vdc_graph import clock, licensing
from vdc_graph.alarms.evaluate import evaluate_alarms
from vdc_graph.approvals.holding import expire_overdue
from vdc_graph.engine import engine_for
from vdc_graph.engine.recovery import fail_interrupted
from vdc_graph.engine.scheduler import Scheduler
from vdc_graph.http.idempotency import forget_expired
from vdc_graph.notify.deliverers import deliverers
from vdc_graph.notify.outbox import OutboxWorker, RetryPolicy
from vdc_graph.notify.webhook_worker import WebhookWorker
from vdc_graph.resolvers.offboarding import complete_due
from vdc_graph.settings import Settings
from vdc_graph.usage_reports import keep_reports_generated

Job = Callable[[], Awaitable[None]]
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
    """Fail what a previous process left running, then run the scheduler."""
    started = clock.now()

    async def run() -> None:
        try:
            await fail_interrupted(engine_for(settings), before=started)
        except Exception:  # the scheduler must run even when recovery could not
            log.exception("could not fail the sessions a previous process left running")
        await Scheduler(settings).run_forever()

    return run


def background_jobs(settings: Settings) -> list[Job]:
    jobs: list[Job] = [
        every(3600, forget_expired),
        every(60, expire_overdue),
        backup_engine_job(settings),
    ]
    outbox = deliverers(settings)
    if outbox:
        jobs.append(OutboxWorker(outbox).run_forever)
    jobs.append(webhook_worker(settings).run_forever)
    if settings.licence_refresh_seconds > 0:
        refresh = functools.partial(licensing.refresh_customers, settings.engine_seed)
        jobs.append(every(settings.licence_refresh_seconds, refresh))
    if settings.offboarding_check_seconds > 0:
        jobs.append(every(settings.offboarding_check_seconds, complete_due))
    if settings.usage_report_check_seconds > 0:
        jobs.append(lambda: keep_reports_generated(settings.usage_report_check_seconds))
    if settings.alarm_check_seconds > 0:
        alarms = functools.partial(evaluate_alarms, settings.alarm_renotify_hours)
        jobs.append(every(settings.alarm_check_seconds, alarms))
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
