"""Backup policies: listing, every action, and every permission rule (with its refusal)."""

from __future__ import annotations

import pytest

from tests.backup_support import (
    all_ended,
    connected_customer,
    ended,
    fast_settings,
    gid,
    make_policy,
)
from tests.factories import make_customer, make_provider, make_user, token_for
from vdc_graph.db.models import BackupPolicy, BackupSession, CustomerAdminUser
from vdc_graph.enums import ContractType, Permission, PolicyStatus, SessionStatus

BM = Permission.BACKUP_MANAGEMENT
ADV = Permission.ADVANCED_BACKUP_MANAGEMENT

CREATE = """
mutation($input: BackupPolicyCreateInput!) {
  backupPolicyCreate(input: $input) {
    policy { id name backupType policyType enabled services lastStatus nextRun
             selectedObjects { type externalId name } excludedObjects { externalId }
             customer { displayName } }
    userErrors { message field code }
  }
}"""

ACTION = """
mutation($id: ID!) {
  backupPolicy%s(input: {id: $id}) {
    policy { id enabled lastStatus nextRun }
    userErrors { message field code }
  }
}"""

RUN = """
mutation($id: ID!) {
  backupPolicy%s(input: {id: $id}) {
    policy { id }
    session { id status trigger startedBy }
    userErrors { message field code }
  }
}"""


@pytest.fixture
def settings(tmp_path):
    return fast_settings(tmp_path)


def user_object(n: int) -> dict:
    return {"type": "USER", "externalId": f"user{n}@contoso.com", "name": f"User {n}"}


async def test_first_policy_needs_backup_management_and_further_ones_advanced(api, settings):
    provider = await make_provider()
    customer = await connected_customer(provider)
    basic = token_for(settings, await make_user(provider, [BM]))
    advanced = token_for(settings, await make_user(provider, [BM, ADV]))
    reader = token_for(settings, await make_user(provider, []))
    first = {
        "customerId": gid("Customer", customer.id),
        "name": "Everything",
        "backupType": "ENTIRE_ORGANIZATION",
    }

    refused = await api.errors(CREATE, {"input": first}, token=reader)
    assert refused[0]["extensions"]["code"] == "FORBIDDEN"

    created = (await api.data(CREATE, {"input": first}, token=basic))["backupPolicyCreate"]
    assert created["userErrors"] == []
    policy = created["policy"]
    assert policy["name"] == "Everything" and policy["policyType"] == "FLEX"
    assert policy["services"] == ["EXCHANGE", "ONEDRIVE_SHAREPOINT", "TEAMS"]
    assert policy["lastStatus"] == "NEVER_RUN" and policy["nextRun"].endswith("Z")
    assert policy["customer"]["displayName"] == customer.display_name

    second = {
        **first,
        "name": "Executives",
        "backupType": "SELECTED_ITEMS",
        "selectedObjects": [user_object(1)],
        "services": ["EXCHANGE"],
    }
    refused = await api.errors(CREATE, {"input": second}, token=basic)
    assert refused[0]["extensions"]["code"] == "FORBIDDEN"
    assert "ADVANCED_BACKUP_MANAGEMENT" in refused[0]["message"]
    assert await BackupPolicy.filter(customer=customer).count() == 1

    created = (await api.data(CREATE, {"input": second}, token=advanced))["backupPolicyCreate"]
    assert created["userErrors"] == []
    assert created["policy"]["selectedObjects"] == [user_object(1)]


async def test_create_refusals_are_user_errors_with_codes(api, settings):
    provider = await make_provider()
    customer = await connected_customer(provider)
    pending = await make_customer(provider, contract_type=ContractType.PENDING)
    token = token_for(settings, await make_user(provider, [BM, ADV]))
    await make_policy(customer, "Taken")
    base = {"customerId": gid("Customer", customer.id), "backupType": "ENTIRE_ORGANIZATION"}

    async def errors(**fields):
        payload = await api.data(CREATE, {"input": {**base, **fields}}, token=token)
        return [(e["code"], e["field"]) for e in payload["backupPolicyCreate"]["userErrors"]]

    assert await errors(name="taken") == [("DUPLICATE", ["input", "name"])]
    assert await errors(name="  ") == [("REQUIRED", ["input", "name"])]
    assert await errors(name="x" * 201) == [("TOO_LONG", ["input", "name"])]
    assert await errors(name="A", selectedObjects=[user_object(1)]) == [
        ("INVALID_SELECTION", ["input", "selectedObjects"])
    ]
    assert await errors(name="B", backupType="SELECTED_ITEMS") == [
        ("INVALID_SELECTION", ["input", "selectedObjects"])
    ]
    assert await errors(
        name="C",
        backupType="SELECTED_ITEMS",
        selectedObjects=[user_object(1)],
        excludedObjects=[user_object(1)],
    ) == [("INVALID_SELECTION", ["input", "selectedObjects"])]
    assert await errors(name="D", services=[]) == [("REQUIRED", ["input", "services"])]
    assert await errors(name="E", customerId=gid("Customer", pending.id)) == [
        ("CUSTOMER_PENDING", ["input", "customerId"])
    ]
    assert await BackupPolicy.filter(customer=customer).count() == 1


