"""Offboarding requests: REQUESTED → APPROVED → COMPLETED, or REJECTED.

The provider asks; support (the platform's operator, through the command line) reviews; a job
completes an approved request on its desired date by deleting the customer: it disappears from
every list and lookup, its external ID is freed (kept as ``former_external_id``) so it may be
registered again, and its monthly licensed-users figures stay for usage reporting. Requests stay
listed for the provider after that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from vdc_graph import clock
from vdc_graph.context import RequestContext
from vdc_graph.db.models import Customer, OffboardingRequest
from vdc_graph.db.pagination import Page, PageArgs, paginate
from vdc_graph.db.queries import customer_changes as queries
from vdc_graph.db.transactions import atomic
from vdc_graph.enums import OffboardingStatus
from vdc_graph.errors import UserError, UserErrorCode, UserErrors
from vdc_graph.events import rights
from vdc_graph.notify import webhook_events

from . import audit, rules
from .access import reading
from .ids import Ref, key_of
from .managing import customer_to_change
from .usage import suspension_months

OPEN = (OffboardingStatus.REQUESTED, OffboardingStatus.APPROVED)
MAX_REASON = 2000


@dataclass(frozen=True)
class OffboardingInput:
    desired_deletion_date: date
    reason: str


async def request_offboarding(
    ctx: RequestContext, ref: Ref, data: OffboardingInput
) -> OffboardingRequest:
    principal, customer = await customer_to_change(ctx, ref)
    suspended = await suspension_months(customer.provider_id)  # type: ignore[attr-defined]
    open_request = (
        await queries.offboarding_requests_of(customer.id).filter(status__in=OPEN).exists()
    )
    rules.offboard_customer(principal, customer, suspended, open_request)
    problems = []
    if data.desired_deletion_date < clock.now().date():
        problems.append(
            UserError(
                "The deletion date cannot be in the past",
                ["input", "desiredDeletionDate"],
                UserErrorCode.OUT_OF_RANGE,
            )
        )
    reason = data.reason.strip()
    if not reason:
        problems.append(
            UserError("Say why the customer leaves", ["input", "reason"], UserErrorCode.REQUIRED)
        )
    elif len(reason) > MAX_REASON:
        problems.append(
            UserError(
                f"The reason is longer than {MAX_REASON} characters",
                ["input", "reason"],
                UserErrorCode.TOO_LONG,
            )
        )
    if problems:
        raise UserErrors(problems)
    return await OffboardingRequest.create(
        customer_id=customer.id,
        requested_by=principal.email or "",
        desired_deletion_date=data.desired_deletion_date,
        reason=reason,
        licenses_in_use=customer.licenses_used,
    )


# The status a review moves a request from, for each decision.
_FROM = {
    OffboardingStatus.APPROVED: (OffboardingStatus.REQUESTED,),
    OffboardingStatus.REJECTED: (OffboardingStatus.REQUESTED, OffboardingStatus.APPROVED),
}


class ReviewRefused(ValueError):
    """A review support cannot make (unknown request, wrong state, missing reviewer)."""


async def review(
    request_id: UUID, to: OffboardingStatus, reviewer: str, reason: str = ""
) -> OffboardingRequest:
    """Support's decision, never the provider's: the reviewer and the reason are recorded.

    Approving schedules the deletion for the desired date (``complete_due`` does it).
    """
    reviewer, reason = reviewer.strip(), reason.strip()
    if not reviewer:
        raise ReviewRefused("name the reviewer")
    if to is OffboardingStatus.REJECTED and not reason:
        raise ReviewRefused("a rejection needs a reason for the provider")
    request = await OffboardingRequest.select_for_update().get_or_none(id=request_id)
    if request is None:
        raise ReviewRefused(f"no offboarding request {request_id}")
    if request.status not in _FROM[to]:
        allowed = " or ".join(s.value for s in _FROM[to])
        raise ReviewRefused(
            f"the request is {request.status.value}; only a {allowed} request can be {to.value}"
        )
    before = await audit.summary(request)
    request.status = to
    request.reviewed_at = clock.now()
    request.reviewed_by = reviewer[:254]
    request.review_note = reason
    await request.save()
    await _record(request, f"offboardingRequest{to.value.title()}", f"support: {reviewer}", before)
    return request


async def complete_due() -> list[OffboardingRequest]:
    """Delete the customer of every approved request whose desired date has come (UTC).

    Each runs in its own transaction with its request locked, so two processes running the
    job complete each request once.
    """
    today = clock.now().date()
    due = await OffboardingRequest.filter(
        status=OffboardingStatus.APPROVED, desired_deletion_date__lte=today
    ).values_list("id", flat=True)
    completed = []
    for request_id in due:
        async with atomic():
            request = await OffboardingRequest.select_for_update().get(id=request_id)
            if request.status is not OffboardingStatus.APPROVED:
                continue  # rejected or completed meanwhile
            before = await audit.summary(request)
            now = clock.now()
            request.status = OffboardingStatus.COMPLETED
            request.completed_at = now
            await request.save()
            customer = await _delete_customer(request.customer_id, now)  # type: ignore[attr-defined]
            await _record(request, "offboardingRequestComplete", "support: deletion job", before)
            await webhook_events.customer_offboarded(customer, request)
            # Tokens switched into the deleted customer lose it.
            rights.rights_changed(customer.provider_id, rights.PROVIDER)  # type: ignore[attr-defined]
        completed.append(request)
    return completed


async def _record(request: OffboardingRequest, action: str, actor: str, before: dict) -> None:
    customer = await Customer.get(id=request.customer_id)  # type: ignore[attr-defined]
    await audit.record_operator_change(
        customer.provider_id,  # type: ignore[attr-defined]
        customer.id,
        actor,
        action,
        ("OffboardingRequest", str(request.id)),
        before,
        await audit.summary(request),
    )


async def list_requests(
    ctx: RequestContext, status: OffboardingStatus | None, customer: Ref | None, page: PageArgs
) -> Page[OffboardingRequest]:
    """The provider's requests, newest first; a deleted customer's stay listed."""
    scope = reading(ctx)
    customer_id = key_of(customer, "Customer") if customer is not None else None
    qs = queries.provider_offboarding_requests(scope, status, customer_id)
    return await paginate(qs, queries.OFFBOARDING_ORDER, True, page)


async def load_request(ctx: RequestContext, key: UUID) -> OffboardingRequest | None:
    scope = reading(ctx)
    loader = ctx.loaders.get(
        ("offboarding-request", scope), lambda ids: queries.offboarding_requests_by_id(scope, ids)
    )
    return await loader.load(key)


async def request_customer_name(ctx: RequestContext, request: OffboardingRequest) -> str:
    """The customer's name, also once it was deleted."""
    loader = ctx.loaders.get(("customer-names",), queries.customer_names_by_id)
    return await loader.load(request.customer_id)  # type: ignore[attr-defined]


async def _delete_customer(customer_id, now) -> Customer:  # type: ignore[no-untyped-def]
    customer = await Customer.get(id=customer_id)
    customer.deleted_at = now
    customer.former_external_id = customer.external_id
    customer.external_id = None
    await customer.save(update_fields=["deleted_at", "former_external_id", "external_id"])
    return customer
