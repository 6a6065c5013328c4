"""Offboarding requests: REQUESTED → APPROVED → COMPLETED, or REJECTED.

Completing one deletes the customer: it disappears from every list and lookup, its external ID
is freed (kept as ``former_external_id``) so it may be registered again, and its monthly
licensed-users figures stay for usage reporting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from vdc_graph import clock
from vdc_graph.context import RequestContext
from vdc_graph.db.models import Customer, OffboardingRequest
from vdc_graph.db.queries import customer_changes as queries
from vdc_graph.enums import OffboardingStatus, Permission
from vdc_graph.errors import UserError, UserErrorCode, UserErrors
from vdc_graph.events import rights
from vdc_graph.notify import webhook_events

from . import rules
from .access import changing
from .ids import Ref, key_of, not_found
from .managing import customer_to_change
from .usage import ensure_license_management_allowed, suspension_months

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


# The status a review moves a request from, for each target status.
_FROM = {
    OffboardingStatus.APPROVED: (OffboardingStatus.REQUESTED,),
    OffboardingStatus.REJECTED: (OffboardingStatus.REQUESTED, OffboardingStatus.APPROVED),
    OffboardingStatus.COMPLETED: (OffboardingStatus.APPROVED,),
}


async def review(
    ctx: RequestContext, ref: Ref, to: OffboardingStatus, note: str = ""
) -> OffboardingRequest:
    _, scope = changing(ctx, Permission.CUSTOMER_MANAGEMENT)
    request = await queries.offboarding_request_for_update(scope, key_of(ref, "OffboardingRequest"))
    if request is None:
        raise not_found("OffboardingRequest")
    if to is not OffboardingStatus.REJECTED:  # rejecting changes no licence
        await ensure_license_management_allowed(scope.provider_id)
    if request.status not in _FROM[to]:
        allowed = " or ".join(s.value for s in _FROM[to])
        raise UserErrors(
            [
                UserError(
                    f"The request is {request.status.value}; only a {allowed} request can "
                    f"become {to.value}",
                    ["input", "offboardingRequestId"],
                    UserErrorCode.INVALID_STATE,
                )
            ]
        )
    now = clock.now()
    request.status = to
    request.reviewed_at = now
    if note.strip():
        request.review_note = note.strip()
    await request.save()
    if to is OffboardingStatus.COMPLETED:
        customer = await _delete_customer(request.customer_id, now)
        await webhook_events.customer_offboarded(customer, request)
        # Tokens switched into the deleted customer lose it.
        rights.rights_changed(customer.provider_id, rights.PROVIDER)  # type: ignore[attr-defined]
    return request


async def _delete_customer(customer_id, now) -> Customer:  # type: ignore[no-untyped-def]
    customer = await Customer.get(id=customer_id)
    customer.deleted_at = now
    customer.former_external_id = customer.external_id
    customer.external_id = None
    await customer.save(update_fields=["deleted_at", "former_external_id", "external_id"])
    return customer
