"""A simulated Microsoft identity platform: device codes kept in the database, so a login
can be completed from another process (the command line) or by a development-only mutation."""

from __future__ import annotations

import secrets
import string
import uuid
from datetime import timedelta

from vdc_graph import clock
from vdc_graph.db.models import SimulatedDeviceLogin as PendingLogin
from vdc_graph.db.models import SimulatedTenant
from vdc_graph.settings import Settings

from .device_login import DeviceCode, LoginOutcome, LoginState

VERIFICATION_URL = "https://microsoft.com/devicelogin"
_USER_CODE_ALPHABET = string.ascii_uppercase + string.digits


MAX_TENANT_USERS = 100_000


class UnknownDeviceLogin(LookupError):
    pass


class SimulatedDeviceLogin:
    def __init__(self, settings: Settings, interval_seconds: int = 5) -> None:
        self.ttl = timedelta(seconds=settings.device_code_ttl_seconds)
        self.interval_seconds = interval_seconds

    async def start(self) -> DeviceCode:
        user_code = "".join(secrets.choice(_USER_CODE_ALPHABET) for _ in range(9))
        login = await PendingLogin.create(
            device_code=secrets.token_urlsafe(48),
            user_code=user_code,
            expires_at=clock.now() + self.ttl,
        )
        return DeviceCode(
            device_code=login.device_code,
            user_code=login.user_code,
            verification_url=VERIFICATION_URL,
            expires_at=login.expires_at,
            interval_seconds=self.interval_seconds,
        )

    async def poll(self, device_code: str) -> LoginOutcome:
        login = await PendingLogin.get_or_none(device_code=device_code)
        if login is None:
            return LoginOutcome(LoginState.EXPIRED)
        if login.approved_at is not None:
            return LoginOutcome(LoginState.COMPLETED, login.tenant_id, login.tenant_domain)
        if login.expires_at <= clock.now():
            return LoginOutcome(LoginState.EXPIRED)
        return LoginOutcome(LoginState.PENDING)


async def complete_login(
    user_code: str,
    tenant_id: str | None = None,
    tenant_domain: str = "",
    users: int | None = None,
) -> PendingLogin:
    """What the Global Administrator does at Microsoft: sign in with the user code.

    ``users`` sets how many users the tenant's directory has (kept for the tenant ID; when
    not given, a tenant signing in for the first time gets a size drawn from itself)."""
    if users is not None and not 0 <= users <= MAX_TENANT_USERS:
        raise ValueError(f"a tenant has between 0 and {MAX_TENANT_USERS} users")
    login = (
        await PendingLogin.filter(
            user_code=user_code.strip().upper(), expires_at__gt=clock.now(), approved_at=None
        )
        .order_by("-created_at")
        .first()
    )
    if login is None:
        raise UnknownDeviceLogin(f"no pending device login with the code {user_code}")
    login.approved_at = clock.now()
    login.tenant_id = tenant_id or str(uuid.uuid4())
    login.tenant_domain = tenant_domain
    await login.save(update_fields=["approved_at", "tenant_id", "tenant_domain"])
    if users is not None:
        await SimulatedTenant.update_or_create(
            tenant_id=login.tenant_id, defaults={"user_count": users}
        )
    return login