async def test_another_providers_customer_and_policy_are_not_found(api, settings):
    provider, other = await make_provider(), await make_provider("Other")
    theirs = await connected_customer(other)
    their_policy = await make_policy(theirs)
    token = token_for(settings, await make_user(provider, [BM, ADV]))
    refused = await api.errors(
        CREATE,
        {
            "input": {
                "customerId": gid("Customer", theirs.id),
                "name": "X",
                "backupType": "ENTIRE_ORGANIZATION",
            }
        },
        token=token,
    )
    assert refused[0]["extensions"]["code"] == "NOT_FOUND"
    for verb in ("Enable", "Disable", "Delete"):
        query = (
            ACTION % verb
            if verb != "Delete"
            else ("mutation($id: ID!) { backupPolicyDelete(input: {id: $id}) { deletedPolicyId } }")
        )
        refused = await api.errors(query, {"id": gid("BackupPolicy", their_policy.id)}, token=token)
        assert refused[0]["extensions"]["code"] == "NOT_FOUND", verb
    for verb in ("Start", "Stop"):
        refused = await api.errors(
            RUN % verb, {"id": gid("BackupPolicy", their_policy.id)}, token=token
        )
        assert refused[0]["extensions"]["code"] == "NOT_FOUND", verb
    found = await api.errors(
        "query($id: ID!) { backupPolicy(id: $id) { name } }",
        {"id": gid("BackupPolicy", their_policy.id)},
        token=token,
    )
    assert found[0]["extensions"]["code"] == "NOT_FOUND"
    node = await api.post(
        "query($id: ID!) { node(id: $id) { id } }",
        {"id": gid("BackupPolicy", their_policy.id)},
        token=token,
    )
    assert node.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    listed = await api.data("{ backupPolicies { totalCount } }", token=token)
    assert listed["backupPolicies"]["totalCount"] == 0
    assert await BackupPolicy.filter(id=their_policy.id).exists()


async def test_list_filters_orders_and_pages(api, settings):
    provider = await make_provider()
    a = await connected_customer(provider)
    b = await connected_customer(provider)
    await make_policy(a, "Alpha", last_status=PolicyStatus.SUCCESS)
    await make_policy(a, "Bravo", enabled=False, last_status=PolicyStatus.FAILED)
    await make_policy(b, "Charlie", last_status=PolicyStatus.SUCCESS)
    token = token_for(settings, await make_user(provider, []))
    query = """query($filter: BackupPolicyFilter, $order: BackupPolicyOrder, $after: String) {
      backupPolicies(filter: $filter, orderBy: $order, first: 2, after: $after) {
        totalCount nodes { name } pageInfo { hasNextPage endCursor } } }"""

    async def names(flt=None, order=None, after=None):
        data = await api.data(query, {"filter": flt, "order": order, "after": after}, token=token)
        return data["backupPolicies"]

    page = await names()
    assert [n["name"] for n in page["nodes"]] == ["Alpha", "Bravo"] and page["totalCount"] == 3
    rest = await names(after=page["pageInfo"]["endCursor"])
    assert [n["name"] for n in rest["nodes"]] == ["Charlie"]
    assert rest["pageInfo"]["hasNextPage"] is False
    by_customer = await names({"customerId": gid("Customer", b.id)})
    assert [n["name"] for n in by_customer["nodes"]] == ["Charlie"]
    assert [n["name"] for n in (await names({"status": "FAILED"}))["nodes"]] == ["Bravo"]
    assert [n["name"] for n in (await names({"enabled": False}))["nodes"]] == ["Bravo"]
    assert [n["name"] for n in (await names({"search": "ARL"}))["nodes"]] == ["Charlie"]
    desc = await names(order={"field": "NAME", "direction": "DESC"})
    assert [n["name"] for n in desc["nodes"]] == ["Charlie", "Bravo"]


