"""The audit log cannot be flooded, and it sees probes: anonymous refusals are folded per
source and window; a mutation naming another provider's object and guard-rule refusals are
recorded in the caller's own log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.factories import make_provider, make_role, make_user, token_for
from tests.test_audit import AUDIT, ROLE_UPDATE, gid
from vdc_graph import clock
from vdc_graph.app import create_app
from vdc_graph.db.models import AuditRecord, Role
from vdc_graph.enums import AuditOutcome, Permission

ANONYMOUS = 'mutation { roleCreate(input: {name: "x", permissions: []}) { userErrors { code } } }'
ROLE_DELETE = """mutation($input: RoleDeleteInput!) { roleDelete(input: $input) {
  userErrors { code } } }"""
USER_UPDATE = """mutation($input: UserUpdateInput!) { userUpdate(input: $input) {
  userErrors { code } } }"""


async def refuse_anonymously(settings, address: str, times: int) -> None:
    transport = httpx.ASGITransport(
        app=create_app(settings, manage_database=False), client=(address, 1)
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        for _ in range(times):
            response = await http.post("/graphql", json={"query": ANONYMOUS})
            assert response.status_code == 401


async def test_repeated_anonymous_refusals_are_one_record_per_source_and_window(db, settings):
    now = datetime.now(UTC)
    clock.set_clock(lambda: now)
    await refuse_anonymously(settings, "203.0.113.5", 300)
    await refuse_anonymously(settings, "198.51.100.9", 2)
    rows = await AuditRecord.all().order_by("client_address")
    assert [(r.client_address, r.repeat_count) for r in rows] == [
        ("198.51.100.9", 2),
        ("203.0.113.5", 300),
    ]
    assert all(r.outcome is AuditOutcome.DENIED and r.action == "roleCreate" for r in rows)
    assert rows[1].after["code"] == "UNAUTHENTICATED"
    now += timedelta(seconds=61)  # a new window opens a new record
    await refuse_anonymously(settings, "203.0.113.5", 3)
    counts = await AuditRecord.filter(client_address="203.0.113.5").order_by("created_at")
    assert [r.repeat_count for r in counts] == [300, 3]


async def test_refusals_of_a_signed_in_caller_are_each_recorded(api, settings, db):
    provider = await make_provider()
    monitor = token_for(settings, await make_user(provider, []))
    for _ in range(3):
        await api.post(ANONYMOUS, token=monitor)
    assert [r.repeat_count for r in await AuditRecord.all()] == [1, 1, 1]


async def test_naming_another_providers_object_is_recorded_in_the_callers_log(api, settings):
    mine, theirs = await make_provider(), await make_provider()
    admin = token_for(settings, await make_user(mine, [Permission.USER_MANAGEMENT]))
    their_admin = token_for(settings, await make_user(theirs, [Permission.USER_MANAGEMENT]))
    their_role = await make_role(theirs, [], name="Theirs")
    errors = await api.errors(
        ROLE_UPDATE, {"input": {"id": gid("Role", their_role), "name": "Mine now"}}, token=admin
    )
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"
    assert (await Role.get(id=their_role.id)).name == "Theirs"  # nothing was written
    log = (await api.data(AUDIT, {"filter": {"action": "roleUpdate"}}, token=admin))["auditLog"]
    assert [(n["outcome"], n["after"]["code"], n["targetType"]) for n in log["nodes"]] == [
        ("DENIED", "NOT_FOUND", "Role")
    ]
    theirs_log = await api.data(AUDIT, {"filter": {"action": "roleUpdate"}}, token=their_admin)
    assert theirs_log["auditLog"]["totalCount"] == 0


async def test_guard_rule_refusals_are_recorded(api, settings):
    provider = await make_provider()
    manager = await make_user(provider, [Permission.USER_MANAGEMENT])
    token = token_for(settings, manager)
    built_in = await make_role(provider, list(Permission), name="Administrator", built_in=True)
    deleted = await api.data(ROLE_DELETE, {"input": {"id": gid("Role", built_in)}}, token=token)
    assert deleted["roleDelete"]["userErrors"] == [{"code": "BUILT_IN_ROLE"}]
    lock_out = await api.data(
        USER_UPDATE, {"input": {"id": gid("PortalUser", manager), "roleIds": []}}, token=token
    )
    assert lock_out["userUpdate"]["userErrors"] == [{"code": "LAST_USER_MANAGER"}]
    assert await Role.exists(id=built_in.id) and await manager.roles.all().count() == 1
    log = (await api.data(AUDIT, {"first": 10}, token=token))["auditLog"]["nodes"]
    assert sorted((n["action"], n["outcome"], n["after"]["code"]) for n in log) == [
        ("roleDelete", "DENIED", "BUILT_IN_ROLE"),
        ("userUpdate", "DENIED", "LAST_USER_MANAGER"),
    ]
