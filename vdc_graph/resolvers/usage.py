"""Monthly usage reports: listing, lines, totals, the review workflow and the suspension rule."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any
from uuid import UUID

from vdc_graph import clock
from vdc_graph.context import RequestContext
from vdc_graph.db.models import (
    Customer,
    SoftwareUsage,
    UsageReport,
    UsageReportSaasLine,
    UsageReportSoftwareLine,
)
from vdc_graph.db.pagination import Page, PageArgs, SortKey, every_row, paginate, sort_key
from vdc_graph.db.queries import usage as queries
from vdc_graph.db.queries.customers import customers_by_id
from vdc_graph.db.queries.usage import UNSUBMITTED
from vdc_graph.enums import Permission, SoftwareWorkload, UsageReportStatus, WebhookEvent
from vdc_graph.errors import UserError, UserErrorCode, UserErrors
from vdc_graph.notify.webhooks import emit
from vdc_graph.numbers import decimal_text
from vdc_graph.software_usage import WorkloadCount, record_software_usage
from vdc_graph.usage_reports import SOFTWARE_PRODUCTS, month_start, next_month

from . import rules
from .access import changing, provider_changing, reading
from .ids import Ref, key_of, not_found


async def ensure_license_management_allowed(provider_id: UUID) -> None:
    """Refuse a licence-management change while the provider is suspended.

    A provider that has left the reports of two consecutive past months unsubmitted may not
    manage licences until it submits one of them. Call it in every licence-management
    mutation, once the caller may reach the object and before anything is written; it raises
    a userError with code LICENSE_MANAGEMENT_SUSPENDED.
    """
    rules.refuse_suspended(await suspension_months(provider_id))


async def suspension_months(provider_id: UUID) -> list[Any]:
    """The first two consecutive unsubmitted past months, or [] when the provider may act."""
    months = await queries.unsubmitted_months(provider_id, month_start(clock.now()))
    for earlier, later in pairwise(months):
        if next_month(earlier) == later:
            return [earlier, later]
    return []


async def license_management_months(ctx: RequestContext) -> list[Any]:
    """The months that suspend the caller's provider ([] when it may manage licences)."""
    scope = reading(ctx)
    return await suspension_months(scope.provider_id)


async def list_reports(
    ctx: RequestContext, flt: queries.UsageReportFilter, descending: bool, page: PageArgs
) -> Page[UsageReport]:
    scope = reading(ctx)
    key = sort_key(queries.SORT_KEYS, "MONTH")
    return await paginate(queries.filtered_reports(scope, flt), key, descending, page)


async def load_report(ctx: RequestContext, key: Any) -> UsageReport | None:
    scope = reading(ctx)
    loader = ctx.loaders.get(("usage-report", scope), lambda ids: queries.reports_by_id(scope, ids))
    return await loader.load(key)


async def get_report(ctx: RequestContext, ref: Ref) -> UsageReport:
    report = await load_report(ctx, key_of(ref, "UsageReport"))
    if report is None:
        raise not_found("UsageReport")
    return report


async def saas_lines(ctx: RequestContext, report: UsageReport) -> list[UsageReportSaasLine]:
    loader = ctx.loaders.get("usage-saas-lines", queries.saas_lines_by_report)
    return await loader.load(report.id)


async def list_saas_lines(
    ctx: RequestContext, report: UsageReport, page: PageArgs
) -> Page[UsageReportSaasLine]:
    """A page of a report's SaaS lines (the report is already visible to the caller)."""
    key = SortKey("CUSTOMER", "customer_name", case_insensitive=True)
    return await paginate(UsageReportSaasLine.filter(report_id=report.id), key, False, page)


async def line_customer(ctx: RequestContext, line: UsageReportSaasLine) -> Customer | None:
    """The line's customer while it exists (the report is already visible to the caller)."""
    if line.customer_id is None:  # type: ignore[attr-defined]
        return None
    scope = reading(ctx)
    loader = ctx.loaders.get(("customer", scope), lambda ids: customers_by_id(scope, ids))
    return await loader.load(line.customer_id)  # type: ignore[attr-defined]


async def software_lines(ctx: RequestContext, report: UsageReport) -> list[UsageReportSoftwareLine]:
    loader = ctx.loaders.get("usage-software-lines", queries.software_lines_by_report)
    return await loader.load(report.id)


@dataclass(frozen=True)
class Totals:
    software_points: Decimal
    saas_points: Decimal
    minimum_commit_points: Decimal

    @property
    def reported_points(self) -> Decimal:
        return self.software_points + self.saas_points

    @property
    def minimum_commit_enforcement_points(self) -> Decimal:
        """What the reported points fall short of the commit: billed all the same."""
        return max(self.minimum_commit_points - self.reported_points, Decimal(0))

    @property
    def subtotal_points(self) -> Decimal:
        return self.reported_points + self.minimum_commit_enforcement_points

    @property
    def overage_points(self) -> Decimal:
        """Points above the minimum commit (already part of the subtotal)."""
        return max(self.reported_points - self.minimum_commit_points, Decimal(0))

    @property
    def total_points(self) -> Decimal:
        return self.subtotal_points


