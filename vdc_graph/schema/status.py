"""``serviceStatus(region)``: how each service of the platform is doing, per region."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from vdc_graph.resolvers import status as resolve

from .enums import Region, ServiceHealth, ServiceName


@strawberry.type(description="A planned interruption of a service in a region.")
class MaintenanceWindow:
    service: ServiceName = strawberry.field(description="The service.")
    region: Region = strawberry.field(description="The region.")
    starts_at: datetime = strawberry.field(description="When it starts.")
    ends_at: datetime = strawberry.field(description="When it ends.")
    description: str = strawberry.field(description="What is done.")


@strawberry.type(description="The status of one service in one region.")
class ServiceStatus:
    service: ServiceName = strawberry.field(description="The service.")
    region: Region = strawberry.field(description="The region.")
    health: ServiceHealth = strawberry.field(
        description="Operational, degraded, outage, or maintenance (also while a maintenance "
        "window is under way)."
    )
    message: str | None = strawberry.field(description="The operators' note; null when none.")
    updated_at: datetime | None = strawberry.field(
        description="When the status was last set; null if it never was."
    )
    maintenance_windows: list[MaintenanceWindow] = strawberry.field(
        description="Current and upcoming maintenance windows, soonest first."
    )


@strawberry.type
class StatusQueries:
    @strawberry.field(
        description="Every service's status in a region (all regions when omitted), with "
        "current and upcoming maintenance windows."
    )
    async def service_status(
        self,
        info: Info,
        region: Annotated[
            Region | None, strawberry.argument(description="Only this region.")
        ] = None,
    ) -> list[ServiceStatus]:
        return await resolve.service_status(info.context, region)  # type: ignore[return-value]
