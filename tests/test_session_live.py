"""Watching sessions live over a real WebSocket (uvicorn on a free port): every record in order
exactly once, resuming from a cursor, many subscribers, session updates and refusals."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tests.backup_support import (
    DEADLINE,
    all_ended,
    connected_customer,
    ended,
    fast_settings,
    gid,
    subscribed,
    until,
)
from tests.backup_support import make_policy as make_policy_row
from tests.factories import make_provider, make_user, token_for
from vdc_graph import clock
from vdc_graph.db.models import BackupSession, SessionLogRecord
from vdc_graph.enums import Permission
from vdc_graph.events.sessions import updates_topic

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"

SESSION_LOG = """subscription($id: ID!, $after: String) {
  sessionLog(sessionId: $id, after: $after) {
    cursor records { sequence status message } session { status progress processedObjects }
  }
}"""


@pytest.fixture
def settings(tmp_path):
    # A pace slow enough to join a session mid-run, fast enough for a quick test.
    return fast_settings(tmp_path, engine_step_seconds=0.03)


class Socket:
    """A graphql-transport-ws client over a real WebSocket."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token

    async def __aenter__(self) -> Socket:
        self.ws = await websockets.connect(self.url, subprotocols=[TRANSPORT_WS])
        await self.send(
            {"type": "connection_init", "payload": {"authorization": f"Bearer {self.token}"}}
        )
        assert (await self.receive())["type"] == "connection_ack"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.close()

    async def send(self, message: dict) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, timeout: float = DEADLINE) -> dict:
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def subscribe(self, op_id: str, query: str, variables: dict) -> None:
        await self.send(
            {"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )

    async def until_complete(self, op_id: str) -> list[dict]:
        """Every ``next`` payload of ``op_id`` until its ``complete``."""
        payloads = []
        while True:
            message = await self.receive()
            assert message["id"] == op_id, message
            if message["type"] == "complete":
                return payloads
            assert message["type"] == "next", message
            payloads.append(message["payload"])


async def start_policy(live_server: Any, token: str, policy_id: Any) -> None:
    async with httpx.AsyncClient(base_url=live_server.http_url) as http:
        response = await http.post(
            "/graphql",
            json={
                "query": "mutation($id: ID!) { backupPolicyStart(input: {id: $id}) "
                "{ userErrors { code } } }",
                "variables": {"id": gid("BackupPolicy", policy_id)},
            },
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.json()["data"]["backupPolicyStart"]["userErrors"] == []


async def setup(settings: Any, users: int = 8) -> tuple[Any, Any, str]:
    """A provider, a policy of a connected customer (a tenant of ``users`` users) and a token
    of a backup manager."""
    provider = await make_provider()
    customer = await connected_customer(provider, users=users)
    policy = await make_policy_row(customer)
    token = token_for(settings, await make_user(provider, [Permission.BACKUP_MANAGEMENT]))
    return provider, policy, token


def sequences(payloads: list[dict]) -> list[int]:
    return [r["sequence"] for p in payloads for r in p["data"]["sessionLog"]["records"]]


async def stored_sequences(session_id: Any) -> list[int]:
    return [r.seq for r in await SessionLogRecord.filter(session_id=session_id).order_by("seq")]


async def queued_session(policy: Any) -> BackupSession:
    async def find() -> BackupSession | None:
        return await BackupSession.filter(policy_id=policy.id).first()

    return await until(find)


async def test_a_session_watched_from_start_to_end_receives_every_record_once(
    live_server, settings
):
    _, policy, token = await setup(settings)
    await start_policy(live_server, token, policy.id)
    session = await queued_session(policy)
    async with Socket(live_server.ws_url, token) as socket:
        await socket.subscribe("1", SESSION_LOG, {"id": gid("BackupSession", session.id)})
        payloads = await socket.until_complete("1")
    stored = await stored_sequences(session.id)
    assert sequences(payloads) == stored == list(range(1, len(stored) + 1))
    assert len(payloads) > 3  # live batches, not one replay
    last = payloads[-1]["data"]["sessionLog"]
    assert last["session"]["status"] == "SUCCESS" and last["session"]["progress"] == 100
    records = [r for p in payloads for r in p["data"]["sessionLog"]["records"]]
    assert records[0]["message"].startswith("Job started at: ")
    assert records[-1]["message"].startswith("Job finished at: ")
    statuses = [p["data"]["sessionLog"]["session"]["status"] for p in payloads]
    assert "RUNNING" in statuses


async def test_a_client_that_reconnects_with_its_cursor_gets_the_rest_exactly_once(
    live_server, settings
):
    settings.engine_step_seconds = 0.1  # the server's settings: the session outlasts the drop
    _, policy, token = await setup(settings)
    await start_policy(live_server, token, policy.id)
    session = await queued_session(policy)
    variables = {"id": gid("BackupSession", session.id)}
    first: list[dict] = []
    async with Socket(live_server.ws_url, token) as socket:
        await socket.subscribe("1", SESSION_LOG, variables)
        while not sequences(first):  # until at least one record arrived
            message = await socket.receive()
            assert message["type"] == "next", message
            first.append(message["payload"])
    # The socket dropped mid-session; the session goes on without the client.
    cursor = first[-1]["data"]["sessionLog"]["cursor"]
    assert cursor
    still_running = await BackupSession.get(id=session.id)
    assert still_running.status in ("QUEUED", "RUNNING")
    async with Socket(live_server.ws_url, token) as socket:
        await socket.subscribe("2", SESSION_LOG, {**variables, "after": cursor})
        rest = await socket.until_complete("2")
    received = sequences(first) + sequences(rest)
    assert received == await stored_sequences(session.id)
    assert len(received) == len(set(received))
    assert sequences(rest)[0] == sequences(first)[-1] + 1


async def test_fifty_concurrent_subscribers_all_receive_everything(live_server, settings):
    _, policy, token = await setup(settings)
    await start_policy(live_server, token, policy.id)
    session = await queued_session(policy)
    variables = {"id": gid("BackupSession", session.id)}

    async def watch() -> list[int]:
        async with Socket(live_server.ws_url, token) as socket:
            await socket.subscribe("1", SESSION_LOG, variables)
            return sequences(await socket.until_complete("1"))

    results = await asyncio.gather(*(watch() for _ in range(50)))
    stored = await stored_sequences(session.id)
    assert all(result == stored for result in results)


async def test_a_finished_session_replays_after_a_cursor_and_completes(live_server, settings):
    _, policy, token = await setup(settings)
    await start_policy(live_server, token, policy.id)
    session = await ended((await queued_session(policy)).id)
    variables = {"id": gid("BackupSession", session.id)}
    async with Socket(live_server.ws_url, token) as socket:
        await socket.subscribe("1", SESSION_LOG, variables)
        everything = await socket.until_complete("1")
        assert len(everything) == 1  # one batch: the replay
        assert sequences(everything) == list(range(1, session.last_seq + 1))
        async with httpx.AsyncClient(base_url=live_server.http_url) as http:
            page = await http.post(
                "/graphql",
                json={
                    "query": "query($id: ID!) { backupSession(id: $id) "
                    "{ logs(first: 4) { pageInfo { endCursor } } } }",
                    "variables": variables,
                },
                headers={"Authorization": f"Bearer {token}"},
            )
        cursor = page.json()["data"]["backupSession"]["logs"]["pageInfo"]["endCursor"]
        await socket.subscribe("2", SESSION_LOG, {**variables, "after": cursor})
        rest = await socket.until_complete("2")
        assert sequences(rest) == list(range(5, session.last_seq + 1))


async def test_another_providers_session_is_not_found(live_server, settings):
    _, policy, _ = await setup(settings)
    intruder = token_for(settings, await make_user(await make_provider("Other"), []))
    session = await BackupSession.create(
        provider_id=policy.provider_id,
        customer_id=policy.customer_id,
        policy=policy,
        policy_name=policy.name,
        status="SUCCESS",
    )
    async with Socket(live_server.ws_url, intruder) as socket:
        await socket.subscribe("1", SESSION_LOG, {"id": gid("BackupSession", session.id)})
        message = await socket.receive()
        assert message["type"] == "next", message
        assert message["payload"]["data"] is None
        assert message["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert await socket.receive() == {"id": "1", "type": "complete"}


async def test_a_bad_cursor_or_another_sessions_cursor_is_bad_user_input(live_server, settings):
    _, policy, token = await setup(settings)
    await start_policy(live_server, token, policy.id)
    finished = await ended((await queued_session(policy)).id)
    session = await BackupSession.create(
        provider_id=policy.provider_id,
        customer_id=policy.customer_id,
        policy=policy,
        policy_name=policy.name,
        status="SUCCESS",
    )
    from vdc_graph.resolvers.sessions import log_cursor

    foreign = log_cursor(await SessionLogRecord.get(session_id=finished.id, seq=2))
    async with Socket(live_server.ws_url, token) as socket:
        for op_id, cursor in (("1", "nonsense"), ("2", foreign)):
            await socket.subscribe(
                op_id, SESSION_LOG, {"id": gid("BackupSession", session.id), "after": cursor}
            )
            message = await socket.receive()
            assert message["type"] == "next", message
            assert message["payload"]["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
            assert await socket.receive() == {"id": op_id, "type": "complete"}


SESSION_UPDATES = """subscription($filter: SessionUpdatesFilter) {
  sessionUpdates(filter: $filter) { id status progress policyName customer { displayName } }
}"""


async def test_session_updates_follow_the_filtered_sessions_from_queued_to_ended(
    live_server, settings
):
    provider, policy, token = await setup(settings)
    other_customer = await connected_customer(provider)
    other_policy = await make_policy_row(other_customer, "Other")
    foreign_provider = await make_provider("Foreign")
    foreign_policy = await make_policy_row(await connected_customer(foreign_provider))
    foreign_token = token_for(
        settings, await make_user(foreign_provider, [Permission.BACKUP_MANAGEMENT])
    )
    async with Socket(live_server.ws_url, token) as socket:
        await socket.subscribe(
            "u", SESSION_UPDATES, {"filter": {"customerId": gid("Customer", policy.customer_id)}}
        )
        await subscribed(updates_topic(provider.id))
        await start_policy(live_server, token, other_policy.id)
        await start_policy(live_server, foreign_token, foreign_policy.id)
        await start_policy(live_server, token, policy.id)
        seen = []
        while not seen or seen[-1]["status"] in ("QUEUED", "RUNNING"):
            message = await socket.receive()
            assert message["type"] == "next", message
            seen.append(message["payload"]["data"]["sessionUpdates"])
        await socket.send({"id": "u", "type": "complete"})
    assert {s["policyName"] for s in seen} == {"Entire organization"}
    assert seen[0]["status"] == "QUEUED" and seen[-1]["status"] == "SUCCESS"
    progress = [s["progress"] for s in seen]
    assert progress == sorted(progress) and progress[-1] == 100
    await all_ended()


async def test_a_duplicate_operation_id_of_a_live_subscription_closes_with_4409(
    live_server, settings
):
    provider, _, token = await setup(settings)
    async with Socket(live_server.ws_url, token) as socket:
        await socket.subscribe("same", SESSION_UPDATES, {})
        await subscribed(updates_topic(provider.id))
        await socket.subscribe("same", SESSION_UPDATES, {})
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(5):
                await socket.receive()
        assert closed.value.rcvd.code == 4409


async def test_the_legacy_graphql_ws_protocol_runs_a_session_log_subscription(
    live_server, settings
):
    _, policy, token = await setup(settings)
    await start_policy(live_server, token, policy.id)
    session = await queued_session(policy)
    async with websockets.connect(live_server.ws_url, subprotocols=[LEGACY_WS]) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "start",
                    "payload": {
                        "query": SESSION_LOG,
                        "variables": {"id": gid("BackupSession", session.id)},
                    },
                }
            )
        )
        payloads = []
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if message["type"] == "ka":
                continue
            if message["type"] == "complete":
                break
            assert message["type"] == "data", message
            payloads.append(message["payload"])
    assert sequences(payloads) == await stored_sequences(session.id)


async def test_session_updates_of_another_providers_customer_is_not_found(live_server, settings):
    _, _, token = await setup(settings)
    theirs = await connected_customer(await make_provider("Other"))
    async with Socket(live_server.ws_url, token) as socket:
        await socket.subscribe(
            "1", SESSION_UPDATES, {"filter": {"customerId": gid("Customer", theirs.id)}}
        )
        message = await socket.receive()
        assert message["type"] == "next", message
        assert message["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert await socket.receive() == {"id": "1", "type": "complete"}


@pytest.fixture
async def left_running(db):
    """A session a previous server process was running when it died (its lease lapsed)."""
    provider = await make_provider()
    policy = await make_policy_row(await connected_customer(provider))
    return await BackupSession.create(
        provider_id=provider.id,
        customer_id=policy.customer_id,
        policy=policy,
        policy_name=policy.name,
        status="RUNNING",
        owner="gone-host:4242:abcdef",
        lease_until=clock.now() - timedelta(seconds=1),
    )


async def test_a_server_takes_over_the_sessions_a_dead_process_left_running(
    left_running, live_server
):
    session = await ended(left_running.id)  # the server's start-up did it
    assert session.status == "FAILED"
    record = await SessionLogRecord.get(session_id=session.id)
    assert record.status == "FAILED" and "stopped renewing its claim" in record.message


async def test_metrics_show_the_open_socket_the_running_subscription_and_the_broker_lag(
    live_server, settings
):
    from tests.test_observability import samples

    async def scrape() -> dict:
        async with httpx.AsyncClient(base_url=live_server.http_url) as http:
            return samples((await http.get("/metrics")).text)

    def value(scraped: dict, name: str) -> float:
        return scraped.get((name, ()), 0.0)

    _, policy, token = await setup(settings)
    before = await scrape()
    await start_policy(live_server, token, policy.id)
    session = await queued_session(policy)
    async with Socket(live_server.ws_url, token) as socket:
        await socket.subscribe("1", SESSION_LOG, {"id": gid("BackupSession", session.id)})
        assert (await socket.receive())["type"] == "next"  # the subscription runs
        during = await scrape()
        await socket.until_complete("1")
    after = await scrape()
    connections, running = "vdc_websocket_connections", "vdc_subscriptions_active"
    assert value(during, connections) == value(before, connections) + 1
    assert value(during, running) == value(before, running) + 1
    lag = "vdc_broker_lag_seconds_count"
    assert value(after, lag) > value(before, lag)  # live batches came through the broker


async def test_subscribers_with_the_same_selection_and_rights_share_each_events_execution(
    live_server, settings, monkeypatch
):
    """Five watchers with one document and one role cost one execution per event; another
    selection, or other rights, executes on its own: three executions an event for seven."""
    from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

    from vdc_graph.events.sessions import log_topic
    from vdc_graph.schema.live import SessionLogEvent

    settings.engine_step_seconds = 0.1  # the server's settings: every watcher joins mid-run
    provider, policy, token = await setup(settings)
    other_rights = token_for(
        settings,
        await make_user(provider, [Permission.BACKUP_MANAGEMENT, Permission.CUSTOMER_MANAGEMENT]),
    )
    executions: dict[int, int] = {}  # shared results of a message -> executions of it
    kept: list[dict] = []  # alive, so no two messages' results share an id
    original = StrawberryGraphQLCoreExecutionContext.execute_operation

    def counted(self, *args, **kwargs):
        root = self.root_value
        if isinstance(root, SessionLogEvent) and root.shared_results is not None:
            key = id(root.shared_results)
            if key not in executions:
                kept.append(root.shared_results)
            executions[key] = executions.get(key, 0) + 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "execute_operation", counted)
    smaller = SESSION_LOG.replace("session { status progress processedObjects }", "")
    await start_policy(live_server, token, policy.id)
    session = await queued_session(policy)
    variables = {"id": gid("BackupSession", session.id)}
    watchers = [(token, SESSION_LOG)] * 5 + [(token, smaller), (other_rights, SESSION_LOG)]

    async def watch(credential: str, document: str) -> list[dict]:
        async with Socket(live_server.ws_url, credential) as socket:
            await socket.subscribe("1", document, variables)
            return await socket.until_complete("1")

    watching = [asyncio.ensure_future(watch(*w)) for w in watchers]
    await subscribed(log_topic(session.id), len(watchers))
    results = await asyncio.gather(*watching)

    stored = await stored_sequences(session.id)
    assert all(sequences(payloads) == stored for payloads in results)
    assert executions and max(executions.values()) <= 3, executions
    assert list(executions.values()).count(3) >= 3  # events every group executed, once each
    # Those who shared got the very same data (the rate-limit extension is each caller's own).
    tails = {json.dumps([p["data"] for p in payloads[-3:]]) for payloads in results[:5]}
    assert len(tails) == 1


async def test_a_fast_engine_writes_and_announces_its_records_in_batches(live_server, settings):
    """At full speed the engine commits many objects' records together: a watcher gets every
    record, in order, in far fewer events than there are objects."""
    settings.engine_step_seconds = 0.0
    _, policy, token = await setup(settings, users=400)
    await start_policy(live_server, token, policy.id)
    session = await queued_session(policy)
    async with Socket(live_server.ws_url, token) as socket:
        await socket.subscribe("1", SESSION_LOG, {"id": gid("BackupSession", session.id)})
        payloads = await socket.until_complete("1")
    stored = await stored_sequences(session.id)
    assert sequences(payloads) == stored == list(range(1, len(stored) + 1))
    finished = await BackupSession.get(id=session.id)
    assert finished.processed_objects > 400
    assert len(payloads) < finished.processed_objects / 4, len(payloads)
    assert payloads[-1]["data"]["sessionLog"]["session"]["status"] == "SUCCESS"
