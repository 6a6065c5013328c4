from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='BackupPolicy',
            index=Index(fields=['provider_id', 'enabled', 'name', 'id']),
        ),
    ]
