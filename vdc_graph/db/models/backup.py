"""Backup policies, the sessions they run with their logs, and restore activity."""

from tortoise import fields

from vdc_graph.enums import (
    BackupObjectType,
    BackupType,
    LogStatus,
    PolicyStatus,
    PolicyType,
    RestoreStatus,
    RestoreType,
    SessionStatus,
    SessionTrigger,
)

from .base import Entity


class BackupPolicy(Entity):
    provider = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="backup_policies", on_delete=fields.CASCADE
    )
    customer = fields.ForeignKeyField(
        "models.Customer", related_name="backup_policies", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    name_key = fields.CharField(max_length=200)
    backup_type = fields.CharEnumField(BackupType, max_length=24)
    policy_type = fields.CharEnumField(PolicyType, max_length=8, default=PolicyType.FLEX)
    enabled = fields.BooleanField(default=True)
    # Lists of {"type": USER|GROUP|SITE|TEAM, "externalId": ..., "name": ...}
    selected_objects = fields.JSONField(default=list)
    excluded_objects = fields.JSONField(default=list)
    services = fields.JSONField(default=list)
    schedule_interval_hours = fields.IntField(default=24)
    last_run = fields.DatetimeField(null=True)
    last_status = fields.CharEnumField(PolicyStatus, max_length=14, default=PolicyStatus.NEVER_RUN)
    next_run = fields.DatetimeField(null=True)
    average_processing_seconds = fields.FloatField(null=True)

    class Meta:
        table = "backup_policy"
        unique_together = (("customer", "name_key"),)
        indexes = (
            ("provider_id", "name_key", "id"),
            ("provider_id", "last_status", "id"),
            ("provider_id", "last_run", "id"),
            ("customer_id", "name_key", "id"),
            ("provider_id", "enabled", "name_key", "id"),
            ("enabled", "next_run"),
            ("provider_id", "customer_id"),  # counts: every row of the provider, read from here
        )


class BackupSession(Entity):
    provider = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="backup_sessions", on_delete=fields.CASCADE
    )
    customer = fields.ForeignKeyField(
        "models.Customer", related_name="backup_sessions", on_delete=fields.CASCADE
    )
    # A deleted policy may keep its sessions' history; the name is kept for display.
    policy = fields.ForeignKeyField(
        "models.BackupPolicy", related_name="sessions", null=True, on_delete=fields.SET_NULL
    )
    policy_name = fields.CharField(max_length=200)
    status = fields.CharEnumField(SessionStatus, max_length=14, default=SessionStatus.QUEUED)
    started_at = fields.DatetimeField(null=True)
    ended_at = fields.DatetimeField(null=True)
    progress = fields.IntField(default=0)
    processed_objects = fields.IntField(default=0)
    transferred_bytes = fields.BigIntField(default=0)
    transferred_items = fields.BigIntField(default=0)
    trigger = fields.CharEnumField(SessionTrigger, max_length=10, default=SessionTrigger.SCHEDULE)
    started_by = fields.ForeignKeyField(
        "models.PortalUser", related_name="started_sessions", null=True, on_delete=fields.SET_NULL
    )
    started_by_label = fields.CharField(max_length=254, default="")
    retry_count = fields.IntField(default=0)
    # {"EXCHANGE": {"total": n, "success": n, "warning": n, "error": n}, "ONEDRIVE": …}
    service_counts = fields.JSONField(default=dict)
    stop_requested = fields.BooleanField(default=False)
    last_seq = fields.IntField(default=0)
    # The process running the session and until when its claim holds without renewal.
    owner = fields.CharField(max_length=200, null=True)
    lease_until = fields.DatetimeField(null=True)

    class Meta:
        table = "backup_session"
        indexes = (
            ("provider_id", "created_at", "id"),
            ("customer_id", "created_at", "id"),
            ("policy_id", "created_at", "id"),
            ("provider_id", "status", "created_at", "id"),
            ("provider_id", "ended_at"),  # the dashboard's daily job results
            ("provider_id", "customer_id"),  # counts: every row of the provider, read from here
            ("status", "lease_until"),  # sessions whose owner stopped renewing
        )


class SessionLogRecord(Entity):
    session = fields.ForeignKeyField(
        "models.BackupSession", related_name="log_records", on_delete=fields.CASCADE
    )
    seq = fields.IntField()  # increases within the session
    at = fields.DatetimeField()
    status = fields.CharEnumField(LogStatus, max_length=8)
    message = fields.TextField()

    class Meta:
        table = "session_log_record"
        unique_together = (("session", "seq"),)
        indexes = (("session_id", "status", "seq"),)


class Restore(Entity):
    provider = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="restores", on_delete=fields.CASCADE
    )
    customer = fields.ForeignKeyField(
        "models.Customer", related_name="restores", on_delete=fields.CASCADE
    )
    requested_at = fields.DatetimeField()
    requested_by = fields.CharField(max_length=254)
    restore_type = fields.CharEnumField(RestoreType, max_length=64)
    item_count = fields.IntField(default=0)
    status = fields.CharEnumField(RestoreStatus, max_length=12, default=RestoreStatus.IN_PROGRESS)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "restore"
        indexes = (
            ("provider_id", "requested_at", "id"),
            ("customer_id", "requested_at", "id"),
            ("provider_id", "customer_id"),  # counts: every row of the provider, read from here
        )


class ProtectedObject(Entity):
    # What the backups hold of one object of a customer's tenant: its size as of its last
    # backup; expired (deleted) once the customer's retention has passed since that backup.

    customer = fields.ForeignKeyField(
        "models.Customer", related_name="protected_objects", on_delete=fields.CASCADE
    )
    type = fields.CharEnumField(BackupObjectType, max_length=8)
    external_id = fields.CharField(max_length=254)
    name = fields.CharField(max_length=200)
    stored_bytes = fields.BigIntField(default=0)
    item_count = fields.BigIntField(default=0)
    last_backup_at = fields.DatetimeField()

    class Meta:
        table = "protected_object"
        unique_together = (("customer", "type", "external_id"),)
        indexes = (("customer_id", "last_backup_at"), ("last_backup_at",))
