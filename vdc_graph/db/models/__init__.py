"""Every Tortoise model, one module per domain; Tortoise discovers them here."""

from .access import ApiKey, PortalUser, Role, ServiceProvider
from .backup import BackupPolicy, BackupSession, Restore, SessionLogRecord
from .customers import (
    Customer,
    CustomerAdminUser,
    Invitation,
    IpRange,
    LicensedUser,
    LicensedUsersMonth,
    NotificationContact,
    OffboardingRequest,
    Onboarding,
    Subscription,
)
from .platform import (
    AuditRecord,
    ClusterLease,
    IdempotencyRecord,
    MaintenanceWindow,
    OutboxMessage,
    RateBucket,
    ServiceStatus,
    SimulatedDeviceLogin,
    Webhook,
    WebhookDelivery,
)
from .usage import SoftwareUsage, UsageReport, UsageReportSaasLine, UsageReportSoftwareLine

__all__ = [
    "ApiKey",
    "AuditRecord",
    "BackupPolicy",
    "BackupSession",
    "ClusterLease",
    "Customer",
    "CustomerAdminUser",
    "IdempotencyRecord",
    "Invitation",
    "IpRange",
    "LicensedUser",
    "LicensedUsersMonth",
    "MaintenanceWindow",
    "NotificationContact",
    "OffboardingRequest",
    "Onboarding",
    "OutboxMessage",
    "PortalUser",
    "RateBucket",
    "Restore",
    "Role",
    "ServiceProvider",
    "ServiceStatus",
    "SessionLogRecord",
    "SimulatedDeviceLogin",
    "SoftwareUsage",
    "Subscription",
    "UsageReport",
    "UsageReportSaasLine",
    "UsageReportSoftwareLine",
    "Webhook",
    "WebhookDelivery",
]
