"""Customers: listing, lookup and intake from the licensing system."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from strawberry.dataloader import DataLoader
from tortoise.exceptions import IntegrityError
from tortoise.models import Model
from tortoise.transactions import in_transaction

from vdc_graph.context import RequestContext
from vdc_graph.db.models import (
    Customer,
    CustomerAdminUser,
    Onboarding,
    Subscription,
)
from vdc_graph.db.pagination import Page, PageArgs, every_row, paginate, sort_key
from vdc_graph.db.queries import customers as queries
from vdc_graph.enums import (
    ContractType,
    LicenseModel,
    Permission,
    SourceType,
    SubscriptionPlan,
)
from vdc_graph.errors import Forbidden, UserError, UserErrorCode, UserErrors
from vdc_graph.notify import webhook_events

from .access import changing, reading
from .ids import Ref, global_id, key_of, not_found
from .settings import apply_provider_notification_defaults
from .usage import ensure_license_management_allowed
from .validation import dns_domain, text_problems


async def list_customers(
    ctx: RequestContext,
    flt: queries.CustomerFilter,
    order_by: str,
    descending: bool,
    page: PageArgs,
) -> Page[Customer]:
    scope = reading(ctx)
    key = sort_key(queries.SORT_KEYS, order_by)
    return await paginate(queries.filtered_customers(scope, flt), key, descending, page)


def customer_loader(ctx: RequestContext) -> DataLoader[Any, Customer | None]:
    """The request's lookup of customers the caller may see, by key."""
    scope = reading(ctx)
    return ctx.loaders.get(("customer", scope), lambda ids: queries.customers_by_id(scope, ids))


async def load_customer(ctx: RequestContext, key: Any) -> Customer | None:
    """A customer the caller may see, batched with the request's other lookups."""
    return await customer_loader(ctx).load(key)


async def get_customer(ctx: RequestContext, ref: Ref) -> Customer:
    customer = await load_customer(ctx, key_of(ref, "Customer"))
    if customer is None:
        raise not_found("Customer")
    return customer


def loader_of_child(model: type[Model]) -> Callable[[RequestContext, Any], Awaitable[Any]]:
    """A node loader for a row that belongs to a customer the caller may see."""

    async def load(ctx: RequestContext, key: Any) -> Any:
        scope = reading(ctx)
        loader = ctx.loaders.get(
            ("customer-child", model.__name__, scope),
            lambda ids: queries.children_by_id(model, scope, ids),
        )
        return await loader.load(key)

    return load


def related(ctx: RequestContext, name: str, batch: Any) -> Any:
    """A per-request loader of rows hanging off customers (the customer is already visible)."""
    return ctx.loaders.get(("customer-related", name), batch)


async def customer_onboarding(ctx: RequestContext, customer: Customer) -> Onboarding | None:
    return await related(ctx, "onboarding", queries.onboardings_by_customer).load(customer.id)


async def customer_subscriptions(ctx: RequestContext, customer: Customer) -> list[Subscription]:
    return await related(ctx, "subscriptions", queries.subscriptions_by_customer).load(customer.id)


async def customer_admin_users(ctx: RequestContext, customer: Customer) -> list[CustomerAdminUser]:
    return await related(ctx, "admin_users", queries.admin_users_by_customer).load(customer.id)


async def customer_ip_ranges(ctx: RequestContext, customer: Customer) -> list[Any]:
    return await related(ctx, "ip_ranges", queries.ip_ranges_by_customer).load(customer.id)


async def customer_contacts(ctx: RequestContext, customer: Customer) -> list[Any]:
    return await related(ctx, "contacts", queries.contacts_by_customer).load(customer.id)


async def customer_invitations(ctx: RequestContext, customer: Customer) -> list[Any]:
    return await related(ctx, "invitations", queries.invitations_by_customer).load(customer.id)


async def customer_offboarding_requests(ctx: RequestContext, customer: Customer) -> list[Any]:
    return await related(ctx, "offboarding", queries.offboarding_requests_by_customer).load(
        customer.id
    )


async def customer_licensed_months(ctx: RequestContext, customer: Customer) -> list[Any]:
    return await related(ctx, "licensed_months", queries.licensed_months_by_customer).load(
        customer.id
    )


@dataclass(frozen=True)
class RegisterCustomerInput:
    display_name: str
    external_id: str
    source_type: SourceType
    m365_account: str = ""
    veeam_account_id: str = ""
    flex_subscription_id: str = ""
    license_model: LicenseModel = LicenseModel.VARIABLE


@dataclass(frozen=True)
class RegisterResult:
    customer: Customer
    created: bool


_SINGLE_LINE = {
    "displayName": "display_name",
    "externalId": "external_id",
    "m365Account": "m365_account",
    "veeamAccountId": "veeam_account_id",
    "flexSubscriptionId": "flex_subscription_id",
}


