"""Work the server runs beside requests for as long as it lives (outbox, scheduler, …)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from vdc_graph.notify.deliverers import deliverers
from vdc_graph.notify.outbox import OutboxWorker, RetryPolicy
from vdc_graph.notify.webhook_worker import WebhookWorker
from vdc_graph.settings import Settings
from vdc_graph.usage_reports import keep_reports_generated

Job = Callable[[], Awaitable[None]]


def background_jobs(settings: Settings) -> list[Job]:
    jobs: list[Job] = []
    outbox = deliverers(settings)
    if outbox:
        jobs.append(OutboxWorker(outbox).run_forever)
    jobs.append(webhook_worker(settings).run_forever)
    if settings.usage_report_check_seconds > 0:
        jobs.append(lambda: keep_reports_generated(settings.usage_report_check_seconds))
    return jobs


def webhook_worker(settings: Settings) -> WebhookWorker:
    return WebhookWorker(
        retry=RetryPolicy(
            base_delay=timedelta(seconds=settings.webhook_retry_base_seconds),
            max_attempts=settings.webhook_max_attempts,
        ),
        timeout=settings.webhook_timeout_seconds,
        poll_interval=settings.webhook_poll_seconds,
    )
