"""Service status queries: platform-wide rows (not tenant data), read by every caller."""

from __future__ import annotations

from datetime import datetime

from vdc_graph.db.models import MaintenanceWindow, ServiceStatus
from vdc_graph.enums import Region


async def statuses(regions: list[Region]) -> list[ServiceStatus]:
    return await ServiceStatus.filter(region__in=regions)


async def open_windows(regions: list[Region], now: datetime) -> list[MaintenanceWindow]:
    """Maintenance windows that have not ended yet, soonest first."""
    return await MaintenanceWindow.filter(region__in=regions, ends_at__gt=now).order_by(
        "starts_at", "id"
    )
