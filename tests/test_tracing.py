"""Traces: a real server exports its spans over OTLP/HTTP when the OTEL_* variables say so."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.test_cli import ROOT, env, free_port, run, start, stop, wait_until_healthy

__all__ = ["env"]  # the command-line tests' fixture

RESOLVING = "GraphQL Resolving: "  # strawberry's span per resolver
QUERY = "query ListCustomers { viewer { permissions } customers(first: 2) { totalCount } }"


class Collector:
    """An OTLP/HTTP trace receiver on a free port, keeping every span it is sent."""

    def __init__(self) -> None:
        self.spans: list = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest.FromString(body)
                for resource in request.resource_spans:
                    for scope in resource.scope_spans:
                        collector.spans.extend(scope.spans)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, condition, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition(self.spans):
                return
            time.sleep(0.05)
        raise AssertionError(f"spans never arrived: {[s.name for s in self.spans]}")


def attributes(span) -> dict:
    return {a.key: getattr(a.value, a.value.WhichOneof("value")) for a in span.attributes}


def test_spans_per_request_and_resolver_are_exported_over_otlp(env):
    collector = Collector()
    run(env, "seed", "--customers", "2")
    token = run(env, "token", "--email", "admin@demo.example").stdout.strip()
    traced = {
        **env,
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
        "OTEL_SERVICE_NAME": "vdc-graph-test",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    port = free_port()
    server = start(traced, "serve", "--port", str(port))
    try:
        wait_until_healthy(port, server)
        response = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": QUERY},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200
        request_id = response.headers["x-request-id"]

        def request_span(spans) -> list:
            return [s for s in spans if attributes(s).get("vdc.requestId") == request_id]

        collector.wait_for(lambda spans: request_span(spans))
        root = request_span(collector.spans)[0]
        collector.wait_for(
            lambda spans: any(
                s.trace_id == root.trace_id and s.name == RESOLVING + "customers" for s in spans
            )
        )
    finally:
        log = stop(server)
        collector.server.shutdown()

    assert root.name == "POST /graphql"
    facts = attributes(root)
    assert facts["http.response.status_code"] == 200
    assert facts["vdc.operationName"] == "ListCustomers"
    assert facts["vdc.operationType"] == "query"
    same_trace = {s.name for s in collector.spans if s.trace_id == root.trace_id}
    expected = {"GraphQL Query: ListCustomers", RESOLVING + "customers", RESOLVING + "viewer"}
    assert expected <= same_trace, same_trace
    # The request's log line names its trace, so a log search leads to the trace.
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    line = next(x for x in lines if x.get("requestId") == request_id)
    assert line["traceId"] == root.trace_id.hex()


def test_without_otel_variables_nothing_is_traced(env):
    run(env, "migrate")
    port = free_port()
    server = start(env, "serve", "--port", str(port))
    try:
        wait_until_healthy(port, server)
        httpx.get(f"http://127.0.0.1:{port}/healthz")
    finally:
        log = stop(server)
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert lines and not [x for x in lines if "traceId" in x]


def test_spans_nest_request_operation_and_resolver_in_the_sdk_memory_exporter(database_url):
    """The SDK's in-memory exporter, in a process of its own: each request is one trace, the
    operation's span is a child of the request's, each resolver's a child of the operation's;
    a refused field marks its span as an error."""
    ran = subprocess.run(
        [sys.executable, "-m", "tests.traced_app", database_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr[-4000:]
    spans = [json.loads(line) for line in ran.stdout.splitlines()]
    by_id = {s["spanId"]: s for s in spans}
    requests = [s for s in spans if s["name"] == "POST /graphql"]
    assert len(requests) == 3 and len({s["traceId"] for s in requests}) == 3
    assert all(s["parentId"] is None for s in requests)

    def under(name: str) -> dict:
        span = next(s for s in spans if s["name"] == name)
        return by_id[span["parentId"]]

    assert under("GraphQL Query: ListCustomers")["name"] == "POST /graphql"
    assert under(RESOLVING + "customers")["name"] == "GraphQL Query: ListCustomers"
    assert under("GraphQL Query: Register")["name"] == "POST /graphql"  # strawberry's name
    assert under(RESOLVING + "customerRegister")["name"] == "GraphQL Query: Register"
    operations = {s["attributes"].get("vdc.operationName"): s for s in requests}
    assert operations["ListCustomers"]["attributes"]["vdc.operationType"] == "query"
    assert operations["Register"]["attributes"]["vdc.operationType"] == "mutation"
    assert operations["Roles"]["attributes"]["vdc.outcome"] == "FORBIDDEN"
    refused = next(s for s in spans if s["name"] == RESOLVING + "roles")
    assert refused["status"] == "ERROR" and "exception" in refused["events"]
    # Argument values (names, addresses, secrets) are never written to a span.
    assert not [k for s in spans for k in s["attributes"] if k.startswith("graphql.param.")]
    assert "Traced" not in ran.stdout
