"""The customer a change applies to: the caller needs CUSTOMER_MANAGEMENT and must see it."""

from __future__ import annotations

from vdc_graph.auth import Principal
from vdc_graph.context import RequestContext
from vdc_graph.db.models import Customer
from vdc_graph.db.queries import customer_changes as queries
from vdc_graph.enums import Permission

from .access import changing
from .ids import Ref, key_of, not_found


async def customer_to_change(ctx: RequestContext, ref: Ref) -> tuple[Principal, Customer]:
    """The caller and the customer (locked for the change); another provider's is NOT_FOUND."""
    principal, scope = changing(ctx, Permission.CUSTOMER_MANAGEMENT)
    customer = await queries.customer_for_update(scope, key_of(ref, "Customer"))
    if customer is None:
        raise not_found("Customer")
    return principal, customer
