"""Monthly usage reports and the software usage they are built from."""

from tortoise import fields

from vdc_graph.enums import SoftwareWorkload, UsageReportStatus

from .base import Entity


class UsageReport(Entity):
    provider = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="usage_reports", on_delete=fields.CASCADE
    )
    number = fields.CharField(max_length=40)
    rental_agreement_number = fields.CharField(max_length=40)
    month = fields.DateField()  # first day of the usage month
    status = fields.CharEnumField(
        UsageReportStatus, max_length=16, default=UsageReportStatus.PENDING_REVIEW
    )
    rejection_reason = fields.TextField(default="")
    purchase_order_number = fields.CharField(max_length=100, default="")
    comment = fields.TextField(default="")
    minimum_commit_points = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    # Who reports usage for the provider and the aggregator it reports to (as of generation).
    usage_reporting_administrator = fields.CharField(max_length=254, default="", db_default="")
    aggregator_account = fields.CharField(max_length=200, default="", db_default="")
    submitted_at = fields.DatetimeField(null=True)
    confirmed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "usage_report"
        unique_together = (("provider", "month"),)
        indexes = (("provider_id", "status", "month"),)


class UsageReportSaasLine(Entity):
    report = fields.ForeignKeyField(
        "models.UsageReport", related_name="saas_lines", on_delete=fields.CASCADE
    )
    customer = fields.ForeignKeyField(
        "models.Customer", related_name="usage_lines", null=True, on_delete=fields.SET_NULL
    )
    customer_name = fields.CharField(max_length=200)
    start_date = fields.DateField(null=True)  # the customer's activation
    tenant_crm_id = fields.CharField(max_length=100, default="", db_default="")
    product = fields.CharField(max_length=200)
    unit = fields.CharField(max_length=40)
    reported_units = fields.IntField()
    points_per_unit = fields.DecimalField(max_digits=10, decimal_places=2)
    points = fields.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        table = "usage_report_saas_line"
        indexes = ()  # (report_id, lower(customer_name), id): created by migration 0007


class UsageReportSoftwareLine(Entity):
    report = fields.ForeignKeyField(
        "models.UsageReport", related_name="software_lines", on_delete=fields.CASCADE
    )
    workload = fields.CharEnumField(SoftwareWorkload, max_length=32, null=True)
    product = fields.CharField(max_length=200)
    unit = fields.CharField(max_length=40)
    licensed = fields.IntField()
    reported_previous_month = fields.IntField()
    auto_reported = fields.BooleanField(default=False)
    current_month_usage = fields.IntField()
    # The figure the intake gave; null for a line the provider added during review.
    automatic_usage = fields.IntField(null=True)
    corrected_at = fields.DatetimeField(null=True)  # set once the provider changed the usage
    points_per_unit = fields.DecimalField(max_digits=10, decimal_places=2)
    points = fields.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        table = "usage_report_software_line"


class SoftwareUsage(Entity):
    # Cloud Connect and public-cloud workloads a provider ran in one month.

    provider = fields.ForeignKeyField(
        "models.ServiceProvider", related_name="software_usage", on_delete=fields.CASCADE
    )
    month = fields.DateField()
    workload = fields.CharEnumField(SoftwareWorkload, max_length=32)
    units = fields.IntField()
    licensed_units = fields.IntField(default=0)
    # From a tenant whose own server has a rental licence: consumes no Cloud Connect licence.
    tenant_has_rental_license = fields.BooleanField(default=False)
    auto_reported = fields.BooleanField(default=True)

    class Meta:
        table = "software_usage"
        unique_together = (("provider", "month", "workload", "tenant_has_rental_license"),)
        indexes = (("provider_id", "month"),)