async def report_totals(ctx: RequestContext, report: UsageReport) -> Totals:
    """A report's totals; the reports of one request are summed in two queries together."""
    software = ctx.loaders.get("usage-software-points", queries.software_points_by_report)
    saas = ctx.loaders.get("usage-saas-points", queries.saas_points_by_report)
    return Totals(
        software_points=await software.load(report.id),
        saas_points=await saas.load(report.id),
        minimum_commit_points=Decimal(str(report.minimum_commit_points)),
    )


async def _changing_report(ctx: RequestContext, ref: Ref) -> UsageReport:
    _, scope = changing(ctx, Permission.SITE_SETTINGS)
    key = key_of(ref, "UsageReport")
    report = await queries.visible_reports(scope).select_for_update().get_or_none(id=key)
    if report is None:
        raise not_found("UsageReport")
    return report


async def status_changed(report: UsageReport) -> None:
    """Tell the provider's webhooks (inside the transaction of the change)."""
    await emit(
        report.provider_id,
        WebhookEvent.USAGE_REPORT_STATUS,
        {
            "usageReport": {
                "number": report.number,
                "month": f"{report.month.year:04d}-{report.month.month:02d}",
                "status": report.status.value,
                "rejectionReason": report.rejection_reason or None,
                "purchaseOrderNumber": report.purchase_order_number or None,
            }
        },
    )


async def submit_report(
    ctx: RequestContext, ref: Ref, purchase_order_number: str | None, comment: str | None
) -> UsageReport:
    """PENDING_REVIEW (or REJECTED, once reviewed again) -> SAVED."""
    report = await _changing_report(ctx, ref)
    problems = []
    po = (purchase_order_number or "").strip()
    if len(po) > 100:
        problems.append(
            UserError(
                "The purchase-order number is longer than 100 characters",
                ["input", "purchaseOrderNumber"],
                UserErrorCode.TOO_LONG,
            )
        )
    note = (comment or "").strip()
    if len(note) > 2000:
        problems.append(
            UserError(
                "The comment is longer than 2000 characters",
                ["input", "comment"],
                UserErrorCode.TOO_LONG,
            )
        )
    if problems:
        raise UserErrors(problems)
    rules.submit_report(ctx.principal, report)
    report.status = UsageReportStatus.SAVED
    report.rejection_reason = ""  # answered by this submission
    report.purchase_order_number = po
    report.comment = note
    report.submitted_at = clock.now()
    await report.save()
    await status_changed(report)
    return report


MAX_UNITS = 1_000_000  # per software line: far above any provider's month


def _check_units(value: int, field: str) -> None:
    if not 0 <= value <= MAX_UNITS:
        raise UserErrors(
            [
                UserError(
                    f"Must be a whole number from 0 to {MAX_UNITS:,}",
                    ["input", field],
                    UserErrorCode.OUT_OF_RANGE,
                )
            ]
        )


async def _reviewed_report(ctx: RequestContext, ref: Ref) -> UsageReport:
    report = await _changing_report(ctx, ref)
    rules.refuse_report_status(report, UNSUBMITTED, "changed")
    return report


async def correct_software_line(
    ctx: RequestContext, ref: Ref, workload: SoftwareWorkload, usage: int
) -> tuple[UsageReportSoftwareLine, UsageReport]:
    """Set a software line's current-month usage while the report awaits review; the line
    keeps its automatic figure, so what was changed stays visible."""
    report = await _reviewed_report(ctx, ref)
    _check_units(usage, "currentMonthUsage")
    line = await UsageReportSoftwareLine.filter(report_id=report.id, workload=workload).first()
    if line is None:
        raise UserErrors(
            [
                UserError(
                    f"The report has no {SOFTWARE_PRODUCTS[workload].name} line; add it instead",
                    ["input", "workload"],
                    UserErrorCode.NOT_FOUND,
                )
            ]
        )
    line.current_month_usage = usage
    line.points = line.points_per_unit * usage
    line.corrected_at = clock.now()
    await line.save(update_fields=["current_month_usage", "points", "corrected_at"])
    return line, report


