"""The `viewerCan…` hints: each asks the rule its mutation applies (``rules``), with the facts
read through the request's loaders, so a page of rows costs the same few statements as one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from vdc_graph.context import RequestContext
from vdc_graph.db.models import BackupPolicy, Customer, UsageReport

from . import rules
from .customers import customer_offboarding_requests
from .offboarding import OPEN
from .policies import policy_active_session
from .sessions import customer_of
from .usage import suspension_months


async def _suspended(ctx: RequestContext, provider_id: UUID) -> Sequence[date]:
    async def batch(ids: Sequence[UUID]) -> list[Any]:
        return [await suspension_months(i) for i in ids]

    return await ctx.loaders.get("hint-suspension", batch).load(provider_id)


def edit_customer(ctx: RequestContext, customer: Customer) -> bool:
    return rules.allows(lambda: rules.edit_customer(ctx.principal, customer))


def onboard_customer(ctx: RequestContext, customer: Customer) -> bool:
    return rules.allows(lambda: rules.onboard_customer(ctx.principal, customer))


async def invite_customer(ctx: RequestContext, customer: Customer) -> bool:
    if not rules.allows(lambda: rules.invite_customer(ctx.principal, customer, ())):
        return False  # refused whatever the suspension: no need to read it
    suspended = await _suspended(ctx, customer.provider_id)  # type: ignore[attr-defined]
    return rules.allows(lambda: rules.invite_customer(ctx.principal, customer, suspended))


def add_admin_user(ctx: RequestContext, customer: Customer) -> bool:
    return rules.allows(lambda: rules.add_admin_user(ctx.principal, customer))


async def offboard_customer(ctx: RequestContext, customer: Customer) -> bool:
    if not rules.allows(lambda: rules.offboard_customer(ctx.principal, customer, (), False)):
        return False
    suspended = await _suspended(ctx, customer.provider_id)  # type: ignore[attr-defined]
    requests = await customer_offboarding_requests(ctx, customer)
    open_request = any(r.status in OPEN for r in requests)
    return rules.allows(
        lambda: rules.offboard_customer(ctx.principal, customer, suspended, open_request)
    )


async def _policy_facts(ctx: RequestContext, policy: BackupPolicy) -> tuple[Customer, bool]:
    customer = await customer_of(ctx, policy)
    return customer, await policy_active_session(ctx, policy) is not None


async def edit_policy(ctx: RequestContext, policy: BackupPolicy) -> bool:
    customer, _ = await _policy_facts(ctx, policy)
    return rules.allows(lambda: rules.edit_policy(ctx.principal, customer))


async def start_policy(ctx: RequestContext, policy: BackupPolicy) -> bool:
    customer, running = await _policy_facts(ctx, policy)
    return rules.allows(lambda: rules.start_policy(ctx.principal, customer, running))


async def stop_policy(ctx: RequestContext, policy: BackupPolicy) -> bool:
    customer, running = await _policy_facts(ctx, policy)
    return rules.allows(lambda: rules.stop_policy(ctx.principal, customer, running))


async def delete_policy(ctx: RequestContext, policy: BackupPolicy) -> bool:
    customer, running = await _policy_facts(ctx, policy)
    return rules.allows(lambda: rules.delete_policy(ctx.principal, customer, running))


def submit_report(ctx: RequestContext, report: UsageReport) -> bool:
    return rules.allows(lambda: rules.submit_report(ctx.principal, report))


def confirm_report(ctx: RequestContext, report: UsageReport) -> bool:
    return rules.allows(lambda: rules.confirm_report(ctx.principal, report))
