"""The built-in engine: a simulator of Microsoft 365 backup.

It produces sessions like the product's: queued, then running with progress, per-service
counts, processed objects, transferred bytes and a log (``Job started at: …``, ``Found N
objects``, ``Found N excluded objects``, one line per processed object with warnings and
failures at the configured rates, ``Transferred: …``, ``Job finished at: …``). What it backs up
is what the policy selects from the tenant's directory (``vdc_graph.identity``): the whole
organisation, or the selected objects, less the excluded ones; a first backup of an object
transfers all of it, later ones what changed. The session's end records the processed users
and objects for licensing (``vdc_graph.licensing``) in its transaction. A run is
deterministic for the engine's seed, the policy and its run number; ``engine_step_seconds`` sets
the pace. A customer whose tenant is not connected ends DISCONNECTED; a stop request ends the
session STOPPED at the next step (at once when the stop reaches this process).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from uuid import UUID

from vdc_graph import clock, licensing
from vdc_graph.db.models import BackupPolicy, BackupSession, Customer, Onboarding, ProtectedObject
from vdc_graph.demo import names
from vdc_graph.enums import (
    BackupObjectType,
    BackupType,
    ContractType,
    LogStatus,
    M365Service,
    SessionService,
    SessionStatus,
)
from vdc_graph.identity import DirectoryObject, TenantDirectory, tenant_directory
from vdc_graph.settings import Settings

from .runs import Entry, append, finish

log = logging.getLogger("vdc_graph.engine")

# A session's records are written (and announced) at least this often and in batches of at
# most this many: at the default pace every object's are written at once; a fast engine
# writes a batch per transaction instead of a transaction per object.
WRITE_SECONDS = 0.05
WRITE_RECORDS = 1000

_SERVICES_OF = {
    BackupObjectType.USER: {
        M365Service.EXCHANGE: SessionService.EXCHANGE,
        M365Service.ONEDRIVE_SHAREPOINT: SessionService.ONEDRIVE,
    },
    BackupObjectType.GROUP: {M365Service.EXCHANGE: SessionService.EXCHANGE},
    BackupObjectType.SITE: {M365Service.ONEDRIVE_SHAREPOINT: SessionService.SHAREPOINT},
    BackupObjectType.TEAM: {M365Service.TEAMS: SessionService.TEAMS},
}


def human_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if count < 1024 or unit == "TB":
            return f"{count:.1f} {unit}" if unit != "B" else f"{int(count)} B"
        count /= 1024
    return f"{count:.1f} TB"


def _stamp(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") + " UTC"  # type: ignore[attr-defined]


def _label(obj: DirectoryObject) -> str:
    kind = obj.type.value.lower()
    return f"Processing {kind}: {obj.name}" + (f" ({obj.address})" if obj.address else "")


_PROBLEM_SERVICE = {
    BackupObjectType.USER: "EXCHANGE",
    BackupObjectType.GROUP: "EXCHANGE",
    BackupObjectType.SITE: "SHAREPOINT",
    BackupObjectType.TEAM: "TEAMS",
}


def _volume(obj: DirectoryObject, services: set[M365Service]) -> tuple[int, int]:
    """Bytes and items of ``obj`` in the services the policy protects."""
    if obj.type is not BackupObjectType.USER:
        return obj.size_bytes, obj.item_count
    size = items = 0
    if M365Service.EXCHANGE in services:
        size += obj.size_bytes - obj.onedrive_bytes
        items += obj.item_count - obj.onedrive_items
    if M365Service.ONEDRIVE_SHAREPOINT in services:
        size += obj.onedrive_bytes
        items += obj.onedrive_items
    return size, items


def select_objects(
    policy: BackupPolicy, directory: TenantDirectory, services: set[M365Service]
) -> tuple[list[DirectoryObject], list[DirectoryObject], list[str]]:
    """What the policy backs up of the directory: (objects, excluded objects, selected names
    the directory does not have)."""
    if policy.backup_type is BackupType.ENTIRE_ORGANIZATION:
        found = [o for o in directory.objects if set(_SERVICES_OF[o.type]) & services]
        missing: list[str] = []
    else:
        found, missing = [], []
        for wanted in policy.selected_objects:
            kind = BackupObjectType(wanted["type"])
            obj = directory.find(kind, wanted.get("externalId", "")) or directory.find(
                kind, wanted.get("name", "")
            )
            if obj is None:
                missing.append(wanted.get("name") or wanted.get("externalId", ""))
            elif obj not in found:
                found.append(obj)
    excluded_keys = set()
    for o in policy.excluded_objects:
        excluded_keys.update(
            {(o["type"], o.get("externalId", "").lower()), (o["type"], o.get("name", "").lower())}
        )
    excluded = [
        o
        for o in found
        if (o.type.value, o.external_id.lower()) in excluded_keys
        or (o.type.value, o.name.lower()) in excluded_keys
    ]
    return [o for o in found if o not in excluded], excluded, missing


@dataclass
class _Run:
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class SimulatorEngine:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._runs: dict[UUID, _Run] = {}

    def is_running(self, session_id: UUID) -> bool:
        return session_id in self._runs

    async def start(self, session_id: UUID) -> None:
        if session_id in self._runs:
            return
        run = self._runs[session_id] = _Run()
        run.task = asyncio.get_running_loop().create_task(self._run(session_id, run))
        run.task.add_done_callback(lambda _: self._runs.pop(session_id, None))

    async def stop(self, session_id: UUID) -> None:
        run = self._runs.get(session_id)
        if run is not None:
            run.stop.set()

    async def abandon(self, session_id: UUID) -> None:
        run = self._runs.get(session_id)
        if run is not None and run.task is not None:
            run.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run.task

    async def _stopping(self, session: BackupSession, run: _Run, check_row: bool = True) -> bool:
        """Wait one step; True when a stop was asked (here or, with ``check_row``, through the
        row from elsewhere)."""
        step = self.settings.engine_step_seconds
        if step > 0 and not run.stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(run.stop.wait(), step)
        if run.stop.is_set():
            return True
        return check_row and await BackupSession.filter(id=session.id, stop_requested=True).exists()

    async def _run(self, session_id: UUID, run: _Run) -> None:
        session = await BackupSession.get_or_none(id=session_id)
        if session is None or session.status is not SessionStatus.QUEUED:
            return
        try:
            await self._simulate(session, run)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a fault of the run ends the session, never leaves it running
            log.exception("session %s failed", session_id)
            with contextlib.suppress(Exception):
                # As committed: what the failed transaction changed in memory (the next
                # sequence number among it) was rolled back with it.
                session = await BackupSession.get(id=session_id)
                await finish(
                    session,
                    SessionStatus.FAILED,
                    [(LogStatus.FAILED, f"The job failed: {type(exc).__name__}")],
                )

    async def _simulate(self, session: BackupSession, run: _Run) -> None:
        if await self._stopping(session, run):  # still queued
            await finish(session, SessionStatus.STOPPED, self._stopped_entries(session))
            return
        started = clock.now()
        await append(
            session,
            [(LogStatus.INFO, f"Job started at: {_stamp(started)}")],
            status=SessionStatus.RUNNING,
            started_at=started,
        )
        customer = await Customer.get(id=session.customer_id)  # type: ignore[attr-defined]
        if not await _tenant_connected(customer):
            await finish(
                session,
                SessionStatus.DISCONNECTED,
                [
                    (LogStatus.FAILED, names.DISCONNECTED_MESSAGE),
                    (LogStatus.INFO, f"Job finished at: {_stamp(clock.now())}"),
                ],
            )
            return
        policy = await BackupPolicy.get_or_none(id=session.policy_id)  # type: ignore[attr-defined]
        if policy is None:
            await finish(
                session,
                SessionStatus.FAILED,
                [(LogStatus.FAILED, "The policy was deleted before the job could run")],
            )
            return
        run_number = await BackupSession.filter(
            policy_id=policy.id, created_at__lt=session.created_at
        ).count()
        rng = random.Random(
            f"{self.settings.engine_seed}:{customer.m365_account}:{policy.name}:{run_number}"
        )
        services = {M365Service(s) for s in policy.services} or set(M365Service)
        directory = await tenant_directory(self.settings, customer)
        items, excluded, missing = select_objects(policy, directory, services)
        held = {
            (BackupObjectType(kind), key)
            for kind, key in await ProtectedObject.filter(customer_id=customer.id).values_list(
                "type", "external_id"
            )
        }
        counts = {
            s.value: {"total": 0, "success": 0, "warning": 0, "error": 0} for s in SessionService
        }
        opening: list[Entry] = [
            (
                LogStatus.INFO,
                f"Connecting to Microsoft 365 organization: "
                f"{customer.m365_account or customer.display_name}",
            ),
            (LogStatus.INFO, f"Found {len(items)} objects"),
            (LogStatus.INFO, f"Found {len(excluded)} excluded objects"),
        ]
        opening += [
            (LogStatus.WARNING, f"{name} was not found in the organization and is skipped")
            for name in missing
        ]
        await append(session, opening)
        processed = [licensing.Processed(o, "excluded") for o in excluded]

        def ending() -> Callable[[], Awaitable[None]]:
            at = clock.now()
            return lambda: licensing.record_session(
                self.settings.engine_seed, customer.id, processed, at
            )

        warnings, failures = len(missing), 0
        # What the objects processed since the last write produced: written (and announced)
        # together once a write's worth has gathered, so a fast pace writes in batches.
        unwritten: list[Entry] = []
        transferred_bytes, transferred_items_total = 0, 0
        last_write = time.monotonic()

        async def write(done: int) -> None:
            nonlocal unwritten, transferred_bytes, transferred_items_total, last_write
            await append(
                session,
                unwritten,
                progress=int(done * 100 / len(items)),
                processed_objects=done,
                transferred_bytes=session.transferred_bytes + transferred_bytes,
                transferred_items=session.transferred_items + transferred_items_total,
                service_counts={k: dict(v) for k, v in counts.items() if v["total"]},
            )
            unwritten, transferred_bytes, transferred_items_total = [], 0, 0
            last_write = time.monotonic()

        for index, item in enumerate(items, start=1):
            check_row = not unwritten  # the row is read once per write, not once per object
            if await self._stopping(session, run, check_row):
                if unwritten:
                    await write(index - 1)
                await finish(
                    session, SessionStatus.STOPPED, self._stopped_entries(session), ending()
                )
                return
            outcome = rng.random()
            size, item_count = _volume(item, services)
            # A first backup reads everything; later ones only what changed since.
            share = rng.uniform(0.002, 0.03) if (item.type, item.external_id) in held else 1.0
            transferred, transferred_items = int(size * share), int(item_count * share)
            unwritten.append((LogStatus.INFO, _label(item)))
            result = "success"
            if outcome < self.settings.engine_failure_rate:
                failures += 1
                result = "error"
                transferred, transferred_items = 0, 0
                template = rng.choice(names.FAILURE_MESSAGES[_PROBLEM_SERVICE[item.type]])
                unwritten.append((LogStatus.FAILED, template.format(name=item.name)))
            elif outcome < self.settings.engine_failure_rate + self.settings.engine_warning_rate:
                warnings += 1
                result = "warning"
                template = rng.choice(names.WARNING_MESSAGES[_PROBLEM_SERVICE[item.type]])
                unwritten.append((LogStatus.WARNING, template.format(name=item.name)))
            else:
                unwritten.append(
                    (
                        LogStatus.SUCCESS,
                        f"Processed {item.name}: {transferred_items} items, "
                        f"{human_bytes(transferred)}",
                    )
                )
            transferred_bytes += transferred
            transferred_items_total += transferred_items
            processed.append(licensing.Processed(item, result, size, item_count))
            for service, counted in _SERVICES_OF[item.type].items():
                if service in services:
                    counts[counted.value]["total"] += 1
                    counts[counted.value][result] += 1
            paced = self.settings.engine_step_seconds >= WRITE_SECONDS  # each object at once
            due = paced or time.monotonic() - last_write >= WRITE_SECONDS
            if due or len(unwritten) >= WRITE_RECORDS or index == len(items):
                await write(index)
        status = (
            SessionStatus.FAILED
            if failures
            else SessionStatus.WARNING
            if warnings
            else SessionStatus.SUCCESS
        )
        await finish(session, status, self._closing_entries(session), ending())

    def _closing_entries(self, session: BackupSession) -> list[Entry]:
        seconds = max(1.0, (clock.now() - (session.started_at or clock.now())).total_seconds())
        rate = human_bytes(session.transferred_bytes / seconds)
        items_rate = session.transferred_items / seconds
        return [
            (
                LogStatus.INFO,
                f"Transferred: {human_bytes(session.transferred_bytes)} "
                f"({session.transferred_items} items) at {rate}/s ({items_rate:.0f} items/s)",
            ),
            (LogStatus.INFO, f"Job finished at: {_stamp(clock.now())}"),
        ]

    def _stopped_entries(self, session: BackupSession) -> list[Entry]:
        return [
            (LogStatus.WARNING, "The job was stopped at the user's request"),
            *self._closing_entries(session),
        ]


async def _tenant_connected(customer: Customer) -> bool:
    if customer.contract_type is ContractType.PENDING:
        return False
    onboarding = await Onboarding.get_or_none(customer_id=customer.id)
    return onboarding is not None and onboarding.tenant_connected_at is not None
