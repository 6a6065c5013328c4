"""Every Tortoise model, one module per domain; Tortoise discovers them here."""

from .access import ApiKey, PortalUser, Role, ServiceProvider
from .alarms import Alarm, AlarmEvent, AlarmRuleSetting, StorageSample
from .approvals import Approval, ApprovalSetting
from .backup import BackupPolicy, BackupSession, ProtectedObject, Restore, SessionLogRecord
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
    IdempotencyRecord,
    MaintenanceWindow,
    OutboxMessage,
    ServiceStatus,
    SimulatedDeviceLogin,
    SimulatedTenant,
    Webhook,
    WebhookDelivery,
)
from .usage import SoftwareUsage, UsageReport, UsageReportSaasLine, UsageReportSoftwareLine

__all__ = [
    "Alarm",
    "AlarmEvent",
    "AlarmRuleSetting",
    "ApiKey",
    "Approval",
    "ApprovalSetting",
    "AuditRecord",
    "BackupPolicy",
    "BackupSession",
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
    "ProtectedObject",
    "Restore",
    "Role",
    "ServiceProvider",
    "ServiceStatus",
    "SessionLogRecord",
    "SimulatedDeviceLogin",
    "SimulatedTenant",
    "SoftwareUsage",
    "StorageSample",
    "Subscription",
    "UsageReport",
    "UsageReportSaasLine",
    "UsageReportSoftwareLine",
    "Webhook",
    "WebhookDelivery",
]
