from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0006_licensing_from_backups')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ClusterLease',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=100)),
                ('holder', fields.CharField(max_length=200)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'cluster_lease', 'app': 'models', 'pk_attr': 'name', 'table_description': "A right held by one process at a time (the scheduler's leadership, a periodic job),"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RateBucket',
            fields=[
                ('caller', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=200)),
                ('points', fields.FloatField()),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'rate_bucket', 'app': 'models', 'pk_attr': 'caller', 'table_description': "A caller's rate-limit budget when no Redis is configured (shared by every process)."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='BackupSession',
            name='lease_until',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='BackupSession',
            name='owner',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddIndex(
            model_name='BackupSession',
            index=Index(fields=['status', 'lease_until']),
        ),
    ]
