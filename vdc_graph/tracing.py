"""OpenTelemetry traces: a span per HTTP request, and strawberry's spans per operation and per
resolver (fields with a resolver of their own; plain attributes are not traced).

Off unless the standard variables ask for it: ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) set, ``OTEL_TRACES_EXPORTER`` not ``none`` and
``OTEL_SDK_DISABLED`` not ``true``. The OTLP/HTTP exporter reads the other ``OTEL_*`` variables
(headers, timeout, protocol) itself; ``OTEL_SERVICE_NAME`` defaults to ``vdc-graph``. Off, the
API's no-op tracer costs next to nothing and the resolver extension is not installed.
"""

from __future__ import annotations

import os

from opentelemetry import trace

_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")

tracer = trace.get_tracer("vdc_graph")


def requested() -> bool:
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return False
    return any(os.environ.get(name) for name in _ENDPOINTS)


def configure_tracing() -> None:
    """Installs the SDK with the OTLP exporter when the environment asks for traces."""
    if not requested() or enabled():
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = os.environ.get("OTEL_SERVICE_NAME") or "vdc-graph"
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


def enabled() -> bool:
    """Whether a real tracer provider is installed (spans are recorded somewhere)."""
    provider = trace.get_tracer_provider()
    return not isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider)
