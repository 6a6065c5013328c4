"""Cross-cutting records: audit log, outbox, webhooks, service status, idempotency."""

from tortoise import fields
from tortoise.models import Model

from vdc_graph.enums import (
    AuditOutcome,
    DeliveryStatus,
    MessageTopic,
    OutboxKind,
    Region,
    ServiceHealth,
    ServiceName,
)

from .base import Entity


class AuditRecord(Entity):
    # One change or refused attempt. Never updated or deleted through the API.

    provider = fields.ForeignKeyField(
        "models.ServiceProvider",
        related_name="audit_records",
        null=True,
        on_delete=fields.CASCADE,
    )
    # Plain IDs, not foreign keys: the record outlives what it names.
    customer_id = fields.UUIDField(null=True)
    actor_user_id = fields.UUIDField(null=True)
    actor_api_key_id = fields.UUIDField(null=True)
    actor_label = fields.CharField(max_length=254, default="")
    client_address = fields.CharField(max_length=45, default="")
    action = fields.CharField(max_length=100)
    target_type = fields.CharField(max_length=60, default="")
    target_id = fields.CharField(max_length=100, default="")
    before = fields.JSONField(null=True)
    after = fields.JSONField(null=True)
    outcome = fields.CharEnumField(AuditOutcome, max_length=8, default=AuditOutcome.SUCCESS)
    # How many refusals this record stands for: repeated anonymous refusals from one address
    # are folded into one record per window, so a flood cannot flood the log.
    repeat_count = fields.IntField(default=1, db_default=1)

    class Meta:
        table = "audit_record"
        indexes = (
            ("client_address", "action", "created_at"),
            ("provider_id", "created_at", "id"),
            ("provider_id", "action", "created_at"),
            ("provider_id", "target_id"),
            ("customer_id", "created_at"),
            ("provider_id", "actor_user_id", "created_at"),
            ("provider_id", "actor_api_key_id", "created_at"),
        )


class OutboxMessage(Entity):
    # A notification to deliver (email, Teams card, signed webhook), retried until sent.

    provider = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="outbox", null=True, on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(OutboxKind, max_length=8)
    recipient = fields.CharField(max_length=2000)
    subject = fields.CharField(max_length=500, default="")
    body = fields.TextField(default="")
    payload = fields.JSONField(null=True)
    status = fields.CharEnumField(DeliveryStatus, max_length=10, default=DeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    last_error = fields.TextField(default="")
    sent_at = fields.DatetimeField(null=True)
    # The notification history: whose message it is, what about, and why it failed in words
    # safe to show (``last_error`` may name hosts and addresses of the far side).
    customer_id = fields.UUIDField(null=True)  # plain ID: the history outlives the customer
    topic = fields.CharEnumField(
        MessageTopic, max_length=20, default=MessageTopic.OTHER, db_default=MessageTopic.OTHER
    )
    failure_reason = fields.CharField(max_length=200, default="", db_default="")
    last_attempt_at = fields.DatetimeField(null=True)
    resend_of_id = fields.UUIDField(null=True)

    class Meta:
        table = "outbox_message"
        indexes = (
            ("status", "next_attempt_at"),
            ("provider_id", "created_at", "id"),
            ("customer_id", "created_at", "id"),
        )


class Webhook(Entity):
    provider = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="webhooks", on_delete=fields.CASCADE
    )
    url = fields.CharField(max_length=2000)
    event_types = fields.JSONField(default=list)
    secret = fields.CharField(max_length=128)  # needed in clear to sign each delivery
    enabled = fields.BooleanField(default=True)
    description = fields.CharField(max_length=200, default="")

    class Meta:
        table = "webhook"
        indexes = (("provider_id", "created_at", "id"),)


class WebhookDelivery(Entity):
    webhook = fields.ForeignKeyField(
        "models.Webhook", related_name="deliveries", on_delete=fields.CASCADE
    )
    event_type = fields.CharField(max_length=40)
    payload = fields.JSONField()
    status = fields.CharEnumField(DeliveryStatus, max_length=10, default=DeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    last_status_code = fields.IntField(null=True)
    last_duration_ms = fields.IntField(null=True)
    last_error = fields.TextField(default="")
    delivered_at = fields.DatetimeField(null=True)
    redelivery_of = fields.ForeignKeyField(
        "models.WebhookDelivery",
        related_name="redeliveries",
        null=True,
        on_delete=fields.SET_NULL,
    )

    class Meta:
        table = "webhook_delivery"
        indexes = (("webhook_id", "created_at", "id"), ("status", "next_attempt_at"))


class ServiceStatus(Entity):
    service = fields.CharEnumField(ServiceName, max_length=20)
    region = fields.CharEnumField(Region, max_length=8)
    health = fields.CharEnumField(ServiceHealth, max_length=12, default=ServiceHealth.OPERATIONAL)
    message = fields.CharField(max_length=500, null=True)  # the operators' note, if any
    updated_at = fields.DatetimeField(null=True)

    class Meta:
        table = "service_status"
        unique_together = (("service", "region"),)


class MaintenanceWindow(Entity):
    service = fields.CharEnumField(ServiceName, max_length=20)
    region = fields.CharEnumField(Region, max_length=8)
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    description = fields.CharField(max_length=500, default="")

    class Meta:
        table = "maintenance_window"
        indexes = (("region", "starts_at"),)


class IdempotencyRecord(Entity):
    # The first response to a mutation sent with an ``Idempotency-Key``; kept 24 hours.

    caller = fields.CharField(max_length=100)  # user or API key the key belongs to
    key = fields.CharField(max_length=200)
    request_hash = fields.CharField(max_length=64)
    response = fields.JSONField()

    class Meta:
        table = "idempotency_record"
        unique_together = (("caller", "key"),)
        indexes = (("created_at",),)


class SimulatedDeviceLogin(Entity):
    # A device login pending at the built-in simulated Microsoft identity platform.

    device_code = fields.CharField(max_length=200, unique=True)
    user_code = fields.CharField(max_length=20)
    expires_at = fields.DatetimeField()
    approved_at = fields.DatetimeField(null=True)
    tenant_id = fields.CharField(max_length=64, default="")
    tenant_domain = fields.CharField(max_length=253, default="")

    class Meta:
        table = "simulated_device_login"
        indexes = (("user_code",),)


class SimulatedTenant(Entity):
    # A tenant that signed in at the simulated identity platform, with its size.

    tenant_id = fields.CharField(max_length=64, unique=True)
    user_count = fields.IntField()

    class Meta:
        table = "simulated_tenant"


class ClusterLease(Model):
    """A right held by one process at a time (the scheduler's leadership, a periodic job),
    renewed by its holder; once ``expires_at`` passes, another process may take it."""

    name = fields.CharField(max_length=100, primary_key=True)
    holder = fields.CharField(max_length=200)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "cluster_lease"


class RateBucket(Model):
    """A caller's rate-limit budget when no Redis is configured (shared by every process)."""

    caller = fields.CharField(max_length=200, primary_key=True)
    points = fields.FloatField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "rate_bucket"
