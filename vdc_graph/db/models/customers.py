"""Customers and what hangs off them: settings, networking, contacts, onboarding, billing."""

from tortoise import fields

from vdc_graph.enums import (
    AddedBy,
    ContactKind,
    ContractType,
    LicenseModel,
    OffboardingStatus,
    OnboardingStep,
    ProtectionStatus,
    Region,
    SourceType,
    SubscriptionPlan,
)

from .base import Entity


class Customer(Entity):
    provider = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="customers", on_delete=fields.CASCADE
    )
    display_name = fields.CharField(max_length=200)
    # Tenant domain; "" until known. Kept non-null because the customer list sorts by it
    # (keyset cursors need a value); the API answers null for "".
    m365_account = fields.CharField(max_length=253, default="")
    microsoft_tenant_id = fields.CharField(max_length=64, null=True)  # null until connected
    # Marketplace subscription ID. Unique per provider while the customer exists; an
    # offboarded customer's moves to ``former_external_id`` so it may register again.
    external_id = fields.CharField(max_length=100, null=True)
    former_external_id = fields.CharField(max_length=100, null=True)
    # Null when not known.
    veeam_account_id = fields.CharField(max_length=100, null=True)
    flex_subscription_id = fields.CharField(max_length=100, null=True)
    express_subscription_id = fields.CharField(max_length=100, null=True)
    premium_subscription_id = fields.CharField(max_length=100, null=True)
    contract_type = fields.CharEnumField(ContractType, max_length=20, default=ContractType.PENDING)
    license_model = fields.CharEnumField(LicenseModel, max_length=10, default=LicenseModel.VARIABLE)
    source_type = fields.CharEnumField(SourceType, max_length=24, default=SourceType.VCSP_PULSE)
    licenses_used = fields.IntField(default=0)
    activation_date = fields.DatetimeField(null=True)
    storage_consumed_gb = fields.FloatField(default=0)
    backed_up_accounts = fields.IntField(default=0)
    total_active_accounts = fields.IntField(default=0)
    user_change = fields.IntField(default=0)  # licensed users this month minus last month
    deleted_at = fields.DatetimeField(null=True)

    # Settings (non-pending customers)
    region = fields.CharEnumField(Region, max_length=8, null=True)
    enable_self_service = fields.BooleanField(default=False)
    allow_create_delete_policy = fields.BooleanField(default=False)
    allow_edit_trigger_policy = fields.BooleanField(default=False)
    auto_create_policies = fields.BooleanField(default=True)
    allow_multiple_regions = fields.BooleanField(default=False)
    enable_email_previews = fields.BooleanField(default=False)
    restrict_access_to_ip_ranges = fields.BooleanField(default=False)
    retention_years = fields.IntField(null=True)  # None with a connected tenant = unlimited
    protected_services = fields.JSONField(default=list)

    # Notifications
    allow_system_notifications = fields.BooleanField(default=True)
    notification_language = fields.CharField(max_length=8, default="en")

    class Meta:
        table = "customer"
        unique_together = (("provider", "external_id"),)
        # One index per filter and order the API offers, each ending in the key. The text
        # orders (display name, M365 account, external ID) ignore case: the indexes serving them
        # are on lower(column), created by migration 0007 (partial expression indexes).
        indexes = (
            ("provider_id", "deleted_at", "display_name", "id"),
            ("provider_id", "deleted_at", "m365_account", "id"),
            ("provider_id", "deleted_at", "external_id", "id"),
            ("provider_id", "deleted_at", "contract_type", "id"),
            ("provider_id", "deleted_at", "source_type", "id"),
            ("provider_id", "deleted_at", "licenses_used", "id"),
            ("provider_id", "deleted_at", "activation_date", "id"),
            ("provider_id", "deleted_at", "storage_consumed_gb", "id"),
            ("provider_id", "deleted_at", "created_at", "id"),
            ("provider_id", "deleted_at", "license_model", "id"),
            ("provider_id", "deleted_at", "backed_up_accounts", "id"),
            ("provider_id", "deleted_at", "total_active_accounts", "id"),
            ("provider_id", "deleted_at", "user_change", "id"),
        )


class IpRange(Entity):
    customer = fields.ForeignKeyField(
        "models.Customer", related_name="ip_ranges", on_delete=fields.CASCADE
    )
    start_address = fields.CharField(max_length=45)
    end_address = fields.CharField(max_length=45)
    added_by = fields.CharEnumField(AddedBy, max_length=10)

    class Meta:
        table = "ip_range"
        unique_together = (("customer", "start_address", "end_address"),)


class NotificationContact(Entity):
    # An email or Teams-webhook recipient; without a customer it is a provider default.

    provider = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="notification_contacts", on_delete=fields.CASCADE
    )
    customer = fields.ForeignKeyField(
        "models.Customer",
        related_name="notification_contacts",
        null=True,
        on_delete=fields.CASCADE,
    )
    kind = fields.CharEnumField(ContactKind, max_length=16)
    address = fields.CharField(max_length=2000)
    topics = fields.JSONField(default=list)

    class Meta:
        table = "notification_contact"
        indexes = (("provider_id", "customer_id"),)


