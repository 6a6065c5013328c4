"""Service status: the health of every service in every region, and maintenance windows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from vdc_graph import clock
from vdc_graph.context import RequestContext
from vdc_graph.db.models import MaintenanceWindow, ServiceStatus
from vdc_graph.db.queries import status as queries
from vdc_graph.enums import Region, ServiceHealth, ServiceName

from .access import reading


@dataclass
class ServiceState:
    service: ServiceName
    region: Region
    health: ServiceHealth
    message: str | None
    updated_at: datetime | None
    maintenance_windows: list[MaintenanceWindow] = field(default_factory=list)


async def service_status(ctx: RequestContext, region: Region | None) -> list[ServiceState]:
    """Every service in ``region`` (or every region); a service with no recorded status is
    operational, and one inside a maintenance window reports MAINTENANCE."""
    reading(ctx)  # any signed-in user with access may read the platform's status
    regions = [region] if region else list(Region)
    now = clock.now()
    recorded = {(s.service, s.region): s for s in await queries.statuses(regions)}
    windows = await queries.open_windows(regions, now)
    states = []
    for r in regions:
        for service in ServiceName:
            row = recorded.get((service, r))
            mine = [w for w in windows if w.service == service and w.region == r]
            health = row.health if row else ServiceHealth.OPERATIONAL
            if health is ServiceHealth.OPERATIONAL and any(w.starts_at <= now for w in mine):
                health = ServiceHealth.MAINTENANCE
            states.append(
                ServiceState(
                    service=service,
                    region=r,
                    health=health,
                    message=row.message if row else None,
                    updated_at=row.updated_at if row else None,
                    maintenance_windows=mine,
                )
            )
    return states


async def set_status(
    service: ServiceName, region: Region, health: ServiceHealth, message: str = ""
) -> ServiceStatus:
    """An operator's change of a service's status (the administrative command line)."""
    row, _ = await ServiceStatus.get_or_create(service=service, region=region)
    row.health = health
    row.message = message.strip()[:500] or None
    row.updated_at = clock.now()
    await row.save()
    return row


async def schedule_maintenance(
    service: ServiceName, region: Region, starts_at: datetime, ends_at: datetime, description: str
) -> MaintenanceWindow:
    if ends_at <= starts_at:
        raise ValueError("a maintenance window must end after it starts")
    return await MaintenanceWindow.create(
        service=service,
        region=region,
        starts_at=starts_at,
        ends_at=ends_at,
        description=description.strip()[:500],
    )
