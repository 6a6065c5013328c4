"""Offboarding requests and their review."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from vdc_graph.db import models
from vdc_graph.enums import OffboardingStatus as Status
from vdc_graph.resolvers import offboarding as resolve

from .approvals import HeldForApproval
from .common import UserError
from .customer_changes import CUSTOMER_ID, ref
from .enums import OffboardingStatus
from .mutations import run_mutation
from .relay import ModelNode


@strawberry.type(description="A request to delete a customer, reviewed by support.")
class OffboardingRequest(ModelNode):
    model = models.OffboardingRequest
    requested_by: str = strawberry.field(description="Who asked for it.")
    desired_deletion_date: date = strawberry.field(description="When the customer should go.")
    reason: str = strawberry.field(description="Why the customer leaves.")
    licenses_in_use: int = strawberry.field(description="Licences in use when it was requested.")
    status: OffboardingStatus = strawberry.field(description="Where the request stands.")
    reviewed_at: datetime | None = strawberry.field(description="When it was last reviewed.")
    review_note: str = strawberry.field(description="The reviewer's note.")
    created_at: datetime = strawberry.field(description="When it was requested.")


@strawberry.input(description="Ask for a customer to be offboarded (deleted).")
class OffboardingRequestCreateInput:
    customer_id: relay.GlobalID = CUSTOMER_ID
    desired_deletion_date: date = strawberry.field(description="Today or later.")
    reason: str = strawberry.field(description="Why the customer leaves.")


@strawberry.input(description="A review decision on an offboarding request.")
class OffboardingRequestReviewInput:
    offboarding_request_id: relay.GlobalID = strawberry.field(description="The request.")
    note: str = strawberry.field(default="", description="An optional note for the record.")


@strawberry.type(description="The result of an offboarding-request mutation.")
class OffboardingRequestPayload(HeldForApproval):
    offboarding_request: OffboardingRequest | None = strawberry.field(
        description="The request after the change."
    )
    removed_customer_id: relay.GlobalID | None = strawberry.field(
        description="The ID of the customer `offboardingRequestComplete` deleted (to evict it "
        "from a client cache); null for the other changes."
    )
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")

    @classmethod
    def done(cls, request: Any) -> Self:
        completed = request.status is Status.COMPLETED
        return cls(
            offboarding_request=request,
            removed_customer_id=relay.GlobalID("Customer", str(request.customer_id))
            if completed
            else None,
            user_errors=[],
        )


@strawberry.type
class OffboardingMutations:
    @strawberry.mutation(description="Request that a customer be offboarded.")
    async def offboarding_request_create(
        self, info: Info, input: OffboardingRequestCreateInput
    ) -> OffboardingRequestPayload:
        data = resolve.OffboardingInput(input.desired_deletion_date, input.reason)
        return await run_mutation(
            info,
            OffboardingRequestPayload,
            lambda: resolve.request_offboarding(info.context, ref(input.customer_id), data),
        )

    @strawberry.mutation(description="Approve a REQUESTED offboarding request.")
    async def offboarding_request_approve(
        self, info: Info, input: OffboardingRequestReviewInput
    ) -> OffboardingRequestPayload:
        return await run_mutation(
            info, OffboardingRequestPayload, lambda: _review(info, input, Status.APPROVED)
        )

    @strawberry.mutation(description="Reject a REQUESTED or APPROVED offboarding request.")
    async def offboarding_request_reject(
        self, info: Info, input: OffboardingRequestReviewInput
    ) -> OffboardingRequestPayload:
        return await run_mutation(
            info, OffboardingRequestPayload, lambda: _review(info, input, Status.REJECTED)
        )

    @strawberry.mutation(
        description="Complete an APPROVED request: the customer is deleted (its external ID may "
        "be registered again; its monthly usage figures are kept)."
    )
    async def offboarding_request_complete(
        self, info: Info, input: OffboardingRequestReviewInput
    ) -> OffboardingRequestPayload:
        return await run_mutation(
            info, OffboardingRequestPayload, lambda: _review(info, input, Status.COMPLETED)
        )


def _review(info: Info, input: OffboardingRequestReviewInput, to: Status):  # type: ignore[no-untyped-def]
    return resolve.review(info.context, ref(input.offboarding_request_id), to, input.note)
