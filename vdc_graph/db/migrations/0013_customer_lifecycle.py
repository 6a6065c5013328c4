from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0012_notification_history_alarms_and_approvals')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Invitation',
            name='invited_by',
            field=fields.CharField(default='', db_default='', max_length=254),
        ),
        ops.AddField(
            model_name='OffboardingRequest',
            name='completed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='OffboardingRequest',
            name='reviewed_by',
            field=fields.CharField(default='', db_default='', max_length=254),
        ),
        ops.AddIndex(
            model_name='OffboardingRequest',
            index=Index(fields=['status', 'desired_deletion_date']),
        ),
        ops.RemoveIndex(
            model_name='BackupPolicy',
            name=None,
            fields=['provider_id', 'name', 'id'],
        ),
        ops.RemoveIndex(
            model_name='BackupPolicy',
            name=None,
            fields=['customer_id', 'name', 'id'],
        ),
        ops.RemoveIndex(
            model_name='BackupPolicy',
            name=None,
            fields=['provider_id', 'enabled', 'name', 'id'],
        ),
        ops.AddIndex(
            model_name='BackupPolicy',
            index=Index(fields=['provider_id', 'name_key', 'id']),
        ),
        ops.AddIndex(
            model_name='BackupPolicy',
            index=Index(fields=['customer_id', 'name_key', 'id']),
        ),
        ops.AddIndex(
            model_name='BackupPolicy',
            index=Index(fields=['provider_id', 'enabled', 'name_key', 'id']),
        ),
        ops.RemoveIndex(
            model_name='LicensedUser',
            name=None,
            fields=['customer_id', 'display_name', 'id'],
        ),
        ops.RemoveIndex(
            model_name='LicensedUser',
            name=None,
            fields=['customer_id', 'protection_status', 'display_name', 'id'],
        ),
        ops.RemoveIndex(
            model_name='LicensedUser',
            name=None,
            fields=['customer_id', 'email', 'id'],
        ),
        ops.RemoveIndex(
            model_name='UsageReportSaasLine',
            name=None,
            fields=['report_id', 'customer_name', 'id'],
        ),
        # Text orders ignore case (as a person reads): expression indexes on lower(column), in
        # the order's own shape (filter columns, the lowered text, the key). A customer list
        # reads live customers only: partial indexes, since PostgreSQL orders by an index only
        # after equality conditions (``deleted_at IS NULL`` is not one).
        ops.RunSQL(
            "CREATE INDEX customer_display_name_ci ON customer (provider_id, lower(display_name), id) "
            "WHERE deleted_at IS NULL",
            reverse_sql="DROP INDEX customer_display_name_ci",
        ),
        ops.RunSQL(
            "CREATE INDEX customer_m365_account_ci ON customer (provider_id, lower(m365_account), id) "
            "WHERE deleted_at IS NULL",
            reverse_sql="DROP INDEX customer_m365_account_ci",
        ),
        ops.RunSQL(
            "CREATE INDEX customer_external_id_ci ON customer (provider_id, lower(external_id), id) "
            "WHERE deleted_at IS NULL",
            reverse_sql="DROP INDEX customer_external_id_ci",
        ),
        ops.RunSQL(
            "CREATE INDEX licensed_user_display_name_ci ON licensed_user (customer_id, lower(display_name), id)",
            reverse_sql="DROP INDEX licensed_user_display_name_ci",
        ),
        ops.RunSQL(
            "CREATE INDEX licensed_user_status_display_name_ci ON licensed_user (customer_id, protection_status, lower(display_name), id)",
            reverse_sql="DROP INDEX licensed_user_status_display_name_ci",
        ),
        ops.RunSQL(
            "CREATE INDEX licensed_user_email_ci ON licensed_user (customer_id, lower(email), id)",
            reverse_sql="DROP INDEX licensed_user_email_ci",
        ),
        ops.RunSQL(
            "CREATE INDEX saas_line_customer_name_ci ON usage_report_saas_line (report_id, lower(customer_name), id)",
            reverse_sql="DROP INDEX saas_line_customer_name_ci",
        ),
        # A Microsoft 365 tenant is connected to at most one existing customer, of any provider.
        ops.RunSQL(
            "CREATE UNIQUE INDEX customer_one_per_tenant ON customer (microsoft_tenant_id) "
            "WHERE microsoft_tenant_id <> '' AND deleted_at IS NULL",
            reverse_sql="DROP INDEX customer_one_per_tenant",
        ),
    ]
