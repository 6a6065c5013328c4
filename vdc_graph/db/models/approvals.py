"""Four-eyes approval: a provider's setting and the actions held until another person decides."""

from tortoise import fields

from vdc_graph.enums import ApprovalState

from .base import Entity


class ApprovalSetting(Entity):
    provider = fields.OneToOneField(
        "models.ServiceProvider", related_name="approval_setting", on_delete=fields.CASCADE
    )
    enabled = fields.BooleanField(default=False)
    ttl_hours = fields.IntField(default=168)

    class Meta:
        table = "approval_setting"


class Approval(Entity):
    provider = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="approvals", on_delete=fields.CASCADE
    )
    action = fields.CharField(max_length=100)  # the mutation's field name
    input = fields.JSONField()  # the mutation's input exactly as the client sent it
    state = fields.CharEnumField(ApprovalState, max_length=10, default=ApprovalState.PENDING)
    # Who asked: a user (with the customer scope of their token) or an API key.
    requested_by_user_id = fields.UUIDField(null=True)
    requested_by_api_key_id = fields.UUIDField(null=True)
    requested_customer_scope = fields.UUIDField(null=True)
    requested_by = fields.CharField(max_length=254)
    expires_at = fields.DatetimeField()
    decided_by_user_id = fields.UUIDField(null=True)
    decided_by = fields.CharField(max_length=254, default="")
    decided_at = fields.DatetimeField(null=True)
    comment = fields.CharField(max_length=1000, default="")
    result = fields.CharField(max_length=1000, default="")  # why the action failed, if it did

    class Meta:
        table = "approval"
        indexes = (("provider_id", "created_at", "id"), ("provider_id", "state", "created_at"))