async def test_update_adds_and_removes_objects(api, settings):
    provider = await make_provider()
    customer = await connected_customer(provider)
    await make_policy(customer, "Other")
    policy = await make_policy(
        customer,
        "Execs",
        backup_type="SELECTED_ITEMS",
        selected_objects=[{"type": "USER", "externalId": "user1@contoso.com", "name": "User 1"}],
    )
    token = token_for(settings, await make_user(provider, [BM]))
    update = """mutation($input: BackupPolicyUpdateInput!) { backupPolicyUpdate(input: $input) {
      policy { name services selectedObjects { externalId } excludedObjects { externalId } }
      userErrors { code field } } }"""
    pid = gid("BackupPolicy", policy.id)
    result = (
        await api.data(
            update,
            {
                "input": {
                    "id": pid,
                    "name": "Executives",
                    "services": ["EXCHANGE"],
                    "addSelectedObjects": [user_object(2), user_object(3)],
                    "removeSelectedObjects": ["user1@contoso.com"],
                    "addExcludedObjects": [user_object(9)],
                }
            },
            token=token,
        )
    )["backupPolicyUpdate"]
    assert result["userErrors"] == []
    assert result["policy"] == {
        "name": "Executives",
        "services": ["EXCHANGE"],
        "selectedObjects": [
            {"externalId": "user2@contoso.com"},
            {"externalId": "user3@contoso.com"},
        ],
        "excludedObjects": [{"externalId": "user9@contoso.com"}],
    }
    emptied = (
        await api.data(
            update,
            {
                "input": {
                    "id": pid,
                    "removeSelectedObjects": ["user2@contoso.com", "user3@contoso.com"],
                }
            },
            token=token,
        )
    )["backupPolicyUpdate"]
    assert emptied["userErrors"] == [
        {"code": "INVALID_SELECTION", "field": ["input", "removeSelectedObjects"]}
    ]
    duplicate = await api.data(update, {"input": {"id": pid, "name": "OTHER"}}, token=token)
    assert duplicate["backupPolicyUpdate"]["userErrors"] == [
        {"code": "DUPLICATE", "field": ["input", "name"]}
    ]
    stored = await BackupPolicy.get(id=policy.id)
    assert stored.name == "Executives" and len(stored.selected_objects) == 2


async def test_start_runs_a_session_and_refusals_for_running_and_idle(api, settings):
    provider = await make_provider()
    customer = await connected_customer(provider)
    policy = await make_policy(customer, enabled=False)  # a disabled policy may still be started
    user = await make_user(provider, [BM])
    token = token_for(settings, user)
    pid = gid("BackupPolicy", policy.id)

    idle = (await api.data(RUN % "Stop", {"id": pid}, token=token))["backupPolicyStop"]
    assert idle["userErrors"][0]["code"] == "NOT_RUNNING"

    started = (await api.data(RUN % "Start", {"id": pid}, token=token))["backupPolicyStart"]
    assert started["userErrors"] == []
    assert started["session"]["status"] == "QUEUED"
    assert started["session"]["trigger"] == "USER"
    assert started["session"]["startedBy"] == user.email
    again = (await api.data(RUN % "Start", {"id": pid}, token=token))["backupPolicyStart"]
    assert again["userErrors"][0]["code"] == "ALREADY_RUNNING"
    assert again["session"] is None

    sessions = await BackupSession.filter(policy_id=policy.id)
    assert len(sessions) == 1
    session = await ended(sessions[0].id)
    assert session.status == SessionStatus.SUCCESS and session.progress == 100
    stored = await BackupPolicy.get(id=policy.id)
    assert stored.last_status == PolicyStatus.SUCCESS
    assert stored.last_run == session.started_at
    assert stored.average_processing_seconds is not None


async def test_enable_disable_and_delete_keeps_session_history(api, settings):
    provider = await make_provider()
    customer = await connected_customer(provider)
    policy = await make_policy(customer)
    token = token_for(settings, await make_user(provider, [BM]))
    pid = gid("BackupPolicy", policy.id)
    disabled = await api.data(ACTION % "Disable", {"id": pid}, token=token)
    assert disabled["backupPolicyDisable"]["policy"]["enabled"] is False
    assert disabled["backupPolicyDisable"]["policy"]["nextRun"] is None
    enabled = await api.data(ACTION % "Enable", {"id": pid}, token=token)
    assert enabled["backupPolicyEnable"]["policy"]["enabled"] is True
    assert enabled["backupPolicyEnable"]["policy"]["nextRun"] is not None

    await api.data(RUN % "Start", {"id": pid}, token=token)
    session = await BackupSession.get(policy_id=policy.id)
    await ended(session.id)
    delete = (
        "mutation($id: ID!) { backupPolicyDelete(input: {id: $id}) "
        "{ deletedPolicyId userErrors { code } } }"
    )
    deleted = (await api.data(delete, {"id": pid}, token=token))["backupPolicyDelete"]
    assert deleted == {"deletedPolicyId": pid, "userErrors": []}
    assert not await BackupPolicy.filter(id=policy.id).exists()
    kept = await api.data(
        "query($id: ID!) { backupSession(id: $id) { policyName policy { id } status } }",
        {"id": gid("BackupSession", session.id)},
        token=token,
    )
    assert kept["backupSession"] == {
        "policyName": "Entire organization",
        "policy": None,
        "status": "SUCCESS",
    }


