"""Every HTTP request's ID and its one log line (with the request's metrics beside it).

The request ID is the client's ``X-Request-Id`` when it is well-formed (so a request can be
followed through proxies), else a new one; it is returned in the response's ``X-Request-Id``.
Endpoints add what they know (the GraphQL operation, the caller, the outcome) to the
request's ``RequestFacts``; the line is written once the response has been sent.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vdc_graph import metrics
from vdc_graph.tracing import tracer

log = logging.getLogger("vdc_graph.request")

# Long enough for a UUID or a trace ID, and nothing that could forge a log line or a header.
_WELL_FORMED = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
_FACTS = "vdc_graph.facts"


@dataclass
class RequestFacts:
    request_id: str
    operation_name: str | None = None
    operation_type: str | None = None
    provider_id: str | None = None
    user_id: str | None = None
    api_key_id: str | None = None
    outcome: str = "ok"  # "ok", or the error code the client got

    def fields(self) -> dict[str, str]:
        """The facts known, named as in the log line."""
        named = {
            "requestId": self.request_id,
            "operationName": self.operation_name,
            "operationType": self.operation_type,
            "providerId": self.provider_id,
            "userId": self.user_id,
            "apiKeyId": self.api_key_id,
            "outcome": self.outcome,
        }
        return {k: v for k, v in named.items() if v is not None}

    def caller(self, principal: Any) -> None:
        """Names the caller by IDs only (never a token or an email)."""
        if principal is None:
            return
        self.provider_id = _text(principal.provider_id)
        self.user_id = _text(principal.user_id)
        self.api_key_id = _text(principal.api_key_id)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def request_id_from(header: str | None) -> str:
    return header if header and _WELL_FORMED.match(header) else uuid.uuid4().hex


def facts(connection: HTTPConnection) -> RequestFacts:
    """The request's facts (a fresh set outside the middleware, e.g. in unit tests)."""
    found = connection.scope.get(_FACTS)
    if found is None:
        found = connection.scope[_FACTS] = RequestFacts(
            request_id_from(connection.headers.get("x-request-id"))
        )
    return found


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        found = facts(HTTPConnection(scope))
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                metrics.count_request(scope["path"], found)
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"x-request-id"]
                headers.append((b"x-request-id", found.request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        path = scope["path"]
        span = tracer.start_span(f"{scope['method']} {metrics.route(path)}", kind=SpanKind.SERVER)
        with trace.use_span(span, end_on_exit=True):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                seconds = time.perf_counter() - started
                if status >= 500 and found.outcome == "ok":
                    found.outcome = "error"
                fields = {
                    **found.fields(),
                    "method": scope["method"],
                    "path": path,
                    "status": status,
                    "durationMs": round(seconds * 1000, 2),
                }
                if span.is_recording():
                    fields["traceId"] = format(span.get_span_context().trace_id, "032x")
                    span.set_attributes(
                        {
                            "http.request.method": scope["method"],
                            "url.path": path,
                            "http.response.status_code": status,
                            **{f"vdc.{k}": v for k, v in found.fields().items()},
                        }
                    )
                    if status >= 500:
                        span.set_status(StatusCode.ERROR)
                log.info("%s %s %s", scope["method"], path, status, extra={"fields": fields})
                metrics.observe_duration(path, found, seconds)
