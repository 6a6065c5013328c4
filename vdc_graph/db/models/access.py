"""Tenants and who calls: providers, their roles and users, API keys."""

from tortoise import fields

from vdc_graph.enums import Permission

from .base import Entity


def monitoring_only() -> list[str]:
    return [Permission.MONITORING_ACCESS.value]


class ServiceProvider(Entity):
    display_name = fields.CharField(max_length=200)
    pro_partner_id = fields.CharField(max_length=40, unique=True)
    # Microsoft Entra tenant of the provider's staff: maps an OIDC token's ``tid``.
    entra_tenant_id = fields.CharField(max_length=64, null=True, unique=True)
    rental_agreement_number = fields.CharField(max_length=40, default="")
    minimum_commit_points = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    # Shown on its usage reports: who reports usage, and the aggregator's account.
    usage_reporting_administrator = fields.CharField(max_length=254, default="", db_default="")
    aggregator_account = fields.CharField(max_length=200, default="", db_default="")
    # Default system notifications for new customers
    notification_language = fields.CharField(max_length=8, default="en")
    allow_customer_admin_notifications = fields.BooleanField(default=False)
    # Customer-portal support button
    support_button_enabled = fields.BooleanField(default=False)
    support_link = fields.CharField(max_length=2000, default="")
    support_text = fields.CharField(max_length=200, default="")

    class Meta:
        table = "service_provider"


class Role(Entity):
    provider = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="roles", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=100)
    name_key = fields.CharField(max_length=100)  # lower-cased: names are unique ignoring case
    permissions = fields.JSONField(default=monitoring_only)
    built_in = fields.BooleanField(default=False)

    class Meta:
        table = "role"
        unique_together = (("provider", "name_key"),)


class PortalUser(Entity):
    provider = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="users", on_delete=fields.CASCADE
    )
    email = fields.CharField(max_length=254)
    email_key = fields.CharField(max_length=254)  # lower-cased
    first_name = fields.CharField(max_length=100)
    last_name = fields.CharField(max_length=100)
    entra_object_id = fields.CharField(max_length=64, null=True)  # OIDC ``oid``
    roles = fields.ManyToManyField(
        "models.Role", related_name="users", through="portal_user_role", on_delete=fields.CASCADE
    )

    class Meta:
        table = "portal_user"
        unique_together = (("provider", "email_key"),)
        indexes = (("email_key",), ("entra_object_id",))


class ApiKey(Entity):
    provider = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="api_keys", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=100)
    # The public part of the key, used to find it; the secret is only kept as a hash.
    prefix = fields.CharField(max_length=24, unique=True)
    secret_hash = fields.CharField(max_length=128)
    permissions = fields.JSONField(default=list)
    read_only = fields.BooleanField(default=False)
    customers = fields.ManyToManyField(
        "models.Customer", related_name="api_keys", through="api_key_customer"
    )
    # True when the key sees only ``customers``; kept apart so an emptied list never widens it.
    limited_to_customers = fields.BooleanField(default=False)
    expires_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    created_by = fields.ForeignKeyField(
        "models.PortalUser", related_name="api_keys", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "api_key"
        indexes = (("provider_id", "created_at"),)
