"""Usage report queries: the scoped base set, filters, lines and their exact totals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from tortoise.functions import Sum
from tortoise.queryset import QuerySet

from vdc_graph.db.loaders import by_key, grouped
from vdc_graph.db.models import UsageReport, UsageReportSaasLine, UsageReportSoftwareLine
from vdc_graph.db.pagination import SortKey
from vdc_graph.db.scope import Scope
from vdc_graph.enums import UsageReportStatus

SORT_KEYS = (SortKey("MONTH", "month"),)

# A month counts as unsubmitted while its report waits for the provider.
UNSUBMITTED = (UsageReportStatus.PENDING_REVIEW, UsageReportStatus.REJECTED)


@dataclass(frozen=True)
class UsageReportFilter:
    months: tuple[date, ...] = ()
    statuses: tuple[UsageReportStatus, ...] = ()


def visible_reports(scope: Scope) -> QuerySet[UsageReport]:
    """The provider's reports; a caller limited to some customers sees none (a report lists
    every customer of the provider)."""
    return scope.provider_wide(UsageReport.filter(provider_id=scope.provider_id))


def filtered_reports(scope: Scope, flt: UsageReportFilter) -> QuerySet[UsageReport]:
    qs = visible_reports(scope)
    if flt.months:
        qs = qs.filter(month__in=list(flt.months))
    if flt.statuses:
        qs = qs.filter(status__in=list(flt.statuses))
    return qs


async def reports_by_id(scope: Scope, ids: Sequence[UUID]) -> list[UsageReport | None]:
    return by_key(await visible_reports(scope).filter(id__in=list(ids)), ids)


async def saas_lines_by_report(ids: Sequence[UUID]) -> list[list[UsageReportSaasLine]]:
    rows = await UsageReportSaasLine.filter(report_id__in=list(ids)).order_by("customer_name", "id")
    return grouped(rows, ids, "report_id")


async def software_lines_by_report(ids: Sequence[UUID]) -> list[list[UsageReportSoftwareLine]]:
    rows = await UsageReportSoftwareLine.filter(report_id__in=list(ids)).order_by("product", "id")
    return grouped(rows, ids, "report_id")


async def _points_by_report(model: type, units_field: str, ids: Sequence[UUID]) -> list[Decimal]:
    # Units are whole numbers, summed by the database per report and price; the
    # multiplication happens in Decimal so no float ever touches a point (SQLite keeps
    # decimals as text, and its SUM of them would be a float).
    rows = (
        await model.filter(report_id__in=list(ids))
        .annotate(units=Sum(units_field))
        .group_by("report_id", "points_per_unit")
        .values("report_id", "points_per_unit", "units")
    )
    totals = {key: Decimal(0) for key in ids}
    for r in rows:
        totals[r["report_id"]] += Decimal(str(r["points_per_unit"])) * int(r["units"] or 0)
    return [totals[key] for key in ids]


async def saas_points_by_report(ids: Sequence[UUID]) -> list[Decimal]:
    return await _points_by_report(UsageReportSaasLine, "reported_units", ids)


async def software_points_by_report(ids: Sequence[UUID]) -> list[Decimal]:
    return await _points_by_report(UsageReportSoftwareLine, "current_month_usage", ids)


async def unsubmitted_months(provider_id: UUID, before: date) -> list[date]:
    """Months before ``before`` whose reports the provider has not submitted, oldest first."""
    rows = (
        await UsageReport.filter(provider_id=provider_id, month__lt=before, status__in=UNSUBMITTED)
        .order_by("month")
        .values_list("month", flat=True)
    )
    return list(rows)
