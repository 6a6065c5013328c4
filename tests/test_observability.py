"""Operating the server: request IDs, one structured log line per request, Prometheus metrics."""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.cluster_support import cross_process_broker
from tests.factories import make_provider, make_user, token_for
from tests.test_cli import env, free_port, run, start, stop, wait_until_healthy
from vdc_graph.enums import Permission

__all__ = ["env"]  # the command-line tests' fixture

QUERY = "query ListCustomers { customers(first: 5) { totalCount } }"


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """(sample name, sorted labels) -> value, parsed with Prometheus' own text parser."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def requests_counted(scraped: dict, operation: str, kind: str, outcome: str) -> float:
    labels = (("operation", operation), ("outcome", outcome), ("type", kind))
    return scraped.get(("vdc_graphql_requests_total", labels), 0.0)


async def test_metrics_parse_and_count_requests_by_operation_and_outcome(api, settings):
    provider = await make_provider()
    token = token_for(settings, await make_user(provider, [Permission.MONITORING_ACCESS]))
    before = samples((await api.http.get("/metrics")).text)
    for _ in range(3):
        assert (await api.post(QUERY, token=token)).status_code == 200
    assert (await api.post(QUERY)).status_code == 401
    response = await api.http.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    after = samples(response.text)

    def moved(*labels: str) -> float:
        return requests_counted(after, *labels) - requests_counted(before, *labels)

    assert moved("ListCustomers", "query", "ok") == 3
    # Refused before its document is read: the name only when the client sent operationName.
    assert moved("(anonymous)", "unknown", "UNAUTHENTICATED") == 1
    latency = ("route", "/graphql"), ("type", "query")
    count = ("vdc_http_request_duration_seconds_count", tuple(sorted(latency)))
    assert after[count] - before.get(count, 0) == 3
    assert ("vdc_queue_depth", (("queue", "outbox"),)) in after
    assert ("vdc_backup_sessions_running", ()) in after


async def test_a_client_chosen_operation_name_cannot_flood_the_metrics(api, settings):
    provider = await make_provider()
    token = token_for(settings, await make_user(provider, [Permission.MONITORING_ACCESS]))
    weird = "query Name_with_ünicode { viewer { permissions } }"
    response = await api.http.post(
        "/graphql", json={"query": weird}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 400  # not a valid GraphQL name: a syntax error
    scraped = (await api.http.get("/metrics")).text
    assert "ünicode" not in scraped


async def test_metrics_need_the_configured_token(api, settings):
    from pydantic import SecretStr

    from vdc_graph.app import create_app

    settings.metrics_token = SecretStr("scrape-me-please")
    app = create_app(settings, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        assert (await http.get("/metrics")).status_code == 401
        wrong = {"Authorization": "Bearer scrape-me-not"}
        assert (await http.get("/metrics", headers=wrong)).status_code == 401
        right = {"Authorization": "Bearer scrape-me-please"}
        assert (await http.get("/metrics", headers=right)).status_code == 200


async def test_the_request_id_is_kept_when_well_formed_and_on_the_log_line(api, settings, caplog):
    provider = await make_provider()
    token = token_for(settings, await make_user(provider, [Permission.MONITORING_ACCESS]))
    caplog.set_level(logging.INFO, logger="vdc_graph.request")
    mine = "client-3f1c9a7e-0001"
    kept = await api.post(QUERY, token=token, headers={"X-Request-Id": mine})
    assert kept.headers["x-request-id"] == mine
    forged = await api.post(QUERY, token=token, headers={"X-Request-Id": 'a b"}{"level":"x'})
    new_id = forged.headers["x-request-id"]
    assert "level" not in new_id and len(new_id) == 32
    lines = {r.fields["requestId"]: r.fields for r in caplog.records if hasattr(r, "fields")}
    line = lines[mine]
    assert line["operationName"] == "ListCustomers" and line["operationType"] == "query"
    assert line["outcome"] == "ok" and line["status"] == 200
    assert line["providerId"] == str(provider.id) and "userId" in line
    assert line["durationMs"] >= 0
    assert new_id in lines
    assert token not in caplog.text


def test_a_served_run_logs_json_lines_without_tokens_or_secrets(env):
    """A real server: one JSON line per request (no uvicorn access line), INFO messages such
    as why a token was refused, and none of the tokens or secrets the run used."""
    run(env, "seed", "--customers", "3")
    token = run(env, "token", "--email", "admin@demo.example").stdout.strip()
    port = free_port()
    server = start(env, "serve", "--port", str(port))
    secrets = [token]
    try:
        wait_until_healthy(port, server)
        url = f"http://127.0.0.1:{port}/graphql"
        auth = {"Authorization": f"Bearer {token}"}
        created = httpx.post(
            url,
            json={
                "query": 'mutation { apiKeyCreate(input: {name: "ops", permissions: []}) '
                "{ secret } }"
            },
            headers={**auth, "X-Request-Id": "run-00000001"},
        ).json()
        key = created["data"]["apiKeyCreate"]["secret"]
        secrets.append(key)
        hook = httpx.post(
            url,
            json={
                "query": 'mutation { webhookCreate(input: {url: "https://127.0.0.1:9/h", '
                "eventTypes: [SESSION_FAILED]}) { secret userErrors { message } } }"
            },
            headers=auth,
        ).json()["data"]["webhookCreate"]
        assert hook["userErrors"] == [] and hook["secret"]
        secrets.append(hook["secret"])
        as_key = httpx.post(url, json={"query": QUERY}, headers={"Authorization": f"Bearer {key}"})
        assert as_key.status_code == 200
        refused = httpx.post(url, json={"query": QUERY}, headers={"Authorization": "Bearer x.y.z"})
        assert refused.status_code == 401
    finally:
        log = stop(server)
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    requests = [line for line in lines if line["logger"] == "vdc_graph.request"]
    by_id = {line["requestId"]: line for line in requests}
    assert by_id["run-00000001"]["outcome"] == "ok"
    assert by_id[as_key.headers["x-request-id"]]["apiKeyId"]
    assert by_id[refused.headers["x-request-id"]]["outcome"] == "UNAUTHENTICATED"
    assert all({"time", "level", "message"} <= set(line) for line in lines)
    assert not [line for line in lines if line["logger"] == "uvicorn.access"]
    assert any(line["message"].startswith("token refused") for line in lines)
    for secret in secrets:
        assert secret not in log
        assert secret.split(".")[-1] not in log  # not even a token's signature


def test_workers_share_their_metrics(env):
    """``serve --workers 2``: whichever worker answers the scrape counts every worker's
    requests (Prometheus' multi-process mode)."""
    run(env, "seed", "--customers", "1")
    token = run(env, "token", "--email", "admin@demo.example").stdout.strip()
    port = free_port()
    env = {**env, **cross_process_broker()}  # several processes need a broker that crosses them
    server = start(env, "serve", "--port", str(port), "--workers", "2")
    try:
        wait_until_healthy(port, server)
        base = f"http://127.0.0.1:{port}"
        sent = 20
        for _ in range(sent):  # new connections, spread over the workers by the kernel
            response = httpx.post(
                f"{base}/graphql",
                json={"query": QUERY},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200
        counted = {
            requests_counted(
                samples(httpx.get(f"{base}/metrics").text), "ListCustomers", "query", "ok"
            )
            for _ in range(6)
        }
    finally:
        stop(server)
    assert counted == {sent}, counted


def test_the_log_level_and_format_are_settings(env):
    run(env, "migrate")
    port = free_port()
    quiet = {**env, "VDC_LOG_FORMAT": "text", "VDC_LOG_LEVEL": "warning"}
    server = start(quiet, "serve", "--port", str(port))
    try:
        wait_until_healthy(port, server)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    finally:
        log = stop(server)
    assert "GET /healthz" not in log  # request lines are INFO
    assert not [line for line in log.splitlines() if line.startswith("{")]


def test_a_killed_workers_connections_leave_the_metrics(env):
    """A worker killed with -9 (uvicorn starts another) cannot count its sockets down; the
    scrape stops counting them once the worker is gone."""
    run(env, "seed", "--customers", "1")
    token = run(env, "token", "--email", "admin@demo.example").stdout.strip()
    port = free_port()
    env = {**env, **cross_process_broker()}
    server = start(env, "serve", "--port", str(port), "--workers", "2")
    base = f"http://127.0.0.1:{port}"

    def connections() -> float:
        scraped = samples(httpx.get(f"{base}/metrics").text)
        return scraped[("vdc_websocket_connections", ())]

    try:
        wait_until_healthy(port, server)
        with ExitStack() as opened:
            sockets = [opened.enter_context(signed_in_socket(port, token)) for _ in range(6)]
            assert connections() == 6
            folder = Path(env["VDC_STATE_DIR"]) / "metrics"
            workers = {int(p.stem.rsplit("_", 1)[1]) for p in folder.glob("gauge_livesum_*.db")}
            workers.discard(server.pid)
            assert len(workers) == 2, workers
            for pid in sorted(workers):  # the second only if the first held no socket
                os.kill(pid, signal.SIGKILL)
                open_now = [ws for ws in sockets if still_open(ws)]
                if len(open_now) < len(sockets):
                    break
            assert len(open_now) < 6
            deadline = time.monotonic() + 30
            while connections() != len(open_now) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert connections() == len(open_now)
    finally:
        stop(server)


@contextmanager
def signed_in_socket(port: int, token: str) -> Iterator[ClientConnection]:
    with connect(f"ws://127.0.0.1:{port}/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        ws.send(json.dumps(init))
        assert json.loads(ws.recv(timeout=30))["type"] == "connection_ack"
        yield ws


def still_open(ws: ClientConnection) -> bool:
    try:
        return ws.ping().wait(10)
    except ConnectionClosed:
        return False
