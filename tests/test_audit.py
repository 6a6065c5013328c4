"""The audit log: a record per change and per refusal, filterable, exportable, read-only."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

from strawberry import relay

from tests.factories import make_provider, make_role, make_user, token_for
from vdc_graph import clock
from vdc_graph.auth.api_keys import split_key
from vdc_graph.db.models import AuditRecord, Role
from vdc_graph.enums import AuditOutcome, Permission
from vdc_graph.schema.root import build_schema

AUDIT = """query($filter: AuditLogFilter, $first: Int) { auditLog(filter: $filter, first: $first) {
  totalCount nodes { id createdAt outcome action actorLabel actorUserId actorApiKeyId
  clientAddress targetType targetId before after } } }"""
ROLE_CREATE = """mutation($input: RoleCreateInput!) { roleCreate(input: $input) {
  role { id } userErrors { code } } }"""
ROLE_UPDATE = """mutation($input: RoleUpdateInput!) { roleUpdate(input: $input) {
  role { id } userErrors { code } } }"""
KEY_CREATE = """mutation($input: ApiKeyCreateInput!) { apiKeyCreate(input: $input) {
  apiKey { id } secret userErrors { code } } }"""


def gid(type_name: str, row) -> str:
    return str(relay.GlobalID(type_name, str(row.id)))


async def admin(settings, provider=None):
    provider = provider or await make_provider()
    user = await make_user(provider, list(Permission), email="admin@contoso.com")
    return provider, user, token_for(settings, user)


async def test_a_change_is_recorded_with_actor_address_target_and_before_after(api, settings):
    provider, me, token = await admin(settings)
    role = await make_role(provider, [Permission.SITE_SETTINGS], name="Old name")
    await api.data(ROLE_UPDATE, {"input": {"id": gid("Role", role), "name": "New"}}, token=token)
    records = (await api.data(AUDIT, {"filter": {"action": "roleUpdate"}}, token=token))[
        "auditLog"
    ]["nodes"]
    assert len(records) == 1
    record = records[0]
    assert record["outcome"] == "SUCCESS"
    assert record["actorLabel"] == "admin@contoso.com"
    assert record["actorUserId"] == gid("PortalUser", me)
    assert record["clientAddress"] == "127.0.0.1"
    assert record["targetType"] == "Role"
    assert record["targetId"] == gid("Role", role)
    assert record["before"]["name"] == "Old name"
    assert record["after"]["name"] == "New"
    assert record["after"]["permissions"] == ["MONITORING_ACCESS", "SITE_SETTINGS"]


async def test_a_refused_mutation_is_recorded_although_its_transaction_rolled_back(api, settings):
    provider, _, token = await admin(settings)
    monitor = await make_user(provider, [], email="watcher@contoso.com")
    errors = await api.errors(
        ROLE_CREATE, {"input": {"name": "X", "permissions": []}}, token=token_for(settings, monitor)
    )
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    denied = (
        await api.data(AUDIT, {"filter": {"actor": gid("PortalUser", monitor)}}, token=token)
    )["auditLog"]["nodes"]
    assert [(r["action"], r["outcome"]) for r in denied] == [("roleCreate", "DENIED")]
    assert denied[0]["after"]["code"] == "FORBIDDEN"


async def test_forbidden_reads_and_unauthenticated_requests_are_recorded(api, settings):
    provider, _, _token = await admin(settings)
    monitor = await make_user(provider, [], email="watcher@contoso.com")
    await api.errors("{ roles { totalCount } }", token=token_for(settings, monitor))
    response = await api.post(
        'mutation { roleDelete(input: {id: "x"}) { userErrors { code } } }', token="not-a-token"
    )
    assert response.status_code == 401
    rows = await AuditRecord.filter(outcome=AuditOutcome.DENIED).order_by("created_at")
    assert [(r.action, r.actor_label, r.provider_id) for r in rows] == [
        ("roles", "watcher@contoso.com", provider.id),
        ("roleDelete", "anonymous", None),
    ]


async def test_secrets_never_reach_the_log(api, settings):
    _, _, token = await admin(settings)
    created = (
        await api.data(KEY_CREATE, {"input": {"name": "CI", "permissions": []}}, token=token)
    )["apiKeyCreate"]
    secret = created["secret"]
    key_secret = split_key(secret)[1]
    rows = await AuditRecord.filter(action="apiKeyCreate")
    assert len(rows) == 1
    stored = json.dumps([rows[0].before, rows[0].after])
    assert key_secret not in stored
    assert "secret_hash" not in stored
    assert rows[0].after["name"] == "CI"


async def test_filters_by_target_action_and_time_and_stays_within_the_provider(api, settings):
    start = datetime(2030, 1, 1, tzinfo=UTC)
    clock.set_clock(lambda: start)
    _, _, token = await admin(settings)
    a = (await api.data(ROLE_CREATE, {"input": {"name": "A", "permissions": []}}, token=token))[
        "roleCreate"
    ]["role"]["id"]
    clock.set_clock(lambda: start + timedelta(hours=2))
    await api.data(ROLE_CREATE, {"input": {"name": "B", "permissions": []}}, token=token)
    by_target = (await api.data(AUDIT, {"filter": {"target": a}}, token=token))["auditLog"]
    assert [r["targetId"] for r in by_target["nodes"]] == [a]
    window = {"from": "2030-01-01T01:00:00Z", "to": "2030-01-01T03:00:00Z"}
    in_window = (await api.data(AUDIT, {"filter": window}, token=token))["auditLog"]["nodes"]
    assert [r["after"]["name"] for r in in_window] == ["B"]
    _, _, other_token = await admin(settings, await make_provider())
    theirs = (await api.data(AUDIT, token=other_token))["auditLog"]
    assert theirs["totalCount"] == 0
    record_id = by_target["nodes"][0]["id"]
    errors = await api.errors(
        "query($id: ID!) { node(id: $id) { id } }", {"id": record_id}, token=other_token
    )
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"


async def test_reading_the_log_needs_user_management(api, settings):
    provider = await make_provider()
    monitor = await make_user(provider, [Permission.SITE_SETTINGS])
    errors = await api.errors(AUDIT, token=token_for(settings, monitor))
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_csv_export_of_the_log(api, settings):
    _, _, token = await admin(settings)
    await api.data(ROLE_CREATE, {"input": {"name": "Exported", "permissions": []}}, token=token)
    response = await api.http.get(
        "/exports/audit-log.csv",
        params={"action": "roleCreate"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0][:5] == ["ID", "Time", "Outcome", "Action", "Actor"]
    assert [r[2:5] for r in rows[1:]] == [["SUCCESS", "roleCreate", "admin@contoso.com"]]
    record = dict(zip(rows[0], rows[1], strict=True))
    assert json.loads(record["After"])["name"] == "Exported"
    # Objects are named by the API's global IDs: each resolves through node().
    role = await Role.get(name="Exported")
    assert record["Target ID"] == gid("Role", role) and record["Customer ID"] == ""
    node = "query($id: ID!) { node(id: $id) { id } }"
    for column in ("ID", "Target ID"):
        found = await api.data(node, {"id": record[column]}, token=token)
        assert found["node"]["id"] == record[column]
    refused = await api.http.get("/exports/audit-log.csv")
    assert refused.status_code == 401
    assert await AuditRecord.filter(action="/exports/audit-log.csv").count() == 1


def test_no_mutation_changes_or_deletes_audit_records(settings) -> None:
    mutation = build_schema(settings)._schema.mutation_type
    assert mutation is not None
    assert not [name for name in mutation.fields if name.lower().startswith("audit")]


async def test_bulk_edits_and_deletions_record_each_object_before_and_after(api, settings):
    provider, _, token = await admin(settings)
    role = await make_role(provider, [Permission.SITE_SETTINGS], name="Settings")
    a = await make_user(provider, email="a@contoso.com")
    b = await make_user(provider, email="b@contoso.com")
    await api.data(
        """mutation($input: UsersBulkEditInput!) { usersBulkEdit(input: $input) {
        userErrors { code } } }""",
        {
            "input": {
                "userIds": [gid("PortalUser", a), gid("PortalUser", b)],
                "roleIds": [gid("Role", role)],
            }
        },
        token=token,
    )
    bulk = await AuditRecord.filter(action="usersBulkEdit").order_by("target_id")
    assert sorted(r.target_id for r in bulk) == sorted([str(a.id), str(b.id)])
    assert all(r.before["roles"] == [] and r.after["roles"] == ["Settings"] for r in bulk)
    await api.data(
        """mutation($input: UserDeleteInput!) { userDelete(input: $input) {
        userErrors { code } } }""",
        {"input": {"id": gid("PortalUser", a)}},
        token=token,
    )
    deleted = await AuditRecord.get(action="userDelete")
    assert (deleted.target_type, deleted.target_id) == ("PortalUser", str(a.id))
    assert deleted.before["email"] == "a@contoso.com"
    assert deleted.before["roles"] == ["Settings"]
    assert deleted.after is None
