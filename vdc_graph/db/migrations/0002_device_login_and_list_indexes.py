from tortoise import migrations
from tortoise.migrations import operations as ops
from uuid import uuid4
from vdc_graph.db.models.base import _now
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SimulatedDeviceLogin',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=_now, auto_now=False, auto_now_add=False)),
                ('device_code', fields.CharField(unique=True, max_length=200)),
                ('user_code', fields.CharField(max_length=20)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('approved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('tenant_id', fields.CharField(default='', max_length=64)),
                ('tenant_domain', fields.CharField(default='', max_length=253)),
            ],
            options={'table': 'simulated_device_login', 'app': 'models', 'indexes': [Index(fields=['user_code'])], 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.AddIndex(
            model_name='BackupPolicy',
            index=Index(fields=['provider_id', 'enabled', 'name', 'id']),
        ),
        ops.AddIndex(
            model_name='LicensedUser',
            index=Index(fields=['customer_id', 'email', 'id']),
        ),
        ops.AddIndex(
            model_name='LicensedUser',
            index=Index(fields=['customer_id', 'protection_status', 'id']),
        ),
        ops.AddIndex(
            model_name='LicensedUser',
            index=Index(fields=['customer_id', 'last_backup_at', 'id']),
        ),
    ]
