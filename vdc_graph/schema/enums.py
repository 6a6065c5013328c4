"""The domain's enumerations as GraphQL enums (one registration each)."""

from __future__ import annotations

import strawberry

from vdc_graph import enums

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
UsageReportStatus = strawberry.enum(
    enums.UsageReportStatus,
    description="Where a monthly usage report stands: PENDING_REVIEW (generated, awaiting the "
    "provider), SAVED (submitted), CONFIRMED (sent to the aggregator), REJECTED (with a reason; "
    "the provider reviews and submits again).",
)
ServiceName = strawberry.enum(enums.ServiceName, description="A service of the platform.")
ServiceHealth = strawberry.enum(enums.ServiceHealth, description="How a service is doing.")
WebhookEvent = strawberry.enum(enums.WebhookEvent, description="An event a webhook can receive.")
DeliveryStatus = strawberry.enum(
    enums.DeliveryStatus,
    description="A delivery's state: PENDING (waiting or retrying), SUCCEEDED, FAILED (gave up).",
)
