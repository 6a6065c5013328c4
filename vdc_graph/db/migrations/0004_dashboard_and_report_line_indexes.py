from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_api_key_scope_and_audit_indexes')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='BackupSession',
            index=Index(fields=['provider_id', 'ended_at']),
        ),
        ops.AddIndex(
            model_name='UsageReportSaasLine',
            index=Index(fields=['report_id', 'customer_name', 'id']),
        ),
    ]
