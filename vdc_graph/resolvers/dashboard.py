"""The dashboard: job results, restores and licence usage, each with a series a chart draws.

Every figure is counted by the database (see db/queries/dashboard.py); this module chooses the
UTC ranges, fills the days or months without activity with zeros and derives the changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from vdc_graph import clock
from vdc_graph.context import RequestContext
from vdc_graph.db.queries import dashboard as queries
from vdc_graph.enums import PolicyStatus, SessionStatus
from vdc_graph.errors import BadUserInput
from vdc_graph.usage_reports import month_start, next_month, previous_month

from .access import reading

MAX_DAYS = 366
MAX_MONTHS = 36
DEFAULT_DAYS = 14
DEFAULT_MONTHS = 12


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _months_ending(last: date, count: int) -> list[date]:
    months = [last]
    while len(months) < count:
        months.insert(0, previous_month(months[0]))
    return months


@dataclass(frozen=True)
class DayResults:
    day: date
    success: int
    warning: int
    failed: int


@dataclass(frozen=True)
class JobResults:
    jobs: int
    success: int
    warning: int
    failed: int
    history: list[DayResults]


async def job_results(ctx: RequestContext, first: date | None, last: date | None) -> JobResults:
    """Policies by their latest result, and sessions' results per UTC day from first to last."""
    scope = reading(ctx)
    today = clock.now().astimezone(UTC).date()
    last = last or today
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise BadUserInput("`from` must not be after `to`", field=["from"])
    if (last - first).days + 1 > MAX_DAYS:
        raise BadUserInput(f"The range is longer than {MAX_DAYS} days", field=["from"])
    jobs, by_status = await queries.policy_results(scope)
    counts = await queries.daily_session_results(
        scope, _midnight(first), _midnight(last + timedelta(days=1))
    )
    history = []
    day = first
    while day <= last:
        key = day.isoformat()
        history.append(
            DayResults(
                day=day,
                success=counts.get((key, SessionStatus.SUCCESS), 0),
                warning=counts.get((key, SessionStatus.WARNING), 0),
                failed=counts.get((key, SessionStatus.FAILED), 0),
            )
        )
        day += timedelta(days=1)
    return JobResults(
        jobs=jobs,
        success=by_status.get(PolicyStatus.SUCCESS, 0),
        warning=by_status.get(PolicyStatus.WARNING, 0),
        failed=by_status.get(PolicyStatus.FAILED, 0),
        history=history,
    )


@dataclass(frozen=True)
class MonthCount:
    month: date
    count: int


@dataclass(frozen=True)
class CustomerRestores:
    customer_id: UUID
    count: int
    history: list[MonthCount]


@dataclass(frozen=True)
class RestoreMonth:
    month: date
    restores: int
    customers: int  # the month's own customers

    @property
    def average_per_customer(self) -> float:
        return _average(self.restores, self.customers)


@dataclass(frozen=True)
class RestoreFigures:
    this_month: int
    previous_month: int
    customers: int
    customers_previous_month: int
    average_per_customer: float
    average_per_customer_previous_month: float
    top_customer: CustomerRestores | None
    by_customer: list[CustomerRestores]
    history: list[RestoreMonth]


def _check_months(months: int) -> None:
    if not 1 <= months <= MAX_MONTHS:
        raise BadUserInput(f"months must be between 1 and {MAX_MONTHS}", field=["months"])


def _average(total: int, customers: int) -> float:
    return round(total / customers, 2) if customers else 0.0


async def restores(ctx: RequestContext, months: int) -> RestoreFigures:
    """This month's restores against the previous month's, and a monthly series per customer."""
    scope = reading(ctx)
    _check_months(months)
    current = month_start(clock.now().astimezone(UTC))
    window = _months_ending(current, max(months, 2))
    rows = await queries.monthly_restores(
        scope, _midnight(window[0]), _midnight(next_month(current))
    )
    labels = {m.strftime("%Y-%m"): m for m in window}
    per_customer: dict[UUID, dict[date, int]] = {}
    for customer_id, label, count in rows:
        per_customer.setdefault(customer_id, {})[labels[label]] = count
    shown = window[-months:]
    series = [
        CustomerRestores(
            customer_id=customer_id,
            count=counts.get(current, 0),
            history=[MonthCount(m, counts.get(m, 0)) for m in shown],
        )
        for customer_id, counts in per_customer.items()
    ]
    series.sort(key=lambda s: (-s.count, str(s.customer_id)))
    history = [
        RestoreMonth(
            month,
            sum(c.get(month, 0) for c in per_customer.values()),
            # One count per month shown: the statements grow with months, not customers.
            await queries.customers_in_month(scope, _midnight(month), _midnight(next_month(month))),
        )
        for month in window
    ]
    now, before = history[-1], history[-2]
    top = series[0] if series and series[0].count > 0 else None
    return RestoreFigures(
        this_month=now.restores,
        previous_month=before.restores,
        customers=now.customers,
        customers_previous_month=before.customers,
        average_per_customer=now.average_per_customer,
        average_per_customer_previous_month=before.average_per_customer,
        top_customer=top,
        by_customer=series,
        history=history[-months:],
    )


@dataclass(frozen=True)
class LicenceUsage:
    customers: int
    customers_previous_month: int
    licenses: int
    licenses_previous_month: int
    history: list[queries.LicenceMonth]


async def licence_usage(ctx: RequestContext, months: int) -> LicenceUsage:
    """Customers with licensed users and their licences, this month against the previous."""
    scope = reading(ctx)
    _check_months(months)
    current = month_start(clock.now().astimezone(UTC))
    window = _months_ending(current, max(months, 2))
    found = await queries.monthly_licences(scope, window[0], current)
    series = [found.get(m, queries.LicenceMonth(m, 0, 0)) for m in window]
    return LicenceUsage(
        customers=series[-1].customers,
        customers_previous_month=series[-2].customers,
        licenses=series[-1].licenses,
        licenses_previous_month=series[-2].licenses,
        history=series[-months:],
    )