async def add_software_line(
    ctx: RequestContext, ref: Ref, workload: SoftwareWorkload, usage: int, licensed: int
) -> tuple[UsageReportSoftwareLine, UsageReport]:
    """Add a product of the price table the automatic usage did not report."""
    report = await _reviewed_report(ctx, ref)
    _check_units(usage, "currentMonthUsage")
    _check_units(licensed, "licensed")
    if await UsageReportSoftwareLine.filter(report_id=report.id, workload=workload).exists():
        raise UserErrors(
            [
                UserError(
                    f"The report already has a {SOFTWARE_PRODUCTS[workload].name} line; "
                    "correct its usage instead",
                    ["input", "workload"],
                    UserErrorCode.DUPLICATE,
                )
            ]
        )
    product = SOFTWARE_PRODUCTS[workload]
    line = await UsageReportSoftwareLine.create(
        report=report,
        workload=workload,
        product=product.name,
        unit=product.unit,
        licensed=licensed,
        reported_previous_month=0,
        auto_reported=False,
        current_month_usage=usage,
        automatic_usage=None,
        corrected_at=clock.now(),
        points_per_unit=product.points_per_unit,
        points=product.points_per_unit * usage,
    )
    return line, report


async def report_software_usage(
    ctx: RequestContext, month: date, counts: list[WorkloadCount], auto_reported: bool
) -> tuple[list[SoftwareUsage], bool]:
    """The provider's software usage intake (SITE_SETTINGS, provider-wide callers only)."""
    _, scope = provider_changing(ctx, Permission.SITE_SETTINGS)
    return await record_software_usage(
        scope.provider_id, month, counts, auto_reported=auto_reported
    )


async def confirm_report(ctx: RequestContext, ref: Ref) -> UsageReport:
    """SAVED -> CONFIRMED: the submitted usage is sent on to the aggregator."""
    report = await _changing_report(ctx, ref)
    rules.confirm_report(ctx.principal, report)
    report.status = UsageReportStatus.CONFIRMED
    report.confirmed_at = clock.now()
    await report.save()
    await status_changed(report)
    return report


async def reject_report(report_id: UUID, reason: str) -> UsageReport:
    """The aggregator's refusal (an administrative action): back to the provider's review."""
    if not reason.strip():
        raise ValueError("a rejection needs a reason")
    report = await UsageReport.select_for_update().get(id=report_id)
    if report.status not in (UsageReportStatus.SAVED, UsageReportStatus.CONFIRMED):
        raise ValueError(f"the report is {report.status.value}; only a submitted one is rejected")
    report.status = UsageReportStatus.REJECTED
    report.rejection_reason = reason.strip()
    report.confirmed_at = None
    await report.save()
    await status_changed(report)
    return report


REPORT_CSV_COLUMNS = (
    "Report",
    "Month",
    "Line",
    "Customer",
    "Start date",
    "Tenant CRM ID",
    "Product",
    "Unit",
    "Licensed",
    "Reported previous month",
    "Auto-reported",
    "Automatic usage",
    "Units",
    "Points per unit",
    "Points",
)


def totals_rows(totals: Totals) -> list[tuple[str, Decimal]]:
    """The report's totals as the guide lists them (label, points)."""
    return [
        ("Reported points (software)", totals.software_points),
        ("Reported points (SaaS)", totals.saas_points),
        ("Reported points", totals.reported_points),
        ("Minimum commit", totals.minimum_commit_points),
        ("Minimum commit enforcement", totals.minimum_commit_enforcement_points),
        ("Subtotal", totals.subtotal_points),
        ("Overage", totals.overage_points),
        ("Total", totals.total_points),
    ]


async def export_report_lines(
    ctx: RequestContext, ref: Ref
) -> tuple[str, list[str], AsyncIterator[list[Any]]]:
    """A report's SaaS and software lines, then its totals, as CSV rows (rights checked now);
    every row names the report and month, numbers are written as the API writes them."""
    report = await get_report(ctx, ref)
    month = f"{report.month.year:04d}-{report.month.month:02d}"
    totals = await report_totals(ctx, report)

    async def rows() -> AsyncIterator[list[Any]]:
        ident = [report.number, month]
        key = SortKey("CUSTOMER", "customer_name", case_insensitive=True)
        # Page by page, so a report of thousands of lines is never held whole.
        async for line in every_row(UsageReportSaasLine.filter(report_id=report.id), key):
            yield [
                *ident,
                "SaaS",
                line.customer_name,
                line.start_date.isoformat() if line.start_date else "",
                line.tenant_crm_id,
                line.product,
                line.unit,
                "",
                "",
                "",
                "",
                line.reported_units,
                decimal_text(line.points_per_unit),
                decimal_text(line.points),
            ]
        for line in (await queries.software_lines_by_report([report.id]))[0]:
            yield [
                *ident,
                "Software",
                "",
                "",
                "",
                line.product,
                line.unit,
                line.licensed,
                line.reported_previous_month,
                "yes" if line.auto_reported else "no",
                "" if line.automatic_usage is None else line.automatic_usage,
                line.current_month_usage,
                decimal_text(line.points_per_unit),
                decimal_text(line.points),
            ]
        for label, points in totals_rows(totals):  # the label in the Product column
            yield [*ident, "Total", "", "", "", label, *[""] * 7, decimal_text(points)]

    filename = f"usage-report-{month}.csv"
    return filename, list(REPORT_CSV_COLUMNS), rows()
