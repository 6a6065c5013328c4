"""Contract intake from the licensing system (VCSP Pulse): a known customer's display name,
source, contract, licence model and Flex subscription, set idempotently, saying what changed.

The licensing system moves a contract between TRIAL, MONTH_TO_MONTH, ANNUAL, SUSPENDED and
EXPIRED (what each allows: ``vdc_graph.contracts``). It cannot make a customer PENDING again,
nor activate a pending one: onboarding does that, so a pending customer's contract stays
PENDING (its other properties may change).
"""

from __future__ import annotations

from dataclasses import dataclass

from vdc_graph.context import RequestContext
from vdc_graph.contracts import CONTRACT_STATES
from vdc_graph.db.models import Customer, Subscription
from vdc_graph.db.queries.customers import visible_customers
from vdc_graph.enums import ContractType, LicenseModel, Permission, SourceType, SubscriptionPlan
from vdc_graph.errors import UserError, UserErrorCode, UserErrors

from .access import provider_changing
from .usage import ensure_license_management_allowed


@dataclass(frozen=True)
class ContractIntake:
    external_id: str
    display_name: str | None = None
    source_type: SourceType | None = None
    contract_type: ContractType | None = None
    license_model: LicenseModel | None = None
    flex_subscription_id: str | None = None


def _problems(data: ContractIntake) -> list[UserError]:
    problems = []
    if data.display_name is not None and not 0 < len(data.display_name.strip()) <= 200:
        problems.append(
            UserError(
                "The display name must be 1 to 200 characters",
                ["input", "displayName"],
                UserErrorCode.INVALID,
            )
        )
    if data.flex_subscription_id is not None and len(data.flex_subscription_id.strip()) > 100:
        problems.append(
            UserError(
                "Longer than 100 characters",
                ["input", "flexSubscriptionId"],
                UserErrorCode.TOO_LONG,
            )
        )
    if data.contract_type is not None and data.contract_type not in CONTRACT_STATES:
        problems.append(
            UserError(
                "A contract becomes PENDING only at registration",
                ["input", "contractType"],
                UserErrorCode.INVALID,
            )
        )
    return problems


async def update_contract(ctx: RequestContext, data: ContractIntake) -> tuple[Customer, list[str]]:
    """Apply the licensing system's view of a known customer; returns it and the names of the
    fields that changed (none when it already matched)."""
    _, scope = provider_changing(ctx, Permission.CUSTOMER_MANAGEMENT)
    await ensure_license_management_allowed(scope.provider_id)
    external_id = data.external_id.strip()
    customer = (
        await visible_customers(scope).filter(external_id=external_id).first()
        if external_id
        else None
    )
    problems = _problems(data)
    if customer is None:
        problems.insert(
            0,
            UserError(
                "No customer has this external ID; register it first",
                ["input", "externalId"],
                UserErrorCode.NOT_FOUND,
            ),
        )
    elif data.contract_type is not None and customer.contract_type is ContractType.PENDING:
        problems.append(
            UserError(
                "The customer is still pending: onboarding activates it",
                ["input", "contractType"],
                UserErrorCode.CUSTOMER_PENDING,
            )
        )
    if problems:
        raise UserErrors(problems)
    assert customer is not None
    wanted = {
        "display_name": data.display_name.strip() if data.display_name is not None else None,
        "source_type": data.source_type,
        "contract_type": data.contract_type,
        "license_model": data.license_model,
    }
    changed = [
        name
        for name, value in wanted.items()
        if value is not None and getattr(customer, name) != value
    ]
    if data.flex_subscription_id is not None:  # empty: no Flex subscription (null)
        flex = data.flex_subscription_id.strip() or None
        if customer.flex_subscription_id != flex:
            wanted["flex_subscription_id"] = flex
            changed.append("flex_subscription_id")
    for name in changed:
        setattr(customer, name, wanted[name])
    if changed:
        await customer.save(update_fields=changed)
    if "flex_subscription_id" in changed:
        await Subscription.filter(customer_id=customer.id, plan=SubscriptionPlan.FLEX).delete()
        if customer.flex_subscription_id:
            await Subscription.create(
                customer=customer,
                plan=SubscriptionPlan.FLEX,
                subscription_id=customer.flex_subscription_id,
            )
    return customer, [_camel(name) for name in changed]


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)
