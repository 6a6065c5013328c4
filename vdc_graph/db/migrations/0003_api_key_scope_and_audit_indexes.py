from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_device_login_and_list_indexes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ApiKey',
            name='limited_to_customers',
            field=fields.BooleanField(default=False),
        ),
        ops.AddIndex(
            model_name='AuditRecord',
            index=Index(fields=['provider_id', 'actor_user_id', 'created_at']),
        ),
        ops.AddIndex(
            model_name='AuditRecord',
            index=Index(fields=['provider_id', 'actor_api_key_id', 'created_at']),
        ),
    ]
