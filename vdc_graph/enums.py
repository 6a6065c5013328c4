"""The closed vocabularies of the domain, shared by the database, resolvers and schema."""

from enum import StrEnum


class Permission(StrEnum):
    MONITORING_ACCESS = "MONITORING_ACCESS"
    SITE_SETTINGS = "SITE_SETTINGS"
    USER_MANAGEMENT = "USER_MANAGEMENT"
    CUSTOMER_MANAGEMENT = "CUSTOMER_MANAGEMENT"
    BACKUP_MANAGEMENT = "BACKUP_MANAGEMENT"
    ADVANCED_BACKUP_MANAGEMENT = "ADVANCED_BACKUP_MANAGEMENT"


class ContractType(StrEnum):
    PENDING = "PENDING"
    TRIAL = "TRIAL"
    MONTH_TO_MONTH = "MONTH_TO_MONTH"
    ANNUAL = "ANNUAL"
    SUSPENDED = "SUSPENDED"
    EXPIRED = "EXPIRED"


class LicenseModel(StrEnum):
    VARIABLE = "VARIABLE"
    FIXED = "FIXED"


class SourceType(StrEnum):
    VCSP_PULSE = "VCSP_PULSE"
    MICROSOFT_MARKETPLACE = "MICROSOFT_MARKETPLACE"
    CLOUDBLUE = "CLOUDBLUE"
    DIRECT = "DIRECT"


class Region(StrEnum):
    AMER = "AMER"
    EMEA = "EMEA"
    APJ = "APJ"


class AddedBy(StrEnum):
    PROVIDER = "PROVIDER"
    CUSTOMER = "CUSTOMER"


class ContactKind(StrEnum):
    EMAIL = "EMAIL"
    TEAMS_WEBHOOK = "TEAMS_WEBHOOK"


class NotificationTopic(StrEnum):
    BACKUP_COMPLETE = "BACKUP_COMPLETE"
    BACKUP_FAILED = "BACKUP_FAILED"
    RESTORE_ACTIVITY = "RESTORE_ACTIVITY"


class M365Service(StrEnum):
    EXCHANGE = "EXCHANGE"
    ONEDRIVE_SHAREPOINT = "ONEDRIVE_SHAREPOINT"
    TEAMS = "TEAMS"


class OnboardingStep(StrEnum):
    LEGAL_AGREEMENT = "LEGAL_AGREEMENT"
    CONNECT_TENANT = "CONNECT_TENANT"
    AWAITING_DEVICE_LOGIN = "AWAITING_DEVICE_LOGIN"
    TENANT_CONNECTED = "TENANT_CONNECTED"
    FINISHED = "FINISHED"


class SubscriptionPlan(StrEnum):
    FLEX = "FLEX"
    EXPRESS = "EXPRESS"
    PREMIUM = "PREMIUM"


class ProtectionStatus(StrEnum):
    PROTECTED = "PROTECTED"
    UNPROTECTED = "UNPROTECTED"
    EXCLUDED = "EXCLUDED"


class OffboardingStatus(StrEnum):
    REQUESTED = "REQUESTED"
    APPROVED = "APPROVED"
    COMPLETED = "COMPLETED"
    REJECTED = "REJECTED"


class BackupType(StrEnum):
    ENTIRE_ORGANIZATION = "ENTIRE_ORGANIZATION"
    SELECTED_ITEMS = "SELECTED_ITEMS"


class PolicyType(StrEnum):
    FLEX = "FLEX"


class BackupObjectType(StrEnum):
    USER = "USER"
    GROUP = "GROUP"
    SITE = "SITE"
    TEAM = "TEAM"


class PolicyStatus(StrEnum):
    SUCCESS = "SUCCESS"
    WARNING = "WARNING"
    FAILED = "FAILED"
    RUNNING = "RUNNING"
    STOPPED = "STOPPED"
    DISCONNECTED = "DISCONNECTED"
    NEVER_RUN = "NEVER_RUN"


class SessionStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"
    WARNING = "WARNING"
    FAILED = "FAILED"
    STOPPED = "STOPPED"
    DISCONNECTED = "DISCONNECTED"


