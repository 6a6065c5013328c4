from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_dashboard_and_report_line_indexes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Invitation',
            name='invited_by',
            field=fields.CharField(default='', max_length=254),
        ),
        ops.AddField(
            model_name='OffboardingRequest',
            name='completed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='OffboardingRequest',
            name='reviewed_by',
            field=fields.CharField(default='', max_length=254),
        ),
        ops.AddIndex(
            model_name='OffboardingRequest',
            index=Index(fields=['status', 'desired_deletion_date']),
        ),
        # A Microsoft 365 tenant is connected to at most one existing customer, of any provider.
        ops.RunSQL(
            "CREATE UNIQUE INDEX customer_one_per_tenant ON customer (microsoft_tenant_id) "
            "WHERE microsoft_tenant_id <> '' AND deleted_at IS NULL",
            reverse_sql="DROP INDEX customer_one_per_tenant",
        ),
    ]
