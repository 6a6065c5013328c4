"""Work the server runs beside requests for as long as it lives (outbox, scheduler, …)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from vdc_graph.notify.deliverers import deliverers
from vdc_graph.notify.outbox import OutboxWorker
from vdc_graph.settings import Settings

Job = Callable[[], Awaitable[None]]


def background_jobs(settings: Settings) -> list[Job]:
    jobs: list[Job] = []
    outbox = deliverers(settings)
    if outbox:
        jobs.append(OutboxWorker(outbox).run_forever)
    return jobs
