"""Alarms: a condition raised once, its history of state changes, and the rules' settings."""

from tortoise import fields

from vdc_graph.enums import AlarmRule, AlarmSeverity, AlarmState

from .base import Entity


class AlarmRuleSetting(Entity):
    # A provider's tuning of a built-in rule; without a row the rule's defaults apply.

    provider = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="alarm_rules", on_delete=fields.CASCADE
    )
    rule = fields.CharEnumField(AlarmRule, max_length=32)
    enabled = fields.BooleanField(default=True)
    threshold = fields.FloatField()

    class Meta:
        table = "alarm_rule_setting"
        unique_together = (("provider_id", "rule"),)


class Alarm(Entity):
    provider = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="alarms", on_delete=fields.CASCADE
    )
    customer_id = fields.UUIDField(null=True)  # plain ID: the alarm outlives the customer
    rule = fields.CharEnumField(AlarmRule, max_length=32)
    severity = fields.CharEnumField(AlarmSeverity, max_length=10)
    state = fields.CharEnumField(AlarmState, max_length=14, default=AlarmState.ACTIVE)
    # The object it is about: its GraphQL type name and key.
    object_type = fields.CharField(max_length=40)
    object_id = fields.CharField(max_length=100)
    object_name = fields.CharField(max_length=250, default="")
    message = fields.CharField(max_length=500)
    # The condition's key while the alarm is open, null once resolved: the unique index makes
    # raising idempotent, also when two processes evaluate at once.
    open_key = fields.CharField(max_length=200, null=True)
    raised_at = fields.DatetimeField()
    acknowledged_at = fields.DatetimeField(null=True)
    acknowledged_by = fields.CharField(max_length=254, default="")
    resolved_at = fields.DatetimeField(null=True)
    notified_at = fields.DatetimeField(null=True)

    class Meta:
        table = "alarm"
        unique_together = (("provider_id", "open_key"),)
        indexes = (
            ("provider_id", "raised_at", "id"),
            ("provider_id", "state", "raised_at"),
            ("customer_id", "raised_at"),
        )


class AlarmEvent(Entity):
    # One change of an alarm's state, in order.

    alarm = fields.ForeignKeyField("models.Alarm", related_name="events", on_delete=fields.CASCADE)
    state = fields.CharEnumField(AlarmState, max_length=14)
    actor = fields.CharField(max_length=254, default="")  # empty: the server did it
    comment = fields.CharField(max_length=1000, default="")

    class Meta:
        table = "alarm_event"
        indexes = (("alarm_id", "created_at"),)


class StorageSample(Entity):
    # A customer's storage on one day, kept by the storage-growth alarm rule to compare with.

    customer = fields.ForeignKeyField(
        "models.Customer", related_name="storage_samples", on_delete=fields.CASCADE
    )
    day = fields.DateField()
    storage_gb = fields.FloatField()

    class Meta:
        table = "storage_sample"
        unique_together = (("customer_id", "day"),)
