"""Roles: a named set of permissions; the built-in Administrator holds them all."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from vdc_graph.auth import Principal
from vdc_graph.context import RequestContext
from vdc_graph.db.models import Role
from vdc_graph.db.pagination import Page, PageArgs, paginate
from vdc_graph.db.queries import access as queries
from vdc_graph.enums import Permission
from vdc_graph.errors import UserError, UserErrorCode, UserErrors
from vdc_graph.events import rights

from .access import provider_changing, provider_reading
from .ids import Ref, key_of, not_found

ADMINISTRATOR = "Administrator"
ALL_PERMISSIONS = [p.value for p in Permission]
MAX_NAME = 100


async def ensure_administrator(provider_id: UUID) -> Role:
    """The provider's built-in Administrator role, created on first need.

    Through the API no other role can take its name (it exists before any other is created);
    should a role made elsewhere hold it, the built-in one is named ``Administrator (built-in)``
    rather than giving that role every permission.
    """
    for name in (ADMINISTRATOR, f"{ADMINISTRATOR} (built-in)"):
        role = await Role.get_or_none(provider_id=provider_id, built_in=True)
        if role is not None:
            return role
        if await Role.filter(provider_id=provider_id, name_key=name.lower()).exists():
            continue
        try:
            # A savepoint: a concurrent creation must not abort the caller's transaction.
            async with in_transaction():
                return await Role.create(
                    provider_id=provider_id,
                    name=name,
                    name_key=name.lower(),
                    permissions=ALL_PERMISSIONS,
                    built_in=True,
                )
        except IntegrityError:
            continue  # created concurrently: found as built-in on the next round
    return await Role.get(provider_id=provider_id, built_in=True)


def permission_names(permissions: list[Permission]) -> list[str]:
    """Stored form: sorted in the enum's order, MONITORING_ACCESS always included."""
    chosen = {Permission.MONITORING_ACCESS, *permissions}
    return [p.value for p in Permission if p in chosen]


def _permission_problems(permissions: list[Permission]) -> list[UserError]:
    if Permission.ADVANCED_BACKUP_MANAGEMENT in permissions and (
        Permission.BACKUP_MANAGEMENT not in permissions
    ):
        return [
            UserError(
                "ADVANCED_BACKUP_MANAGEMENT is only valid together with BACKUP_MANAGEMENT",
                ["input", "permissions"],
                UserErrorCode.INVALID,
            )
        ]
    return []


def _name_problems(name: str) -> list[UserError]:
    if not name.strip():
        return [UserError("Enter the role's name", ["input", "name"], UserErrorCode.REQUIRED)]
    if len(name.strip()) > MAX_NAME:
        return [
            UserError(
                f"The name is longer than {MAX_NAME} characters",
                ["input", "name"],
                UserErrorCode.TOO_LONG,
            )
        ]
    return []


async def _name_taken(provider_id: UUID, name: str, except_id: UUID | None = None) -> bool:
    qs = Role.filter(provider_id=provider_id, name_key=name.strip().lower())
    if except_id is not None:
        qs = qs.exclude(id=except_id)
    return await qs.exists()


def _duplicate() -> UserErrors:
    return UserErrors(
        [UserError("A role with this name exists", ["input", "name"], UserErrorCode.DUPLICATE)]
    )


def ensure_within_own_permissions(
    principal: Principal, permissions: Iterable[str], field: list[str], what: str
) -> None:
    """Nobody grants (or takes away) a permission they do not hold themselves: a
    PERMISSION_REQUIRED userError naming each one, recorded in the audit log as refused."""
    held = {p.value for p in principal.permissions}
    lacking = [p for p in Permission if p.value in set(permissions) - held]
    if lacking:
        raise UserErrors(
            [
                UserError(
                    f"You do not hold {p.value}, so you cannot {what}",
                    field,
                    UserErrorCode.PERMISSION_REQUIRED,
                )
                for p in lacking
            ]
        )


async def ensure_user_manager_remains(provider_id: UUID) -> None:
    """No lock-out: a change that leaves nobody holding USER_MANAGEMENT is refused."""
    if await queries.user_managers(provider_id) == 0:
        raise UserErrors(
            [
                UserError(
                    "This would leave no user with USER_MANAGEMENT; give it to someone else first",
                    None,
                    UserErrorCode.LAST_USER_MANAGER,
                )
            ]
        )


