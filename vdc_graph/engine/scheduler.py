"""The scheduler: enabled policies run every ``schedule_interval_hours`` from their next run.

One process of the cluster runs it (the holder of the ``scheduler`` lease, see
``background``); a due policy is also claimed with a conditional update of its ``next_run``
(so even two schedulers would never start it twice), its next run moves forward by whole
intervals past now, and a session is queued unless one is already active. Disabled policies
(and deleted customers') are skipped.
"""

from __future__ import annotations

import logging
from datetime import datetime

from vdc_graph import clock
from vdc_graph.contracts import INACTIVE
from vdc_graph.db.models import BackupPolicy, BackupSession
from vdc_graph.db.transactions import atomic
from vdc_graph.enums import SessionStatus, SessionTrigger
from vdc_graph.settings import Settings

from .runs import every, queue_session

log = logging.getLogger("vdc_graph.scheduler")


def following_run(next_run: datetime, policy: BackupPolicy, now: datetime) -> datetime:
    step = every(policy)
    while next_run <= now:
        next_run += step
    return next_run


class Scheduler:
    def __init__(self, settings: Settings, batch_size: int = 100) -> None:
        self.settings = settings
        self.batch_size = batch_size

    async def run_once(self) -> int:
        """Start the policies that are due; returns how many sessions were queued."""
        now = clock.now()
        due = (
            await BackupPolicy.filter(
                enabled=True, next_run__lte=now, customer__deleted_at__isnull=True
            )
            # A suspended or expired customer gets no backups; its overdue policies run once
            # its contract is active again.
            .exclude(customer__contract_type__in=list(INACTIVE))
            .order_by("next_run", "id")
            .limit(self.batch_size)
        )
        started = 0
        for policy in due:
            async with atomic():
                claimed = await BackupPolicy.filter(
                    id=policy.id, enabled=True, next_run=policy.next_run
                ).update(next_run=following_run(policy.next_run, policy, now))
                if not claimed:
                    continue  # another process took it, or it changed meanwhile
                active = await BackupSession.filter(
                    policy_id=policy.id,
                    status__in=(SessionStatus.QUEUED, SessionStatus.RUNNING),
                ).exists()
                if active:
                    continue  # still running from the last time: this run is skipped
                await queue_session(self.settings, policy, SessionTrigger.SCHEDULE)
                started += 1
        return started
