"""Four-eyes approval through GraphQL: a guarded mutation answers with a pending Approval and
does nothing; another person's approval runs it once, as the requester, with the checks of that
moment; self-approval, expired requests and missing rights are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.backup_support import connected_customer, gid, make_policy, until
from tests.factories import make_provider, make_role, make_user, switched_token, token_for
from tests.test_session_live import Socket
from vdc_graph import clock
from vdc_graph.approvals.guarded import GUARDED
from vdc_graph.approvals.holding import expire_overdue, updates_topic
from vdc_graph.db.models import (
    Approval,
    AuditRecord,
    BackupPolicy,
    Role,
    Webhook,
    WebhookDelivery,
)
from vdc_graph.enums import Permission
from vdc_graph.events import broker
from vdc_graph.schema.root import build_schema

BM = Permission.BACKUP_MANAGEMENT
SETTINGS = """
mutation($input: ApprovalSettingsUpdateInput!) { approvalSettingsUpdate(input: $input) {
  settings { enabled ttlHours } approval { id state action }
  userErrors { message field code } } }
"""
DELETE = """
mutation($input: BackupPolicyActionInput!) { backupPolicyDelete(input: $input) {
  deletedPolicyId
  approval { id action state input requestedBy requestedAt expiresAt decidedBy }
  userErrors { message field code } } }
"""
APPROVE = """
mutation($input: ApprovalDecisionInput!) { approvalApprove(input: $input) {
  decided { id state decidedBy comment result }
  userErrors { message field code } } }
"""
REJECT = """
mutation($input: ApprovalDecisionInput!) { approvalReject(input: $input) {
  decided { id state decidedBy comment }
  userErrors { message field code } } }
"""
APPROVALS = """
query($states: [ApprovalState!]) { approvals(states: $states) {
  totalCount nodes { id action state requestedBy } } }
