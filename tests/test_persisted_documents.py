"""Persisted documents against real ``vdc-graph serve`` processes: Apollo's automatic persisted
queries (POST and GET, a bounded store, Apollo's error codes) and a trusted-documents-only
server built from a manifest the CLI writes from ``examples/``."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from tests.test_cli import ROOT, fresh_env, run, seeded_server

LIST_CUSTOMERS = (ROOT / "examples" / "list-customers.graphql").read_text()


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(text: str, version: int = 1) -> dict:
    return {"persistedQuery": {"version": version, "sha256Hash": sha(text)}}


class Server:
    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token

    def post(self, body: dict) -> httpx.Response:
        return httpx.post(
            f"{self.url}/graphql", json=body, headers={"Authorization": f"Bearer {self.token}"}
        )

    def get(self, params: dict) -> httpx.Response:
        encoded = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()}
        return httpx.get(
            f"{self.url}/graphql",
            params=encoded,
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
        )


def serving(folder: Path, **settings: str) -> Iterator[Server]:
    manifest = settings.get("VDC_TRUSTED_DOCUMENTS")
    if manifest:  # written by the CLI from examples/, as an operator would
        run(fresh_env(folder), "trusted-documents", "examples", "--output", manifest)
    with seeded_server(folder, **settings) as (url, token, _):
        yield Server(url, token)


@pytest.fixture(scope="module")
def apq(tmp_path_factory) -> Iterator[Server]:
    yield from serving(tmp_path_factory.mktemp("apq"), VDC_APQ_MAX_ENTRIES="2")


@pytest.fixture(scope="module")
def trusted_only(tmp_path_factory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("trusted")
    yield from serving(
        folder,
        VDC_TRUSTED_DOCUMENTS=str(folder / "manifest.json"),
        VDC_TRUSTED_DOCUMENTS_ONLY="true",
    )


def code(response: httpx.Response) -> str:
    return response.json()["errors"][0]["extensions"]["code"]


def test_an_unknown_hash_asks_the_client_to_send_the_document(apq) -> None:
    query = "{ customers { totalCount } }"
    missed = apq.get({"extensions": persisted(query)})
    assert missed.status_code == 200 and code(missed) == "PERSISTED_QUERY_NOT_FOUND"
    assert missed.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert "no-cache" in missed.headers["cache-control"]
    registered = apq.post({"query": query, "extensions": persisted(query)})
    assert registered.json()["data"] == {"customers": {"totalCount": 3}}
    by_get = apq.get({"extensions": persisted(query)})
    assert by_get.json()["data"] == {"customers": {"totalCount": 3}}
    by_post = apq.post({"extensions": persisted(query)})
    assert by_post.json()["data"] == {"customers": {"totalCount": 3}}


def test_variables_and_operation_names_travel_with_the_hash(apq) -> None:
    apq.post({"query": LIST_CUSTOMERS, "extensions": persisted(LIST_CUSTOMERS)})
    page = apq.get(
        {
            "extensions": persisted(LIST_CUSTOMERS),
            "operationName": "ListCustomers",
            "variables": {"first": 1},
        }
    )
    assert len(page.json()["data"]["customers"]["nodes"]) == 1


def test_a_hash_that_does_not_match_or_an_unknown_version_is_refused(apq) -> None:
    wrong = apq.post(
        {
            "query": "{ viewer { permissions } }",
            "extensions": persisted("{ customers { totalCount } }"),
        }
    )
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["message"] == "provided sha does not match query"
    version = apq.post({"extensions": persisted("{ viewer { permissions } }", version=2)})
    assert version.status_code == 400 and "version" in version.json()["errors"][0]["message"]


def test_a_document_that_fails_validation_is_not_registered(apq) -> None:
    broken = "{ customers { noSuchField } }"
    assert apq.post({"query": broken, "extensions": persisted(broken)}).json()["errors"]
    assert code(apq.post({"extensions": persisted(broken)})) == "PERSISTED_QUERY_NOT_FOUND"


def test_the_store_is_bounded(apq) -> None:
    documents = [f"{{ customers(first: {n}) {{ totalCount }} }}" for n in (1, 2, 3)]
    for document in documents:
        assert "data" in apq.post({"query": document, "extensions": persisted(document)}).json()
    # Two entries at most: the least recently used one is gone, the newest is there.
    assert code(apq.post({"extensions": persisted(documents[0])})) == "PERSISTED_QUERY_NOT_FOUND"
    assert apq.post({"extensions": persisted(documents[2])}).json()["data"]


def test_a_trusted_documents_server_runs_only_the_manifest(trusted_only) -> None:
    full = trusted_only.post({"query": LIST_CUSTOMERS, "operationName": "ListCustomers"})
    assert full.json()["data"]["customers"]["totalCount"] == 3
    by_hash = trusted_only.get(
        {"extensions": persisted(LIST_CUSTOMERS), "operationName": "ListCustomers"}
    )
    assert by_hash.json()["data"]["customers"]["totalCount"] == 3
    arbitrary = "{ customers { totalCount } }"
    refused = trusted_only.post({"query": arbitrary})
    assert code(refused) == "PERSISTED_QUERY_NOT_IN_LIST" and "data" not in refused.json()
    registering = trusted_only.post({"query": arbitrary, "extensions": persisted(arbitrary)})
    assert registering.status_code == 400 and code(registering) == "PERSISTED_QUERY_NOT_IN_LIST"
    assert code(trusted_only.post({"extensions": persisted(arbitrary)})) == (
        "PERSISTED_QUERY_NOT_IN_LIST"
    )


def test_a_trusted_documents_server_refuses_other_documents_over_websocket(trusted_only) -> None:
    async def scenario() -> dict:
        url = trusted_only.url.replace("http://", "ws://") + "/graphql"
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
            init = {"authorization": f"Bearer {trusted_only.token}"}
            await ws.send(json.dumps({"type": "connection_init", "payload": init}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
            payload = {"query": "{ customers { totalCount } }"}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            return json.loads(await asyncio.wait_for(ws.recv(), 10))

    answer = asyncio.run(scenario())
    assert answer["type"] in ("error", "next"), answer
    errors = answer["payload"] if answer["type"] == "error" else answer["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
