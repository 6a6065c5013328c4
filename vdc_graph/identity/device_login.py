"""The device-code flow as the onboarding wizard needs it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


@dataclass(frozen=True)
class DeviceCode:
    device_code: str  # secret: what the service polls with
    user_code: str  # short: what the Global Administrator types at Microsoft
    verification_url: str
    expires_at: datetime
    interval_seconds: int


class LoginState(StrEnum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True)
class LoginOutcome:
    state: LoginState
    tenant_id: str = ""
    tenant_domain: str = ""


class DeviceLogin(Protocol):
    async def start(self) -> DeviceCode:
        """Issue a new device code."""
        ...

    async def poll(self, device_code: str) -> LoginOutcome:
        """Whether the administrator has signed in with this code yet."""
        ...
