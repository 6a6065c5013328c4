"""What the backup tests share: fast engine settings, connected customers, waiting for sessions."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from strawberry.relay import to_base64

from tests.factories import make_customer
from vdc_graph import clock
from vdc_graph.db.models import (
    BackupPolicy,
    BackupSession,
    Customer,
    Onboarding,
    SimulatedTenant,
)
from vdc_graph.enums import BackupType, OnboardingStep, PolicyStatus, SessionStatus
from vdc_graph.events import broker
from vdc_graph.events.sessions import ENDED
from vdc_graph.settings import Settings


def fast_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "dev_token_secret": "test-secret-" + "x" * 40,
        "state_dir": tmp_path / "state",
        "ws_init_timeout_seconds": 10.0,  # 50 clients on a busy machine take a while to init
        "engine_step_seconds": 0.002,
        "engine_warning_rate": 0.0,
        "engine_failure_rate": 0.0,
        "scheduler_interval_seconds": 3600,
        **overrides,
    }
    return Settings(**values)


def gid(type_name: str, key: Any) -> str:
    return to_base64(type_name, str(key))


async def connected_customer(provider: Any, users: int | None = 8, **fields: Any) -> Customer:
    """A customer whose tenant is connected; its directory has ``users`` users (a small
    tenant, so sessions are quick; ``None``: the size drawn from the tenant)."""
    if users is not None and "microsoft_tenant_id" not in fields:
        fields["microsoft_tenant_id"] = f"tenant-{uuid.uuid4()}"
    customer = await make_customer(provider, **fields)
    if users is not None and not await SimulatedTenant.exists(
        tenant_id=customer.microsoft_tenant_id
    ):
        await SimulatedTenant.create(tenant_id=customer.microsoft_tenant_id, user_count=users)
    await Onboarding.create(
        customer=customer, step=OnboardingStep.FINISHED, tenant_connected_at=clock.now()
    )
    return customer


async def backed_up_customer(provider: Any, **fields: Any) -> Customer:
    """A connected customer with one successful backup behind it (so it may have restores)."""
    customer = await connected_customer(provider, **fields)
    policy = await make_policy(customer, "First backup")
    await BackupSession.create(
        provider_id=customer.provider_id,  # type: ignore[attr-defined]
        customer=customer,
        policy=policy,
        policy_name=policy.name,
        status=SessionStatus.SUCCESS,
        started_at=clock.now(),
        ended_at=clock.now(),
    )
    return customer


async def make_policy(customer: Customer, name: str = "Entire organization", **fields: Any):
    values: dict[str, Any] = {
        "provider_id": customer.provider_id,
        "customer": customer,
        "name": name,
        "name_key": name.lower(),
        "backup_type": BackupType.ENTIRE_ORGANIZATION,
        "services": ["EXCHANGE", "ONEDRIVE_SHAREPOINT", "TEAMS"],
        "last_status": PolicyStatus.NEVER_RUN,
        **fields,
    }
    return await BackupPolicy.create(**values)


# How long a wait may take before it fails the test. A session's run is a few dozen steps, each
# with its own commits, so its length follows the machine's load: a run of about 2 s alone has
# missed a 10 s deadline while the whole suite shared the 2 cores with other work. The deadline
# only detects a hang: a passing wait returns as soon as its condition holds.
DEADLINE = 60.0


async def until(check: Callable[[], Awaitable[Any]], timeout: float = DEADLINE) -> Any:
    """Poll ``check`` until it returns something truthy (fails the test after ``timeout``)."""
    async with asyncio.timeout(timeout):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(0.01)


async def ended(session_id: Any, timeout: float = DEADLINE) -> BackupSession:
    async def check() -> BackupSession | None:
        session = await BackupSession.get(id=session_id)
        return session if session.status in ENDED else None

    return await until(check, timeout)


async def all_ended(timeout: float = DEADLINE) -> None:
    """Wait for every session to end, so no run outlives its test's database."""

    async def check() -> bool:
        return not await BackupSession.filter(status__in=("QUEUED", "RUNNING")).exists()

    await until(check, timeout)


async def subscribed(topic: str, count: int = 1) -> None:
    """Wait until ``count`` live subscriptions listen on ``topic`` (in this process's broker), so
    an event published next reaches them."""

    async def check() -> bool:
        return broker().subscriber_count(topic) >= count

    await until(check)
