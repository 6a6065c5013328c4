"""Third-party GraphQL clients against a real server: the Python `gql` client over HTTP and
over WebSocket (graphql-transport-ws), and the reference `graphql-ws` client for Node."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import httpx
import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from tests.backup_support import connected_customer, fast_settings, gid, make_policy
from tests.factories import make_customer, make_provider, make_user, token_for
from vdc_graph.db.models import BackupSession, SessionLogRecord
from vdc_graph.enums import Permission
from vdc_graph.resolvers.sessions import log_cursor

CUSTOMERS = gql("""query Customers($first: Int) {
  customers(first: $first) { totalCount nodes { id displayName } pageInfo { hasNextPage } } }""")
REGISTER = gql("""mutation Register($input: CustomerRegisterInput!) {
  customerRegister(input: $input) { created customer { id displayName contractType }
  userErrors { field code message } } }""")


NODE = shutil.which("node")
NODE_CLIENT = Path(__file__).parent / "node" / "session_log_client.mjs"
GRAPHQL_WS = Path(__file__).parent.parent / "vdc_graph/http/explorer/node_modules/graphql-ws"

SESSION_LOG = gql("""subscription SessionLog($id: ID!, $after: String) {
  sessionLog(sessionId: $id, after: $after) {
    cursor records { sequence status message } session { status progress } } }""")
START = gql("""mutation Start($input: BackupPolicyActionInput!) {
  backupPolicyStart(input: $input) { session { id status } userErrors { code } } }""")


@pytest.fixture
def settings(tmp_path):
    # The simulator's pace: a session runs for about a second, watched in several batches.
    return fast_settings(tmp_path, engine_step_seconds=0.05)


@pytest.fixture
async def token(settings, db):
    provider = await make_provider()
    for name in ("Contoso", "Fabrikam", "Northwind"):
        await make_customer(provider, display_name=name)
    return token_for(settings, await make_user(provider, [Permission.CUSTOMER_MANAGEMENT]))


async def run(session, document, variables: dict) -> dict:
    return await session.execute(GraphQLRequest(document, variable_values=variables))


def http_client(live_server, token: str) -> Client:
    transport = HTTPXAsyncTransport(
        url=f"{live_server.http_url}/graphql", headers={"Authorization": f"Bearer {token}"}
    )
    return Client(transport=transport, fetch_schema_from_transport=True)


def ws_client(live_server, token: str) -> Client:
    transport = WebsocketsTransport(
        url=live_server.ws_url,
        init_payload={"authorization": f"Bearer {token}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    return Client(transport=transport, fetch_schema_from_transport=True)


async def test_gql_over_http_queries_and_mutates(live_server, token):
    async with http_client(live_server, token) as session:
        # The client validated the documents against the introspected schema.
        assert session.client.schema.query_type.name == "Query"
        page = await run(session, CUSTOMERS, {"first": 2})
        assert page["customers"]["totalCount"] == 3
        assert [n["displayName"] for n in page["customers"]["nodes"]] == ["Contoso", "Fabrikam"]
        assert page["customers"]["pageInfo"]["hasNextPage"] is True
        result = await run(
            session,
            REGISTER,
            {"input": {"displayName": "Tailspin", "externalId": "T-1", "sourceType": "DIRECT"}},
        )
        assert result["customerRegister"]["created"] is True
        assert result["customerRegister"]["customer"]["contractType"] == "PENDING"
        refused = await run(
            session,
            REGISTER,
            {"input": {"displayName": "", "externalId": "T-2", "sourceType": "DIRECT"}},
        )
        assert refused["customerRegister"]["userErrors"][0]["field"] == ["input", "displayName"]


async def test_gql_over_http_sees_top_level_errors(live_server, token):
    async with http_client(live_server, token) as session:
        with pytest.raises(TransportQueryError) as error:
            await run(session, CUSTOMERS, {"first": 500})
        assert error.value.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_gql_over_websocket_queries_and_mutates(live_server, token):
    async with ws_client(live_server, token) as session:
        page = await run(session, CUSTOMERS, {"first": 10})
        assert page["customers"]["totalCount"] == 3
        result = await run(
            session,
            REGISTER,
            {"input": {"displayName": "Over WS", "externalId": "WS-1", "sourceType": "CLOUDBLUE"}},
        )
        assert result["customerRegister"]["customer"]["displayName"] == "Over WS"
        page = await run(session, CUSTOMERS, {"first": 10})
        assert page["customers"]["totalCount"] == 4


async def test_gql_over_websocket_follows_a_session_log_to_its_completion(live_server, settings):
    provider = await make_provider()
    policy = await make_policy(await connected_customer(provider))
    token = token_for(settings, await make_user(provider, [Permission.BACKUP_MANAGEMENT]))
    async with ws_client(live_server, token) as session:
        started = await run(session, START, {"input": {"id": gid("BackupPolicy", policy.id)}})
        assert started["backupPolicyStart"]["userErrors"] == []
        session_id = started["backupPolicyStart"]["session"]["id"]
        events = []
        # The loop ends only when the server completes the subscription.
        async for event in session.subscribe(
            GraphQLRequest(SESSION_LOG, variable_values={"id": session_id})
        ):
            events.append(event["sessionLog"])
    stored = await SessionLogRecord.filter(
        session_id=(await BackupSession.get(policy_id=policy.id)).id
    ).order_by("seq")
    received = [r for e in events for r in e["records"]]
    assert [r["sequence"] for r in received] == [r.seq for r in stored]
    assert [r["message"] for r in received] == [r.message for r in stored]
    assert [r["sequence"] for r in received] == list(range(1, len(stored) + 1))
    assert received[-1]["message"].startswith("Job finished at: ")
    assert events[-1]["session"] == {"status": "SUCCESS", "progress": 100}
    assert len(events) > 1  # live batches after the replay


def drop_websockets(live_server) -> int:
    """The server drops every open WebSocket at once: no close frame, the TCP stream just ends."""
    dropped = 0
    for connection in list(live_server.server.server_state.connections):
        if "WebSocket" in type(connection).__name__:
            connection.transport.abort()
            dropped += 1
    return dropped


@pytest.mark.skipif(
    NODE is None or not GRAPHQL_WS.exists(),
    reason="needs Node.js and the explorer's npm packages (./dev installs them)",
)
async def test_graphql_ws_for_node_resumes_after_the_server_drops_the_socket(live_server, settings):
    settings.engine_step_seconds = 0.2  # the session outlasts the drop and the reconnect
    provider = await make_provider()
    policy = await make_policy(await connected_customer(provider))
    token = token_for(settings, await make_user(provider, [Permission.BACKUP_MANAGEMENT]))
    async with httpx.AsyncClient(base_url=live_server.http_url) as http:
        response = await http.post(
            "/graphql",
            json={
                "query": "mutation($id: ID!) { backupPolicyStart(input: {id: $id}) "
                "{ session { id } userErrors { code } } }",
                "variables": {"id": gid("BackupPolicy", policy.id)},
            },
            headers={"Authorization": f"Bearer {token}"},
        )
    session_id = response.json()["data"]["backupPolicyStart"]["session"]["id"]
    client = await asyncio.create_subprocess_exec(
        NODE,
        str(NODE_CLIENT),
        live_server.ws_url,
        token,
        session_id,
        stdout=asyncio.subprocess.PIPE,
    )
    lines: list[dict] = []
    dropped = 0
    try:
        async with asyncio.timeout(60):
            async for raw in client.stdout:
                line = json.loads(raw)
                lines.append(line)
                if line["event"] == "records" and not dropped:
                    dropped = drop_websockets(live_server)  # mid-session
            await client.wait()
    finally:
        if client.returncode is None:
            client.kill()
            await client.wait()
    assert dropped == 1
    done = lines[-1]
    assert done["event"] == "done", lines
    assert done["error"] is None and done["completed"] is True, done
    assert client.returncode == 0
    stored = await SessionLogRecord.filter(
        session_id=(await BackupSession.get(policy_id=policy.id)).id
    ).order_by("seq")
    # Every record exactly once, in order, across the drop.
    assert done["sequences"] == [r.seq for r in stored] == list(range(1, len(stored) + 1))
    assert done["status"] == "SUCCESS"
    # It reconnected, and re-subscribed after the cursor of the last event it had received.
    events = [line["event"] for line in lines]
    assert events.count("connected") == 2 and "closed" in events
    reconnected = next(line for line in lines if line.get("retrying"))
    before_drop = lines[: lines.index(reconnected)]
    received_before = [
        s for line in before_drop if line["event"] == "records" for s in line["sequences"]
    ]
    assert received_before and received_before[-1] < len(stored)
    first_after, resumed_after = done["subscribedAfter"]
    assert first_after is None and resumed_after is not None
    last_before = next(r for r in stored if r.seq == received_before[-1])
    assert resumed_after == log_cursor(last_before)
