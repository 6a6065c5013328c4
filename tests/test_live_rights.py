"""Rights end open subscriptions: a caller who loses them is cut off within a second.

A real uvicorn serves the socket; the change is made the way an administrator makes it (a
GraphQL mutation over HTTP), and the socket following ``sessionUpdates`` must be closed with
4403 well before the periodic re-check could have done it.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
import websockets
from strawberry import relay
from websockets.exceptions import ConnectionClosed

from tests.factories import make_customer, make_provider, make_user, token_for
from vdc_graph.db.models import BackupSession, PortalUser, Role
from vdc_graph.enums import Permission
from vdc_graph.events.sessions import publish_session

TRANSPORT_WS = "graphql-transport-ws"
UPDATES = {"query": "subscription { sessionUpdates { id status } }"}


@pytest.fixture
def settings(settings):
    # The backstop re-check is far away: only the rights-changed event can close in time.
    return settings.model_copy(update={"ws_rights_recheck_seconds": 60.0})


@pytest.fixture
async def team(db, settings):
    provider = await make_provider()
    await make_customer(provider)
    admin = await make_user(provider, [Permission.USER_MANAGEMENT])
    watcher = await make_user(provider, [])  # MONITORING_ACCESS only
    return provider, token_for(settings, admin), watcher


def gid(type_name: str, key) -> str:
    return str(relay.GlobalID(type_name, str(key)))


async def mutate(live_server, token: str, query: str, variables: dict) -> dict:
    async with httpx.AsyncClient(base_url=live_server.http_url, timeout=30) as http:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
    body = response.json()
    assert "errors" not in body, body
    payload = next(iter(body["data"].values()))
    assert not payload.get("userErrors"), payload
    return payload


async def following_updates(live_server, credential: str):
    ws = await websockets.connect(live_server.ws_url, subprotocols=[TRANSPORT_WS])
    await ws.send(
        json.dumps(
            {"type": "connection_init", "payload": {"authorization": f"Bearer {credential}"}}
        )
    )
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": UPDATES}))
    return ws


async def closed_within(ws, seconds: float) -> int:
    started = time.monotonic()
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), seconds)
    assert time.monotonic() - started < seconds
    return closed.value.rcvd.code


async def announce_a_session(provider) -> str:
    customer = await make_customer(provider)
    session = await BackupSession.create(
        provider=provider, customer=customer, policy_name="Daily", status="RUNNING"
    )
    await publish_session(session)
    return gid("BackupSession", session.id)


USER_DELETE = """mutation($input: UserDeleteInput!) { userDelete(input: $input) {
  userErrors { code } } }"""
ROLE_DELETE = """mutation($input: RoleDeleteInput!) { roleDelete(input: $input) {
  userErrors { code } } }"""
USER_UPDATE = """mutation($input: UserUpdateInput!) { userUpdate(input: $input) {
  userErrors { code } } }"""
KEY_CREATE = """mutation($input: ApiKeyCreateInput!) { apiKeyCreate(input: $input) {
  apiKey { id } secret userErrors { code } } }"""
KEY_REVOKE = """mutation($input: ApiKeyInput!) { apiKeyRevoke(input: $input) {
  userErrors { code } } }"""
KEY_ROTATE = """mutation($input: ApiKeyInput!) { apiKeyRotate(input: $input) {
  userErrors { code } } }"""


async def test_a_deleted_users_subscription_is_closed(live_server, settings, team):
    _, admin, watcher = team
    ws = await following_updates(live_server, token_for(settings, watcher))
    await mutate(live_server, admin, USER_DELETE, {"input": {"id": gid("PortalUser", watcher.id)}})
    assert await closed_within(ws, 1.0) == 4403


async def test_deleting_the_callers_only_role_closes_the_subscription(live_server, settings, team):
    _, admin, watcher = team
    role = await Role.get(users__id=watcher.id)
    ws = await following_updates(live_server, token_for(settings, watcher))
    await mutate(live_server, admin, ROLE_DELETE, {"input": {"id": gid("Role", role.id)}})
    assert await closed_within(ws, 1.0) == 4403


async def test_losing_every_role_closes_the_subscription(live_server, settings, team):
    _, admin, watcher = team
    ws = await following_updates(live_server, token_for(settings, watcher))
    await mutate(
        live_server,
        admin,
        USER_UPDATE,
        {"input": {"id": gid("PortalUser", watcher.id), "roleIds": []}},
    )
    assert await closed_within(ws, 1.0) == 4403


@pytest.mark.parametrize("change", [KEY_REVOKE, KEY_ROTATE])
async def test_a_revoked_or_rotated_keys_subscription_is_closed(
    live_server, settings, team, change
):
    _, admin, _ = team
    created = await mutate(
        live_server, admin, KEY_CREATE, {"input": {"name": "CI", "permissions": []}}
    )
    ws = await following_updates(live_server, created["secret"])
    await mutate(live_server, admin, change, {"input": {"id": created["apiKey"]["id"]}})
    assert await closed_within(ws, 1.0) == 4403


async def test_a_change_that_keeps_the_callers_rights_keeps_the_subscription(
    live_server, settings, team
):
    provider, admin, watcher = team
    bystander = await make_user(provider, [])  # only rights the administrator holds too
    ws = await following_updates(live_server, token_for(settings, watcher))
    try:
        await mutate(
            live_server,
            admin,
            USER_UPDATE,
            {"input": {"id": gid("PortalUser", bystander.id), "roleIds": []}},
        )
        session_id = await announce_a_session(provider)
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert message["type"] == "next"
        assert message["payload"]["data"]["sessionUpdates"]["id"] == session_id
    finally:
        await ws.close()


async def test_a_change_without_an_event_is_caught_by_the_periodic_recheck(
    live_server, settings, team
):
    """Another process without a shared broker: the backstop still ends the subscription."""
    _, _, watcher = team
    settings.ws_rights_recheck_seconds = 0.3
    ws = await following_updates(live_server, token_for(settings, watcher))
    await PortalUser.filter(id=watcher.id).delete()  # no event is published
    assert await closed_within(ws, 5.0) == 4403


async def test_the_watch_survives_quiet_periods(live_server, settings, team):
    """Periods without any change (each a backstop re-check) do not end the watch: a later
    change still closes the socket at once."""
    _, admin, watcher = team
    settings.ws_rights_recheck_seconds = 0.2
    ws = await following_updates(live_server, token_for(settings, watcher))
    await asyncio.sleep(1.0)  # several quiet periods pass: the time itself is what is tested
    session_id = await announce_a_session(team[0])
    message = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert message["payload"]["data"]["sessionUpdates"]["id"] == session_id  # still open
    await mutate(live_server, admin, USER_DELETE, {"input": {"id": gid("PortalUser", watcher.id)}})
    assert await closed_within(ws, 1.0) == 4403
