from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from vdc_graph.db.models.base import _now
from vdc_graph.enums import BackupObjectType, RestoreType, SoftwareWorkload
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0005_audit_repeat_count')]

    initial = False

    operations = [
        # Restore types become an enum: a free-text type of an older row is mapped first.
        ops.RunSQL(
            "UPDATE restore SET restore_type = 'EXCHANGE_MAILBOX' WHERE restore_type = 'MAILBOX'"
        ),
        ops.RunSQL(
            "UPDATE restore SET restore_type = 'EXCHANGE_ITEMS' WHERE restore_type NOT IN "
            "('EXCHANGE_ITEMS', 'EXCHANGE_MAILBOX', 'ONEDRIVE_FILES', 'SHAREPOINT_ITEMS', "
            "'SHAREPOINT_SITE', 'TEAMS_CHANNEL')"
        ),
        ops.CreateModel(
            name='ProtectedObject',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=_now, auto_now=False, auto_now_add=False)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='protected_objects', on_delete=OnDelete.CASCADE)),
                ('type', fields.CharEnumField(description='USER: USER\nGROUP: GROUP\nSITE: SITE\nTEAM: TEAM', enum_type=BackupObjectType, max_length=8)),
                ('external_id', fields.CharField(max_length=254)),
                ('name', fields.CharField(max_length=200)),
                ('stored_bytes', fields.BigIntField(default=0)),
                ('item_count', fields.BigIntField(default=0)),
                ('last_backup_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'protected_object', 'app': 'models', 'unique_together': (('customer', 'type', 'external_id'),), 'indexes': [Index(fields=['customer_id', 'last_backup_at']), Index(fields=['last_backup_at'])], 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.CreateModel(
            name='SimulatedTenant',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=_now, auto_now=False, auto_now_add=False)),
                ('tenant_id', fields.CharField(unique=True, max_length=64)),
                ('user_count', fields.IntField()),
            ],
            options={'table': 'simulated_tenant', 'app': 'models', 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.AlterField(
            model_name='Restore',
            name='restore_type',
            field=fields.CharEnumField(description='EXCHANGE_ITEMS: EXCHANGE_ITEMS\nEXCHANGE_MAILBOX: EXCHANGE_MAILBOX\nONEDRIVE_FILES: ONEDRIVE_FILES\nSHAREPOINT_ITEMS: SHAREPOINT_ITEMS\nSHAREPOINT_SITE: SHAREPOINT_SITE\nTEAMS_CHANNEL: TEAMS_CHANNEL', enum_type=RestoreType, max_length=64),
        ),
        ops.AddField(
            model_name='Restore',
            name='finished_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ServiceProvider',
            name='aggregator_account',
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
        ops.AddField(
            model_name='ServiceProvider',
            name='usage_reporting_administrator',
            field=fields.CharField(default='', db_default='', max_length=254),
        ),
        ops.AddConstraint(
            model_name='SoftwareUsage',
            constraint=UniqueConstraint(fields=('provider', 'month', 'workload', 'tenant_has_rental_license'), name=None),
        ),
        ops.AddField(
            model_name='UsageReport',
            name='aggregator_account',
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
        ops.AddField(
            model_name='UsageReport',
            name='usage_reporting_administrator',
            field=fields.CharField(default='', db_default='', max_length=254),
        ),
        ops.AddField(
            model_name='UsageReportSaasLine',
            name='start_date',
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name='UsageReportSaasLine',
            name='tenant_crm_id',
            field=fields.CharField(default='', db_default='', max_length=100),
        ),
        ops.AddField(
            model_name='UsageReportSoftwareLine',
            name='automatic_usage',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='UsageReportSoftwareLine',
            name='corrected_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='UsageReportSoftwareLine',
            name='workload',
            field=fields.CharEnumField(null=True, description='CLOUD_CONNECT_BACKUP_VM: CLOUD_CONNECT_BACKUP_VM\nCLOUD_CONNECT_REPLICA: CLOUD_CONNECT_REPLICA\nCLOUD_CONNECT_WORKSTATION: CLOUD_CONNECT_WORKSTATION\nCLOUD_CONNECT_SERVER: CLOUD_CONNECT_SERVER\nPUBLIC_CLOUD_VM: PUBLIC_CLOUD_VM\nPUBLIC_CLOUD_DATABASE: PUBLIC_CLOUD_DATABASE\nPUBLIC_CLOUD_FILE_SHARE: PUBLIC_CLOUD_FILE_SHARE', enum_type=SoftwareWorkload, max_length=32),
        ),
    ]
