"""The domain's enumerations as GraphQL enums (one registration each)."""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

import strawberry

from vdc_graph import enums

E = TypeVar("E", bound=type[Enum])


def described(enum: E, description: str, **values: str) -> E:
    """Register ``enum`` with a description for the type and for every one of its values."""
    missing = {member.name for member in enum} - values.keys()
    if missing:
        raise ValueError(f"{enum.__name__}: describe {', '.join(sorted(missing))}")
    registered = strawberry.enum(enum, description=description)
    for value in registered.__strawberry_definition__.values:
        value.description = values[value.name]
    return registered


Permission = strawberry.enum(enums.Permission, description="A right a role grants.")
ContractType = strawberry.enum(
    enums.ContractType, description="The state of a customer's contract; PENDING until onboarded."
)
LicenseModel = strawberry.enum(
    enums.LicenseModel, description="How a customer is billed: per user monthly, or fixed."
)
SourceType = strawberry.enum(
    enums.SourceType, description="The licensing system a customer came from."
)
Region = strawberry.enum(enums.Region, description="A storage region.")
AddedBy = strawberry.enum(enums.AddedBy, description="Who added an IP range.")
ContactKind = strawberry.enum(
    enums.ContactKind, description="How a notification contact is reached."
)
NotificationTopic = strawberry.enum(
    enums.NotificationTopic, description="What a notification is about."
)
M365Service = strawberry.enum(enums.M365Service, description="A Microsoft 365 service to protect.")
OnboardingStep = strawberry.enum(
    enums.OnboardingStep, description="Where a customer is in managed onboarding."
)
SubscriptionPlan = strawberry.enum(enums.SubscriptionPlan, description="A VDC subscription plan.")
UsageReportStatus = described(
    enums.UsageReportStatus,
    "Where a monthly usage report stands.",
    PENDING_REVIEW="Generated; waiting for the provider to review and submit it.",
    SAVED="Submitted by the provider.",
    CONFIRMED="Sent to the aggregator.",
    REJECTED="Rejected by the aggregator with a reason; the provider reviews and submits again.",
)
ServiceName = described(
    enums.ServiceName,
    "A service of the platform.",
    SSO="Sign-in to the portals.",
    EXCHANGE_BACKUP="Backup of Exchange Online mailboxes.",
    SHAREPOINT_BACKUP="Backup of SharePoint sites.",
    ONEDRIVE_BACKUP="Backup of OneDrive accounts.",
    TEAMS_BACKUP="Backup of Microsoft Teams.",
    BACKUP_STORAGE="The storage backups are kept in.",
    RESTORE="Restores of backed-up data.",
)
ServiceHealth = described(
    enums.ServiceHealth,
    "How a service is doing.",
    OPERATIONAL="Working normally.",
    DEGRADED="Working, but slower or with some errors.",
    OUTAGE="Not working.",
    MAINTENANCE="Under planned maintenance.",
)
WebhookEvent = described(
    enums.WebhookEvent,
    "An event a webhook can receive.",
    SESSION_FINISHED="A backup session ended (success, warning or stopped).",
    SESSION_FAILED="A backup session failed.",
    RESTORE_ACTIVITY="A restore was requested or changed state.",
    CUSTOMER_ONBOARDED="A customer finished onboarding.",
    LICENSE_CHANGE="Licences changed, such as a customer registered by the licensing system.",
    USAGE_REPORT_STATUS="A usage report changed status.",
)
DeliveryStatus = described(
    enums.DeliveryStatus,
    "Where a webhook delivery stands.",
    PENDING="Waiting for its first attempt or for a retry.",
    SUCCEEDED="The receiver answered 2xx.",
    FAILED="Every attempt failed; it is not retried (redeliver it by hand).",
)
