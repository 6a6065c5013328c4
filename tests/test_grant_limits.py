"""Nobody grants a permission they do not hold: roles created or edited, and roles assigned,
are limited to the caller's own permissions; each refusal writes nothing and is audited."""

from __future__ import annotations

from tests.factories import make_provider, make_role, make_user, token_for
from tests.test_roles_users import (
    BULK,
    ROLE_CREATE,
    ROLE_DELETE,
    ROLE_UPDATE,
    USER_CREATE,
    USER_UPDATE,
    gid,
)
from vdc_graph.db.models import AuditRecord, PortalUser, Role
from vdc_graph.enums import AuditOutcome, Permission
from vdc_graph.resolvers.roles import ensure_administrator

UM = Permission.USER_MANAGEMENT


async def user_manager(settings):
    provider = await make_provider()
    me = await make_user(provider, [UM], email="um@contoso.com")
    return provider, me, token_for(settings, me)


async def role_names(user) -> list[str]:
    return sorted(await Role.filter(users__id=user.id).values_list("name", flat=True))


async def denied(action: str) -> list[AuditRecord]:
    return list(await AuditRecord.filter(action=action, outcome=AuditOutcome.DENIED))


def codes(payload) -> list[tuple[str, str]]:
    return [(e["code"], e["message"].split()[4]) for e in payload["userErrors"]]


async def test_a_user_manager_cannot_make_themselves_administrator(api, settings):
    provider, me, token = await user_manager(settings)
    administrator = await ensure_administrator(provider.id)
    before = await role_names(me)
    result = (
        await api.data(
            USER_UPDATE,
            {"input": {"id": gid("PortalUser", me), "roleIds": [gid("Role", administrator)]}},
            token=token,
        )
    )["userUpdate"]
    assert result["user"] is None
    assert codes(result) == [
        ("PERMISSION_REQUIRED", "SITE_SETTINGS,"),
        ("PERMISSION_REQUIRED", "CUSTOMER_MANAGEMENT,"),
        ("PERMISSION_REQUIRED", "BACKUP_MANAGEMENT,"),
        ("PERMISSION_REQUIRED", "ADVANCED_BACKUP_MANAGEMENT,"),
    ]
    assert all(e["field"] == ["input", "roleIds"] for e in result["userErrors"])
    assert await role_names(me) == before
    (record,) = await denied("userUpdate")
    assert record.actor_user_id == me.id and record.target_id == str(me.id)
    assert "You do not hold SITE_SETTINGS" in record.after["message"]


async def test_no_role_with_permissions_beyond_ones_own(api, settings):
    provider, me, token = await user_manager(settings)
    everything = [p.value for p in Permission]
    created = (
        await api.data(
            ROLE_CREATE, {"input": {"name": "All", "permissions": everything}}, token=token
        )
    )["roleCreate"]
    assert created["role"] is None
    assert {e["code"] for e in created["userErrors"]} == {"PERMISSION_REQUIRED"}
    assert not await Role.filter(provider_id=provider.id, name_key="all").exists()
    assert len(await denied("roleCreate")) == 1

    # Within one's own permissions it works.
    ok = (
        await api.data(
            ROLE_CREATE,
            {"input": {"name": "Helpers", "permissions": ["USER_MANAGEMENT"]}},
            token=token,
        )
    )["roleCreate"]
    assert ok["userErrors"] == [] and ok["role"]["permissions"] == [
        "MONITORING_ACCESS",
        "USER_MANAGEMENT",
    ]

    # Editing one's own role into more is refused too; the role keeps its permissions.
    (own,) = await Role.filter(users__id=me.id)
    update = {"id": gid("Role", own), "permissions": ["USER_MANAGEMENT", "BACKUP_MANAGEMENT"]}
    edited = (await api.data(ROLE_UPDATE, {"input": update}, token=token))["roleUpdate"]
    assert codes(edited) == [("PERMISSION_REQUIRED", "BACKUP_MANAGEMENT,")]
    assert sorted((await Role.get(id=own.id)).permissions) == [
        "MONITORING_ACCESS",
        "USER_MANAGEMENT",
    ]
    assert len(await denied("roleUpdate")) == 1


async def test_roles_beyond_ones_own_are_neither_given_taken_nor_deleted(api, settings):
    provider, _, token = await user_manager(settings)
    backup = await make_role(provider, [Permission.BACKUP_MANAGEMENT], name="Backup")
    mine = await make_role(provider, [UM], name="Managers")
    colleague = await make_user(provider, email="colleague@contoso.com")
    boss = await make_user(provider, email="boss@contoso.com")
    await boss.roles.add(backup)

    new_user = {
        "email": "new@contoso.com",
        "firstName": "New",
        "lastName": "User",
        "roleIds": [gid("Role", backup)],
    }
    created = (await api.data(USER_CREATE, {"input": new_user}, token=token))["userCreate"]
    assert codes(created) == [("PERMISSION_REQUIRED", "BACKUP_MANAGEMENT,")]
    assert not await PortalUser.filter(email_key="new@contoso.com").exists()

    bulk = {
        "userIds": [gid("PortalUser", colleague), gid("PortalUser", boss)],
        "roleIds": [gid("Role", mine)],
    }
    edited = (await api.data(BULK, {"input": bulk}, token=token))["usersBulkEdit"]
    # Taking the Backup role from the boss is refused, so neither user changes.
    assert codes(edited) == [("PERMISSION_REQUIRED", "BACKUP_MANAGEMENT,")]
    assert await role_names(boss) == ["Backup"] and await role_names(colleague) == []

    deleted = (await api.data(ROLE_DELETE, {"input": {"id": gid("Role", backup)}}, token=token))[
        "roleDelete"
    ]
    assert codes(deleted) == [("PERMISSION_REQUIRED", "BACKUP_MANAGEMENT,")]
    assert await Role.filter(id=backup.id).exists()
    for action in ("userCreate", "usersBulkEdit", "roleDelete"):
        assert len(await denied(action)) == 1, action

    # A role within one's own permissions may be given.
    given = {"userIds": [gid("PortalUser", colleague)], "roleIds": [gid("Role", mine)]}
    ok = (await api.data(BULK, {"input": given}, token=token))["usersBulkEdit"]
    assert ok["userErrors"] == [] and await role_names(colleague) == ["Managers"]