"""


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)
        clock.set_clock(lambda: self.now)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
async def setup(settings):
    """A provider with approval on, a policy, a requester and an approver."""
    provider = await make_provider()
    admin = await make_user(provider, [Permission.SITE_SETTINGS, BM], email="admin@p.example")
    requester = await make_user(provider, [BM], email="anna@p.example")
    approver = await make_user(provider, [BM], email="ben@p.example")
    customer = await connected_customer(provider)
    policy = await make_policy(customer, "Daily")
    tokens = {
        "admin": token_for(settings, admin, expires_in=timedelta(days=30)),
        "requester": token_for(settings, requester, expires_in=timedelta(days=30)),
        "approver": token_for(settings, approver, expires_in=timedelta(days=30)),
    }
    return provider, policy, requester, tokens


async def turn_on(api, tokens):
    data = await api.data(SETTINGS, {"input": {"enabled": True}}, token=tokens["admin"])
    assert data["approvalSettingsUpdate"]["settings"] == {"enabled": True, "ttlHours": 168}
    assert data["approvalSettingsUpdate"]["approval"] is None  # turning it on is not held


async def request_delete(api, token, policy):
    data = await api.data(DELETE, {"input": {"id": gid("BackupPolicy", policy.id)}}, token=token)
    payload = data["backupPolicyDelete"]
    assert payload["userErrors"] == [] and payload["deletedPolicyId"] is None
    return payload["approval"]


async def test_a_request_approved_by_another_person_runs_once_as_the_requester(api, setup):
    provider, policy, requester, tokens = setup
    await turn_on(api, tokens)
    await Webhook.create(
        provider=provider, url="https://hooks.example/a", event_types=["APPROVAL"], secret="s" * 32
    )
    approval = await request_delete(api, tokens["requester"], policy)
    assert approval["action"] == "backupPolicyDelete" and approval["state"] == "PENDING"
    assert approval["requestedBy"] == "anna@p.example" and approval["decidedBy"] is None
    requested = datetime.fromisoformat(approval["requestedAt"])
    assert datetime.fromisoformat(approval["expiresAt"]) - requested == timedelta(days=7)
    assert '"id": "' + gid("BackupPolicy", policy.id) in approval["input"]
    assert await BackupPolicy.exists(id=policy.id)  # held: nothing happened
    listed = await api.data(APPROVALS, {"states": ["PENDING"]}, token=tokens["approver"])
    assert [a["id"] for a in listed["approvals"]["nodes"]] == [approval["id"]]

    data = await api.data(
        APPROVE, {"input": {"id": approval["id"], "comment": "ok"}}, token=tokens["approver"]
    )
    decided = data["approvalApprove"]
    assert decided["userErrors"] == []
    assert decided["decided"] == {
        "id": approval["id"],
        "state": "APPROVED",
        "decidedBy": "ben@p.example",
        "comment": "ok",
        "result": None,
    }
    assert not await BackupPolicy.exists(id=policy.id)
    # The deletion is audited as the requester's, after the approval that allowed it.
    deletion = await AuditRecord.get(action="backupPolicyDelete", target_type="BackupPolicy")
    assert deletion.actor_user_id == requester.id
    assert await AuditRecord.filter(action="approvalApprove").count() == 1

    # Approving again runs nothing.
    data = await api.data(APPROVE, {"input": {"id": approval["id"]}}, token=tokens["admin"])
    [error] = data["approvalApprove"]["userErrors"]
    assert error["code"] == "INVALID_STATE" and error["field"] == ["input", "id"]
    assert (
        await AuditRecord.filter(action="backupPolicyDelete", target_type="BackupPolicy").count()
        == 1
    )
    events = await WebhookDelivery.filter(event_type="APPROVAL").order_by("created_at")
    assert [e.payload["data"]["approval"]["state"] for e in events] == ["PENDING", "APPROVED"]


async def test_a_requester_cannot_approve_their_own_request(api, setup):
    _, policy, _, tokens = setup
    await turn_on(api, tokens)
    approval = await request_delete(api, tokens["requester"], policy)
    data = await api.data(APPROVE, {"input": {"id": approval["id"]}}, token=tokens["requester"])
    [error] = data["approvalApprove"]["userErrors"]
    assert error["code"] == "PERMISSION_REQUIRED" and "another person" in error["message"]
    assert await BackupPolicy.exists(id=policy.id)
    assert (await Approval.get()).state.value == "PENDING"
    # Withdrawing it is allowed: rejected, nothing runs.
    data = await api.data(REJECT, {"input": {"id": approval["id"]}}, token=tokens["requester"])
    assert data["approvalReject"]["decided"]["state"] == "REJECTED"
    assert await BackupPolicy.exists(id=policy.id)


async def test_an_expired_request_is_refused(api, setup):
    _, policy, _, tokens = setup
    now = Clock()
    await turn_on(api, tokens)
    approval = await request_delete(api, tokens["requester"], policy)
    now.advance(days=7, seconds=1)
    data = await api.data(APPROVE, {"input": {"id": approval["id"]}}, token=tokens["approver"])
    [error] = data["approvalApprove"]["userErrors"]
    assert error["code"] == "EXPIRED"
    assert await BackupPolicy.exists(id=policy.id)
    expired = await api.data(APPROVALS, {"states": ["EXPIRED"]}, token=tokens["approver"])
    assert [a["state"] for a in expired["approvals"]["nodes"]] == ["EXPIRED"]
    pending = await api.data(APPROVALS, {"states": ["PENDING"]}, token=tokens["approver"])
    assert pending["approvals"]["nodes"] == []


async def test_an_overdue_request_is_marked_expired_audited_and_announced(api, setup):
    provider, policy, _, tokens = setup
    now = Clock()
    await turn_on(api, tokens)
    await Webhook.create(
        provider=provider, url="https://hooks.example/a", event_types=["APPROVAL"], secret="s" * 32
    )
    await request_delete(api, tokens["requester"], policy)
    assert await expire_overdue() == 0
    now.advance(days=7)
    assert await expire_overdue() == 1
    assert await expire_overdue() == 0  # once
    assert (await Approval.get()).state.value == "EXPIRED"
    record = await AuditRecord.get(action="approvalExpire")
    assert record.target_type == "Approval" and record.provider_id == provider.id
    events = await WebhookDelivery.filter(event_type="APPROVAL").order_by("created_at")
    assert [e.payload["data"]["approval"]["state"] for e in events] == ["PENDING", "EXPIRED"]
    assert await BackupPolicy.exists(id=policy.id)


async def test_the_action_is_checked_again_when_approved(api, setup):
    provider, policy, requester, tokens = setup
    await turn_on(api, tokens)
    approval = await request_delete(api, tokens["requester"], policy)
    # Meanwhile the requester loses BACKUP_MANAGEMENT.
    await requester.roles.clear()
    await requester.roles.add(await make_role(provider, []))
    data = await api.data(APPROVE, {"input": {"id": approval["id"]}}, token=tokens["approver"])
    decided = data["approvalApprove"]["decided"]
    assert decided["state"] == "FAILED" and "BACKUP_MANAGEMENT" in decided["result"]
    assert await BackupPolicy.exists(id=policy.id)


async def test_deciding_needs_the_permission_the_action_needs(api, setup, settings):
    provider, policy, _, tokens = setup
    await turn_on(api, tokens)
    approval = await request_delete(api, tokens["requester"], policy)
    outsider = token_for(settings, await make_user(provider, [Permission.CUSTOMER_MANAGEMENT]))
    for mutation in (APPROVE, REJECT):
        [error] = await api.errors(mutation, {"input": {"id": approval["id"]}}, token=outsider)
        assert error["extensions"]["code"] == "FORBIDDEN"
    assert (await Approval.get()).state.value == "PENDING"
    assert await BackupPolicy.exists(id=policy.id)


async def test_a_caller_who_may_not_act_cannot_ask_either(api, setup, settings):
    provider, policy, _, tokens = setup
    await turn_on(api, tokens)
    reader = token_for(settings, await make_user(provider, []))
    [error] = await api.errors(
        DELETE, {"input": {"id": gid("BackupPolicy", policy.id)}}, token=reader
    )
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert await Approval.all().count() == 0
    assert await BackupPolicy.exists(id=policy.id)


async def test_turning_approval_off_needs_approval(api, setup, settings):
    provider, _, _, tokens = setup
    await turn_on(api, tokens)
    data = await api.data(SETTINGS, {"input": {"enabled": False}}, token=tokens["admin"])
    held = data["approvalSettingsUpdate"]
    assert held["settings"] is None and held["approval"]["action"] == "approvalSettingsUpdate"
    current = "{ approvalSettings { enabled } }"
    assert (await api.data(current, token=tokens["admin"]))["approvalSettings"]["enabled"]
    other_admin = token_for(settings, await make_user(provider, [Permission.SITE_SETTINGS]))
    data = await api.data(APPROVE, {"input": {"id": held["approval"]["id"]}}, token=other_admin)
    assert data["approvalApprove"]["decided"]["state"] == "APPROVED"
    assert not (await api.data(current, token=tokens["admin"]))["approvalSettings"]["enabled"]


async def test_without_approval_on_a_guarded_action_acts_at_once(api, setup):
    _, policy, _, tokens = setup
    data = await api.data(
        DELETE, {"input": {"id": gid("BackupPolicy", policy.id)}}, token=tokens["requester"]
    )
    assert data["backupPolicyDelete"]["approval"] is None
    assert data["backupPolicyDelete"]["deletedPolicyId"] == gid("BackupPolicy", policy.id)
    assert await Approval.all().count() == 0


async def test_a_customer_scoped_caller_never_sees_provider_approvals(api, setup, settings):
    provider, policy, _, tokens = setup
    await turn_on(api, tokens)
    approval = await request_delete(api, tokens["requester"], policy)
    user = await make_user(provider, [BM], email="pat@customer.example")
    switched = await switched_token(settings, user, policy.customer_id)
    [error] = await api.errors(APPROVALS, {}, token=switched)
    assert error["extensions"]["code"] == "FORBIDDEN"
    [error] = await api.errors(
        "query($id: ID!) { node(id: $id) { id } }", {"id": approval["id"]}, token=switched
    )
    assert error["extensions"]["code"] in ("FORBIDDEN", "NOT_FOUND")
    [error] = await api.errors(APPROVE, {"input": {"id": approval["id"]}}, token=switched)
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert (await Approval.get()).state.value == "PENDING"


def test_every_guarded_mutation_can_answer_with_an_approval(settings):
    mutation = build_schema(settings)._schema.mutation_type
    for name in GUARDED:
        payload = mutation.fields[name].type.of_type
        assert "approval" in payload.fields, name


APPROVAL_UPDATES = "subscription { approvalUpdates { id state action } }"


async def test_approval_updates_stream_each_step_to_provider_level_callers(
    live_server, setup, settings
):
    provider, policy, _, tokens = setup
    user = await make_user(provider, [BM], email="pat@customer.example")
    switched = await switched_token(settings, user, policy.customer_id)

    async def call(query, variables, token):
        async with httpx.AsyncClient(base_url=live_server.http_url) as http:
            response = await http.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
        return response.json()["data"]

    await call(SETTINGS, {"input": {"enabled": True}}, tokens["admin"])
    async with (
        Socket(live_server.ws_url, tokens["approver"]) as watcher,
        Socket(live_server.ws_url, switched) as customer_only,
    ):
        await customer_only.subscribe("c", APPROVAL_UPDATES, {})
        refused = await customer_only.receive()
        errors = refused["payload"] if refused["type"] == "error" else refused["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "FORBIDDEN", refused
        await watcher.subscribe("w", APPROVAL_UPDATES, {})
        topic = updates_topic(provider.id)
        await until(lambda: _subscribed(topic))
        held = await call(
            DELETE, {"input": {"id": gid("BackupPolicy", policy.id)}}, tokens["requester"]
        )
        approval_id = held["backupPolicyDelete"]["approval"]["id"]
        await call(APPROVE, {"input": {"id": approval_id}}, tokens["approver"])
        seen = [(await watcher.receive())["payload"]["data"]["approvalUpdates"] for _ in "12"]
    assert [(a["id"], a["state"], a["action"]) for a in seen] == [
        (approval_id, "PENDING", "backupPolicyDelete"),
        (approval_id, "APPROVED", "backupPolicyDelete"),
    ]
    assert not await BackupPolicy.exists(id=policy.id)


async def _subscribed(topic: str) -> bool | None:
    return broker().subscriber_count(topic) == 1 or None


ROLE_UPDATE = """
mutation($input: RoleUpdateInput!) { roleUpdate(input: $input) {
  role { permissions } approval { action state } userErrors { code } } }
