"""Work the server runs beside requests for as long as it lives (outbox, scheduler, …)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from vdc_graph import clock
from vdc_graph.engine import engine_for
from vdc_graph.engine.recovery import fail_interrupted
from vdc_graph.engine.scheduler import Scheduler
from vdc_graph.notify.deliverers import deliverers
from vdc_graph.notify.outbox import OutboxWorker
from vdc_graph.settings import Settings

Job = Callable[[], Awaitable[None]]


def backup_engine_job(settings: Settings) -> Job:
    """Fail what a previous process left running, then run the scheduler."""
    started = clock.now()

    async def run() -> None:
        await fail_interrupted(engine_for(settings), before=started)
        await Scheduler(settings).run_forever()

    return run


def background_jobs(settings: Settings) -> list[Job]:
    jobs: list[Job] = [backup_engine_job(settings)]
    outbox = deliverers(settings)
    if outbox:
        jobs.append(OutboxWorker(outbox).run_forever)
    return jobs
