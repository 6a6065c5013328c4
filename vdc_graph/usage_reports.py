"""Monthly usage reports: their prices and how one is generated from the month's usage.

A report is generated for each provider and month, from the customers' licensed-user counts
(SaaS lines) and the provider's Cloud Connect and public-cloud workloads (software lines).
Generation is idempotent: a report still waiting for review is rebuilt from the current data,
a submitted one is left as it is.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.functions import Sum
from tortoise.transactions import in_transaction

from vdc_graph import clock
from vdc_graph.db.models import (
    ServiceProvider,
    SoftwareUsage,
    UsageReport,
    UsageReportSaasLine,
    UsageReportSoftwareLine,
)
from vdc_graph.enums import SoftwareWorkload, UsageReportStatus

log = logging.getLogger("vdc_graph.usage")

SAAS_PRODUCT = "Veeam Data Cloud for Microsoft 365 Flex Per User"
SAAS_UNIT = "User"
SAAS_POINTS_PER_UNIT = Decimal("2.5")


@dataclass(frozen=True)
class SoftwareProduct:
    name: str
    unit: str
    points_per_unit: Decimal
    # Backups from a tenant whose own server has a rental licence consume no Cloud Connect
    # licence; replicas are not backups, so they always count.
    rental_exempt: bool = False


SOFTWARE_PRODUCTS: dict[SoftwareWorkload, SoftwareProduct] = {
    SoftwareWorkload.CLOUD_CONNECT_BACKUP_VM: SoftwareProduct(
        "Cloud Connect Backup VM", "VM", Decimal(5), rental_exempt=True
    ),
    SoftwareWorkload.CLOUD_CONNECT_REPLICA: SoftwareProduct(
        "Cloud Connect Replica VM", "VM", Decimal(10)
    ),
    SoftwareWorkload.CLOUD_CONNECT_WORKSTATION: SoftwareProduct(
        "Cloud Connect Backup Workstation", "Workstation", Decimal(3), rental_exempt=True
    ),
    SoftwareWorkload.CLOUD_CONNECT_SERVER: SoftwareProduct(
        "Cloud Connect Backup Server", "Server", Decimal(7), rental_exempt=True
    ),
    SoftwareWorkload.PUBLIC_CLOUD_VM: SoftwareProduct("Public Cloud VM", "VM", Decimal(11)),
    SoftwareWorkload.PUBLIC_CLOUD_DATABASE: SoftwareProduct(
        "Public Cloud Database", "Database", Decimal(11)
    ),
    SoftwareWorkload.PUBLIC_CLOUD_FILE_SHARE: SoftwareProduct(
        "Public Cloud File Share", "File share", Decimal(11)
    ),
}


def month_start(moment: date | datetime) -> date:
    return date(moment.year, moment.month, 1)


def previous_month(month: date) -> date:
    return date(month.year - 1, 12, 1) if month.month == 1 else date(month.year, month.month - 1, 1)


def next_month(month: date) -> date:
    return date(month.year + 1, 1, 1) if month.month == 12 else date(month.year, month.month + 1, 1)


def report_number(provider: ServiceProvider, month: date) -> str:
    return f"UR-{provider.pro_partner_id}-{month.year:04d}{month.month:02d}"


@dataclass(frozen=True)
class WorkloadUsage:
    licensed: int = 0
    counted: int = 0  # units that consume points (rental-licence exemption applied)
    auto_reported: bool = True


def usage_by_workload(
    rows: Iterable[tuple[SoftwareWorkload, bool, bool, int, int]],
) -> dict[SoftwareWorkload, WorkloadUsage]:
    """A month's software usage per workload, from ``(workload, tenant_has_rental_license,
    auto_reported, units, licensed_units)`` rows (raw or already summed per group)."""
    usage: dict[SoftwareWorkload, WorkloadUsage] = {}
    for workload, rental, auto_reported, units, licensed in rows:
        exempt = rental and SOFTWARE_PRODUCTS[workload].rental_exempt
        before = usage.get(workload, WorkloadUsage())
        usage[workload] = WorkloadUsage(
            licensed=before.licensed + licensed,
            counted=before.counted + (0 if exempt else units),
            auto_reported=before.auto_reported and auto_reported,
        )
    return usage


def saas_line_values(
    customer_id: UUID,
    customer_name: str,
    licensed_users: int,
    start_date: date | None = None,
    tenant_crm_id: str = "",
) -> dict:
    """The column values of one customer's SaaS line."""
    return {
        "customer_id": customer_id,
        "customer_name": customer_name,
        "start_date": start_date,
        "tenant_crm_id": tenant_crm_id,
        "product": SAAS_PRODUCT,
        "unit": SAAS_UNIT,
        "reported_units": licensed_users,
        "points_per_unit": SAAS_POINTS_PER_UNIT,
        "points": SAAS_POINTS_PER_UNIT * licensed_users,
    }


