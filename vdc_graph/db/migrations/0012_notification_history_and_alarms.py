from tortoise import migrations
from tortoise.migrations import operations as ops
from vdc_graph.enums import MessageTopic
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_dashboard_and_report_line_indexes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='OutboxMessage',
            name='customer_id',
            field=fields.UUIDField(null=True),
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='failure_reason',
            field=fields.CharField(default='', max_length=200),
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
            field=fields.CharEnumField(default=MessageTopic.OTHER, description='INVITATION: INVITATION\nWELCOME: WELCOME\nBACKUP_COMPLETE: BACKUP_COMPLETE\nBACKUP_FAILED: BACKUP_FAILED\nRESTORE_ACTIVITY: RESTORE_ACTIVITY\nALARM: ALARM\nOTHER: OTHER', enum_type=MessageTopic, max_length=20),
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
