"""GraphQL over WebSocket: both subprotocols, authentication in connection_init, and the close
codes of the graphql-transport-ws protocol."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tests.factories import make_customer, make_provider, make_user, token_for

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"


@pytest.fixture
async def token(settings, db):
    provider = await make_provider()
    await make_customer(provider)
    await make_customer(provider)
    return token_for(settings, await make_user(provider, []))


async def finished_session_with_log(messages: list[str]) -> str:
    """A finished session (of the only provider's first customer) and its global ID."""
    from strawberry.relay import to_base64

    from vdc_graph import clock
    from vdc_graph.db.models import BackupSession, Customer, SessionLogRecord

    customer = await Customer.all().order_by("created_at").first()
    session = await BackupSession.create(
        provider_id=customer.provider_id,
        customer=customer,
        policy_name="Daily",
        status="SUCCESS",
        last_seq=len(messages),
    )
    for seq, message in enumerate(messages, start=1):
        await SessionLogRecord.create(
            session=session, seq=seq, at=clock.now(), status="INFO", message=message
        )
    return to_base64("BackupSession", str(session.id))


async def receive(ws) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), 5))


async def closed_with(ws) -> int:
    return (await close_frame(ws)).code


async def close_frame(ws):
    with pytest.raises(ConnectionClosed) as closed:
        for _ in range(5):
            await asyncio.wait_for(ws.recv(), 5)
    return closed.value.rcvd


async def test_transport_ws_runs_an_operation_after_a_signed_in_init(live_server, token):
    async with websockets.connect(live_server.ws_url, subprotocols=[TRANSPORT_WS]) as ws:
        assert ws.subprotocol == TRANSPORT_WS
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        assert (await receive(ws))["type"] == "connection_ack"
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": "{ customers { totalCount } }"},
                }
            )
        )
        message = await receive(ws)
        assert (message["id"], message["type"]) == ("1", "next")
        assert message["payload"]["data"] == {"customers": {"totalCount": 2}}
        assert await receive(ws) == {"id": "1", "type": "complete"}


@pytest.mark.parametrize("payload", [{}, {"authorization": "Bearer forged"}, {"authorization": 42}])
async def test_a_missing_or_bad_token_closes_with_4403(live_server, token, payload):
    async with websockets.connect(live_server.ws_url, subprotocols=[TRANSPORT_WS]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        frame = await close_frame(ws)
    # The reason says why, so a client (the explorer) can show it.
    assert frame.code == 4403
    assert frame.reason == (
        "Sign in: send authorization in the connection_init payload"
        if payload.get("authorization") != "Bearer forged"
        else "The token is not valid"
    )


async def test_no_init_in_time_closes_with_4408(live_server, settings, token):
    async with websockets.connect(live_server.ws_url, subprotocols=[TRANSPORT_WS]) as ws:
        assert await closed_with(ws) == 4408


async def test_a_second_init_closes_with_4429(live_server, token):
    init = json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    async with websockets.connect(live_server.ws_url, subprotocols=[TRANSPORT_WS]) as ws:
        await ws.send(init)
        assert (await receive(ws))["type"] == "connection_ack"
        await ws.send(init)
        assert await closed_with(ws) == 4429


async def test_subscribe_before_ack_closes_with_4401(live_server, token):
    async with websockets.connect(live_server.ws_url, subprotocols=[TRANSPORT_WS]) as ws:
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": "{ customers { totalCount } }"},
                }
            )
        )
        assert await closed_with(ws) == 4401


async def test_legacy_graphql_ws_signs_in_runs_subscriptions_and_refuses_queries(
    live_server, token
):
    async with websockets.connect(live_server.ws_url, subprotocols=[LEGACY_WS]) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        assert (await receive(ws))["type"] == "connection_ack"
        await ws.send(
            json.dumps(
                {"id": "1", "type": "start", "payload": {"query": "{ customers { totalCount } }"}}
            )
        )
        message = await receive(ws)
        assert message["type"] in ("data", "error")
        error = (message["payload"].get("errors") or [message["payload"]])[0]
        assert "subscriptions only" in error["message"]

        # A subscription runs over it: a finished session's log, replayed, then complete.
        session_id = await finished_session_with_log(["Job started at: x", "Job finished at: y"])
        await ws.send(
            json.dumps(
                {
                    "id": "2",
                    "type": "start",
                    "payload": {
                        "query": "subscription($id: ID!) { sessionLog(sessionId: $id) "
                        "{ records { sequence message } session { status } } }",
                        "variables": {"id": session_id},
                    },
                }
            )
        )
        data = await receive(ws)
        while data["id"] != "2":  # what is left of the refused operation
            data = await receive(ws)
        assert data["type"] == "data"
        assert data["payload"]["data"]["sessionLog"] == {
            "records": [
                {"sequence": 1, "message": "Job started at: x"},
                {"sequence": 2, "message": "Job finished at: y"},
            ],
            "session": {"status": "SUCCESS"},
        }
        assert await receive(ws) == {"id": "2", "type": "complete"}


async def test_legacy_graphql_ws_refuses_a_bad_token(live_server, token):
    async with websockets.connect(live_server.ws_url, subprotocols=[LEGACY_WS]) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": "Bearer forged"}})
        )
        assert (await receive(ws))["type"] == "connection_error"


async def test_a_socket_is_closed_when_its_token_expires(live_server, settings, db):
    from datetime import timedelta

    provider = await make_provider()
    short = token_for(settings, await make_user(provider, []), expires_in=timedelta(seconds=2))
    async with websockets.connect(live_server.ws_url, subprotocols=[TRANSPORT_WS]) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {short}"}})
        )
        assert (await receive(ws))["type"] == "connection_ack"
        assert await closed_with(ws) == 4403


async def test_rights_are_read_again_for_each_operation_on_a_socket(live_server, settings, db):
    from vdc_graph.db.models import Role

    provider = await make_provider()
    await make_customer(provider)
    user = await make_user(provider, [])
    query = {"query": "{ customers { totalCount } }"}
    async with websockets.connect(live_server.ws_url, subprotocols=[TRANSPORT_WS]) as ws:
        await ws.send(
            json.dumps(
                {
                    "type": "connection_init",
                    "payload": {"authorization": f"Bearer {token_for(settings, user)}"},
                }
            )
        )
        assert (await receive(ws))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": query}))
        assert (await receive(ws))["payload"]["data"]["customers"]["totalCount"] == 1
        await receive(ws)  # complete
        await Role.filter(provider=provider).delete()  # the user loses every right
        await ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": query}))
        refused = await receive(ws)
        assert refused["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
