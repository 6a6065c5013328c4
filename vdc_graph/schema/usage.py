"""Monthly usage reports: ``usageReports``, ``usageReport(id)``, their lines and totals, and
the provider's side of the review workflow (``usageReportSubmit``, ``usageReportConfirm``)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from vdc_graph.db import models
from vdc_graph.db.queries.usage import UsageReportFilter as UsageReportFilterQuery
from vdc_graph.resolvers import downloads, hints
from vdc_graph.resolvers import usage as resolve
from vdc_graph.resolvers.ids import Ref
from vdc_graph.software_usage import WorkloadCount

from .common import OrderDirection, Payload, UserError
from .customers import AFTER, BEFORE, FIRST, LAST, Customer
from .enums import SoftwareWorkload, UsageReportStatus
from .relay import Connection, ModelNode, page_args
from .scalars import Month


@strawberry.type(description="A customer's Microsoft 365 users reported in a usage report.")
class UsageReportSaasLine:
    customer_name: str = strawberry.field(description="The customer's name when generated.")
    start_date: date | None = strawberry.field(
        description="When the customer was activated (onboarded)."
    )
    tenant_crm_id: str = strawberry.field(
        description="The customer's ID in the licensing system (its Veeam account ID)."
    )
    product: str = strawberry.field(description="The product reported.")
    unit: str = strawberry.field(description="What is counted (`User`).")
    reported_units: int = strawberry.field(description="Licensed users that month.")
    points_per_unit: Decimal = strawberry.field(description="Points per user (2.5).")
    points: Decimal = strawberry.field(description="Reported units times points per unit.")

    @strawberry.field(description="The customer; null once it is deleted.")
    async def customer(self, info: Info) -> Customer | None:
        return await resolve.line_customer(info.context, self)  # type: ignore[arg-type,return-value]


@strawberry.type(description="Cloud Connect or public-cloud workloads reported in a usage report.")
class UsageReportSoftwareLine:
    workload: SoftwareWorkload | None = strawberry.field(
        description="The workload of the price table (null on lines of older reports)."
    )
    product: str = strawberry.field(description="The product reported.")
    unit: str = strawberry.field(description="What is counted (VM, server, database…).")
    licensed: int = strawberry.field(description="Units licensed.")
    reported_previous_month: int = strawberry.field(description="Units reported the month before.")
    auto_reported: bool = strawberry.field(
        description="The usage was collected automatically rather than reported by hand."
    )
    current_month_usage: int = strawberry.field(
        description="Units that consume points this month (backups from a tenant whose own "
        "server has a rental licence are not counted), as corrected in review."
    )
    automatic_usage: int | None = strawberry.field(
        description="The units the usage intake gave; null for a line added in review."
    )

    @strawberry.field(
        description="True when the provider corrected the usage or added the line in review."
    )
    def changed_from_automatic(self) -> bool:
        return self.corrected_at is not None  # type: ignore[attr-defined]

    points_per_unit: Decimal = strawberry.field(description="Points per unit (PPU).")
    points: Decimal = strawberry.field(description="Current month usage times PPU.")


@strawberry.type(description="The sums of a usage report, in exact points.")
class UsageReportTotals:
    software_points: Decimal = strawberry.field(description="Points of the software lines.")
    saas_points: Decimal = strawberry.field(description="Points of the SaaS lines.")
    reported_points: Decimal = strawberry.field(description="Software plus SaaS points.")
    minimum_commit_points: Decimal = strawberry.field(
        description="Points the provider committed to each month."
    )
    minimum_commit_enforcement_points: Decimal = strawberry.field(
        description="What the reported points fall short of the commit: max(0, commit - reported)."
    )
    subtotal_points: Decimal = strawberry.field(
        description="Reported points plus the minimum commit enforcement."
    )
    overage_points: Decimal = strawberry.field(
        description="Reported points above the minimum commit: max(0, reported - commit)."
    )
    total_points: Decimal = strawberry.field(
        description="The points billed: the subtotal (the overage is part of it)."
    )


UsageReportSaasLineConnection = Connection[UsageReportSaasLine]


@strawberry.type(description="A provider's usage of one month, reported for billing.")
class UsageReport(ModelNode):
    model = models.UsageReport
    number: str = strawberry.field(description="The report's number.")
    rental_agreement_number: str = strawberry.field(
        description="The provider's rental agreement number."
    )
    month: Month = strawberry.field(description="The usage month.")
    status: UsageReportStatus = strawberry.field(description="Where the report stands.")
    submitted_at: datetime | None = strawberry.field(description="When the provider submitted.")
    confirmed_at: datetime | None = strawberry.field(
        description="When it was sent to the aggregator."
    )
    created_at: datetime = strawberry.field(description="When the report was generated.")
    usage_reporting_administrator: str = strawberry.field(
        description="Who reports usage for the provider (as of generation)."
    )
    aggregator_account: str = strawberry.field(
        description="The aggregator account the usage is reported to (as of generation)."
    )

    @strawberry.field(description="Why the aggregator rejected the report; null unless rejected.")
    def rejection_reason(self) -> str | None:
        return self.rejection_reason or None  # type: ignore[attr-defined]

    @strawberry.field(description="The purchase-order number given at submission.")
    def purchase_order_number(self) -> str | None:
        return self.purchase_order_number or None  # type: ignore[attr-defined]

    @strawberry.field(description="The provider's comment given at submission.")
    def comment(self) -> str | None:
        return self.comment or None  # type: ignore[attr-defined]

    @strawberry.field(description="One line per customer, by customer name.")
    async def saas_lines(
        self,
        info: Info,
        first: FIRST = None,
        after: AFTER = None,
        last: LAST = None,
        before: BEFORE = None,
    ) -> UsageReportSaasLineConnection:
        page = await resolve.list_saas_lines(
            info.context,
            self,  # type: ignore[arg-type]
            page_args(info, first, after, last, before),
        )
        return UsageReportSaasLineConnection(page=page)

    @strawberry.field(description="One line per software product used, by product name.")
    async def software_lines(self, info: Info) -> list[UsageReportSoftwareLine]:
        return await resolve.software_lines(info.context, self)  # type: ignore[arg-type,return-value]

    @strawberry.field(
        description="A link to the report as CSV (`/exports/usage-report.csv`): signed for you, "
        "usable without a header, valid for `VDC_DOWNLOAD_URL_TTL_SECONDS`."
    )
    def download_url(self, info: Info) -> str:
        return downloads.link(
            info.context,
            "/exports/usage-report.csv",
            {"id": relay.to_base64("UsageReport", self.id)},  # type: ignore[attr-defined]
        )

    @strawberry.field(description="Whether `usageReportSubmit` would submit it for you now.")
    def viewer_can_submit(self, info: Info) -> bool:
        return hints.submit_report(info.context, self)  # type: ignore[arg-type]

    @strawberry.field(description="Whether `usageReportConfirm` would confirm it for you now.")
    def viewer_can_confirm(self, info: Info) -> bool:
        return hints.confirm_report(info.context, self)  # type: ignore[arg-type]

    @strawberry.field(description="The report's totals.")
    async def totals(self, info: Info) -> UsageReportTotals:
        t = await resolve.report_totals(info.context, self)  # type: ignore[arg-type]
        return UsageReportTotals(
            software_points=t.software_points,
            saas_points=t.saas_points,
            reported_points=t.reported_points,
            minimum_commit_points=t.minimum_commit_points,
            minimum_commit_enforcement_points=t.minimum_commit_enforcement_points,
            subtotal_points=t.subtotal_points,
            overage_points=t.overage_points,
            total_points=t.total_points,
        )


@strawberry.enum(description="Columns usage reports can be ordered by.")
class UsageReportOrderField(Enum):
    MONTH = strawberry.enum_value("MONTH", description="The usage month.")


@strawberry.input(description="How to order usage reports; ties are broken by ID.")
class UsageReportOrder:
    field: UsageReportOrderField = strawberry.field(description="The column to order by.")
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC, description="Ascending or descending (default newest first)."
    )


@strawberry.input(description="Which usage reports to list; all conditions must hold.")
class UsageReportFilter:
    months: list[Month] | None = strawberry.field(
        default=None, description="Only reports of these months."
    )
    statuses: list[UsageReportStatus] | None = strawberry.field(
        default=None, description="Only reports in these states."
    )


@strawberry.type(description="Whether the provider may manage licences.")
class LicenseManagement:
    suspended: bool = strawberry.field(
        description="True while the reports of two consecutive past months are unsubmitted."
    )
    unsubmitted_months: list[Month] = strawberry.field(
        description="The two consecutive unsubmitted months that cause the suspension."
    )


UsageReportConnection = Connection[UsageReport]


@strawberry.type
class UsageQueries:
    @strawberry.field(description="The provider's monthly usage reports, newest first.")
    async def usage_reports(
        self,
        info: Info,
        filter: Annotated[
            UsageReportFilter | None, strawberry.argument(description="Which reports to list.")
        ] = None,
        order_by: Annotated[
            UsageReportOrder | None,
            strawberry.argument(description="The order; newest month first by default."),
        ] = None,
        first: FIRST = None,
        after: AFTER = None,
        last: LAST = None,
        before: BEFORE = None,
    ) -> UsageReportConnection:
        flt = filter or UsageReportFilter()
        order = order_by or UsageReportOrder(field=UsageReportOrderField.MONTH)
        page = await resolve.list_reports(
            info.context,
            UsageReportFilterQuery(
                months=tuple(flt.months or ()), statuses=tuple(flt.statuses or ())
            ),
            order.direction is OrderDirection.DESC,
            page_args(info, first, after, last, before),
        )
        return UsageReportConnection(page=page)

    @strawberry.field(description="One usage report by ID.")
    async def usage_report(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="The report's ID.")],
    ) -> UsageReport | None:
        return await resolve.get_report(info.context, Ref(id.type_name, id.node_id))  # type: ignore[return-value]

    @strawberry.field(
        description="Whether licence management (such as registering customers) is suspended "
        "for unsubmitted usage reports."
    )
    async def license_management(self, info: Info) -> LicenseManagement:
        months = await resolve.license_management_months(info.context)
        return LicenseManagement(suspended=bool(months), unsubmitted_months=months)


@strawberry.input(description="Submit a usage report (PENDING_REVIEW or REJECTED) as reviewed.")
class UsageReportSubmitInput:
    id: relay.GlobalID = strawberry.field(description="The report.")
    purchase_order_number: str | None = strawberry.field(
        default=None, description="An optional purchase-order number (up to 100 characters)."
    )
    comment: str | None = strawberry.field(
        default=None, description="An optional comment (up to 2000 characters)."
    )


@strawberry.input(description="Confirm a submitted (SAVED) report: it goes to the aggregator.")
class UsageReportConfirmInput:
    id: relay.GlobalID = strawberry.field(description="The report.")


@strawberry.type(description="The result of `usageReportSubmit`.")
class UsageReportSubmitPayload(Payload):
    usage_report: UsageReport | None = strawberry.field(description="The submitted report.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


@strawberry.type(description="The result of `usageReportConfirm`.")
class UsageReportConfirmPayload(Payload):
    usage_report: UsageReport | None = strawberry.field(description="The confirmed report.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


@strawberry.type
class UsageMutations:
    @strawberry.mutation(
        description="Submit the month's usage (PENDING_REVIEW or REJECTED -> SAVED); lifts a "
        "licence-management suspension. Needs SITE_SETTINGS."
    )
    async def usage_report_submit(
        self,
        info: Info,
        input: Annotated[
            UsageReportSubmitInput, strawberry.argument(description="The report to submit.")
        ],
    ) -> UsageReportSubmitPayload:
        from .mutations import run_mutation

        return await run_mutation(
            info,
            UsageReportSubmitPayload,
            lambda: resolve.submit_report(
                info.context,
                Ref(input.id.type_name, input.id.node_id),
                input.purchase_order_number,
                input.comment,
            ),
        )

    @strawberry.mutation(
        description="Send a submitted report to the aggregator (SAVED -> CONFIRMED). Needs "
        "SITE_SETTINGS."
    )
    async def usage_report_confirm(
        self,
        info: Info,
        input: Annotated[
            UsageReportConfirmInput, strawberry.argument(description="The report to confirm.")
        ],
    ) -> UsageReportConfirmPayload:
        from .mutations import run_mutation

        return await run_mutation(
            info,
            UsageReportConfirmPayload,
            lambda: resolve.confirm_report(info.context, Ref(input.id.type_name, input.id.node_id)),
        )


@strawberry.input(
    description="Correct a software line's current-month usage of a report under review."
)
class UsageReportCorrectSoftwareLineInput:
    id: relay.GlobalID = strawberry.field(description="The report (PENDING_REVIEW or REJECTED).")
    workload: SoftwareWorkload = strawberry.field(description="The line's workload.")
    current_month_usage: int = strawberry.field(
        description="The units that consume points this month (0 to 1,000,000)."
    )


@strawberry.input(description="Add a product of the price table to a report under review.")
class UsageReportAddSoftwareLineInput:
    id: relay.GlobalID = strawberry.field(description="The report (PENDING_REVIEW or REJECTED).")
    workload: SoftwareWorkload = strawberry.field(
        description="The product, one the report has no line for yet."
    )
    current_month_usage: int = strawberry.field(
        description="The units that consume points this month (0 to 1,000,000)."
    )
    licensed: int = strawberry.field(default=0, description="Units licensed (0 to 1,000,000).")


@strawberry.type(description="The result of changing a software line of a report in review.")
class UsageReportSoftwareLinePayload(Payload):
    software_line: UsageReportSoftwareLine | None = strawberry.field(
        description="The line as it now is."
    )
    usage_report: UsageReport | None = strawberry.field(description="The report it is on.")
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


@strawberry.type
class UsageReviewMutations:
    @strawberry.mutation(
        description="Correct a software line's current-month usage while the report awaits "
        "review; the automatic figure stays visible. Needs SITE_SETTINGS."
    )
    async def usage_report_correct_software_line(
        self,
        info: Info,
        input: Annotated[
            UsageReportCorrectSoftwareLineInput, strawberry.argument(description="The change.")
        ],
    ) -> UsageReportSoftwareLinePayload:
        from .mutations import run_mutation

        return await run_mutation(
            info,
            UsageReportSoftwareLinePayload,
            lambda: resolve.correct_software_line(
                info.context,
                Ref(input.id.type_name, input.id.node_id),
                input.workload,  # type: ignore[arg-type]
                input.current_month_usage,
            ),
        )

    @strawberry.mutation(
        description="Add a product line from the price table to a report awaiting review. "
        "Needs SITE_SETTINGS."
    )
    async def usage_report_add_software_line(
        self,
        info: Info,
        input: Annotated[
            UsageReportAddSoftwareLineInput, strawberry.argument(description="The new line.")
        ],
    ) -> UsageReportSoftwareLinePayload:
        from .mutations import run_mutation

        return await run_mutation(
            info,
            UsageReportSoftwareLinePayload,
            lambda: resolve.add_software_line(
                info.context,
                Ref(input.id.type_name, input.id.node_id),
                input.workload,  # type: ignore[arg-type]
                input.current_month_usage,
                input.licensed,
            ),
        )


@strawberry.type(description="A provider's count of one software workload in one month.")
class SoftwareUsage:
    month: Month = strawberry.field(description="The usage month.")
    workload: SoftwareWorkload = strawberry.field(description="The workload.")
    units: int = strawberry.field(description="Units used.")
    licensed_units: int = strawberry.field(description="Units licensed.")
    tenant_has_rental_license: bool = strawberry.field(
        description="From tenants whose own server has a rental licence (their backups "
        "consume no Cloud Connect licence)."
    )
    auto_reported: bool = strawberry.field(description="Collected automatically.")


@strawberry.input(description="The count of one workload.")
class SoftwareUsageCountInput:
    workload: SoftwareWorkload = strawberry.field(description="The workload.")
    units: int = strawberry.field(description="Units used (0 to 1,000,000).")
    licensed_units: int = strawberry.field(
        default=0, description="Units licensed (0 to 1,000,000)."
    )
    tenant_has_rental_license: bool = strawberry.field(
        default=False,
        description="Counts from tenants whose own server has a rental licence (reported "
        "apart: their backups consume no Cloud Connect licence).",
    )


@strawberry.input(description="A month's software usage: sets the counts of the workloads named.")
class SoftwareUsageReportInput:
    month: Month = strawberry.field(
        description="The usage month (not in the future; its report not yet submitted)."
    )
    workloads: list[SoftwareUsageCountInput] = strawberry.field(
        description="One count per workload (and rental-licence flag)."
    )
    auto_reported: bool = strawberry.field(
        default=True, description="Collected automatically (false: entered by hand)."
    )


@strawberry.type(description="The result of `softwareUsageReport`.")
class SoftwareUsageReportPayload(Payload):
    software_usage: list[SoftwareUsage] = strawberry.field(
        description="The month's software usage after the intake."
    )
    changed: bool = strawberry.field(
        default=False,
        description="False when the counts were already these (a repeated intake).",
    )
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


@strawberry.type
class SoftwareUsageMutations:
    @strawberry.mutation(
        description="Report a month's Cloud Connect and public-cloud usage (idempotent: the "
        "counts are set, not added). A report awaiting review shows them at once. Needs "
        "SITE_SETTINGS."
    )
    async def software_usage_report(
        self,
        info: Info,
        input: Annotated[
            SoftwareUsageReportInput, strawberry.argument(description="The month's counts.")
        ],
    ) -> SoftwareUsageReportPayload:
        from .mutations import run_mutation

        return await run_mutation(
            info,
            SoftwareUsageReportPayload,
            lambda: resolve.report_software_usage(
                info.context,
                input.month,  # type: ignore[arg-type]
                [
                    WorkloadCount(
                        c.workload,  # type: ignore[arg-type]
                        c.units,
                        c.licensed_units,
                        c.tenant_has_rental_license,
                    )
                    for c in input.workloads
                ],
                input.auto_reported,
            ),
            target=("ServiceProvider", str(info.context.principal.provider_id))
            if info.context.principal is not None
            else None,
        )
