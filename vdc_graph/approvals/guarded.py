"""The actions approval guards: which mutation, when (some only for some inputs), and the
permission a person needs to decide on it. The mutation runner consults this one table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from strawberry import relay
from strawberry.relay.types import GlobalIDValueError

from vdc_graph.db.models import Role
from vdc_graph.enums import Permission

Applies = Callable[[UUID, dict[str, Any]], Awaitable[bool]]  # (provider, raw input)


async def always(provider_id: UUID, data: dict[str, Any]) -> bool:
    return True


async def grants_user_management(provider_id: UUID, data: dict[str, Any]) -> bool:
    """A role given USER_MANAGEMENT, or users given a role that holds it."""
    if Permission.USER_MANAGEMENT.value in (data.get("permissions") or []):
        return True
    keys = []
    for value in data.get("roleIds") or []:
        try:
            gid = relay.GlobalID.from_id(value)
            keys.append(UUID(gid.node_id))
        except (GlobalIDValueError, ValueError, TypeError):
            continue  # names nothing: the mutation itself refuses it
    roles = await Role.filter(provider_id=provider_id, id__in=keys).values_list(
        "permissions", flat=True
    )
    return any(Permission.USER_MANAGEMENT.value in (p or []) for p in roles)


async def turns_off(provider_id: UUID, data: dict[str, Any]) -> bool:
    return data.get("enabled") is False


@dataclass(frozen=True)
class Guard:
    permission: Permission  # what a person needs to approve or reject it
    applies: Applies = always


GUARDED: dict[str, Guard] = {
    "backupPolicyDelete": Guard(Permission.BACKUP_MANAGEMENT),
    "backupPolicyDisable": Guard(Permission.BACKUP_MANAGEMENT),
    "userDelete": Guard(Permission.USER_MANAGEMENT),
    "roleDelete": Guard(Permission.USER_MANAGEMENT),
    "roleCreate": Guard(Permission.USER_MANAGEMENT, grants_user_management),
    "roleUpdate": Guard(Permission.USER_MANAGEMENT, grants_user_management),
    "userCreate": Guard(Permission.USER_MANAGEMENT, grants_user_management),
    "userUpdate": Guard(Permission.USER_MANAGEMENT, grants_user_management),
    "usersBulkEdit": Guard(Permission.USER_MANAGEMENT, grants_user_management),
    "apiKeyCreate": Guard(Permission.USER_MANAGEMENT),
    "webhookUpdate": Guard(Permission.SITE_SETTINGS, turns_off),
    "webhookDelete": Guard(Permission.SITE_SETTINGS),
    "approvalSettingsUpdate": Guard(Permission.SITE_SETTINGS, turns_off),
}
