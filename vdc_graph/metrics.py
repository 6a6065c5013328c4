"""Prometheus metrics (the standard client), served at ``/metrics``.

With several worker processes (``serve --workers N``) the command line points
``PROMETHEUS_MULTIPROC_DIR`` at an empty folder before the workers start; each worker then
writes its samples there and any worker's ``/metrics`` reports the sum of all of them.

Per request the cost is a few counter and histogram updates. What lives in the database
(queue depths, running sessions) is counted when ``/metrics`` is scraped.
"""

from __future__ import annotations

import hmac
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as _DEFAULT_REGISTRY
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

if TYPE_CHECKING:
    from vdc_graph.http.request_log import RequestFacts
    from vdc_graph.settings import Settings

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter(
    "vdc_graphql_requests",
    "GraphQL HTTP requests by operation name, type and outcome (ok or the error code)",
    ["operation", "type", "outcome"],
)
DURATION = Histogram(
    "vdc_http_request_duration_seconds",
    "Time to answer an HTTP request, by route and GraphQL operation type",
    ["route", "type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
WEBSOCKETS = Gauge(
    "vdc_websocket_connections", "Open WebSocket connections", multiprocess_mode="livesum"
)
SUBSCRIPTIONS = Gauge(
    "vdc_subscriptions_active", "Running GraphQL subscriptions", multiprocess_mode="livesum"
)
BROKER_LAG = Histogram(
    "vdc_broker_lag_seconds",
    "Time from an event's publication to its receipt by a subscription",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
DELIVERIES = Counter(
    "vdc_deliveries",
    "Delivery attempts of the outbox (email, Teams) and of webhooks, by outcome",
    ["channel", "outcome"],
)
QUEUE = Gauge(
    "vdc_queue_depth",
    "Messages waiting to be delivered, by queue (as of the last scrape)",
    ["queue"],
    multiprocess_mode="mostrecent",
)
SESSIONS_RUNNING = Gauge(
    "vdc_backup_sessions_running",
    "Backup sessions queued or running (as of the last scrape)",
    multiprocess_mode="mostrecent",
)
POOL = Gauge(
    "vdc_database_pool_connections",
    "Database connections of this process's pool, by state",
    ["state"],
    multiprocess_mode="livesum",
)

# Operation names come from clients: only plain names are labels, and only so many of them,
# so a client cannot blow up the number of series.
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_MAX_NAMES = 200
_names: set[str] = set()
_ROUTES = ("/graphql/explorer", "/graphql", "/exports", "/metrics", "/healthz", "/readyz")


def _operation_label(name: str | None) -> str:
    if not name:
        return "(anonymous)"
    if not _NAME.match(name):
        return "(other)"
    if name not in _names:
        if len(_names) >= _MAX_NAMES:
            return "(other)"
        _names.add(name)
    return name


def route(path: str) -> str:
    """The route a path belongs to (a bounded set, fit for a label or a span name)."""
    return next((r for r in _ROUTES if path == r or path.startswith(r + "/")), "(other)")


def count_request(path: str, facts: RequestFacts) -> None:
    """Counted as the response starts, so a client that has its answer sees it counted."""
    if facts.operation_type is not None and route(path) == "/graphql":
        label = _operation_label(facts.operation_name)
        REQUESTS.labels(label, facts.operation_type, facts.outcome).inc()


def observe_duration(path: str, facts: RequestFacts, seconds: float) -> None:
    DURATION.labels(route(path), facts.operation_type or "").observe(seconds)


def broker_lag(message: dict[str, Any]) -> None:
    published = message.get("publishedAt")
    if isinstance(published, int | float):
        BROKER_LAG.observe(max(0.0, time.time() - published))


def delivery(channel: str, outcome: str) -> None:
    DELIVERIES.labels(channel, outcome).inc()


async def _refresh_from_database() -> None:
    from tortoise.connection import get_connection

    from vdc_graph.db.models import BackupSession, OutboxMessage, WebhookDelivery
    from vdc_graph.enums import DeliveryStatus, SessionStatus

    QUEUE.labels("outbox").set(await OutboxMessage.filter(status=DeliveryStatus.PENDING).count())
    QUEUE.labels("webhooks").set(
        await WebhookDelivery.filter(status=DeliveryStatus.PENDING).count()
    )
    SESSIONS_RUNNING.set(
        await BackupSession.filter(status__in=[SessionStatus.QUEUED, SessionStatus.RUNNING]).count()
    )
    pool: Any = getattr(get_connection("default"), "_pool", None)
    if pool is not None and hasattr(pool, "get_size"):  # asyncpg
        size, idle = pool.get_size(), pool.get_idle_size()
        POOL.labels("in_use").set(size - idle)
        POOL.labels("idle").set(idle)
    # SQLite has a single connection and no pool: nothing to report.


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def forget_dead_workers(folder: str) -> None:
    """A worker killed without shutting down (and replaced by uvicorn) leaves its live gauges
    (connections, subscriptions, pool) in the folder; they are dropped once it is gone, so
    the sums count live workers only."""
    for path in Path(folder).glob("gauge_live*_*.db"):
        pid = path.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            multiprocess.mark_process_dead(int(pid), folder)


def _registry() -> CollectorRegistry:
    if folder := os.environ.get(MULTIPROCESS_ENV):
        forget_dead_workers(folder)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return _DEFAULT_REGISTRY


def metrics_endpoint(settings: Settings):
    """``GET /metrics``: open in development; in production only with VDC_METRICS_TOKEN."""
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None

    async def endpoint(request: Request) -> Response:
        if token is None and not settings.is_development:
            return PlainTextResponse("Not found", status_code=404)
        if token is not None:
            given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(given.encode(), token.encode()):
                return PlainTextResponse(
                    "Send Authorization: Bearer <VDC_METRICS_TOKEN>",
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
        await _refresh_from_database()
        return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)

    return endpoint
