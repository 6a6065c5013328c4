from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from vdc_graph.db.models.base import _now
from vdc_graph.enums import AlarmRule, AlarmSeverity, AlarmState, ApprovalState, MessageTopic
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0010_unknown_values_are_null')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Alarm',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=_now, auto_now=False, auto_now_add=False)),
                ('provider', fields.ForeignKeyField('models.ServiceProvider', source_field='provider_id', db_constraint=True, to_field='id', related_name='alarms', on_delete=OnDelete.CASCADE)),
                ('customer_id', fields.UUIDField(null=True)),
                ('rule', fields.CharEnumField(description='POLICY_CONSECUTIVE_FAILURES: POLICY_CONSECUTIVE_FAILURES\nNO_RECENT_SUCCESS: NO_RECENT_SUCCESS\nTENANT_DISCONNECTED: TENANT_DISCONNECTED\nSTORAGE_GROWTH: STORAGE_GROWTH\nLICENSE_COMMIT_USAGE: LICENSE_COMMIT_USAGE\nUSAGE_REPORT_DUE: USAGE_REPORT_DUE', enum_type=AlarmRule, max_length=32)),
                ('severity', fields.CharEnumField(description='WARNING: WARNING\nERROR: ERROR\nCRITICAL: CRITICAL', enum_type=AlarmSeverity, max_length=10)),
                ('state', fields.CharEnumField(default=AlarmState.ACTIVE, description='ACTIVE: ACTIVE\nACKNOWLEDGED: ACKNOWLEDGED\nRESOLVED: RESOLVED', enum_type=AlarmState, max_length=14)),
                ('object_type', fields.CharField(max_length=40)),
                ('object_id', fields.CharField(max_length=100)),
                ('object_name', fields.CharField(default='', max_length=250)),
                ('message', fields.CharField(max_length=500)),
                ('open_key', fields.CharField(null=True, max_length=200)),
                ('raised_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('acknowledged_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('acknowledged_by', fields.CharField(default='', max_length=254)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('notified_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'alarm', 'app': 'models', 'unique_together': (('provider_id', 'open_key'),), 'indexes': [Index(fields=['provider_id', 'raised_at', 'id']), Index(fields=['provider_id', 'state', 'raised_at']), Index(fields=['customer_id', 'raised_at'])], 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.CreateModel(
            name='AlarmEvent',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=_now, auto_now=False, auto_now_add=False)),
                ('alarm', fields.ForeignKeyField('models.Alarm', source_field='alarm_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('state', fields.CharEnumField(description='ACTIVE: ACTIVE\nACKNOWLEDGED: ACKNOWLEDGED\nRESOLVED: RESOLVED', enum_type=AlarmState, max_length=14)),
                ('actor', fields.CharField(default='', max_length=254)),
                ('comment', fields.CharField(default='', max_length=1000)),
            ],
            options={'table': 'alarm_event', 'app': 'models', 'indexes': [Index(fields=['alarm_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.CreateModel(
            name='AlarmRuleSetting',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=_now, auto_now=False, auto_now_add=False)),
                ('provider', fields.ForeignKeyField('models.ServiceProvider', source_field='provider_id', db_constraint=True, to_field='id', related_name='alarm_rules', on_delete=OnDelete.CASCADE)),
                ('rule', fields.CharEnumField(description='POLICY_CONSECUTIVE_FAILURES: POLICY_CONSECUTIVE_FAILURES\nNO_RECENT_SUCCESS: NO_RECENT_SUCCESS\nTENANT_DISCONNECTED: TENANT_DISCONNECTED\nSTORAGE_GROWTH: STORAGE_GROWTH\nLICENSE_COMMIT_USAGE: LICENSE_COMMIT_USAGE\nUSAGE_REPORT_DUE: USAGE_REPORT_DUE', enum_type=AlarmRule, max_length=32)),
                ('enabled', fields.BooleanField(default=True)),
                ('threshold', fields.FloatField()),
            ],
            options={'table': 'alarm_rule_setting', 'app': 'models', 'unique_together': (('provider_id', 'rule'),), 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.CreateModel(
            name='Approval',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=_now, auto_now=False, auto_now_add=False)),
                ('provider', fields.ForeignKeyField('models.ServiceProvider', source_field='provider_id', db_constraint=True, to_field='id', related_name='approvals', on_delete=OnDelete.CASCADE)),
                ('action', fields.CharField(max_length=100)),
                ('input', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('state', fields.CharEnumField(default=ApprovalState.PENDING, description='PENDING: PENDING\nAPPROVED: APPROVED\nREJECTED: REJECTED\nEXPIRED: EXPIRED\nFAILED: FAILED', enum_type=ApprovalState, max_length=10)),
                ('requested_by_user_id', fields.UUIDField(null=True)),
                ('requested_by_api_key_id', fields.UUIDField(null=True)),
                ('requested_customer_scope', fields.UUIDField(null=True)),
                ('requested_by', fields.CharField(max_length=254)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('decided_by_user_id', fields.UUIDField(null=True)),
                ('decided_by', fields.CharField(default='', max_length=254)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('comment', fields.CharField(default='', max_length=1000)),
                ('result', fields.CharField(default='', max_length=1000)),
            ],
            options={'table': 'approval', 'app': 'models', 'indexes': [Index(fields=['provider_id', 'created_at', 'id']), Index(fields=['provider_id', 'state', 'created_at'])], 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.CreateModel(
            name='ApprovalSetting',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=_now, auto_now=False, auto_now_add=False)),
                ('provider', fields.OneToOneField('models.ServiceProvider', source_field='provider_id', db_constraint=True, to_field='id', related_name='approval_setting', on_delete=OnDelete.CASCADE)),
                ('enabled', fields.BooleanField(default=False)),
                ('ttl_hours', fields.IntField(default=168)),
            ],
            options={'table': 'approval_setting', 'app': 'models', 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.CreateModel(
            name='StorageSample',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=_now, auto_now=False, auto_now_add=False)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='storage_samples', on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
                ('storage_gb', fields.FloatField()),
            ],
            options={'table': 'storage_sample', 'app': 'models', 'unique_together': (('customer_id', 'day'),), 'pk_attr': 'id'},
            bases=['Entity'],
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='customer_id',
            field=fields.UUIDField(null=True),
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='failure_reason',
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='last_attempt_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='resend_of_id',
            field=fields.UUIDField(null=True),
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='topic',
            field=fields.CharEnumField(default=MessageTopic.OTHER, db_default=MessageTopic.OTHER, description='INVITATION: INVITATION\nWELCOME: WELCOME\nBACKUP_COMPLETE: BACKUP_COMPLETE\nBACKUP_FAILED: BACKUP_FAILED\nRESTORE_ACTIVITY: RESTORE_ACTIVITY\nALARM: ALARM\nOTHER: OTHER', enum_type=MessageTopic, max_length=20),
        ),
        ops.AddIndex(
            model_name='OutboxMessage',
            index=Index(fields=['provider_id', 'created_at', 'id']),
        ),
        ops.AddIndex(
            model_name='OutboxMessage',
            index=Index(fields=['customer_id', 'created_at', 'id']),
        ),
    ]