async def list_roles(ctx: RequestContext, search: str | None, page: PageArgs) -> Page[Role]:
    scope = provider_reading(ctx, Permission.USER_MANAGEMENT)
    await ensure_administrator(scope.provider_id)
    return await paginate(queries.roles(scope, search), queries.ROLE_ORDER, False, page)


async def load_role(ctx: RequestContext, key: Any) -> Role | None:
    scope = provider_reading(ctx, Permission.USER_MANAGEMENT)
    loader = ctx.loaders.get(("role", scope), lambda ids: queries.roles_by_id(scope, ids))
    return await loader.load(key)


async def role_user_count(ctx: RequestContext, role: Role) -> int:
    return await ctx.loaders.get(("role-user-count",), queries.user_counts_by_role).load(role.id)


@dataclass(frozen=True)
class RoleChange:
    name: str | None = None
    permissions: list[Permission] | None = None


async def create_role(ctx: RequestContext, name: str, permissions: list[Permission]) -> Role:
    principal, scope = provider_changing(ctx, Permission.USER_MANAGEMENT)
    await ensure_administrator(scope.provider_id)
    if problems := _name_problems(name) + _permission_problems(permissions):
        raise UserErrors(problems)
    ensure_within_own_permissions(
        principal, permission_names(permissions), ["input", "permissions"], "give it to a role"
    )
    if await _name_taken(scope.provider_id, name):
        raise _duplicate()
    return await Role.create(
        provider_id=scope.provider_id,
        name=name.strip(),
        name_key=name.strip().lower(),
        permissions=permission_names(permissions),
    )


async def _own_role(scope_provider: UUID, ref: Ref) -> Role:
    role = await Role.get_or_none(id=key_of(ref, "Role"), provider_id=scope_provider)
    if role is None:
        raise not_found("Role")
    return role


async def update_role(ctx: RequestContext, ref: Ref, change: RoleChange) -> Role:
    principal, scope = provider_changing(ctx, Permission.USER_MANAGEMENT)
    await ensure_administrator(scope.provider_id)
    role = await _own_role(scope.provider_id, ref)
    problems = []
    if change.name is not None:
        problems += _name_problems(change.name)
    if change.permissions is not None:
        problems += _permission_problems(change.permissions)
    if problems:
        raise UserErrors(problems)
    if role.built_in:
        renamed = change.name is not None and change.name.strip() != role.name
        reduced = change.permissions is not None and (
            permission_names(change.permissions) != ALL_PERMISSIONS
        )
        if renamed or reduced:
            field = "name" if renamed else "permissions"
            raise UserErrors(
                [
                    UserError(
                        "The built-in Administrator role keeps its name and every permission",
                        ["input", field],
                        UserErrorCode.BUILT_IN_ROLE,
                    )
                ]
            )
    if change.name is not None:
        if await _name_taken(scope.provider_id, change.name, except_id=role.id):
            raise _duplicate()
        role.name, role.name_key = change.name.strip(), change.name.strip().lower()
    if change.permissions is not None:
        new = permission_names(change.permissions)
        ensure_within_own_permissions(
            principal,
            set(new) ^ set(role.permissions),  # added or removed
            ["input", "permissions"],
            "add it to or remove it from a role",
        )
        role.permissions = new
        rights.rights_changed(scope.provider_id, rights.ROLE_CHANGED)
    await role.save()
    await ensure_user_manager_remains(scope.provider_id)
    return role


async def delete_role(ctx: RequestContext, ref: Ref) -> UUID:
    """Delete a role; its users lose it (and may end with no role)."""
    principal, scope = provider_changing(ctx, Permission.USER_MANAGEMENT)
    role = await _own_role(scope.provider_id, ref)
    if not role.built_in:
        ensure_within_own_permissions(
            principal, role.permissions, ["input", "id"], "delete a role that holds it"
        )
    if role.built_in:
        raise UserErrors(
            [
                UserError(
                    "The built-in Administrator role cannot be deleted",
                    ["input", "id"],
                    UserErrorCode.BUILT_IN_ROLE,
                )
            ]
        )
    await role.users.clear()
    await role.delete()
    rights.rights_changed(scope.provider_id, rights.ROLE_CHANGED)
    await ensure_user_manager_remains(scope.provider_id)
    return role.id