def software_line_values(
    current: dict[SoftwareWorkload, WorkloadUsage],
    previous: dict[SoftwareWorkload, WorkloadUsage],
) -> list[dict]:
    """The column values of the software lines of a month, given its and the previous
    month's usage (a workload used in either gets a line)."""
    lines = []
    for workload, product in SOFTWARE_PRODUCTS.items():
        if workload not in current and workload not in previous:
            continue
        now = current.get(workload, WorkloadUsage())
        before = previous.get(workload, WorkloadUsage())
        lines.append(
            {
                "workload": workload,
                "product": product.name,
                "unit": product.unit,
                "licensed": now.licensed,
                "reported_previous_month": before.counted,
                "auto_reported": now.auto_reported,
                "current_month_usage": now.counted,
                "automatic_usage": now.counted,
                "points_per_unit": product.points_per_unit,
                "points": product.points_per_unit * now.counted,
            }
        )
    return lines


async def _software_usage(provider_id: UUID, month: date) -> dict[SoftwareWorkload, WorkloadUsage]:
    rows = (
        await SoftwareUsage.filter(provider_id=provider_id, month=month)
        .annotate(units_sum=Sum("units"), licensed_sum=Sum("licensed_units"))
        .group_by("workload", "tenant_has_rental_license", "auto_reported")
        .values(
            "workload", "tenant_has_rental_license", "auto_reported", "units_sum", "licensed_sum"
        )
    )
    return usage_by_workload(
        (
            SoftwareWorkload(r["workload"]),
            bool(r["tenant_has_rental_license"]),
            bool(r["auto_reported"]),
            int(r["units_sum"] or 0),
            int(r["licensed_sum"] or 0),
        )
        for r in rows
    )


async def _write_lines(
    conn: BaseDBAsyncClient, report: UsageReport, provider_id: UUID, month: date
) -> None:
    """Rebuild a report's lines from the month's data, keeping the provider's review: a
    corrected usage stays corrected, an added line stays."""
    reviewed = {
        line.workload: line
        for line in await UsageReportSoftwareLine.filter(report_id=report.id)
        if line.corrected_at is not None or line.automatic_usage is None
    }
    await UsageReportSaasLine.filter(report_id=report.id).delete()
    await UsageReportSoftwareLine.filter(report_id=report.id).delete()
    await _insert_saas_lines(conn, report, provider_id, month)
    current = await _software_usage(provider_id, month)
    previous = await _software_usage(provider_id, previous_month(month))
    software = []
    for values in software_line_values(current, previous):
        line = reviewed.pop(values["workload"], None)
        if line is not None and line.corrected_at is not None:
            values["current_month_usage"] = line.current_month_usage
            values["points"] = values["points_per_unit"] * line.current_month_usage
            values["corrected_at"] = line.corrected_at
        software.append(UsageReportSoftwareLine(report_id=report.id, **values))
    for line in reviewed.values():  # added in review, with no automatic usage behind them
        software.append(
            UsageReportSoftwareLine(
                report_id=report.id, **{name: getattr(line, name) for name in _LINE_COLUMNS}
            )
        )
    await UsageReportSoftwareLine.bulk_create(software)


# One statement whatever the number of customers: the month's figures joined to their
# customers (deleted ones too: they are still reported for the months they used).
_SAAS_LINES_SELECT = """
    SELECT {id}, {created_at}, {report_id}, m.customer_id, COALESCE(c.display_name, ''),
        {start_date}, COALESCE(c.veeam_account_id, ''), {product}, {unit}, m.licensed_users,
        {ppu}, {points}
    FROM licensed_users_month m LEFT JOIN customer c ON c.id = m.customer_id
    WHERE m.provider_id = {provider_id} AND m.month = {month}
"""
_SAAS_LINES_INSERT = """
    INSERT INTO usage_report_saas_line (id, created_at, report_id, customer_id, customer_name,
        start_date, tenant_crm_id, product, unit, reported_units, points_per_unit, points)
"""


