"""Portal users of a provider: who may sign in, with which roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from vdc_graph.auth import Principal
from vdc_graph.context import RequestContext
from vdc_graph.db.models import PortalUser, Role
from vdc_graph.db.pagination import Page, PageArgs, paginate
from vdc_graph.db.queries import access as queries
from vdc_graph.enums import Permission
from vdc_graph.errors import NotFound, UserError, UserErrorCode, UserErrors
from vdc_graph.events import rights

from . import audit
from .access import provider_changing, provider_reading
from .ids import Ref, key_of, not_found
from .roles import ensure_user_manager_remains, ensure_within_own_permissions
from .validation import upn_problem

MAX_NAME = 100


async def _user_roles(user: PortalUser) -> dict[str, Any]:
    names = await Role.filter(users__id=user.id).order_by("name_key").values_list("name", flat=True)
    return {"roles": list(names)}


audit.SUMMARY_EXTRAS[PortalUser] = _user_roles


async def list_users(
    ctx: RequestContext, search: str | None, role: Ref | None, page: PageArgs
) -> Page[PortalUser]:
    scope = provider_reading(ctx, Permission.USER_MANAGEMENT)
    role_id = key_of(role, "Role") if role is not None else None
    return await paginate(queries.users(scope, search, role_id), queries.USER_ORDER, False, page)


async def load_user(ctx: RequestContext, key: Any) -> PortalUser | None:
    scope = provider_reading(ctx, Permission.USER_MANAGEMENT)
    loader = ctx.loaders.get(("user", scope), lambda ids: queries.users_by_id(scope, ids))
    return await loader.load(key)


async def user_roles(ctx: RequestContext, user: PortalUser) -> list[Role]:
    return await ctx.loaders.get(("user-roles",), queries.roles_by_user).load(user.id)


def _name_problems(first_name: str | None, last_name: str | None) -> list[UserError]:
    problems = []
    for field, value, label in (
        ("firstName", first_name, "first name"),
        ("lastName", last_name, "last name"),
    ):
        if value is None:
            continue
        if not value.strip():
            problems.append(
                UserError(f"Enter the {label}", ["input", field], UserErrorCode.REQUIRED)
            )
        elif len(value.strip()) > MAX_NAME:
            problems.append(
                UserError(
                    f"The {label} is longer than {MAX_NAME} characters",
                    ["input", field],
                    UserErrorCode.TOO_LONG,
                )
            )
    return problems


async def _roles(provider_id: UUID, refs: list[Ref], field: str) -> list[Role]:
    """The provider's roles the refs name; a userError for any that is not one."""
    roles: list[Role] = []
    problems = []
    for index, ref in enumerate(refs):
        try:
            key = key_of(ref, "Role")
        except NotFound:  # any ID that is not one of our roles
            key = None
        role = await Role.get_or_none(id=key, provider_id=provider_id) if key else None
        if role is None:
            problems.append(
                UserError("No such role", ["input", field, str(index)], UserErrorCode.NOT_FOUND)
            )
        elif role not in roles:
            roles.append(role)
    if problems:
        raise UserErrors(problems)
    return roles


def _ensure_may_assign(principal: Principal, added: list[Role], removed: list[Role]) -> None:
    """A role given to or taken from a user holds only permissions the caller holds."""
    for roles, what in ((added, "give a role that holds it"), (removed, "take a role holding it")):
        ensure_within_own_permissions(
            principal, {p for r in roles for p in r.permissions}, ["input", "roleIds"], what
        )


async def _own_user(provider_id: UUID, ref: Ref) -> PortalUser:
    user = await PortalUser.get_or_none(id=key_of(ref, "PortalUser"), provider_id=provider_id)
    if user is None:
        raise not_found("PortalUser")
    return user


@dataclass(frozen=True)
class NewUser:
    email: str
    first_name: str
    last_name: str
    role_ids: list[Ref]


