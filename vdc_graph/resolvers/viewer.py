"""The caller: who it is, for which provider, with which rights."""

from __future__ import annotations

from dataclasses import dataclass

from vdc_graph.auth import Principal, require
from vdc_graph.context import RequestContext
from vdc_graph.db.models import Customer, PortalUser, ServiceProvider
from vdc_graph.enums import Permission


@dataclass(frozen=True)
class Viewer:
    principal: Principal
    provider: ServiceProvider
    user: PortalUser | None
    customer: Customer | None


async def viewer(ctx: RequestContext) -> Viewer:
    # Signing in is enough: a user without a role may still ask who it is.
    principal = require(ctx.principal)
    provider = await ServiceProvider.get(id=principal.provider_id)
    user = await PortalUser.get_or_none(id=principal.user_id) if principal.user_id else None
    customer = None
    if principal.customer_scope is not None:
        customer = await Customer.get_or_none(
            id=principal.customer_scope, provider_id=principal.provider_id
        )
    return Viewer(principal, provider, user, customer)


# Provider-level rights a caller limited to customers cannot use (roles, users, API keys,
# settings are refused to it), so it does not hold them there.
PROVIDER_LEVEL = frozenset({Permission.USER_MANAGEMENT, Permission.SITE_SETTINGS})


def sorted_permissions(principal: Principal) -> list[Permission]:
    """What the caller can do where it is: in a customer scope (a switch token, an API key
    limited to customers) the provider-level permissions are left out."""
    limited = principal.customer_scope is not None or principal.customer_ids is not None
    held = principal.permissions - PROVIDER_LEVEL if limited else principal.permissions
    return sorted(held, key=list(Permission).index)
