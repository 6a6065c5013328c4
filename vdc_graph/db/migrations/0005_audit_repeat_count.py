from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_dashboard_and_report_line_indexes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='AuditRecord',
            name='repeat_count',
            field=fields.IntField(default=1, db_default=1),
        ),
        ops.AddIndex(
            model_name='AuditRecord',
            index=Index(fields=['client_address', 'action', 'created_at']),
        ),
    ]
