"""The built-in alarm rules: each finds the conditions that hold now, for one provider.

A rule is a threshold with a default and a function from (provider, threshold, now) to the
conditions it sees. A condition names the object it is about by a key that stays the same
from one evaluation to the next, so an alarm is raised once per condition, not once per check.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from vdc_graph.db.models import (
    BackupPolicy,
    BackupSession,
    Customer,
    ServiceProvider,
    StorageSample,
    UsageReport,
)
from vdc_graph.db.queries.usage import UNSUBMITTED
from vdc_graph.enums import AlarmRule, AlarmSeverity, ContractType, SessionStatus
from vdc_graph.usage_reports import month_start, next_month

POINTS_PER_USER = Decimal("2.5")  # the SaaS line's points per licensed user
FAILED = (SessionStatus.FAILED, SessionStatus.DISCONNECTED)
SUCCEEDED = (SessionStatus.SUCCESS, SessionStatus.WARNING)
ENDED_RUNS = (*FAILED, *SUCCEEDED)  # a stopped run says nothing about health
CONNECTED_RUNS = (SessionStatus.FAILED, *SUCCEEDED)  # runs that reached the tenant


@dataclass(frozen=True)
class Condition:
    key: str
    severity: AlarmSeverity
    object_type: str
    object_id: str
    object_name: str
    message: str
    customer_id: UUID | None = None


Finder = Callable[[ServiceProvider, float, datetime], Awaitable[list[Condition]]]


@dataclass(frozen=True)
class Rule:
    default_threshold: float
    unit: str
    minimum: float
    find: Finder


def _about(customer: Customer, rule_key: str, severity: AlarmSeverity, message: str) -> Condition:
    return Condition(
        key=f"{rule_key}:{customer.id}",
        severity=severity,
        object_type="Customer",
        object_id=str(customer.id),
        object_name=customer.display_name,
        message=message,
        customer_id=customer.id,
    )


def _live_customers(provider: ServiceProvider):
    return Customer.filter(provider_id=provider.id, deleted_at__isnull=True)


async def policy_failures(provider: ServiceProvider, threshold: float, now: datetime):
    runs = int(threshold)
    found = []
    policies = await BackupPolicy.filter(provider_id=provider.id, enabled=True)
    for policy in policies:
        last = (
            await BackupSession.filter(policy_id=policy.id, status__in=ENDED_RUNS)
            .order_by("-ended_at", "-id")
            .limit(runs)
            .values_list("status", flat=True)
        )
        if len(last) == runs and all(SessionStatus(s) in FAILED for s in last):
            found.append(
                Condition(
                    key=f"policy-failures:{policy.id}",
                    severity=AlarmSeverity.ERROR,
                    object_type="BackupPolicy",
                    object_id=str(policy.id),
                    object_name=policy.name,
                    message=f"Backup policy {policy.name} failed its last {runs} runs in a row",
                    customer_id=policy.customer_id,  # type: ignore[attr-defined]
                )
            )
    return found


async def no_recent_success(provider: ServiceProvider, threshold: float, now: datetime):
    since = now - timedelta(hours=threshold)
    found = []
    for customer in await _live_customers(provider).exclude(contract_type=ContractType.PENDING):
        # Only customers that were expected to back up for the whole window.
        if not await BackupPolicy.filter(
            customer_id=customer.id, enabled=True, created_at__lte=since
        ).exists():
            continue
        if await BackupSession.filter(
            customer_id=customer.id, status__in=SUCCEEDED, ended_at__gte=since
        ).exists():
            continue
        found.append(
            Condition(
                key=f"no-success:{customer.id}",
                severity=AlarmSeverity.ERROR,
                object_type="Customer",
                object_id=str(customer.id),
                object_name=customer.display_name,
                message=f"No successful backup of {customer.display_name} for {threshold:g} hours",
                customer_id=customer.id,
            )
        )
    return found


async def tenant_disconnected(provider: ServiceProvider, threshold: float, now: datetime):
    """A customer whose backup runs have ended DISCONNECTED (the tenant's connection is gone)
    for at least N hours: since the first such run after its last connected one."""
    since = now - timedelta(hours=threshold)
    found = []
    for customer in await _live_customers(provider).exclude(contract_type=ContractType.PENDING):
        runs = BackupSession.filter(customer_id=customer.id, ended_at__isnull=False)
        latest = await runs.filter(status__in=ENDED_RUNS).order_by("-ended_at", "-id").first()
        if latest is None or latest.status is not SessionStatus.DISCONNECTED:
            continue
        connected = await runs.filter(status__in=CONNECTED_RUNS).order_by("-ended_at").first()
        streak = runs.filter(status=SessionStatus.DISCONNECTED)
        if connected is not None:
            streak = streak.filter(ended_at__gt=connected.ended_at)
        first = await streak.order_by("ended_at").first()
        if first is None or first.ended_at > since:  # type: ignore[operator]
            continue
        message = f"The Microsoft 365 tenant of {customer.display_name} is disconnected"
        found.append(_about(customer, "tenant-disconnected", AlarmSeverity.CRITICAL, message))
    return found


async def storage_growth(provider: ServiceProvider, threshold: float, now: datetime):
    """A customer's storage grew by more than N % since a month ago. The rule keeps one sample
    of each customer's storage a day and compares with the newest one 30 to 37 days old."""
    customers = await _live_customers(provider)
    today = now.date()
    await StorageSample.bulk_create(
        [
            StorageSample(customer_id=c.id, day=today, storage_gb=c.storage_consumed_gb)
            for c in customers
        ],
        ignore_conflicts=True,
    )
    cutoff = today - timedelta(days=30)
    earlier: dict[UUID, float] = {}
    for sample in await StorageSample.filter(
        customer_id__in=[c.id for c in customers],
        day__lte=cutoff,
        day__gte=cutoff - timedelta(days=7),
    ).order_by("day"):
        earlier[sample.customer_id] = sample.storage_gb  # type: ignore[attr-defined]
    found = []
    for customer in customers:
        before = earlier.get(customer.id)
        if not before:  # no sample a month old, or nothing stored then: nothing to grow from
            continue
        percent = (customer.storage_consumed_gb - before) / before * 100
        if percent > threshold:
            message = (
                f"Backup storage of {customer.display_name} grew {percent:.0f} % in a month "
                f"({before:g} GB to {customer.storage_consumed_gb:g} GB)"
            )
            found.append(_about(customer, "storage-growth", AlarmSeverity.WARNING, message))
    return found


async def license_commit_usage(provider: ServiceProvider, threshold: float, now: datetime):
    commit = Decimal(str(provider.minimum_commit_points))
    if commit <= 0:
        return []
    users = sum(await _live_customers(provider).values_list("licenses_used", flat=True))
    used = Decimal(users) * POINTS_PER_USER
    percent = used / commit * 100
    if percent <= Decimal(str(threshold)):
        return []
    return [
        Condition(
            key="license-commit",
            severity=AlarmSeverity.WARNING,
            object_type="ServiceProvider",
            object_id=str(provider.id),
            object_name=provider.display_name,
            message=f"Licence use is {percent:.0f} % of the minimum commit "
            f"({float(used):g} of {float(commit):g} points)",
        )
    ]


async def usage_report_due(provider: ServiceProvider, threshold: float, now: datetime):
    """Licence management is suspended once two consecutive past months are unsubmitted: the
    oldest unsubmitted past month's report suspends it when the month after it ends."""
    this_month = month_start(now)
    reports = await UsageReport.filter(
        provider_id=provider.id, month__lt=this_month, status__in=UNSUBMITTED
    ).order_by("month")
    found = []
    for report in reports:
        suspends_at = _start(next_month(next_month(report.month)))
        if now < suspends_at - timedelta(days=threshold):
            continue
        found.append(
            Condition(
                key=f"usage-report-due:{report.id}",
                severity=AlarmSeverity.CRITICAL if now >= suspends_at else AlarmSeverity.WARNING,
                object_type="UsageReport",
                object_id=str(report.id),
                object_name=report.number,
                message=f"Usage report {report.number} for {report.month:%Y-%m} is not "
                f"submitted; licence management is suspended from {suspends_at:%Y-%m-%d}",
            )
        )
    return found


def _start(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


RULES: dict[AlarmRule, Rule] = {
    AlarmRule.POLICY_CONSECUTIVE_FAILURES: Rule(3, "runs", 1, policy_failures),
    AlarmRule.NO_RECENT_SUCCESS: Rule(24, "hours", 1, no_recent_success),
    AlarmRule.TENANT_DISCONNECTED: Rule(0, "hours", 0, tenant_disconnected),
    AlarmRule.STORAGE_GROWTH: Rule(50, "percent", 1, storage_growth),
    AlarmRule.LICENSE_COMMIT_USAGE: Rule(90, "percent", 1, license_commit_usage),
    AlarmRule.USAGE_REPORT_DUE: Rule(7, "days", 0, usage_report_due),
}
