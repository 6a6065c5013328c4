"""From the caller to the data it may reach: one place that turns a Principal into a Scope."""

from __future__ import annotations

from vdc_graph.auth import Principal, require
from vdc_graph.context import RequestContext
from vdc_graph.db.models import Customer
from vdc_graph.db.scope import Scope
from vdc_graph.enums import Permission
from vdc_graph.errors import Forbidden

READ_ONLY_KEY = "This API key is read-only"
PROVIDER_LEVEL = "This is not available while switched into a customer"


def scope_for(principal: Principal) -> Scope:
    return Scope(principal.provider_id, principal.customer_scope, principal.customer_ids)


def reading(ctx: RequestContext) -> Scope:
    """The scope of a read; reading needs MONITORING_ACCESS."""
    return scope_for(require(ctx.principal, Permission.MONITORING_ACCESS))


def may_change(principal: Principal | None, *permissions: Permission) -> Principal:
    """The caller, when it may make a change that needs ``permissions``."""
    principal = require(principal, *permissions)
    if principal.read_only:
        raise Forbidden(READ_ONLY_KEY)
    return principal


def changing(ctx: RequestContext, *permissions: Permission) -> tuple[Principal, Scope]:
    """The caller and scope of a change that needs ``permissions``."""
    principal = may_change(ctx.principal, *permissions)
    return principal, scope_for(principal)


def provider_reading(ctx: RequestContext, *permissions: Permission) -> Scope:
    """The scope of a provider-level read (roles, users, settings, API keys).

    A caller limited to some customers (switched into one, or an API key limited to some)
    is refused: these belong to the provider as a whole.
    """
    scope = scope_for(require(ctx.principal, Permission.MONITORING_ACCESS, *permissions))
    if scope.limited:
        raise Forbidden(PROVIDER_LEVEL)
    return scope


def provider_changing(ctx: RequestContext, *permissions: Permission) -> tuple[Principal, Scope]:
    """The caller and scope of a provider-level change (see ``provider_reading``)."""
    principal, scope = changing(ctx, *permissions)
    if scope.limited:
        raise Forbidden(PROVIDER_LEVEL)
    return principal, scope


CUSTOMER_FLAGS = {
    "allow_create_delete_policy": "create or delete backup policies",
    "allow_edit_trigger_policy": "edit or start backup policies",
    "enable_self_service": "use self-service",
}


async def require_customer_flag(ctx: RequestContext, flag: str) -> None:
    """For a caller switched into a customer, refuse (FORBIDDEN) unless the customer's ``flag``
    (one of ``CUSTOMER_FLAGS``) allows the action; provider-level callers are not limited."""
    _known(flag)
    principal = require(ctx.principal)
    if principal.customer_scope is None:
        return
    allowed = await Customer.filter(id=principal.customer_scope, **{flag: True}).exists()
    if not allowed:
        raise _refused(flag)


def check_customer_flag(principal: Principal, customer: Customer, flag: str) -> None:
    """``require_customer_flag`` for the customer being changed, already loaded."""
    _known(flag)
    if principal.customer_scope is not None and not getattr(customer, flag):
        raise _refused(flag)


def _known(flag: str) -> None:
    if flag not in CUSTOMER_FLAGS:
        raise ValueError(f"unknown customer flag {flag}")


def _refused(flag: str) -> Forbidden:
    return Forbidden(f"This customer does not allow you to {CUSTOMER_FLAGS[flag]}")


def live_operations_may_continue(before: Principal, now: Principal | None) -> bool:
    """Whether operations a socket opened with ``before``'s rights may go on for ``now``.

    Subscriptions read with MONITORING_ACCESS over the reach they started with: they end when
    the caller is gone (deleted user, revoked or rotated key), lost that permission, or now
    reaches less (another customer scope, fewer customers for a limited key)."""
    if now is None or Permission.MONITORING_ACCESS not in now.permissions:
        return False
    if now.provider_id != before.provider_id or now.customer_scope != before.customer_scope:
        return False
    if now.customer_ids is None:
        return True
    return before.customer_ids is not None and now.customer_ids >= before.customer_ids