class CustomerAdminUser(Entity):
    customer = fields.ForeignKeyField(
        "models.Customer", related_name="admin_users", on_delete=fields.CASCADE
    )
    email = fields.CharField(max_length=254)
    email_key = fields.CharField(max_length=254)
    first_name = fields.CharField(max_length=100)
    last_name = fields.CharField(max_length=100)
    send_welcome_email = fields.BooleanField(default=True)

    class Meta:
        table = "customer_admin_user"
        unique_together = (("customer", "email_key"),)
        indexes = (("email_key",),)


class Invitation(Entity):
    customer = fields.ForeignKeyField(
        "models.Customer", related_name="invitations", on_delete=fields.CASCADE
    )
    email = fields.CharField(max_length=254)
    email_key = fields.CharField(max_length=254)
    invited_by = fields.CharField(
        max_length=254, default="", db_default=""
    )  # who sent the latest link
    sent_at = fields.DatetimeField()
    send_count = fields.IntField(default=1)
    token_hash = fields.CharField(max_length=128, unique=True)
    expires_at = fields.DatetimeField()
    accepted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "invitation"
        unique_together = (("customer", "email_key"),)


class Onboarding(Entity):
    # The managed-onboarding wizard's state for one customer.

    customer = fields.OneToOneField(
        "models.Customer", related_name="onboarding", on_delete=fields.CASCADE
    )
    step = fields.CharEnumField(
        OnboardingStep, max_length=24, default=OnboardingStep.LEGAL_AGREEMENT
    )
    legal_accepted_by = fields.CharField(max_length=254, null=True)
    legal_accepted_at = fields.DatetimeField(null=True)
    legal_agreement_version = fields.CharField(max_length=40, null=True)  # the text confirmed
    region = fields.CharEnumField(Region, max_length=8, null=True)
    retention_years = fields.IntField(null=True)
    retention_unlimited = fields.BooleanField(default=False)
    services = fields.JSONField(default=list)
    custom_app_id = fields.CharField(max_length=64, null=True)
    custom_app_credential_ref = fields.CharField(max_length=500, null=True)
    device_code = fields.CharField(max_length=200, null=True)
    user_code = fields.CharField(max_length=20, null=True)
    verification_url = fields.CharField(max_length=500, null=True)
    device_code_expires_at = fields.DatetimeField(null=True)
    poll_interval_seconds = fields.IntField(default=5)
    tenant_connected_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    applied_recommended_policies = fields.BooleanField(null=True)

    class Meta:
        table = "onboarding"


class Subscription(Entity):
    customer = fields.ForeignKeyField(
        "models.Customer", related_name="subscriptions", on_delete=fields.CASCADE
    )
    plan = fields.CharEnumField(SubscriptionPlan, max_length=10)
    subscription_id = fields.CharField(max_length=100)

    class Meta:
        table = "subscription"


class LicensedUser(Entity):
    customer = fields.ForeignKeyField(
        "models.Customer", related_name="licensed_users", on_delete=fields.CASCADE
    )
    display_name = fields.CharField(max_length=200)
    email = fields.CharField(max_length=254)
    protection_status = fields.CharEnumField(ProtectionStatus, max_length=12)
    last_backup_at = fields.DatetimeField(null=True)

    class Meta:
        table = "licensed_user"
        # Name and email orders ignore case: on lower(column), created by migration 0007.
        indexes = (
            ("customer_id", "protection_status", "id"),
            ("customer_id", "last_backup_at", "id"),
        )


class LicensedUsersMonth(Entity):
    # Licensed users of a customer in one month; kept after the customer is deleted.

    provider = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="licensed_user_months", on_delete=fields.CASCADE
    )
    customer = fields.ForeignKeyField(
        "models.Customer", related_name="licensed_user_months", on_delete=fields.CASCADE
    )
    month = fields.DateField()  # the first day of the month
    licensed_users = fields.IntField()

    class Meta:
        table = "licensed_users_month"
        unique_together = (("customer", "month"),)
        indexes = (("provider_id", "month"),)


class OffboardingRequest(Entity):
    customer = fields.ForeignKeyField(
        "models.Customer", related_name="offboarding_requests", on_delete=fields.CASCADE
    )
    requested_by = fields.CharField(max_length=254)
    desired_deletion_date = fields.DateField()
    reason = fields.TextField()
    licenses_in_use = fields.IntField()
    status = fields.CharEnumField(
        OffboardingStatus, max_length=10, default=OffboardingStatus.REQUESTED
    )
    reviewed_at = fields.DatetimeField(null=True)
    reviewed_by = fields.CharField(
        max_length=254, default="", db_default=""
    )  # the platform operator
    review_note = fields.TextField(default="")
    completed_at = fields.DatetimeField(null=True)  # when the job deleted the customer

    class Meta:
        table = "offboarding_request"
        indexes = (("customer_id", "created_at"), ("status", "desired_deletion_date"))
