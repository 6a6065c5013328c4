"""The Microsoft identity platform's device-code login, behind an interface.

The built-in simulator stands in for Microsoft Entra ID: it issues device codes and completes a
login when told to (``vdc-graph complete-device-login`` or, in development, the
``onboardingSimulateDeviceLogin`` mutation). A real Entra connector implements ``DeviceLogin``.
"""

from __future__ import annotations

from vdc_graph.settings import Settings

from .device_login import DeviceCode, DeviceLogin, LoginOutcome, LoginState
from .simulator import SimulatedDeviceLogin


def device_login(settings: Settings) -> DeviceLogin:
    if settings.identity_platform == "simulated":
        return SimulatedDeviceLogin(settings)
    raise ValueError(f"unknown identity platform {settings.identity_platform!r}")


__all__ = ["DeviceCode", "DeviceLogin", "LoginOutcome", "LoginState", "device_login"]
