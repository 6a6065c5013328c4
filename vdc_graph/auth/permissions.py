"""The one permission check of the project: every guarded resolver calls ``require``."""

from __future__ import annotations

from vdc_graph.enums import Permission
from vdc_graph.errors import Forbidden, Unauthenticated

from .principal import Principal


def require(principal: Principal | None, *permissions: Permission) -> Principal:
    """Return the principal when it holds every permission; refuse otherwise."""
    if principal is None:
        raise Unauthenticated("Sign in: send Authorization: Bearer <token>")
    missing = [p.value for p in permissions if p not in principal.permissions]
    if missing:
        if len(missing) == 1:
            raise Forbidden(f"This needs the {missing[0]} permission")
        names = ", ".join(missing[:-1]) + f" and {missing[-1]}"
        raise Forbidden(f"This needs the {names} permissions")
    return principal
