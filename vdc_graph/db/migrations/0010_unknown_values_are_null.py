"""Unknown values are stored as NULL instead of "" (the API answers null for them); the
version of the legal agreement a customer confirmed is recorded."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

_CUSTOMER_COLUMNS = (
    "microsoft_tenant_id",
    "veeam_account_id",
    "flex_subscription_id",
    "express_subscription_id",
    "premium_subscription_id",
)

class Migration(migrations.Migration):
    dependencies = [('models', '0009_performance')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Customer',
            name='express_subscription_id',
            field=fields.CharField(null=True, max_length=100),
        ),
        ops.AlterField(
            model_name='Customer',
            name='flex_subscription_id',
            field=fields.CharField(null=True, max_length=100),
        ),
        ops.AlterField(
            model_name='Customer',
            name='microsoft_tenant_id',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AlterField(
            model_name='Customer',
            name='premium_subscription_id',
            field=fields.CharField(null=True, max_length=100),
        ),
        ops.AlterField(
            model_name='Customer',
            name='veeam_account_id',
            field=fields.CharField(null=True, max_length=100),
        ),
        ops.AlterField(
            model_name='ServiceStatus',
            name='message',
            field=fields.CharField(null=True, max_length=500),
        ),
        ops.AddField(
            model_name='Onboarding',
            name='legal_agreement_version',
            field=fields.CharField(null=True, max_length=40),
        ),
        ops.RunSQL(
            [f"UPDATE customer SET {c} = NULL WHERE {c} = ''" for c in _CUSTOMER_COLUMNS]
            + [
                "UPDATE service_status SET message = NULL WHERE message = ''",
                # Sessions the schedule started were once written without a name.
                "UPDATE backup_session SET started_by_label = 'Schedule' "
                "WHERE started_by_label = '' AND \"trigger\" = 'SCHEDULE'",
            ],
            reverse_sql=[f"UPDATE customer SET {c} = '' WHERE {c} IS NULL" for c in _CUSTOMER_COLUMNS]
            + ["UPDATE service_status SET message = '' WHERE message IS NULL"],
        ),
    ]