async def _insert_saas_lines(
    conn: BaseDBAsyncClient, report: UsageReport, provider_id: UUID, month: date
) -> None:
    now = clock.now()
    if conn.capabilities.dialect == "postgres":
        sql = _SAAS_LINES_SELECT.format(
            id="gen_random_uuid()",
            created_at="$1::timestamptz",
            report_id="$2::uuid",
            start_date="(c.activation_date AT TIME ZONE 'UTC')::date",
            product="$3::text",
            unit="$4::text",
            ppu="$5::numeric",
            points="m.licensed_users * $5::numeric",
            provider_id="$6::uuid",
            month="$7::date",
        )
        values: list[object] = [now, report.id, SAAS_PRODUCT, SAAS_UNIT]
        values += [SAAS_POINTS_PER_UNIT, provider_id, month]
    else:  # SQLite keeps UUIDs, times and decimals as text, as Tortoise writes them
        sql = _SAAS_LINES_SELECT.format(
            id="lower(substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-' || substr(h, 13, 4) "
            "|| '-' || substr(h, 17, 4) || '-' || substr(h, 21, 12))",
            created_at="?",
            report_id="?",
            start_date="substr(c.activation_date, 1, 10)",
            product="?",
            unit="?",
            ppu="?",
            points="printf('%.2f', m.licensed_users * ?)",
            provider_id="?",
            month="?",
        ).replace(
            "FROM licensed_users_month m",
            "FROM (SELECT hex(randomblob(16)) AS h, * FROM licensed_users_month) m",
        )
        ppu = f"{SAAS_POINTS_PER_UNIT:.2f}"
        values = [now.isoformat(sep=" "), str(report.id), SAAS_PRODUCT, SAAS_UNIT, ppu]
        values += [str(SAAS_POINTS_PER_UNIT), str(provider_id), month.isoformat()]
    await conn.execute_query(_SAAS_LINES_INSERT + sql, values)


_LINE_COLUMNS = (
    "workload",
    "product",
    "unit",
    "licensed",
    "reported_previous_month",
    "auto_reported",
    "current_month_usage",
    "automatic_usage",
    "corrected_at",
    "points_per_unit",
    "points",
)


async def generate_report(provider_id: UUID, month: date, *, refresh: bool = True) -> UsageReport:
    """The provider's report for ``month``: created when missing; with ``refresh``, rebuilt
    from the current data while it awaits review (a submitted report is never changed)."""
    month = month_start(month)
    async with in_transaction() as conn:
        provider = await ServiceProvider.get(id=provider_id)
        report, created = await UsageReport.get_or_create(
            provider_id=provider_id,
            month=month,
            defaults={
                "number": report_number(provider, month),
                "rental_agreement_number": provider.rental_agreement_number,
            },
        )
        if created or (refresh and report.status is UsageReportStatus.PENDING_REVIEW):
            fields = [
                "rental_agreement_number",
                "minimum_commit_points",
                "usage_reporting_administrator",
                "aggregator_account",
            ]
            for name in fields:
                setattr(report, name, getattr(provider, name))
            await report.save(update_fields=fields)
            await _write_lines(conn, report, provider_id, month)
    return report


async def generate_reports(month: date, *, refresh: bool = True) -> int:
    """Every provider's report for ``month``; returns how many providers there are."""
    provider_ids = await ServiceProvider.all().values_list("id", flat=True)
    for provider_id in provider_ids:
        await generate_report(provider_id, month, refresh=refresh)
    return len(provider_ids)


async def generate_last_months_reports() -> None:
    """Every provider has its report for the month that just ended (existing ones are kept)."""
    await generate_reports(previous_month(month_start(clock.now())), refresh=False)


async def keep_reports_generated(interval: float) -> None:
    """Background job: every provider has its report for the month that just ended.

    Runs at start-up and every ``interval`` seconds; a report that exists is left alone, so
    several processes running it at once do no harm (the month is unique per provider)."""
    while True:
        try:
            await generate_last_months_reports()
        except Exception:  # a database hiccup must not end the job
            log.exception("usage report generation failed; retrying")
        await asyncio.sleep(interval)