"""
USER_UPDATE = """
mutation($input: UserUpdateInput!) { userUpdate(input: $input) {
  user { email } approval { action state } userErrors { code } } }
"""


async def test_granting_user_management_is_held_and_other_grants_are_not(api, settings):
    provider = await make_provider()
    um = Permission.USER_MANAGEMENT
    manager = await make_user(provider, [um, Permission.SITE_SETTINGS], email="um@p.example")
    token = token_for(settings, manager)
    await api.data(SETTINGS, {"input": {"enabled": True}}, token=token)
    role = await make_role(provider, [BM])
    managers = await make_role(provider, [um])
    colleague = await make_user(provider, [])

    def role_change(permissions):
        return {"input": {"id": gid("Role", role.id), "permissions": permissions}}

    data = await api.data(
        ROLE_UPDATE, role_change(["BACKUP_MANAGEMENT", "SITE_SETTINGS"]), token=token
    )
    assert data["roleUpdate"]["approval"] is None and data["roleUpdate"]["role"] is not None
    data = await api.data(ROLE_UPDATE, role_change(["USER_MANAGEMENT"]), token=token)
    assert data["roleUpdate"]["role"] is None
    assert data["roleUpdate"]["approval"] == {"action": "roleUpdate", "state": "PENDING"}

    def user_change(*roles):
        ids = [gid("Role", r.id) for r in roles]
        return {"input": {"id": gid("PortalUser", colleague.id), "roleIds": ids}}

    data = await api.data(USER_UPDATE, user_change(role), token=token)
    assert data["userUpdate"]["approval"] is None
    data = await api.data(USER_UPDATE, user_change(role, managers), token=token)
    assert data["userUpdate"]["approval"] == {"action": "userUpdate", "state": "PENDING"}
    assert um.value not in (await Role.get(id=role.id)).permissions
    assert not await colleague.roles.filter(id=managers.id).exists()
