"""Roles, users and API keys of a provider: scoped base sets, filters, batch lookups."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from tortoise.connection import get_connection
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from vdc_graph.db.loaders import by_key
from vdc_graph.db.models import ApiKey, PortalUser, Role
from vdc_graph.db.pagination import SortKey
from vdc_graph.db.scope import Scope
from vdc_graph.enums import Permission

ROLE_ORDER = SortKey("NAME", "name_key")
USER_ORDER = SortKey("EMAIL", "email_key")
API_KEY_ORDER = SortKey("CREATED_AT", "created_at")


def roles(scope: Scope, search: str | None = None) -> QuerySet[Role]:
    qs = Role.filter(provider_id=scope.provider_id)
    if search and search.strip():
        qs = qs.filter(name__icontains=search.strip())
    return qs


def users(
    scope: Scope, search: str | None = None, role_id: UUID | None = None
) -> QuerySet[PortalUser]:
    qs = PortalUser.filter(provider_id=scope.provider_id)
    if search and search.strip():
        term = search.strip()
        qs = qs.filter(
            Q(first_name__icontains=term) | Q(last_name__icontains=term) | Q(email__icontains=term)
        )
    if role_id is not None:
        qs = qs.filter(roles__id=role_id)
    return qs


def api_keys(scope: Scope) -> QuerySet[ApiKey]:
    return ApiKey.filter(provider_id=scope.provider_id)


async def roles_by_id(scope: Scope, ids: Sequence[UUID]) -> list[Role | None]:
    return by_key(await roles(scope).filter(id__in=list(ids)), ids)


async def users_by_id(scope: Scope, ids: Sequence[UUID]) -> list[PortalUser | None]:
    return by_key(await users(scope).filter(id__in=list(ids)), ids)


async def api_keys_by_id(scope: Scope, ids: Sequence[UUID]) -> list[ApiKey | None]:
    return by_key(await api_keys(scope).filter(id__in=list(ids)), ids)


async def roles_by_user(ids: Sequence[UUID]) -> list[list[Role]]:
    """Each user's roles, by name (two statements, whatever the number of users)."""
    pairs = await Role.filter(users__id__in=list(ids)).values_list("id", "users__id")
    by_id = {r.id: r for r in await Role.filter(id__in={role for role, _ in pairs})}
    result: dict[UUID, list[Role]] = {i: [] for i in ids}
    for role_id, user_id in pairs:
        result[user_id].append(by_id[role_id])
    return [sorted(result[i], key=lambda r: (r.name_key, r.id)) for i in ids]


async def user_counts_by_role(ids: Sequence[UUID]) -> list[int]:
    pairs = await PortalUser.filter(roles__id__in=list(ids)).values_list("id", "roles__id")
    counts = dict.fromkeys(ids, 0)
    for _, role_id in pairs:
        counts[role_id] = counts.get(role_id, 0) + 1
    return [counts[i] for i in ids]


async def user_managers(provider_id: UUID) -> int:
    """How many of the provider's users hold USER_MANAGEMENT through some role."""
    role_ids = [
        r.id
        for r in await Role.filter(provider_id=provider_id)
        if Permission.USER_MANAGEMENT.value in (r.permissions or [])
    ]
    if not role_ids:
        return 0
    return (
        await PortalUser.filter(provider_id=provider_id, roles__id__in=role_ids).distinct().count()
    )


async def auth_generation() -> int:
    """The counter the database bumps on every change authentication depends on (users, roles,
    role assignments, API keys): one primary-key read."""
    _, rows = await get_connection("default").execute_query(
        "SELECT value FROM auth_generation WHERE id = 1"
    )
    return int(rows[0]["value"])
