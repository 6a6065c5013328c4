"""The built-in engine: a simulator of Microsoft 365 backup.

It produces sessions like the product's: queued, then running with progress, per-service
counts, processed objects, transferred bytes and a log (``Job started at: …``, ``Found N
objects``, ``Found N excluded objects``, one line per processed object with warnings and
failures at the configured rates, ``Transferred: …``, ``Job finished at: …``). A run is
deterministic for the engine's seed, the policy and its run number; ``engine_step_seconds`` sets
the pace. A customer whose tenant is not connected ends DISCONNECTED; a stop request ends the
session STOPPED at the next step (at once when the stop reaches this process).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass, field
from uuid import UUID

from vdc_graph import clock
from vdc_graph.db.models import BackupPolicy, BackupSession, Customer, Onboarding
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
from vdc_graph.settings import Settings

from .runs import Entry, append, finish

log = logging.getLogger("vdc_graph.engine")

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


@dataclass(frozen=True)
class BackupItem:
    type: BackupObjectType
    name: str
    address: str = ""

    def service(self) -> str:
        """The service whose messages describe this object's problems."""
        return {
            BackupObjectType.USER: "EXCHANGE",
            BackupObjectType.GROUP: "EXCHANGE",
            BackupObjectType.SITE: "SHAREPOINT",
            BackupObjectType.TEAM: "TEAMS",
        }[self.type]

    def label(self) -> str:
        kind = self.type.value.lower()
        return f"Processing {kind}: {self.name}" + (f" ({self.address})" if self.address else "")


def _organization(rng: random.Random, domain: str, services: set[M365Service]) -> list[BackupItem]:
    """The objects of a whole tenant, as the simulator discovers them."""
    items = []
    for _ in range(rng.randint(4, 10)):
        first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
        address = f"{first}.{last}@{domain}".lower()
        items.append(BackupItem(BackupObjectType.USER, f"{first} {last}", address))
    if M365Service.ONEDRIVE_SHAREPOINT in services:
        for site in rng.sample(names.SITES, 2):
            items.append(BackupItem(BackupObjectType.SITE, site))
    if M365Service.TEAMS in services:
        items.append(BackupItem(BackupObjectType.TEAM, rng.choice(names.TEAMS)))
    return items


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

    async def _stopping(self, session: BackupSession, run: _Run) -> bool:
        """Wait one step; True when a stop was asked (here or, through the row, elsewhere)."""
        if not run.stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(run.stop.wait(), self.settings.engine_step_seconds)
        if run.stop.is_set():
            return True
        return await BackupSession.filter(id=session.id, stop_requested=True).exists()

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
        items, excluded = self._discover(rng, policy, customer, services)
        counts = {
            s.value: {"total": 0, "success": 0, "warning": 0, "error": 0} for s in SessionService
        }
        await append(
            session,
            [
                (
                    LogStatus.INFO,
                    f"Connecting to Microsoft 365 organization: "
                    f"{customer.m365_account or customer.display_name}",
                ),
                (LogStatus.INFO, f"Found {len(items)} objects"),
                (LogStatus.INFO, f"Found {excluded} excluded objects"),
            ],
        )
        warnings = failures = 0
        for index, item in enumerate(items, start=1):
            if await self._stopping(session, run):
                await finish(session, SessionStatus.STOPPED, self._stopped_entries(session))
                return
            outcome = rng.random()
            size = rng.randint(200 * 1024, 800 * 1024 * 1024)
            item_count = rng.randint(0, 5000)
            entries: list[Entry] = [(LogStatus.INFO, item.label())]
            result = "success"
            if outcome < self.settings.engine_failure_rate:
                failures += 1
                result = "error"
                size, item_count = 0, 0
                template = rng.choice(names.FAILURE_MESSAGES[item.service()])
                entries.append((LogStatus.FAILED, template.format(name=item.name)))
            elif outcome < self.settings.engine_failure_rate + self.settings.engine_warning_rate:
                warnings += 1
                result = "warning"
                template = rng.choice(names.WARNING_MESSAGES[item.service()])
                entries.append((LogStatus.WARNING, template.format(name=item.name)))
            else:
                entries.append(
                    (
                        LogStatus.SUCCESS,
                        f"Processed {item.name}: {item_count} items, {human_bytes(size)}",
                    )
                )
            for service, counted in _SERVICES_OF[item.type].items():
                if service in services:
                    counts[counted.value]["total"] += 1
                    counts[counted.value][result] += 1
            await append(
                session,
                entries,
                progress=int(index * 100 / len(items)),
                processed_objects=index,
                transferred_bytes=session.transferred_bytes + size,
                transferred_items=session.transferred_items + item_count,
                service_counts={k: dict(v) for k, v in counts.items() if v["total"]},
            )
        status = (
            SessionStatus.FAILED
            if failures
            else SessionStatus.WARNING
            if warnings
            else SessionStatus.SUCCESS
        )
        await finish(session, status, self._closing_entries(session))

    def _discover(
        self,
        rng: random.Random,
        policy: BackupPolicy,
        customer: Customer,
        services: set[M365Service],
    ) -> tuple[list[BackupItem], int]:
        excluded_names = {o["name"] for o in policy.excluded_objects}
        if policy.backup_type is BackupType.ENTIRE_ORGANIZATION:
            found = _organization(rng, customer.m365_account or "tenant.example", services)
        else:
            found = [
                BackupItem(
                    BackupObjectType(o["type"]),
                    o["name"],
                    o["externalId"] if "@" in o["externalId"] else "",
                )
                for o in policy.selected_objects
            ]
        items = [i for i in found if i.name not in excluded_names]
        return items, len(policy.excluded_objects)

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
