"""Third-party GraphQL clients against a real server: the Python `gql` client over HTTP and
over WebSocket (graphql-transport-ws), and the reference `graphql-ws` client for Node."""

from __future__ import annotations

import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from tests.backup_support import connected_customer, fast_settings, gid, make_policy
from tests.factories import make_customer, make_provider, make_user, token_for
from vdc_graph.db.models import BackupSession, SessionLogRecord
from vdc_graph.enums import Permission

CUSTOMERS = gql("""query Customers($first: Int) {
  customers(first: $first) { totalCount nodes { id displayName } pageInfo { hasNextPage } } }""")
REGISTER = gql("""mutation Register($input: CustomerRegisterInput!) {
  customerRegister(input: $input) { created customer { id displayName contractType }
  userErrors { field code message } } }""")


SESSION_LOG = gql("""subscription SessionLog($id: ID!, $after: String) {
  sessionLog(sessionId: $id, after: $after) {
    cursor records { sequence status message } session { status progress } } }""")
START = gql("""mutation Start($input: BackupPolicyActionInput!) {
  backupPolicyStart(input: $input) { session { id status } userErrors { code } } }""")


@pytest.fixture
def settings(tmp_path):
    # The simulator's pace: a session runs for a fraction of a second, in several batches.
    return fast_settings(tmp_path, engine_step_seconds=0.01)


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
