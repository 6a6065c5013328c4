"""Only VDC_TRUSTED_PROXIES may set the client's address, however the server is started.

Each test starts a real server process (``serve``, ``serve --workers 2``, ``demo``) and sends a
spoofed ``X-Forwarded-For`` from 127.0.0.1; the audit log must record the connection's address.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests import test_cli
from tests.cluster_support import cross_process_broker
from tests.test_cli import free_port, run, start, stop, wait_until_healthy

env = test_cli.env  # the fixture: a fresh SQLite database and state directory

SPOOFED = "203.0.113.7"
REFUSED_MUTATION = (
    'mutation { roleCreate(input: {name: "x", permissions: []}) { userErrors { code } } }'
)
AUDIT = "{ auditLog(first: 20) { edges { node { action outcome clientAddress } } } }"


def _refused_addresses(port: int, monitor: str, admin: str) -> list[str]:
    """A monitoring-only user tries a change with a spoofed header; the addresses recorded."""
    url = f"http://127.0.0.1:{port}/graphql"
    refused = httpx.post(
        url,
        json={"query": REFUSED_MUTATION},
        headers={"Authorization": f"Bearer {monitor}", "X-Forwarded-For": SPOOFED},
    )
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN", refused.text
    log = httpx.post(url, json={"query": AUDIT}, headers={"Authorization": f"Bearer {admin}"})
    edges = log.json()["data"]["auditLog"]["edges"]
    return [
        e["node"]["clientAddress"]
        for e in edges
        if e["node"]["action"] == "roleCreate" and e["node"]["outcome"] == "DENIED"
    ]


def _tokens(env: dict[str, str]) -> tuple[str, str]:
    monitor = run(env, "token", "--email", "monitor@demo.example").stdout.strip()
    admin = run(env, "token", "--email", "admin@demo.example").stdout.strip()
    return monitor, admin


@pytest.mark.parametrize(
    ("workers", "proxies", "expected"),
    [
        (1, None, "127.0.0.1"),  # no trusted proxy: the header is not believed
        (2, None, "127.0.0.1"),  # nor in worker processes
        (1, ["127.0.0.1"], SPOOFED),  # a named proxy is believed (the control)
    ],
)
def test_serve_believes_forwarded_headers_only_from_trusted_proxies(
    env, workers, proxies, expected
):
    run(env, "seed", "--customers", "2")
    monitor, admin = _tokens(env)
    if proxies is not None:
        env = {**env, "VDC_TRUSTED_PROXIES": json.dumps(proxies)}
    if workers > 1:  # several processes need a broker that crosses them
        env = {**env, **cross_process_broker()}
    # uvicorn's own switch, which must not matter: the app decides.
    env = {**env, "FORWARDED_ALLOW_IPS": "*"}
    port = free_port()
    process = start(env, "serve", "--port", str(port), "--workers", str(workers))
    try:
        wait_until_healthy(port, process)
        assert _refused_addresses(port, monitor, admin) == [expected]
    finally:
        stop(process)


def test_demo_does_not_believe_forwarded_headers(env):
    port = free_port()
    process = start(env, "demo", "--customers", "2", "--port", str(port))
    try:
        wait_until_healthy(port, process, timeout=120)
        monitor, admin = _tokens(env)
        assert _refused_addresses(port, monitor, admin) == ["127.0.0.1"]
    finally:
        stop(process)
