"""``customerContractUpdate``: the licensing system's intake for a known customer."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from vdc_graph.resolvers import contracts as resolve

from .common import Payload, UserError
from .customers import Customer
from .enums import ContractType, LicenseModel, SourceType
from .mutations import run_mutation


@strawberry.input(
    description="The licensing system's view of a registered customer; omitted fields stay."
)
class CustomerContractUpdateInput:
    external_id: str = strawberry.field(description="The customer's external ID.")
    display_name: str | None = strawberry.field(
        default=None, description="The display name (1 to 200 characters)."
    )
    source_type: SourceType | None = strawberry.field(default=None, description="The source.")
    contract_type: ContractType | None = strawberry.field(
        default=None,
        description="TRIAL, MONTH_TO_MONTH, ANNUAL, SUSPENDED or EXPIRED (not for a pending "
        "customer: onboarding activates it).",
    )
    license_model: LicenseModel | None = strawberry.field(
        default=None, description="The licence model."
    )
    flex_subscription_id: str | None = strawberry.field(
        default=None, description="The Flex subscription ID (empty: none)."
    )


@strawberry.type(description="The result of `customerContractUpdate`.")
class CustomerContractUpdatePayload(Payload):
    customer: Customer | None = strawberry.field(description="The customer as it now is.")
    changed_fields: list[str] = strawberry.field(
        description="The input fields whose values changed (empty when all already matched)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why the input was refused.")


@strawberry.type
class ContractMutations:
    @strawberry.mutation(
        description="Apply the licensing system's contract data to a registered customer, "
        "idempotently, and say what changed. Needs CUSTOMER_MANAGEMENT (provider-wide)."
    )
    async def customer_contract_update(
        self,
        info: Info,
        input: Annotated[
            CustomerContractUpdateInput, strawberry.argument(description="The contract data.")
        ],
    ) -> CustomerContractUpdatePayload:
        data = resolve.ContractIntake(
            external_id=input.external_id,
            display_name=input.display_name,
            source_type=input.source_type,  # type: ignore[arg-type]
            contract_type=input.contract_type,  # type: ignore[arg-type]
            license_model=input.license_model,  # type: ignore[arg-type]
            flex_subscription_id=input.flex_subscription_id,
        )
        return await run_mutation(
            info, CustomerContractUpdatePayload, lambda: resolve.update_contract(info.context, data)
        )