async def create_user(ctx: RequestContext, data: NewUser) -> PortalUser:
    principal, scope = provider_changing(ctx, Permission.USER_MANAGEMENT)
    email = data.email.strip()
    problems = _name_problems(data.first_name, data.last_name)
    if not email:
        problems.append(
            UserError("Enter the user's email", ["input", "email"], UserErrorCode.REQUIRED)
        )
    elif upn_problem(email):
        problems.append(
            UserError(
                "Enter a Microsoft 365 sign-in address such as name@contoso.com (no +alias)",
                ["input", "email"],
                UserErrorCode.INVALID_EMAIL,
            )
        )
    if problems:
        raise UserErrors(problems)
    roles = await _roles(scope.provider_id, data.role_ids, "roleIds")
    _ensure_may_assign(principal, roles, [])
    if await PortalUser.filter(provider_id=scope.provider_id, email_key=email.lower()).exists():
        raise UserErrors(
            [
                UserError(
                    "A user with this email exists", ["input", "email"], UserErrorCode.DUPLICATE
                )
            ]
        )
    user = await PortalUser.create(
        provider_id=scope.provider_id,
        email=email,
        email_key=email.lower(),
        first_name=data.first_name.strip(),
        last_name=data.last_name.strip(),
    )
    if roles:
        await user.roles.add(*roles)
    return user


@dataclass(frozen=True)
class UserChange:
    first_name: str | None = None
    last_name: str | None = None
    role_ids: list[Ref] | None = None


async def update_user(ctx: RequestContext, ref: Ref, change: UserChange) -> PortalUser:
    principal, scope = provider_changing(ctx, Permission.USER_MANAGEMENT)
    user = await _own_user(scope.provider_id, ref)
    if problems := _name_problems(change.first_name, change.last_name):
        raise UserErrors(problems)
    if change.first_name is not None:
        user.first_name = change.first_name.strip()
    if change.last_name is not None:
        user.last_name = change.last_name.strip()
    await user.save()
    if change.role_ids is not None:
        roles = await _roles(scope.provider_id, change.role_ids, "roleIds")
        await _set_roles(principal, user, roles)
        rights.rights_changed(scope.provider_id, rights.USER_ROLES_CHANGED)
    await ensure_user_manager_remains(scope.provider_id)
    return user


async def _set_roles(principal: Principal, user: PortalUser, roles: list[Role]) -> None:
    held = await Role.filter(users__id=user.id)
    _ensure_may_assign(
        principal, [r for r in roles if r not in held], [r for r in held if r not in roles]
    )
    await user.roles.clear()
    if roles:
        await user.roles.add(*roles)


async def bulk_edit_roles(
    ctx: RequestContext, user_refs: list[Ref], role_refs: list[Ref]
) -> list[PortalUser]:
    """Set the roles of many users at once: all of them or, on any problem, none."""
    principal, scope = provider_changing(ctx, Permission.USER_MANAGEMENT)
    if not user_refs:
        raise UserErrors(
            [UserError("Choose at least one user", ["input", "userIds"], UserErrorCode.REQUIRED)]
        )
    users: list[PortalUser] = []
    problems = []
    for index, ref in enumerate(user_refs):
        try:
            key = key_of(ref, "PortalUser")
        except NotFound:  # an ID that is not one of our users
            key = None
        user = await PortalUser.get_or_none(id=key, provider_id=scope.provider_id) if key else None
        if user is None:
            problems.append(
                UserError("No such user", ["input", "userIds", str(index)], UserErrorCode.NOT_FOUND)
            )
        elif user not in users:
            users.append(user)
    if problems:
        raise UserErrors(problems)
    roles = await _roles(scope.provider_id, role_refs, "roleIds")
    for user in users:
        await _set_roles(principal, user, roles)
    rights.rights_changed(scope.provider_id, rights.USER_ROLES_CHANGED)
    await ensure_user_manager_remains(scope.provider_id)
    return users


async def delete_user(ctx: RequestContext, ref: Ref) -> UUID:
    _, scope = provider_changing(ctx, Permission.USER_MANAGEMENT)
    user = await _own_user(scope.provider_id, ref)
    await user.roles.clear()
    await user.delete()
    rights.rights_changed(scope.provider_id, rights.USER_DELETED)
    await ensure_user_manager_remains(scope.provider_id)
    return user.id
