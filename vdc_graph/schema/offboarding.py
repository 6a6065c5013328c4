"""Offboarding requests and their review."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from strawberry import relay
from strawberry.types import Info

from vdc_graph.db import models
from vdc_graph.enums import OffboardingStatus as Status
from vdc_graph.resolvers import offboarding as resolve
from vdc_graph.resolvers.customers import load_customer

from .approvals import HeldForApproval
from .common import UserError
from .customer_changes import CUSTOMER_ID, ref
from .customer_people import AFTER, BEFORE, FIRST, LAST
from .enums import OffboardingStatus
from .mutations import run_mutation
from .relay import Connection, ModelNode, page_args

if TYPE_CHECKING:
    from .customers import Customer


@strawberry.type(description="A request to delete a customer, reviewed by support.")
class OffboardingRequest(ModelNode):
    model = models.OffboardingRequest
    requested_by: str = strawberry.field(description="Who asked for it.")
    desired_deletion_date: date = strawberry.field(description="When the customer should go.")
    reason: str = strawberry.field(description="Why the customer leaves.")
    licenses_in_use: int = strawberry.field(description="Licences in use when it was requested.")
    status: OffboardingStatus = strawberry.field(description="Where the request stands.")
    reviewed_at: datetime | None = strawberry.field(description="When support reviewed it.")
    reviewed_by: str = strawberry.field(description="Who at support reviewed it.")
    review_note: str = strawberry.field(
        description="Support's reason (always given for a rejection)."
    )
    completed_at: datetime | None = strawberry.field(
        description="When the customer was deleted (on or after the desired date)."
    )
    created_at: datetime = strawberry.field(description="When it was requested.")

    @strawberry.field(description="The customer; null once it has been deleted.")
    async def customer(
        self, info: Info
    ) -> Annotated[Customer, strawberry.lazy("vdc_graph.schema.customers")] | None:
        return await load_customer(info.context, self.customer_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The customer's name, also once it has been deleted.")
    async def customer_display_name(self, info: Info) -> str:
        return await resolve.request_customer_name(info.context, self)  # type: ignore[arg-type]


@strawberry.input(description="Ask for a customer to be offboarded (deleted).")
class OffboardingRequestCreateInput:
    customer_id: relay.GlobalID = CUSTOMER_ID
    desired_deletion_date: date = strawberry.field(description="Today or later.")
    reason: str = strawberry.field(description="Why the customer leaves.")


@strawberry.type(description="The result of an offboarding-request mutation.")
class OffboardingRequestPayload(HeldForApproval):
    offboarding_request: OffboardingRequest | None = strawberry.field(
        description="The request after the change."
    )
    removed_customer_id: relay.GlobalID | None = strawberry.field(
        description="The ID of the customer deleted with this request (to evict it from a "
        "client cache); null while the request is not completed.",
        deprecation_reason="Always null: support's deletion job completes a request, never a "
        "mutation. Watch `offboardingRequest.status` for `COMPLETED` instead.",
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


@strawberry.input(description="Which offboarding requests to list.")
class OffboardingRequestFilter:
    status: OffboardingStatus | None = strawberry.field(
        default=None, description="Only requests in this status."
    )
    customer_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only this customer's requests."
    )


@strawberry.type
class OffboardingQueries:
    @strawberry.field(
        description="The provider's offboarding requests, newest first; those of customers "
        "deleted since stay listed."
    )
    async def offboarding_requests(
        self,
        info: Info,
        filter: Annotated[
            OffboardingRequestFilter | None, strawberry.argument(description="Which requests.")
        ] = None,
        first: FIRST = None,
        after: AFTER = None,
        last: LAST = None,
        before: BEFORE = None,
    ) -> Connection[OffboardingRequest]:
        flt = filter or OffboardingRequestFilter()
        page = await resolve.list_requests(
            info.context,
            None if flt.status is None else Status(flt.status.value),
            None if flt.customer_id is None else ref(flt.customer_id),
            page_args(info, first, after, last, before),
        )
        return Connection[OffboardingRequest](page=page)


@strawberry.type
class OffboardingMutations:
    @strawberry.mutation(
        description="Request that a customer be offboarded; support reviews it, and an approved "
        "request deletes the customer on its desired date."
    )
    async def offboarding_request_create(
        self, info: Info, input: OffboardingRequestCreateInput
    ) -> OffboardingRequestPayload:
        data = resolve.OffboardingInput(input.desired_deletion_date, input.reason)
        return await run_mutation(
            info,
            OffboardingRequestPayload,
            lambda: resolve.request_offboarding(info.context, ref(input.customer_id), data),
        )
