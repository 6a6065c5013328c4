"""Software usage intake: the Cloud Connect and public-cloud workloads a provider ran in a
month, as counts per workload (and, for backups, whether the tenant's own server has a rental
licence). One intake path for the API, the command line and the demo data.

An intake **sets** the month's counts of the workloads it names (it never adds to them), so
sending the same counts twice changes nothing. A month whose usage report was submitted is
closed: its figures no longer change. A report still awaiting review is rebuilt at once, so it
shows the new counts (keeping the provider's corrections).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from vdc_graph import clock
from vdc_graph.db.models import SoftwareUsage, UsageReport
from vdc_graph.db.queries.usage import UNSUBMITTED
from vdc_graph.enums import SoftwareWorkload
from vdc_graph.errors import UserError, UserErrorCode, UserErrors
from vdc_graph.usage_reports import generate_report, month_start

MAX_UNITS = 1_000_000


@dataclass(frozen=True)
class WorkloadCount:
    workload: SoftwareWorkload
    units: int
    licensed_units: int = 0
    tenant_has_rental_license: bool = False


async def record_software_usage(
    provider_id: UUID,
    month: date,
    counts: list[WorkloadCount],
    *,
    auto_reported: bool = True,
    path: tuple[str, ...] = ("input",),
) -> tuple[list[SoftwareUsage], bool]:
    """Set the month's counts; returns the month's rows and whether anything changed.

    Raises userErrors (naming ``path`` + the field) and writes nothing when the input is bad.
    Call inside a transaction."""
    problems = _problems(month, counts, path)
    month = month_start(month)
    report = await UsageReport.get_or_none(provider_id=provider_id, month=month)
    if report is not None and report.status not in UNSUBMITTED:
        problems.append(
            UserError(
                f"The usage report for {month:%B %Y} was submitted ({report.status.value}); "
                "its usage can no longer change",
                [*path, "month"],
                UserErrorCode.INVALID_STATE,
            )
        )
    if problems:
        raise UserErrors(problems)
    changed = False
    for count in counts:
        row = await SoftwareUsage.get_or_none(
            provider_id=provider_id,
            month=month,
            workload=count.workload,
            tenant_has_rental_license=count.tenant_has_rental_license,
        )
        values = {
            "units": count.units,
            "licensed_units": count.licensed_units,
            "auto_reported": auto_reported,
        }
        if row is None:
            await SoftwareUsage.create(
                provider_id=provider_id,
                month=month,
                workload=count.workload,
                tenant_has_rental_license=count.tenant_has_rental_license,
                **values,
            )
            changed = True
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            await row.save(update_fields=list(values))
            changed = True
    if changed and report is not None:
        await generate_report(provider_id, month)
    rows = await SoftwareUsage.filter(provider_id=provider_id, month=month).order_by(
        "workload", "tenant_has_rental_license"
    )
    return rows, changed


def _problems(month: date, counts: list[WorkloadCount], path: tuple[str, ...]) -> list[UserError]:
    problems = []
    if month_start(month) > month_start(clock.now()):
        problems.append(UserError("Usage cannot be reported for a future month", [*path, "month"]))
    if not counts:
        problems.append(
            UserError("Name at least one workload", [*path, "workloads"], UserErrorCode.REQUIRED)
        )
    seen = set()
    for index, count in enumerate(counts):
        at = [*path, "workloads", str(index)]
        key = (count.workload, count.tenant_has_rental_license)
        if key in seen:
            problems.append(
                UserError(
                    f"{count.workload.value} is listed twice",
                    [*at, "workload"],
                    UserErrorCode.DUPLICATE,
                )
            )
        seen.add(key)
        for field, value in (("units", count.units), ("licensedUnits", count.licensed_units)):
            if not 0 <= value <= MAX_UNITS:
                problems.append(
                    UserError(
                        f"Must be a whole number from 0 to {MAX_UNITS:,}",
                        [*at, field],
                        UserErrorCode.OUT_OF_RANGE,
                    )
                )
    return problems


CSV_COLUMNS = ("month", "workload", "units", "licensed_units", "tenant_has_rental_license")


def read_csv(lines: list[str]) -> dict[date, list[WorkloadCount]]:
    """Counts per month from CSV text with ``CSV_COLUMNS`` (``month`` as 2025-03, the flag as
    true/false); raises ValueError naming the line and column of the first bad value."""
    import csv

    reader = csv.DictReader(lines)
    missing = [c for c in CSV_COLUMNS[:3] if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"missing column(s): {', '.join(missing)}")
    months: dict[date, list[WorkloadCount]] = {}
    for line, row in enumerate(reader, start=2):
        column = "month"
        try:
            year, number = (row["month"] or "").strip().split("-")
            month = date(int(year), int(number), 1)
            column = "workload"
            workload = SoftwareWorkload((row["workload"] or "").strip().upper())
            column = "units"
            units = int(row["units"] or "")
            column = "licensed_units"
            licensed = int((row.get("licensed_units") or "0").strip() or 0)
            column = "tenant_has_rental_license"
            flag = (row.get("tenant_has_rental_license") or "false").strip().lower()
            if flag not in ("true", "false", "yes", "no", "1", "0"):
                raise ValueError(flag)
        except ValueError:
            raise ValueError(f"line {line}: bad {column}") from None
        months.setdefault(month, []).append(
            WorkloadCount(workload, units, licensed, flag in ("true", "yes", "1"))
        )
    return months
