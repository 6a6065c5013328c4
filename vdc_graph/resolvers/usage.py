"""Monthly usage reports: listing, lines, totals, the review workflow and the suspension rule."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any
from uuid import UUID

from vdc_graph import clock
from vdc_graph.context import RequestContext
from vdc_graph.db.models import UsageReport, UsageReportSaasLine, UsageReportSoftwareLine
from vdc_graph.db.pagination import Page, PageArgs, SortKey, every_row, paginate, sort_key
from vdc_graph.db.queries import usage as queries
from vdc_graph.enums import Permission, UsageReportStatus, WebhookEvent
from vdc_graph.errors import UserError, UserErrorCode, UserErrors
from vdc_graph.notify.webhooks import emit
from vdc_graph.usage_reports import month_start, next_month

from .access import changing, reading
from .ids import Ref, key_of, not_found


async def ensure_license_management_allowed(provider_id: UUID) -> None:
    """Refuse a licence-management change while the provider is suspended.

    A provider that has left the reports of two consecutive past months unsubmitted may not
    manage licences until it submits one of them. Call it in every licence-management
    mutation, once the caller may reach the object and before anything is written; it raises
    a userError with code LICENSE_MANAGEMENT_SUSPENDED.
    """
    months = await suspension_months(provider_id)
    if months:
        named = " and ".join(m.strftime("%B %Y") for m in months)
        raise UserErrors(
            [
                UserError(
                    f"Licence management is suspended: the usage reports for {named} have not "
                    "been submitted. Submit them to lift the suspension.",
                    None,
                    UserErrorCode.LICENSE_MANAGEMENT_SUSPENDED,
                )
            ]
        )


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
    def overage_points(self) -> Decimal:
        """Points above the minimum commit."""
        return max(self.reported_points - self.minimum_commit_points, Decimal(0))

    @property
    def subtotal_points(self) -> Decimal:
        """The committed points, billed whatever the usage."""
        return self.minimum_commit_points

    @property
    def total_points(self) -> Decimal:
        return self.subtotal_points + self.overage_points


async def report_totals(ctx: RequestContext, report: UsageReport) -> Totals:
    """A report's totals; the reports of one request are summed in two queries together."""
    software = ctx.loaders.get("usage-software-points", queries.software_points_by_report)
    saas = ctx.loaders.get("usage-saas-points", queries.saas_points_by_report)
    return Totals(
        software_points=await software.load(report.id),
        saas_points=await saas.load(report.id),
        minimum_commit_points=Decimal(str(report.minimum_commit_points)),
    )


def _refuse_status(report: UsageReport, allowed: tuple[UsageReportStatus, ...], what: str) -> None:
    if report.status not in allowed:
        raise UserErrors(
            [
                UserError(
                    f"This report is {report.status.value}; only a report that is "
                    f"{' or '.join(s.value for s in allowed)} can be {what}",
                    ["input", "id"],
                    UserErrorCode.INVALID_STATE,
                )
            ]
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
    _refuse_status(
        report, (UsageReportStatus.PENDING_REVIEW, UsageReportStatus.REJECTED), "submitted"
    )
    report.status = UsageReportStatus.SAVED
    report.rejection_reason = ""  # answered by this submission
    report.purchase_order_number = po
    report.comment = note
    report.submitted_at = clock.now()
    await report.save()
    await status_changed(report)
    return report


async def confirm_report(ctx: RequestContext, ref: Ref) -> UsageReport:
    """SAVED -> CONFIRMED: the submitted usage is sent on to the aggregator."""
    report = await _changing_report(ctx, ref)
    _refuse_status(report, (UsageReportStatus.SAVED,), "confirmed")
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
    "Line",
    "Customer",
    "Product",
    "Unit",
    "Licensed",
    "Reported previous month",
    "Auto-reported",
    "Units",
    "Points per unit",
    "Points",
)


async def export_report_lines(
    ctx: RequestContext, ref: Ref
) -> tuple[str, list[str], AsyncIterator[list[Any]]]:
    """A report's SaaS and software lines as CSV rows (rights checked now)."""
    report = await get_report(ctx, ref)

    async def rows() -> AsyncIterator[list[Any]]:
        key = SortKey("CUSTOMER", "customer_name", case_insensitive=True)
        # Page by page, so a report of thousands of lines is never held whole.
        async for line in every_row(UsageReportSaasLine.filter(report_id=report.id), key):
            yield [
                "SaaS",
                line.customer_name,
                line.product,
                line.unit,
                "",
                "",
                "",
                line.reported_units,
                str(line.points_per_unit),
                str(line.points),
            ]
        for line in (await queries.software_lines_by_report([report.id]))[0]:
            yield [
                "Software",
                "",
                line.product,
                line.unit,
                line.licensed,
                line.reported_previous_month,
                "yes" if line.auto_reported else "no",
                line.current_month_usage,
                str(line.points_per_unit),
                str(line.points),
            ]

    filename = f"usage-report-{report.month.year:04d}-{report.month.month:02d}.csv"
    return filename, list(REPORT_CSV_COLUMNS), rows()
