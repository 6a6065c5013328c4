"""Service status: every service in every region, maintenance windows, set by an operator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import make_provider, make_user, token_for
from vdc_graph import clock
from vdc_graph.enums import Region, ServiceHealth, ServiceName
from vdc_graph.resolvers.status import schedule_maintenance, set_status

QUERY = """query($region: Region) { serviceStatus(region: $region) {
  service region health message updatedAt
  maintenanceWindows { service region startsAt endsAt description } } }"""

NOW = datetime(2025, 12, 31, 22, 0, tzinfo=UTC)


@pytest.fixture
async def token(db, settings):
    clock.set_clock(lambda: NOW)
    return token_for(settings, await make_user(await make_provider(), []))


async def test_every_service_of_a_region_is_listed_operational_by_default(api, token):
    states = (await api.data(QUERY, {"region": "EMEA"}, token=token))["serviceStatus"]
    assert [s["service"] for s in states] == [s.value for s in ServiceName]
    assert {(s["region"], s["health"], s["message"]) for s in states} == {
        ("EMEA", "OPERATIONAL", None)
    }
    everywhere = (await api.data(QUERY, {}, token=token))["serviceStatus"]
    assert len(everywhere) == len(ServiceName) * len(Region) == 21


async def test_a_status_set_by_an_operator_and_maintenance_windows_are_shown(api, token):
    await set_status(ServiceName.TEAMS_BACKUP, Region.APJ, ServiceHealth.DEGRADED, "Slow API")
    await schedule_maintenance(  # under way: the service reports MAINTENANCE
        ServiceName.RESTORE, Region.APJ, NOW - timedelta(hours=1), NOW + timedelta(hours=1), "Now"
    )
    await schedule_maintenance(  # upcoming, across the year boundary
        ServiceName.TEAMS_BACKUP,
        Region.APJ,
        NOW + timedelta(hours=3),
        NOW + timedelta(hours=5),
        "New year upgrade",
    )
    await schedule_maintenance(  # over: not shown
        ServiceName.SSO, Region.APJ, NOW - timedelta(days=2), NOW - timedelta(days=1), "Old"
    )
    await schedule_maintenance(  # another region
        ServiceName.SSO, Region.AMER, NOW, NOW + timedelta(hours=1), "Elsewhere"
    )
    states = {
        s["service"]: s
        for s in (await api.data(QUERY, {"region": "APJ"}, token=token))["serviceStatus"]
    }
    teams = states["TEAMS_BACKUP"]
    assert teams["health"] == "DEGRADED" and teams["message"] == "Slow API"
    assert teams["updatedAt"] == "2025-12-31T22:00:00Z"
    assert teams["maintenanceWindows"] == [
        {
            "service": "TEAMS_BACKUP",
            "region": "APJ",
            "startsAt": "2026-01-01T01:00:00Z",
            "endsAt": "2026-01-01T03:00:00Z",
            "description": "New year upgrade",
        }
    ]
    assert states["RESTORE"]["health"] == "MAINTENANCE"
    assert states["SSO"]["health"] == "OPERATIONAL" and states["SSO"]["maintenanceWindows"] == []


async def test_service_status_needs_a_signed_in_user(api, db):
    response = await api.post(QUERY, {})
    assert response.status_code == 401