class SessionTrigger(StrEnum):
    SCHEDULE = "SCHEDULE"
    USER = "USER"


class LogStatus(StrEnum):
    INFO = "INFO"
    SUCCESS = "SUCCESS"
    WARNING = "WARNING"
    FAILED = "FAILED"


class RestoreStatus(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    SUCCESS = "SUCCESS"
    WARNING = "WARNING"
    FAILED = "FAILED"


class UsageReportStatus(StrEnum):
    PENDING_REVIEW = "PENDING_REVIEW"
    SAVED = "SAVED"
    CONFIRMED = "CONFIRMED"
    REJECTED = "REJECTED"


class SoftwareWorkload(StrEnum):
    CLOUD_CONNECT_BACKUP_VM = "CLOUD_CONNECT_BACKUP_VM"
    CLOUD_CONNECT_REPLICA = "CLOUD_CONNECT_REPLICA"
    CLOUD_CONNECT_WORKSTATION = "CLOUD_CONNECT_WORKSTATION"
    CLOUD_CONNECT_SERVER = "CLOUD_CONNECT_SERVER"
    PUBLIC_CLOUD_VM = "PUBLIC_CLOUD_VM"
    PUBLIC_CLOUD_DATABASE = "PUBLIC_CLOUD_DATABASE"
    PUBLIC_CLOUD_FILE_SHARE = "PUBLIC_CLOUD_FILE_SHARE"


class ServiceName(StrEnum):
    SSO = "SSO"
    EXCHANGE_BACKUP = "EXCHANGE_BACKUP"
    SHAREPOINT_BACKUP = "SHAREPOINT_BACKUP"
    ONEDRIVE_BACKUP = "ONEDRIVE_BACKUP"
    TEAMS_BACKUP = "TEAMS_BACKUP"
    BACKUP_STORAGE = "BACKUP_STORAGE"
    RESTORE = "RESTORE"


class ServiceHealth(StrEnum):
    OPERATIONAL = "OPERATIONAL"
    DEGRADED = "DEGRADED"
    OUTAGE = "OUTAGE"
    MAINTENANCE = "MAINTENANCE"


class WebhookEvent(StrEnum):
    SESSION_FINISHED = "SESSION_FINISHED"
    SESSION_FAILED = "SESSION_FAILED"
    RESTORE_ACTIVITY = "RESTORE_ACTIVITY"
    CUSTOMER_ONBOARDED = "CUSTOMER_ONBOARDED"
    LICENSE_CHANGE = "LICENSE_CHANGE"
    USAGE_REPORT_STATUS = "USAGE_REPORT_STATUS"


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class OutboxKind(StrEnum):
    EMAIL = "EMAIL"
    TEAMS = "TEAMS"
    WEBHOOK = "WEBHOOK"


class MessageTopic(StrEnum):
    """What an email or Teams message of the outbox is about (its notification history)."""

    INVITATION = "INVITATION"
    WELCOME = "WELCOME"
    BACKUP_COMPLETE = "BACKUP_COMPLETE"
    BACKUP_FAILED = "BACKUP_FAILED"
    RESTORE_ACTIVITY = "RESTORE_ACTIVITY"
    ALARM = "ALARM"
    OTHER = "OTHER"


class NotificationState(StrEnum):
    """Where an email or Teams message stands, as the notification history shows it."""

    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"


NOTIFICATION_STATE_OF = {
    DeliveryStatus.PENDING: NotificationState.PENDING,
    DeliveryStatus.SUCCEEDED: NotificationState.SENT,
    DeliveryStatus.FAILED: NotificationState.FAILED,
}


class AuditOutcome(StrEnum):
    SUCCESS = "SUCCESS"
    DENIED = "DENIED"


class SessionService(StrEnum):
    # The services a backup session counts objects for.
    EXCHANGE = "EXCHANGE"
    ONEDRIVE = "ONEDRIVE"
    SHAREPOINT = "SHAREPOINT"
    TEAMS = "TEAMS"
