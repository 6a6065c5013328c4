"""``dashboard { jobResults restores licenseUsage }``: the figures of the provider's home page."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from vdc_graph.resolvers import customers as customer_resolvers
from vdc_graph.resolvers import dashboard as resolve

from .alarms import AlarmCount, open_alarm_counts
from .customers import Customer
from .scalars import Month

MONTHS = Annotated[
    int,
    strawberry.argument(
        description="How many months the history covers, ending this month (1..36)."
    ),
]


@strawberry.type(description="Sessions that ended on one UTC day, by result.")
class JobResultsDay:
    day: date = strawberry.field(description="The day (UTC).")
    success: int = strawberry.field(description="Sessions that succeeded.")
    warning: int = strawberry.field(description="Sessions that ended with warnings.")
    failed: int = strawberry.field(description="Sessions that failed.")


@strawberry.type(description="Backup jobs and their results.")
class JobResults:
    jobs: int = strawberry.field(description="Number of backup jobs (policies).")
    success: int = strawberry.field(description="Jobs whose most recent result is SUCCESS.")
    warning: int = strawberry.field(description="Jobs whose most recent result is WARNING.")
    failed: int = strawberry.field(description="Jobs whose most recent result is FAILED.")
    history: list[JobResultsDay] = strawberry.field(
        description="Every day of the range, oldest first (days without sessions count 0)."
    )


@strawberry.type(description="A count in one month.")
class MonthCount:
    month: Month = strawberry.field(description="The month (UTC).")
    count: int = strawberry.field(description="The count.")


@strawberry.type(description="One customer's restores.")
class CustomerRestores:
    count: int = strawberry.field(description="Restores this month.")
    history: list[MonthCount] = strawberry.field(description="Restores per month, oldest first.")
    customer_id: strawberry.Private[object]

    @strawberry.field(description="The customer; null if it has since been deleted.")
    async def customer(self, info: Info) -> Customer | None:
        return await customer_resolvers.load_customer(info.context, self.customer_id)  # type: ignore[return-value]


@strawberry.type(description="Restores of one month, averaged over that month's customers.")
class RestoreMonth:
    month: Month = strawberry.field(description="The month.")
    restores: int = strawberry.field(description="Restores requested that month.")
    customers: int = strawberry.field(
        description="Customers onboarded by the month's end and not deleted before it began."
    )
    average_per_customer: float = strawberry.field(
        description="Restores per customer that month (two decimals)."
    )


@strawberry.type(description="Restore activity of the provider's customers.")
class RestoreStats:
    this_month: int = strawberry.field(description="Restores requested this month (UTC).")
    previous_month: int = strawberry.field(description="Restores requested last month.")
    change: int = strawberry.field(description="This month's restores minus last month's.")
    customers: int = strawberry.field(
        description="This month's customers (onboarded, not deleted) the average is taken over."
    )
    customers_previous_month: int = strawberry.field(
        description="Last month's customers, which last month's average is taken over."
    )
    average_per_customer: float = strawberry.field(
        description="Restores per customer this month (two decimals)."
    )
    average_per_customer_previous_month: float = strawberry.field(
        description="Restores per customer last month, over last month's customers."
    )
    average_change: float = strawberry.field(
        description="This month's average minus last month's (two decimals)."
    )
    top_customer: CustomerRestores | None = strawberry.field(
        description="The customer with the most restores this month; null when there were none."
    )
    by_customer: list[CustomerRestores] = strawberry.field(
        description="A monthly series per customer with restores in the range, most this month "
        "first."
    )
    history: list[RestoreMonth] = strawberry.field(
        description="Every month of the range, oldest first: the average per customer graph."
    )


@strawberry.type(description="Customers and licences in one month.")
class LicenseUsageMonth:
    month: Month = strawberry.field(description="The month.")
    customers: int = strawberry.field(description="Customers with licensed users that month.")
    licenses: int = strawberry.field(description="Licensed users across those customers.")


@strawberry.type(description="Licence usage, this month against the previous.")
class LicenseUsage:
    customers: int = strawberry.field(description="Customers with licensed users this month.")
    customers_change: int = strawberry.field(description="Change in customers vs last month.")
    licenses: int = strawberry.field(description="Licensed users this month.")
    licenses_change: int = strawberry.field(description="Change in licences vs last month.")
    history: list[LicenseUsageMonth] = strawberry.field(
        description="Every month of the range, oldest first."
    )


def _restore_series(s: resolve.CustomerRestores) -> CustomerRestores:
    return CustomerRestores(
        count=s.count,
        history=[MonthCount(month=m.month, count=m.count) for m in s.history],  # type: ignore[arg-type]
        customer_id=s.customer_id,
    )


@strawberry.type(description="The figures of the provider's home page (or one customer's).")
class Dashboard:
    @strawberry.field(description="Backup jobs by latest result, and a daily history of results.")
    async def job_results(
        self,
        info: Info,
        from_: Annotated[
            date | None,
            strawberry.argument(
                name="from",
                description="First day (UTC) of the history; default 13 days before `to`.",
            ),
        ] = None,
        to: Annotated[
            date | None,
            strawberry.argument(description="Last day (UTC) of the history; default today."),
        ] = None,
    ) -> JobResults:
        r = await resolve.job_results(info.context, from_, to)
        return JobResults(
            jobs=r.jobs,
            success=r.success,
            warning=r.warning,
            failed=r.failed,
            history=[
                JobResultsDay(day=d.day, success=d.success, warning=d.warning, failed=d.failed)
                for d in r.history
            ],
        )

    @strawberry.field(description="Restores this month against last month, with a monthly history.")
    async def restores(self, info: Info, months: MONTHS = 12) -> RestoreStats:
        r = await resolve.restores(info.context, months)
        return RestoreStats(
            this_month=r.this_month,
            previous_month=r.previous_month,
            change=r.this_month - r.previous_month,
            customers=r.customers,
            customers_previous_month=r.customers_previous_month,
            average_per_customer=r.average_per_customer,
            average_per_customer_previous_month=r.average_per_customer_previous_month,
            average_change=round(r.average_per_customer - r.average_per_customer_previous_month, 2),
            top_customer=_restore_series(r.top_customer) if r.top_customer else None,
            by_customer=[_restore_series(s) for s in r.by_customer],
            history=[
                RestoreMonth(
                    month=m.month,  # type: ignore[arg-type]
                    restores=m.restores,
                    customers=m.customers,
                    average_per_customer=m.average_per_customer,
                )
                for m in r.history
            ],
        )

    @strawberry.field(description="Customers and licences this month against last month.")
    async def license_usage(self, info: Info, months: MONTHS = 12) -> LicenseUsage:
        r = await resolve.licence_usage(info.context, months)
        return LicenseUsage(
            customers=r.customers,
            customers_change=r.customers - r.customers_previous_month,
            licenses=r.licenses,
            licenses_change=r.licenses - r.licenses_previous_month,
            history=[
                LicenseUsageMonth(month=m.month, customers=m.customers, licenses=m.licenses)  # type: ignore[arg-type]
                for m in r.history
            ],
        )

    @strawberry.field(description="Open alarms per state (ACTIVE, ACKNOWLEDGED) and severity.")
    async def alarms(self, info: Info) -> list[AlarmCount]:
        return await open_alarm_counts(info)


@strawberry.type
class DashboardQueries:
    @strawberry.field(description="The dashboard's figures (needs MONITORING_ACCESS).")
    def dashboard(self) -> Dashboard:
        return Dashboard()
