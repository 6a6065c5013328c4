"""Bounded work per request, against a real ``vdc-graph serve`` process.

Each refusal is a clear JSON error (or a 4400 close on WebSocket), answered quickly, and the
server keeps serving others afterwards.
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

from tests.test_cli import seeded_server

VIEWER = "{ viewer { permissions } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with seeded_server(tmp_path_factory.mktemp("limits")) as (url, token, _):
        yield url, token


def post(server, body, **kwargs) -> httpx.Response:
    url, token = server
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    content = body if not isinstance(body, dict) else json.dumps(body).encode()
    return httpx.post(
        f"{url}/graphql", content=content, headers=headers | kwargs.pop("headers", {}), **kwargs
    )


def refusal(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/"), response.text
    return response.json()["errors"][0]["message"]


def still_serving(server) -> None:
    response = post(server, {"query": VIEWER})
    assert response.status_code == 200 and "errors" not in response.json()


def test_nodes_takes_at_most_100_ids_and_each_id_costs(server) -> None:
    ids = [str(relay.GlobalID("Customer", f"00000000-0000-0000-0000-{n:012d}")) for n in range(101)]
    query = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    refused = post(server, {"query": query, "variables": {"ids": ids}})
    assert "nodes(ids:) takes at most 100 IDs; this one names 101" in refusal(refused)
    assert refused.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    literal = "{ nodes(ids: [" + ", ".join(json.dumps(i) for i in ids) + "]) { id } }"
    assert "at most 100 IDs" in refusal(post(server, {"query": literal}))
    one = post(server, {"query": query, "variables": {"ids": ids[:1]}}).json()
    hundred = post(server, {"query": query, "variables": {"ids": ids[:100]}}).json()
    assert hundred["data"]["nodes"] == [None] * 100
    assert one["extensions"]["rateLimit"]["cost"] == 1
    assert hundred["extensions"]["rateLimit"]["cost"] == 10  # each ID weighs 10 nodes


def test_a_large_body_is_refused_while_it_is_read(server) -> None:
    big = json.dumps({"query": VIEWER, "variables": {"pad": "x" * 10_000_000}}).encode()
    declared = post(server, big)
    assert declared.status_code == 413
    assert "larger than 262144 bytes" in refusal(declared)

    sent = 0

    def chunks():  # no Content-Length: the server must count what arrives
        nonlocal sent
        for _ in range(160):
            sent += 65536
            yield b" " * 65536

    started = time.monotonic()
    try:
        streamed = post(server, chunks())
        assert streamed.status_code == 413
    except httpx.HTTPError:
        pass  # the server may close the connection as it refuses; what counts is below
    assert time.monotonic() - started < 10
    still_serving(server)


def test_variables_have_a_size_limit(server) -> None:
    response = post(server, {"query": VIEWER, "variables": {"pad": "x" * 70_000}})
    assert response.status_code == 400
    assert "variables are larger than 65536 bytes" in refusal(response)


def test_introspection_aliases_count_and_the_schema_is_asked_for_once(server) -> None:
    for copies in (100, 300):
        many = (
            "{ " + " ".join(f"s{i}: __schema {{ types {{ name }} }}" for i in range(copies)) + " }"
        )
        started = time.monotonic()
        message = refusal(post(server, {"query": many}))
        assert time.monotonic() - started < 5  # refused before anything ran
        # 100 copies pass the token limit and meet the alias limit; 300 meet the token limit.
        assert ("100 aliases; the limit is 15" if copies == 100 else "2000 tokens") in message
    twice = post(
        server, {"query": "{ a: __schema { queryType { name } } __schema { types { name } } }"}
    )
    assert "asks for __schema 2 times" in refusal(twice)
    inside = "{ __schema { " + " ".join(f"t{i}: types {{ name }}" for i in range(16)) + " } }"
    assert "16 aliases; the limit is 15" in refusal(post(server, {"query": inside}))
    types = "{ " + " ".join(f't{i}: __type(name: "Customer") {{ name }}' for i in range(16)) + " }"
    assert "16 aliases" in refusal(post(server, {"query": types}))
    full = post(server, {"query": "{ __schema { types { name fields { name } } } }"})
    assert full.status_code == 200 and full.json()["data"]["__schema"]["types"]
    still_serving(server)


def test_deeply_nested_json_is_a_client_error(server) -> None:
    deep = b'{"query": "{ viewer { permissions } }", "variables": {"a": '
    deep += b"[" * 100_000 + b"]" * 100_000 + b"}}"  # 200 kB: within the body limit
    response = post(server, deep)
    assert response.status_code == 400
    assert "nests deeper than 20 levels" in refusal(response)
    nested: object = 1
    for _ in range(25):
        nested = {"a": nested}
    variables = post(server, {"query": VIEWER, "variables": {"x": nested}})
    assert variables.status_code == 400 and "nests deeper" in refusal(variables)
    still_serving(server)


def test_deeply_nested_json_over_websocket_closes_with_4400(server) -> None:
    url, token = server

    async def scenario() -> int:
        ws_url = url.replace("http://", "ws://") + "/graphql"
        async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:
            init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
            await ws.send(json.dumps(init))
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
            await ws.send(
                '{"id": "1", "type": "subscribe", "payload": ' + "[" * 50_000 + "]" * 50_000 + "}"
            )
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            return closed.value.rcvd.code

    assert asyncio.run(scenario()) == 4400
    still_serving(server)


def test_directives_have_a_limit(server) -> None:
    fields = " ".join("permissions @include(if: true)" for _ in range(51))
    response = post(server, {"query": "{ viewer { " + fields + " } }"})
    assert "51 directives; the limit is 50" in refusal(response)
    # A fragment's directives count each time it is spread.
    fragment = (
        "fragment F on Viewer { permissions @include(if: true) @skip(if: false) "
        "user { email @include(if: true) @skip(if: false) } }"
    )
    spreads = " ".join(f"v{i}: viewer {{ ...F }}" for i in range(13))
    spread = post(server, {"query": "{ " + spreads + " } " + fragment})
    assert "52 directives; the limit is 50" in refusal(spread)
    assert (
        post(server, {"query": "{ viewer { permissions @include(if: true) } }"}).status_code == 200
    )
