"""Callers limited to some customers (an API key limited to them, or a token switched into one)
see those customers' data only, by every path: lists, single objects, nodes, dashboard
figures, downloads and live updates."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tests.backup_support import all_ended, connected_customer, fast_settings, gid, make_policy
from tests.factories import make_provider, make_user, token_for
from tests.test_session_live import SESSION_LOG, SESSION_UPDATES, Socket, start_policy
from vdc_graph import clock
from vdc_graph.db.models import (
    BackupSession,
    CustomerAdminUser,
    Restore,
    SessionLogRecord,
    UsageReport,
    Webhook,
)
from vdc_graph.enums import LogStatus, Permission, SessionStatus, UsageReportStatus

BM = Permission.BACKUP_MANAGEMENT

LISTS = """{
  backupPolicies { nodes { name } }
  backupSessions { nodes { policyName } }
  restores { nodes { requestedBy } }
  usageReports { totalCount }
  webhooks { totalCount }
  dashboard { jobResults { jobs } restores(months: 1) { thisMonth customers } } }"""
POLICY = "query($id: ID!) { backupPolicy(id: $id) { name } }"
SESSION = "query($id: ID!) { backupSession(id: $id) { policyName logs { nodes { message } } } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
FILTERED = """query($c: ID!) { backupSessions(filter: {customerId: $c}) { nodes { policyName } }
  restores(filter: {customerId: $c}) { nodes { requestedBy } } }"""
KEY_CREATE = """mutation($input: ApiKeyCreateInput!) { apiKeyCreate(input: $input) {
  secret userErrors { code } } }"""


@pytest.fixture
def settings(tmp_path):
    return fast_settings(tmp_path)


async def customer_with_data(provider, name: str):
    """A customer with one policy, one ended session with a log record, and one restore."""
    customer = await connected_customer(provider, display_name=name)
    policy = await make_policy(customer, f"Policy {name}")
    now = clock.now()
    session = await BackupSession.create(
        provider=provider,
        customer=customer,
        policy=policy,
        policy_name=policy.name,
        status=SessionStatus.SUCCESS,
        started_at=now - timedelta(minutes=5),
        ended_at=now,
        last_seq=1,
    )
    record = await SessionLogRecord.create(
        session=session, seq=1, at=now, status=LogStatus.SUCCESS, message=f"Log {name}"
    )
    restore = await Restore.create(
        provider=provider,
        customer=customer,
        requested_at=now,
        requested_by=f"restorer-{name}",
        restore_type="EXCHANGE_MAILBOX",
    )
    return customer, policy, session, record, restore


async def limited_token(api, settings, kind: str, provider, customer) -> str:
    user = await make_user(provider, [BM, Permission.USER_MANAGEMENT], email=f"{kind}@a.example")
    if kind == "switched":
        await CustomerAdminUser.create(
            customer=customer,
            email=user.email,
            email_key=user.email_key,
            first_name="A",
            last_name="Admin",
        )
        return token_for(settings, user, customer_id=customer.id)
    created = (
        await api.data(
            KEY_CREATE,
            {
                "input": {
                    "name": "A only",
                    "permissions": ["BACKUP_MANAGEMENT"],
                    "customerIds": [gid("Customer", customer.id)],
                }
            },
            token=token_for(settings, user),
        )
    )["apiKeyCreate"]
    assert created["userErrors"] == []
    return created["secret"]


@pytest.fixture
async def world(db):
    provider = await make_provider()
    a = await customer_with_data(provider, "A")
    b = await customer_with_data(provider, "B")
    await UsageReport.create(
        provider=provider,
        number="R1",
        rental_agreement_number="RA1",
        month=clock.now().date().replace(day=1),
        status=UsageReportStatus.PENDING_REVIEW,
    )
    await Webhook.create(provider=provider, url="https://hooks.example/x", secret="s" * 32)
    return provider, a, b


@pytest.mark.parametrize("kind", ["key", "switched"])
async def test_a_limited_caller_sees_only_its_customers_data(api, settings, world, kind):
    provider, a, b = world
    token = await limited_token(api, settings, kind, provider, a[0])
    seen = await api.data(LISTS, token=token)
    assert seen["backupPolicies"]["nodes"] == [{"name": "Policy A"}]
    assert seen["backupSessions"]["nodes"] == [{"policyName": "Policy A"}]
    assert seen["restores"]["nodes"] == [{"requestedBy": "restorer-A"}]
    # Provider-wide data spans every customer: a limited caller sees none of it.
    assert seen["usageReports"]["totalCount"] == 0
    assert seen["webhooks"]["totalCount"] == 0
    assert seen["dashboard"]["jobResults"]["jobs"] == 1
    assert seen["dashboard"]["restores"] == {"thisMonth": 1, "customers": 1}

    _, policy_b, session_b, record_b, restore_b = b
    for query, variables in (
        (POLICY, {"id": gid("BackupPolicy", policy_b.id)}),
        (SESSION, {"id": gid("BackupSession", session_b.id)}),
    ):
        errors = await api.errors(query, variables, token=token)
        assert errors[0]["extensions"]["code"] == "NOT_FOUND", query
    filtered = await api.data(FILTERED, {"c": gid("Customer", b[0].id)}, token=token)
    assert filtered == {"backupSessions": {"nodes": []}, "restores": {"nodes": []}}
    mine = await api.data(SESSION, {"id": gid("BackupSession", a[2].id)}, token=token)
    assert mine["backupSession"]["logs"]["nodes"] == [{"message": "Log A"}]
    ids = [
        gid(t, row.id)
        for t, row in (
            ("BackupPolicy", policy_b),
            ("BackupSession", session_b),
            ("SessionLogRecord", record_b),
            ("Restore", restore_b),
            ("Customer", b[0]),
        )
    ]
    assert (await api.data(NODES, {"ids": ids}, token=token))["nodes"] == [None] * len(ids)

    headers = {"Authorization": f"Bearer {token}"}
    theirs = await api.http.get(
        "/exports/session-log.csv",
        params={"sessionId": gid("BackupSession", session_b.id)},
        headers=headers,
    )
    assert theirs.status_code == 404
    month = clock.now().strftime("%Y-%m")
    theirs = await api.http.get(
        "/exports/sessions.zip",
        params={"customerId": gid("Customer", b[0].id), "month": month},
        headers=headers,
    )
    assert theirs.status_code == 404
    own = await api.http.get(
        "/exports/session-log.csv",
        params={"sessionId": gid("BackupSession", a[2].id)},
        headers=headers,
    )
    assert own.status_code == 200 and "Log A" in own.text


async def test_a_limited_key_gets_live_updates_of_its_customers_only(api, live_server, settings):
    provider = await make_provider()
    mine = await connected_customer(provider, display_name="Mine")
    theirs = await connected_customer(provider, display_name="Theirs")
    my_policy, their_policy = await make_policy(mine, "Mine"), await make_policy(theirs, "Theirs")
    provider_token = token_for(settings, await make_user(provider, [BM]))
    key = await limited_token(api, settings, "key", provider, mine)
    async with Socket(live_server.ws_url, key) as socket:
        await socket.subscribe("u", SESSION_UPDATES, {"filter": None})
        await asyncio.sleep(0.1)  # let the subscription reach the broker
        await start_policy(live_server, provider_token, their_policy.id)
        await start_policy(live_server, provider_token, my_policy.id)
        seen = []
        while not seen or seen[-1]["status"] in ("QUEUED", "RUNNING"):
            message = await socket.receive()
            assert message["type"] == "next", message
            seen.append(message["payload"]["data"]["sessionUpdates"])
        await socket.send({"id": "u", "type": "complete"})
    assert {s["customer"]["displayName"] for s in seen} == {"Mine"}
    await all_ended()


async def test_a_limited_key_cannot_watch_another_customers_session_log(api, live_server, settings):
    provider = await make_provider()
    mine = await connected_customer(provider, display_name="Mine")
    _, _, theirs, _, _ = await customer_with_data(provider, "B")
    key = await limited_token(api, settings, "key", provider, mine)
    async with Socket(live_server.ws_url, key) as socket:
        await socket.subscribe("1", SESSION_LOG, {"id": gid("BackupSession", theirs.id)})
        message = await socket.receive()
        assert message["type"] == "next", message
        assert message["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert await socket.receive() == {"id": "1", "type": "complete"}


def test_queries_limit_customers_only_through_the_scope():
    """Every query applies a caller's customer limits through ``Scope.restrict`` (or
    ``Scope.provider_wide``): none reads the limits itself, so none can forget one of them."""
    from pathlib import Path

    import vdc_graph

    root = Path(vdc_graph.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "scope.py"
        and ("scope.customer_id" in path.read_text() or "scope.customer_ids" in path.read_text())
    ]
    assert offenders == []
