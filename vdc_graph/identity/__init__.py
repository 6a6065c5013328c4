"""The Microsoft identity platform: the device-code login and the directory of a connected
tenant, behind an interface.

The built-in simulator stands in for Microsoft Entra ID: it issues device codes and completes a
login when told to (``vdc-graph complete-device-login`` or, in development, the
``onboardingSimulateDeviceLogin`` mutation). A real Entra connector implements ``DeviceLogin``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vdc_graph.settings import Settings

from .device_login import DeviceCode, DeviceLogin, LoginOutcome, LoginState
from .directory import DirectoryObject, TenantDirectory, build_directory, default_user_count
from .simulator import SimulatedDeviceLogin

if TYPE_CHECKING:
    from vdc_graph.db.models import Customer


def device_login(settings: Settings) -> DeviceLogin:
    if settings.identity_platform == "simulated":
        return SimulatedDeviceLogin(settings)
    raise ValueError(f"unknown identity platform {settings.identity_platform!r}")


async def tenant_directory(settings: Settings, customer: Customer) -> TenantDirectory:
    """What the customer's tenant contains (users, groups, sites, teams).

    Call it for a customer whose tenant is connected; the simulated platform sizes the tenant
    as its administrator chose at sign-in, or from the tenant itself."""
    from vdc_graph.db.models import SimulatedTenant

    if settings.identity_platform != "simulated":
        raise ValueError(f"unknown identity platform {settings.identity_platform!r}")
    tenant = customer.microsoft_tenant_id or customer.m365_account or str(customer.id)
    chosen = None
    if customer.microsoft_tenant_id:
        chosen = await SimulatedTenant.get_or_none(tenant_id=customer.microsoft_tenant_id)
    seed = settings.engine_seed
    users = chosen.user_count if chosen is not None else default_user_count(seed, tenant)
    return build_directory(seed, tenant, customer.m365_account, users)


__all__ = [
    "DeviceCode",
    "DeviceLogin",
    "DirectoryObject",
    "LoginOutcome",
    "LoginState",
    "TenantDirectory",
    "device_login",
    "tenant_directory",
]
