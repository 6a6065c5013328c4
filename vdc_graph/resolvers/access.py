"""From the caller to the data it may reach: one place that turns a Principal into a Scope."""

from __future__ import annotations

from vdc_graph.auth import Principal, require
from vdc_graph.context import RequestContext
from vdc_graph.db.scope import Scope
from vdc_graph.enums import Permission


def scope_for(principal: Principal) -> Scope:
    return Scope(principal.provider_id, principal.customer_scope)


def reading(ctx: RequestContext) -> Scope:
    """The scope of a read; reading needs MONITORING_ACCESS."""
    return scope_for(require(ctx.principal, Permission.MONITORING_ACCESS))


def changing(ctx: RequestContext, *permissions: Permission) -> tuple[Principal, Scope]:
    """The caller and scope of a change that needs ``permissions``."""
    principal = require(ctx.principal, *permissions)
    return principal, scope_for(principal)