async def test_delete_of_a_running_policy_is_refused(api, settings):
    provider = await make_provider()
    customer = await connected_customer(provider)
    policy = await make_policy(customer)
    await BackupSession.create(
        provider_id=provider.id,
        customer=customer,
        policy=policy,
        policy_name=policy.name,
        status=SessionStatus.RUNNING,
    )
    token = token_for(settings, await make_user(provider, [BM]))
    delete = (
        "mutation($id: ID!) { backupPolicyDelete(input: {id: $id}) "
        "{ deletedPolicyId userErrors { code } } }"
    )
    refused = await api.data(delete, {"id": gid("BackupPolicy", policy.id)}, token=token)
    assert refused["backupPolicyDelete"] == {
        "deletedPolicyId": None,
        "userErrors": [{"code": "ALREADY_RUNNING"}],
    }


async def test_changes_need_backup_management(api, settings):
    provider = await make_provider()
    customer = await connected_customer(provider)
    policy = await make_policy(customer)
    reader = token_for(settings, await make_user(provider, [Permission.CUSTOMER_MANAGEMENT]))
    pid = gid("BackupPolicy", policy.id)
    for verb in ("Enable", "Disable"):
        refused = await api.errors(ACTION % verb, {"id": pid}, token=reader)
        assert refused[0]["extensions"]["code"] == "FORBIDDEN"
    for verb in ("Start", "Stop"):
        refused = await api.errors(RUN % verb, {"id": pid}, token=reader)
        assert refused[0]["extensions"]["code"] == "FORBIDDEN"
    assert not await BackupSession.exists()


async def test_a_customer_scoped_caller_is_limited_by_the_customers_flags(api, settings):
    provider = await make_provider()
    customer = await connected_customer(provider)
    other_customer = await connected_customer(provider)
    other_policy = await make_policy(other_customer)
    user = await make_user(provider, [BM, ADV], email="admin@contoso.com")
    await CustomerAdminUser.create(
        customer=customer, email=user.email, email_key=user.email, first_name="A", last_name="B"
    )
    token = token_for(settings, user, customer_id=customer.id)
    new = {
        "customerId": gid("Customer", customer.id),
        "name": "Mine",
        "backupType": "ENTIRE_ORGANIZATION",
    }

    refused = await api.errors(CREATE, {"input": new}, token=token)
    assert refused[0]["extensions"]["code"] == "FORBIDDEN"
    customer.allow_create_delete_policy = True
    await customer.save()
    created = (await api.data(CREATE, {"input": new}, token=token))["backupPolicyCreate"]
    pid = created["policy"]["id"]

    refused = await api.errors(RUN % "Start", {"id": pid}, token=token)
    assert refused[0]["extensions"]["code"] == "FORBIDDEN"
    refused = await api.errors(ACTION % "Disable", {"id": pid}, token=token)
    assert refused[0]["extensions"]["code"] == "FORBIDDEN"
    customer.allow_edit_trigger_policy = True
    await customer.save()
    disabled = await api.data(ACTION % "Disable", {"id": pid}, token=token)
    assert disabled["backupPolicyDisable"]["policy"]["enabled"] is False

    # Another customer of the same provider is out of reach.
    hidden = await api.errors(
        ACTION % "Disable", {"id": gid("BackupPolicy", other_policy.id)}, token=token
    )
    assert hidden[0]["extensions"]["code"] == "NOT_FOUND"
    listed = await api.data("{ backupPolicies { nodes { name } } }", token=token)
    assert listed["backupPolicies"]["nodes"] == [{"name": "Mine"}]

    customer.allow_create_delete_policy = False
    await customer.save()
    delete = "mutation($id: ID!) { backupPolicyDelete(input: {id: $id}) { deletedPolicyId } }"
    refused = await api.errors(delete, {"id": pid}, token=token)
    assert refused[0]["extensions"]["code"] == "FORBIDDEN"
    await all_ended()
