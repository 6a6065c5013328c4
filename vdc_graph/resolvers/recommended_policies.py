"""The recommended backup policies a customer gets when onboarding applies them."""

from __future__ import annotations

from datetime import timedelta

from vdc_graph import clock
from vdc_graph.db.models import BackupPolicy, Customer, Onboarding
from vdc_graph.enums import BackupType, M365Service, PolicyType

ALL_SERVICES = [s.value for s in M365Service]
DEFAULT_INTERVAL_HOURS = 24
# The first run follows onboarding shortly, so the customer sees a result the same day.
FIRST_RUN_DELAY = timedelta(minutes=15)


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate.lower() in taken:
        candidate, n = f"{name} ({n})", n + 1
    return candidate


async def create_recommended_policies(customer: Customer) -> list[BackupPolicy]:
    """One enabled Flex policy per chosen service, protecting the entire organization.

    The services are the onboarding's choice (all when none was made); names are unique within
    the customer even if policies already exist.
    """
    onboarding = await Onboarding.get_or_none(customer_id=customer.id)
    services = (onboarding.services if onboarding else None) or customer.protected_services
    services = [s for s in ALL_SERVICES if s in (services or ALL_SERVICES)]
    taken = set(
        await BackupPolicy.filter(customer_id=customer.id).values_list("name_key", flat=True)
    )
    next_run = clock.now() + FIRST_RUN_DELAY
    created = []
    for service in services:
        name = _unique(f"{_LABELS[service]} - entire organization", taken)
        taken.add(name.lower())
        created.append(
            await BackupPolicy.create(
                provider_id=customer.provider_id,
                customer_id=customer.id,
                name=name,
                name_key=name.lower(),
                backup_type=BackupType.ENTIRE_ORGANIZATION,
                policy_type=PolicyType.FLEX,
                enabled=True,
                services=[service],
                schedule_interval_hours=DEFAULT_INTERVAL_HOURS,
                next_run=next_run,
            )
        )
    return created


_LABELS = {
    M365Service.EXCHANGE.value: "Exchange",
    M365Service.ONEDRIVE_SHAREPOINT.value: "OneDrive and SharePoint",
    M365Service.TEAMS.value: "Teams",
}
