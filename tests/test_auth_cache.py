"""Callers are remembered between requests, and forgotten the moment anything they depend on
changes: a revoked key, a deleted user or a changed role applies to the very next request,
whether the change came through the API or straight into the database (another process)."""

from __future__ import annotations

import logging

from strawberry import relay

from tests.factories import make_provider, make_role, make_user, token_for
from vdc_graph import clock
from vdc_graph.db.models import ApiKey, PortalUser, Role
from vdc_graph.enums import Permission

VIEWER = "{ viewer { permissions } }"
CREATE_KEY = """mutation($input: ApiKeyCreateInput!) { apiKeyCreate(input: $input) {
  apiKey { id } secret userErrors { code } } }"""
REVOKE_KEY = """mutation($input: ApiKeyInput!) { apiKeyRevoke(input: $input) {
  apiKey { revokedAt } userErrors { code } } }"""
DELETE_USER = """mutation($input: UserDeleteInput!) { userDelete(input: $input) {
  deletedUserId userErrors { code } } }"""
UPDATE_ROLE = """mutation($input: RoleUpdateInput!) { roleUpdate(input: $input) {
  role { permissions } userErrors { code } } }"""


def gid(type_name: str, row) -> str:
    return str(relay.GlobalID(type_name, str(row.id)))


async def permissions(api, token: str) -> list[str]:
    return (await api.data(VIEWER, token=token))["viewer"]["permissions"]


async def admin(settings):
    provider = await make_provider()
    # Holding what the tests grant: nobody grants a permission they do not hold.
    user = await make_user(provider, [Permission.USER_MANAGEMENT, Permission.SITE_SETTINGS])
    return provider, user, token_for(settings, user)


async def test_a_revoked_key_is_refused_on_the_very_next_request(api, settings):
    _, _, token = await admin(settings)
    created = (
        await api.data(CREATE_KEY, {"input": {"name": "CI", "permissions": []}}, token=token)
    )["apiKeyCreate"]
    key = created["secret"]
    for _ in range(3):  # served from the cache after the first
        assert await permissions(api, key) == ["MONITORING_ACCESS"]
    revoked = await api.data(REVOKE_KEY, {"input": {"id": created["apiKey"]["id"]}}, token=token)
    assert revoked["apiKeyRevoke"]["userErrors"] == []
    response = await api.post(VIEWER, token=key)
    assert response.status_code == 401
    assert "revoked" in response.json()["errors"][0]["message"]


async def test_a_deleted_user_is_refused_on_the_very_next_request(api, settings):
    provider, _, token = await admin(settings)
    other = await make_user(provider, [])
    other_token = token_for(settings, other)
    assert await permissions(api, other_token) == ["MONITORING_ACCESS"]
    assert await permissions(api, other_token) == ["MONITORING_ACCESS"]
    deleted = await api.data(DELETE_USER, {"input": {"id": gid("PortalUser", other)}}, token=token)
    assert deleted["userDelete"]["userErrors"] == []
    assert (await api.post(VIEWER, token=other_token)).status_code == 401


async def test_a_role_change_applies_to_the_very_next_request(api, settings):
    provider, _, token = await admin(settings)
    role = await make_role(provider, [])
    member = await make_user(provider)
    await member.roles.add(role)
    member_token = token_for(settings, member)
    assert await permissions(api, member_token) == ["MONITORING_ACCESS"]
    changed = await api.data(
        UPDATE_ROLE,
        {"input": {"id": gid("Role", role), "permissions": ["MONITORING_ACCESS", "SITE_SETTINGS"]}},
        token=token,
    )
    assert changed["roleUpdate"]["userErrors"] == []
    assert "SITE_SETTINGS" in await permissions(api, member_token)


async def test_changes_written_outside_this_server_are_seen_on_the_next_request(api, settings):
    """Another process (the CLI, a second server) writes straight into the database."""
    provider, _, token = await admin(settings)
    created = (
        await api.data(CREATE_KEY, {"input": {"name": "CI", "permissions": []}}, token=token)
    )["apiKeyCreate"]
    key = created["secret"]
    member = await make_user(provider, [])
    member_token = token_for(settings, member)
    assert await permissions(api, key) == ["MONITORING_ACCESS"]
    assert await permissions(api, member_token) == ["MONITORING_ACCESS"]

    role = await Role.filter(users__id=member.id).first()
    assert role is not None
    await Role.filter(id=role.id).update(permissions=["MONITORING_ACCESS", "SITE_SETTINGS"])
    assert "SITE_SETTINGS" in await permissions(api, member_token)
    await member.roles.remove(role)
    assert await permissions(api, member_token) == []

    await ApiKey.filter(prefix=key.split("_")[1]).update(revoked_at=clock.now())
    assert (await api.post(VIEWER, token=key)).status_code == 401
    await PortalUser.filter(id=member.id).delete()
    assert (await api.post(VIEWER, token=member_token)).status_code == 401
    assert await permissions(api, token) != []  # the admin, untouched, is still served


async def test_a_remembered_caller_costs_one_statement(api, settings, caplog):
    _, _, token = await admin(settings)
    await permissions(api, token)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
        assert await api.data("{ __typename }", token=token) == {"__typename": "Query"}
    statements = [r.getMessage() for r in caplog.records if r.name == "tortoise.db_client"]
    assert len(statements) == 1, statements
    assert "auth_generation" in statements[0]
