"""After a restart: sessions the previous process left queued or running never finish, so they
are marked FAILED with a log line saying why (never left RUNNING forever)."""

from __future__ import annotations

from datetime import datetime

from vdc_graph.db.models import BackupSession
from vdc_graph.enums import LogStatus, SessionStatus

from .base import BackupEngine
from .runs import finish

INTERRUPTED = (
    "The job was interrupted: the backup service restarted while the job was {state}. "
    "The next scheduled run (or a manual start) backs up the remaining data."
)


async def fail_interrupted(engine: BackupEngine, before: datetime) -> int:
    """Fail the sessions created before ``before`` that are queued or running but not run by
    this process's engine; returns how many."""
    stale = await BackupSession.filter(
        status__in=(SessionStatus.QUEUED, SessionStatus.RUNNING), created_at__lt=before
    ).order_by("created_at", "id")
    failed = 0
    for session in stale:
        if engine.is_running(session.id):
            continue
        state = "queued" if session.status is SessionStatus.QUEUED else "running"
        await finish(
            session, SessionStatus.FAILED, [(LogStatus.FAILED, INTERRUPTED.format(state=state))]
        )
        failed += 1
    return failed