def _validate_registration(data: RegisterCustomerInput) -> list[UserError]:
    # The GraphQL input is checked as it arrives; this covers the CSV import too.
    problems = text_problems(
        {name: getattr(data, attr) for name, attr in _SINGLE_LINE.items()}, ["input"]
    )
    if problems:
        return problems
    if data.m365_account.strip() and dns_domain(data.m365_account) is None:
        problems.append(
            UserError(
                f"{data.m365_account.strip()!r} is not a domain name; the M365 account is the "
                "tenant's domain, such as contoso.onmicrosoft.com",
                ["input", "m365Account"],
                UserErrorCode.INVALID,
            )
        )
    if not data.display_name.strip():
        problems.append(
            UserError(
                "Enter the customer's display name",
                ["input", "displayName"],
                UserErrorCode.REQUIRED,
            )
        )
    elif len(data.display_name.strip()) > 200:
        problems.append(
            UserError(
                "The display name is longer than 200 characters",
                ["input", "displayName"],
                UserErrorCode.TOO_LONG,
            )
        )
    if not data.external_id.strip():
        problems.append(
            UserError(
                "Enter the external ID (the marketplace subscription ID)",
                ["input", "externalId"],
                UserErrorCode.REQUIRED,
            )
        )
    elif len(data.external_id.strip()) > 100:
        problems.append(
            UserError(
                "The external ID is longer than 100 characters",
                ["input", "externalId"],
                UserErrorCode.TOO_LONG,
            )
        )
    return problems


async def register_customer(ctx: RequestContext, data: RegisterCustomerInput) -> RegisterResult:
    """Intake of a customer created by the licensing system; it arrives pending.

    Idempotent on the external ID: registering it again returns the existing customer.
    """
    principal, scope = changing(ctx, Permission.CUSTOMER_MANAGEMENT)
    if principal.customer_scope is not None:
        raise Forbidden("A customer-scoped caller cannot register customers")
    await ensure_license_management_allowed(scope.provider_id)
    if problems := _validate_registration(data):
        raise UserErrors(problems)
    external_id = data.external_id.strip()
    existing = await queries.visible_customers(scope).get_or_none(external_id=external_id)
    if existing is not None:
        return RegisterResult(existing, created=False)
    try:
        customer = await _create_pending(scope.provider_id, data, external_id)
    except IntegrityError:
        # A concurrent registration of the same external ID won the race: return its customer.
        existing = await queries.visible_customers(scope).get(external_id=external_id)
        return RegisterResult(existing, created=False)
    await webhook_events.customer_registered(customer)
    return RegisterResult(customer, created=True)


async def _create_pending(
    provider_id: UUID, data: RegisterCustomerInput, external_id: str
) -> Customer:
    async with in_transaction():
        customer = await Customer.create(
            provider_id=provider_id,
            display_name=data.display_name.strip(),
            external_id=external_id,
            source_type=data.source_type,
            m365_account=dns_domain(data.m365_account) or "",
            veeam_account_id=data.veeam_account_id.strip() or None,
            flex_subscription_id=data.flex_subscription_id.strip() or None,
            license_model=data.license_model,
            contract_type=ContractType.PENDING,
        )
        await Onboarding.create(customer=customer)
        await apply_provider_notification_defaults(customer)
        if customer.flex_subscription_id:
            await Subscription.create(
                customer=customer,
                plan=SubscriptionPlan.FLEX,
                subscription_id=customer.flex_subscription_id,
            )
    return customer


CUSTOMER_CSV_COLUMNS = (
    ("ID", "id"),  # the API's global ID
    ("Display name", "display_name"),
    ("M365 account", "m365_account"),
    ("Microsoft tenant ID", "microsoft_tenant_id"),
    ("External ID", "external_id"),
    ("Veeam account ID", "veeam_account_id"),
    ("Flex subscription ID", "flex_subscription_id"),
    ("Express subscription ID", "express_subscription_id"),
    ("Premium subscription ID", "premium_subscription_id"),
    ("Contract type", "contract_type"),
    ("License model", "license_model"),
    ("Source type", "source_type"),
    ("Licenses used", "licenses_used"),
    ("Activation date", "activation_date"),
    ("Storage consumed (GB)", "storage_consumed_gb"),
    ("Backed-up accounts", "backed_up_accounts"),
    ("Total active accounts", "total_active_accounts"),
    ("User change", "user_change"),
)


async def export_customers(
    ctx: RequestContext, flt: queries.CustomerFilter
) -> tuple[list[str], AsyncIterator[list[Any]]]:
    """Every listed property of every matching customer, in display-name order.

    Rights are checked now; rows are read page by page as the download is written.
    """
    scope = reading(ctx)
    key = sort_key(queries.SORT_KEYS, "DISPLAY_NAME")

    async def rows() -> AsyncIterator[list[Any]]:
        async for customer in every_row(queries.filtered_customers(scope, flt), key):
            yield [
                global_id("Customer", customer.id) if f == "id" else getattr(customer, f)
                for _, f in CUSTOMER_CSV_COLUMNS
            ]

    return [title for title, _ in CUSTOMER_CSV_COLUMNS], rows()
