"""The domain's enumerations as GraphQL enums, each value described for the explorer."""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

import strawberry

from vdc_graph import enums, errors
from vdc_graph.identity.device_login import LoginState

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


Permission = described(
    enums.Permission,
    "A right a role grants.",
    MONITORING_ACCESS="Read everything (always part of every role).",
    SITE_SETTINGS="Change the settings section and the account details.",
    USER_MANAGEMENT="Manage users and roles.",
    CUSTOMER_MANAGEMENT="Edit customers, onboard them, invite them, manage their admin users.",
    BACKUP_MANAGEMENT="Create a customer's first policy, manage policies, export sessions.",
    ADVANCED_BACKUP_MANAGEMENT="Create additional policies (needs BACKUP_MANAGEMENT too).",
)
ContractType = described(
    enums.ContractType,
    "The state of a customer's contract; PENDING until onboarded.",
    PENDING="Registered by the licensing system, not yet onboarded.",
    TRIAL="On a trial.",
    MONTH_TO_MONTH="Renewed every month.",
    ANNUAL="On a yearly contract.",
    SUSPENDED="Suspended: no new backups.",
    EXPIRED="The contract has ended.",
)
LicenseModel = described(
    enums.LicenseModel,
    "How a customer is billed.",
    VARIABLE="Per licensed user, billed monthly.",
    FIXED="A fixed number of licences.",
)
SourceType = described(
    enums.SourceType,
    "The licensing system a customer came from.",
    VCSP_PULSE="VCSP Pulse, the provider's licensing portal.",
    MICROSOFT_MARKETPLACE="Microsoft Marketplace.",
    CLOUDBLUE="CloudBlue.",
    DIRECT="Registered directly.",
)
Region = described(
    enums.Region,
    "A storage region.",
    AMER="The Americas.",
    EMEA="Europe, the Middle East and Africa.",
    APJ="Asia and Japan.",
)
AddedBy = described(
    enums.AddedBy,
    "Who added an IP range.",
    PROVIDER="The service provider.",
    CUSTOMER="The customer.",
)
ContactKind = described(
    enums.ContactKind,
    "How a notification contact is reached.",
    EMAIL="By email.",
    TEAMS_WEBHOOK="Through a Microsoft Teams incoming webhook (https).",
)
NotificationTopic = described(
    enums.NotificationTopic,
    "What a notification is about.",
    BACKUP_COMPLETE="A backup session finished successfully or with warnings.",
    BACKUP_FAILED="A backup session failed.",
    RESTORE_ACTIVITY="Something was restored.",
    ALARM="An alarm was raised, is still active, or was resolved.",
)
M365Service = described(
    enums.M365Service,
    "A Microsoft 365 service to protect.",
    EXCHANGE="Exchange Online mailboxes.",
    ONEDRIVE_SHAREPOINT="OneDrive and SharePoint sites.",
    TEAMS="Microsoft Teams.",
)
OnboardingStep = described(
    enums.OnboardingStep,
    "Where a customer is in managed onboarding.",
    LEGAL_AGREEMENT="Waiting for the legal agreement to be confirmed.",
    CONNECT_TENANT="Waiting for region, retention and services to connect the tenant.",
    AWAITING_DEVICE_LOGIN="Waiting for the Global Administrator to enter the device code.",
    TENANT_CONNECTED="The tenant is connected; waiting for the last step.",
    FINISHED="Onboarded: the customer is active.",
)
SubscriptionPlan = described(
    enums.SubscriptionPlan,
    "A VDC subscription plan.",
    FLEX="Flex (the plan providers sell).",
    EXPRESS="Express.",
    PREMIUM="Premium.",
)
UserErrorCode = described(
    errors.UserErrorCode,
    "Why a mutation's input was refused.",
    INVALID="The value is not acceptable.",
    REQUIRED="A value is needed.",
    TOO_LONG="The value is too long.",
    OUT_OF_RANGE="The number is outside the allowed range.",
    DUPLICATE="The value is already taken.",
    NOT_FOUND="The object named does not exist or is not visible.",
    INVALID_STATE="The object is not in a state that allows this.",
    INVALID_EMAIL="Not a valid email address (a UPN such as user@domain).",
    INVALID_URL="Not a valid URL of the required kind.",
    INVALID_IP_RANGE="Not a valid IP range.",
    CUSTOMER_PENDING="The customer is still pending onboarding.",
    WRONG_STEP="This onboarding step is not the current one.",
    EXPIRED="It has expired.",
    ALREADY_RUNNING="It is running already.",
    NOT_RUNNING="It is not running.",
    PERMISSION_REQUIRED="This needs a permission the caller lacks.",
    BUILT_IN_ROLE="The built-in role cannot be changed this way.",
    LAST_USER_MANAGER="It would leave nobody able to manage users.",
    INVALID_SELECTION="The selected or excluded objects do not fit the backup type.",
    CUSTOMER_INACTIVE="The customer's contract is suspended or expired; the action is not allowed.",
    LICENSE_MANAGEMENT_SUSPENDED="Licence management is suspended until usage is submitted.",
    MISMATCH="The value does not match the one registered (both are named in the message).",
)
ProtectionStatus = described(
    enums.ProtectionStatus,
    "Whether a licensed user's data is backed up.",
    PROTECTED="Backed up by a policy.",
    UNPROTECTED="Not covered by any policy.",
    EXCLUDED="Excluded from backup on purpose.",
)
OffboardingStatus = described(
    enums.OffboardingStatus,
    "Where an offboarding request stands: REQUESTED, then APPROVED and COMPLETED, or REJECTED.",
    REQUESTED="Waiting for support's review.",
    APPROVED="Approved; the customer will be deleted on the desired date.",
    COMPLETED="Done: the customer is deleted.",
    REJECTED="Refused by support, with a note saying why.",
)
BackupType = described(
    enums.BackupType,
    "What a policy backs up: the whole tenant or selected objects.",
    ENTIRE_ORGANIZATION="Every user, group, site and team of the tenant (minus exclusions).",
    SELECTED_ITEMS="Only the selected objects.",
)
PolicyType = described(
    enums.PolicyType, "The kind of a backup policy.", FLEX="A Flex backup policy."
)
BackupObjectType = described(
    enums.BackupObjectType,
    "A kind of Microsoft 365 object a policy can select.",
    USER="A user (mailbox and OneDrive).",
    GROUP="A Microsoft 365 group.",
    SITE="A SharePoint site.",
    TEAM="A team in Microsoft Teams.",
)
PolicyStatus = described(
    enums.PolicyStatus,
    "The result of a policy's most recent run.",
    SUCCESS="Finished without warnings.",
    WARNING="Finished with warnings.",
    FAILED="Failed.",
    RUNNING="Running now.",
    STOPPED="Stopped by a user.",
    DISCONNECTED="The tenant's connection is broken or not yet made.",
    NEVER_RUN="Has not run yet.",
)
SessionStatus = described(
    enums.SessionStatus,
    "Where a backup session stands.",
    QUEUED="Waiting to run.",
    RUNNING="Running.",
    SUCCESS="Finished without warnings.",
    WARNING="Finished with warnings.",
    FAILED="Failed.",
    STOPPED="Stopped by a user.",
    DISCONNECTED="Could not reach the tenant: its connection is broken or not yet made.",
)
SessionTrigger = described(
    enums.SessionTrigger,
    "What started a session.",
    SCHEDULE="The policy's schedule.",
    USER="A user, with backupPolicyStart.",
)
LogStatus = described(
    enums.LogStatus,
    "The severity of a session log record.",
    INFO="Information.",
    SUCCESS="Something was processed successfully.",
    WARNING="Something was processed with a warning.",
    FAILED="Something failed.",
)
SoftwareWorkload = described(
    enums.SoftwareWorkload,
    "A Cloud Connect or public-cloud workload of the price table.",
    CLOUD_CONNECT_BACKUP_VM="Cloud Connect backup of a VM (5 points).",
    CLOUD_CONNECT_REPLICA="Cloud Connect replica of a VM (10 points).",
    CLOUD_CONNECT_WORKSTATION="Cloud Connect backup of a workstation (3 points).",
    CLOUD_CONNECT_SERVER="Cloud Connect backup of a server (7 points).",
    PUBLIC_CLOUD_VM="A public-cloud VM (11 points).",
    PUBLIC_CLOUD_DATABASE="A public-cloud database (11 points).",
    PUBLIC_CLOUD_FILE_SHARE="A public-cloud file share (11 points).",
)
RestoreType = described(
    enums.RestoreType,
    "What a restore brought back.",
    EXCHANGE_ITEMS="Mail, calendar or contact items.",
    EXCHANGE_MAILBOX="A whole mailbox.",
    ONEDRIVE_FILES="OneDrive files or folders.",
    SHAREPOINT_ITEMS="SharePoint documents or list items.",
    SHAREPOINT_SITE="A whole SharePoint site.",
    TEAMS_CHANNEL="A Teams channel.",
)
RestoreStatus = described(
    enums.RestoreStatus,
    "Where a restore stands.",
    IN_PROGRESS="Running.",
    SUCCESS="Finished without warnings.",
    WARNING="Finished with warnings.",
    FAILED="Failed.",
)
SessionService = described(
    enums.SessionService,
    "A service a backup session counts objects for.",
    EXCHANGE="Exchange Online.",
    ONEDRIVE="OneDrive.",
    SHAREPOINT="SharePoint.",
    TEAMS="Microsoft Teams.",
)
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
    SESSION_FINISHED=(
        "A backup session ended other than failed (success, warning, stopped or disconnected)."
    ),
    SESSION_FAILED="A backup session failed.",
    RESTORE_ACTIVITY="A restore was recorded.",
    CUSTOMER_ONBOARDED="A customer finished onboarding.",
    LICENSE_CHANGE=(
        "Licences changed: a customer was registered by the licensing system, or offboarded."
    ),
    USAGE_REPORT_STATUS="A usage report changed status.",
    ALARM="An alarm was raised, acknowledged or resolved.",
    APPROVAL="An action was held for approval, approved (and run), rejected or failed.",
)
DeliveryStatus = described(
    enums.DeliveryStatus,
    "Where a webhook delivery stands.",
    PENDING="Waiting for its first attempt or for a retry.",
    SUCCEEDED="The receiver answered 2xx.",
    FAILED="Every attempt failed; it is not retried (redeliver it by hand).",
)
DeviceLoginState = described(
    LoginState,
    "Where a device login stands at Microsoft.",
    PENDING="Waiting for the administrator to sign in with the code.",
    COMPLETED="Signed in: `onboardingCheckDeviceLogin` connects the tenant.",
    EXPIRED="The code has expired: renew it.",
)
MessageTopic = described(
    enums.MessageTopic,
    "What an email or Teams message is about.",
    INVITATION="An invitation to set up backup for a customer.",
    WELCOME="A welcome email to a new customer administrator.",
    BACKUP_COMPLETE="A backup session completed (possibly with warnings).",
    BACKUP_FAILED="A backup session failed or lost its tenant connection.",
    RESTORE_ACTIVITY="A restore was recorded.",
    ALARM="An alarm was raised or resolved.",
    OTHER="Anything else.",
)
NotificationState = described(
    enums.NotificationState,
    "Where an email or Teams message stands.",
    PENDING="Waiting for its first attempt or for a retry.",
    SENT="Accepted by the mail server or the Teams webhook.",
    FAILED="Every attempt failed; it is not retried (resend it by hand).",
)
OutboxKind = described(
    enums.OutboxKind,
    "How a message travels.",
    EMAIL="An email, through the configured SMTP server.",
    TEAMS="A Microsoft Teams message card, POSTed to an incoming webhook.",
    WEBHOOK="A signed webhook (listed under `webhookDeliveries`, not here).",
)
AlarmRule = described(
    enums.AlarmRule,
    "A built-in alarm rule; each has a threshold the provider can tune, or turn the rule off.",
    POLICY_CONSECUTIVE_FAILURES="A backup policy failed its last N runs in a row (N runs).",
    NO_RECENT_SUCCESS="A customer with backup policies had no successful backup for N hours.",
    TENANT_DISCONNECTED="A customer's backup runs have ended DISCONNECTED for N hours.",
    STORAGE_GROWTH=("A customer's backup storage grew by more than N % since a month ago."),
    LICENSE_COMMIT_USAGE="The provider's licence use is above N % of its minimum commit.",
    USAGE_REPORT_DUE=(
        "A usage report is still unsubmitted N days before licence management is suspended."
    ),
)
AlarmSeverity = described(
    enums.AlarmSeverity,
    "How serious an alarm is.",
    WARNING="Needs attention soon.",
    ERROR="Something is failing.",
    CRITICAL="Service is at risk now.",
)
AlarmState = described(
    enums.AlarmState,
    "Where an alarm stands.",
    ACTIVE="Its condition holds and nobody has acknowledged it.",
    ACKNOWLEDGED="Someone took it on; it is not notified again.",
    RESOLVED="Its condition cleared (or someone resolved it by hand).",
)
ApprovalState = described(
    enums.ApprovalState,
    "Where a request for approval stands.",
    PENDING="Waiting for another person to approve or reject it.",
    APPROVED="Approved: the action ran, as the requester.",
    REJECTED="Rejected (or withdrawn by the requester): the action did not run.",
    EXPIRED="Nobody decided in time: the action did not run.",
    FAILED="Approved, but the action was refused when it ran (see `result`).",
)
