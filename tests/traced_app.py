"""Run as ``python -m tests.traced_app DATABASE_URL``: the app in this process with the
OpenTelemetry SDK's in-memory exporter, a query, a mutation and a refused query sent to it;
prints every finished span as one JSON line. A process of its own because a process can set
its tracer provider only once."""

from __future__ import annotations

import asyncio
import json
import sys

import httpx
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from tortoise import Tortoise

from tests.factories import make_provider, make_user, token_for
from vdc_graph.app import create_app
from vdc_graph.db.config import tortoise_config
from vdc_graph.enums import Permission
from vdc_graph.settings import Settings

QUERY = "query ListCustomers { viewer { permissions } customers(first: 2) { totalCount } }"
MUTATION = """mutation Register($input: CustomerRegisterInput!) {
  customerRegister(input: $input) { created userErrors { field } } }"""
REFUSED = "query Roles { roles(first: 1) { totalCount } }"


async def main(database_url: str) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)

    settings = Settings(dev_token_secret="traced-secret-" + "x" * 40)
    await Tortoise.init(config=tortoise_config(database_url))
    tenant = await make_provider()
    admin = token_for(settings, await make_user(tenant, [Permission.CUSTOMER_MANAGEMENT]))
    app = create_app(settings, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        headers = {"Authorization": f"Bearer {admin}"}
        customer = {"displayName": "Traced", "externalId": "T-1", "sourceType": "VCSP_PULSE"}
        for body in (
            {"query": QUERY},
            {"query": MUTATION, "variables": {"input": customer}},
            {"query": REFUSED},
        ):
            (await http.post("/graphql", json=body, headers=headers)).raise_for_status()
    await Tortoise.close_connections()

    for span in exporter.get_finished_spans():
        line = {
            "name": span.name,
            "traceId": format(span.context.trace_id, "032x"),
            "spanId": format(span.context.span_id, "016x"),
            "parentId": format(span.parent.span_id, "016x") if span.parent else None,
            "attributes": dict(span.attributes or {}),
            "status": span.status.status_code.name,
            "events": [event.name for event in span.events],
        }
        print(json.dumps(line, default=str))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
