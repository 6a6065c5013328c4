"""What several processes share: who this process is, and leases (rights held by one process
at a time, renewed by the holder and taken over by another once they expire).

Leases live in the database, so they hold across hosts on PostgreSQL and across processes on
one SQLite file alike; no cluster protocol of our own beyond a conditional update.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from vdc_graph import clock
from vdc_graph.db.models import ClusterLease
from vdc_graph.settings import Settings

log = logging.getLogger("vdc_graph.cluster")

# Unique per process start: a restarted process is another holder.
PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


async def acquire(name: str, seconds: float, holder: str = PROCESS_ID) -> bool:
    """Take or renew the lease ``name`` for ``seconds``; False when another holder has it."""
    now = clock.now()
    until = now + timedelta(seconds=seconds)
    taken = await ClusterLease.filter(Q(holder=holder) | Q(expires_at__lt=now), name=name).update(
        holder=holder, expires_at=until
    )
    if taken:
        return True
    try:
        await ClusterLease.create(name=name, holder=holder, expires_at=until)
    except IntegrityError:
        return False  # it exists and is someone else's
    return True


async def release(name: str, holder: str = PROCESS_ID) -> None:
    """Give the lease up at once (a graceful shutdown), so another process need not wait."""
    await ClusterLease.filter(name=name, holder=holder).delete()


async def holder_of(name: str) -> str | None:
    lease = await ClusterLease.get_or_none(name=name, expires_at__gte=clock.now())
    return None if lease is None else lease.holder


def leader_only(
    name: str, lease_seconds: float, period: float, task: Callable[[], Awaitable[object]]
) -> Callable[[], Awaitable[None]]:
    """A job running ``task`` every ``period`` seconds in one process of the cluster only: the
    holder of the lease ``name``. The lease is renewed three times per lease period, also
    while ``task`` runs (a long round must not let it lapse); when the holder dies, another
    process takes over within ``lease_seconds`` (plus one renewal tick).
    """
    tick = lease_seconds / 3

    async def job() -> None:
        leading = False

        async def hold() -> None:
            nonlocal leading
            while True:
                try:
                    leading = await acquire(name, lease_seconds)
                except Exception:  # not sure to hold it: do not act as the leader
                    leading = False
                    log.warning("could not renew the lease %s", name)
                await asyncio.sleep(tick)

        holder = asyncio.get_running_loop().create_task(hold())
        try:
            while True:
                if not leading:
                    await asyncio.sleep(min(tick, period))
                    continue
                try:
                    await task()
                except Exception:  # one failed round must not end the job
                    log.exception("%s failed; retrying", name)
                await asyncio.sleep(period)
        finally:
            holder.cancel()
            await asyncio.gather(holder, return_exceptions=True)
            if leading:
                try:
                    await release(name)
                except Exception:  # the lease then expires on its own
                    log.warning("could not release the lease %s", name)

    return job


class SecondProcessRefused(RuntimeError):
    pass


SINGLE_PROCESS = "single-process"


@asynccontextmanager
async def single_process_guard(settings: Settings) -> AsyncIterator[None]:
    """With the in-memory broker, refuse to run beside another process on the same database:
    its subscribers would never hear of this process's sessions."""
    if settings.broker_crosses_processes:
        yield
        return
    lease = settings.lease_seconds
    if not await acquire(SINGLE_PROCESS, lease):
        holder = await holder_of(SINGLE_PROCESS)
        raise SecondProcessRefused(
            f"another vdc-graph process ({holder or 'just stopped'}) serves this database "
            "with the in-memory events broker (VDC_BROKER_URL=memory://), which reaches one "
            "process only; set VDC_BROKER_URL to redis://… or postgres://… to run several "
            f"processes (a crashed process's claim lapses within {lease:g} s)"
        )
    renewal = asyncio.get_running_loop().create_task(_renew(SINGLE_PROCESS, lease))
    try:
        yield
    finally:
        renewal.cancel()
        await asyncio.gather(renewal, return_exceptions=True)
        try:
            await release(SINGLE_PROCESS)
        except Exception:  # the claim then lapses on its own
            log.warning("could not release the single-process claim")


async def _renew(name: str, seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds / 3)
        try:
            await acquire(name, seconds)
        except Exception:  # a database hiccup: try again next round
            log.warning("could not renew the lease %s", name)
