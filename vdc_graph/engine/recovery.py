"""Who runs a session: one process at a time, under a lease it renews while the session runs.

A process claims a queued session with a conditional update (``owner`` unset), renews the
lease of every session it runs every third of ``lease_seconds``, and never touches a session
whose lease is alive. When an owner dies (kill -9, a lost host), its leases lapse and any
process takes its sessions over: a session that never began runs there; one that was running
ends FAILED with a log line that says why (its progress lived in the dead process). So a
session is taken over at most ``lease_seconds`` plus one renewal tick after its owner died.
On a graceful shutdown a process ends what it runs (and hands back what never began) at once.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from uuid import UUID

from tortoise.expressions import Q

from vdc_graph import clock
from vdc_graph.cluster import PROCESS_ID
from vdc_graph.db.models import BackupSession
from vdc_graph.enums import LogStatus, SessionStatus

from .base import BackupEngine
from .runs import finish

log = logging.getLogger("vdc_graph.engine.recovery")

ACTIVE = (SessionStatus.QUEUED, SessionStatus.RUNNING)
_AFTER = "The next scheduled run (or a manual start) backs up the remaining data."
TAKEN_OVER = (
    "The job was interrupted: the server process running it ({owner}) stopped renewing its "
    "claim, so {me} ended the job. " + _AFTER
)
SHUT_DOWN = "The job was interrupted: the server process running it ({me}) shut down. " + _AFTER


class OwnedEngine:
    """The process's engine, running only the sessions this process holds the lease of."""

    def __init__(self, inner: BackupEngine, lease_seconds: float) -> None:
        self.inner = inner
        self.lease = timedelta(seconds=lease_seconds)
        self._owned: set[UUID] = set()

    def is_running(self, session_id: UUID) -> bool:
        return self.inner.is_running(session_id)

    async def stop(self, session_id: UUID) -> None:
        await self.inner.stop(session_id)

    async def abandon(self, session_id: UUID) -> None:
        await self.inner.abandon(session_id)

    async def start(self, session_id: UUID) -> None:
        """Run the queued session if no process has claimed it yet."""
        claimed = await BackupSession.filter(
            id=session_id, status=SessionStatus.QUEUED, owner__isnull=True
        ).update(owner=PROCESS_ID, lease_until=clock.now() + self.lease)
        if claimed:
            await self._run(session_id)

    async def _run(self, session_id: UUID) -> None:
        self._owned.add(session_id)
        await self.inner.start(session_id)

    async def keep(self) -> None:
        """One round: renew what this process runs, then take over lapsed sessions."""
        await self.renew()
        await self.take_over()

    async def renew(self) -> None:
        running = [s for s in self._owned if self.inner.is_running(s)]
        self._owned.intersection_update(running)
        if not running:
            return
        await BackupSession.filter(id__in=running, owner=PROCESS_ID, status__in=ACTIVE).update(
            lease_until=clock.now() + self.lease
        )
        taken = await BackupSession.filter(id__in=running, status__in=ACTIVE).exclude(
            owner=PROCESS_ID
        )
        for lost in (s.id for s in taken):
            # Taken over while this process did not renew (it was paused): stop writing.
            log.warning("session %s was taken over by another process; abandoning it", lost)
            self._owned.discard(lost)
            await self.inner.abandon(lost)

    async def take_over(self) -> int:
        """Claim the active sessions whose lease lapsed (or that nobody ever claimed); returns
        how many were taken over."""
        now = clock.now()
        never_claimed = Q(lease_until__isnull=True, created_at__lt=now - self.lease)
        lapsed = Q(lease_until__lt=now) | never_claimed
        taken = 0
        for session in await BackupSession.filter(lapsed, status__in=ACTIVE).order_by("created_at"):
            claimed = await BackupSession.filter(lapsed, id=session.id, status__in=ACTIVE).update(
                owner=PROCESS_ID, lease_until=now + self.lease
            )
            if not claimed:
                continue  # another process was first
            taken += 1
            fresh = await BackupSession.get(id=session.id)
            if fresh.status is SessionStatus.QUEUED:
                log.info("running session %s, which %s never began", fresh.id, session.owner)
                await self._run(fresh.id)
                continue
            log.warning("ending session %s: its owner %s stopped renewing", fresh.id, session.owner)
            owner = session.owner or "a previous server process"
            await finish(
                fresh,
                SessionStatus.FAILED,
                [(LogStatus.FAILED, TAKEN_OVER.format(owner=owner, me=PROCESS_ID))],
            )
        return taken

    async def shutdown(self) -> None:
        """End the sessions this process runs; hand back those that never began."""
        for session_id in list(self._owned):
            await self.inner.abandon(session_id)
            self._owned.discard(session_id)
            session = await BackupSession.get_or_none(
                id=session_id, owner=PROCESS_ID, status__in=ACTIVE
            )
            if session is None:
                continue
            if session.status is SessionStatus.QUEUED:
                # Lapsed at once: the next process's round runs it.
                await BackupSession.filter(id=session_id, owner=PROCESS_ID).update(
                    owner=None, lease_until=clock.now()
                )
                continue
            await finish(
                session,
                SessionStatus.FAILED,
                [(LogStatus.FAILED, SHUT_DOWN.format(me=PROCESS_ID))],
            )
