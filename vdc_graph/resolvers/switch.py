"""Switching into a customer: a short-lived token limited to one customer the user administers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from vdc_graph.auth.ip_restriction import check_customer_address
from vdc_graph.auth.switch_tokens import mint_switch_token
from vdc_graph.context import RequestContext
from vdc_graph.db.models import Customer, CustomerAdminUser, PortalUser
from vdc_graph.db.queries import customers as customer_queries
from vdc_graph.enums import Permission
from vdc_graph.errors import Forbidden

from .access import provider_changing
from .ids import Ref, key_of, not_found

NOT_A_USER = "Only a signed-in user can switch into a customer"
NOT_AN_ADMIN = "You are not an admin user of this customer"


@dataclass(frozen=True)
class Switched:
    token: str
    expires_at: datetime
    customer: Customer


async def switch_customer(ctx: RequestContext, ref: Ref) -> Switched:
    """Acting in a customer's portal is customer management: it needs CUSTOMER_MANAGEMENT, and
    the user's email must be one of the customer's admin users."""
    principal, scope = provider_changing(ctx, Permission.CUSTOMER_MANAGEMENT)
    if principal.user_id is None:
        raise Forbidden(NOT_A_USER)
    customer = await customer_queries.visible_customers(scope).get_or_none(
        id=key_of(ref, "Customer")
    )
    if customer is None:
        raise not_found("Customer")
    user = await PortalUser.get(id=principal.user_id)
    admin = await CustomerAdminUser.get_or_none(customer_id=customer.id, email_key=user.email_key)
    if admin is None:
        raise Forbidden(NOT_AN_ADMIN)
    # Refused here already, rather than handing out a token that every request would refuse.
    await check_customer_address(customer.id, ctx.client_host)
    token, expires_at = mint_switch_token(
        ctx.settings,
        user_id=user.id,
        provider_id=user.provider_id,
        customer_id=customer.id,
        admin_user_id=admin.id,
    )
    return Switched(token, expires_at, customer)
