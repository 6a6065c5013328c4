"""The Starlette application: routes, lifespan (database, identity) and health checks."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from tortoise.connection import get_connection
from tortoise.contrib.starlette import RegisterTortoise

from vdc_graph.auth import Authenticator
from vdc_graph.background import background_jobs
from vdc_graph.cluster import single_process_guard
from vdc_graph.db.config import DatabaseNotMigrated, pending_migrations, tortoise_config
from vdc_graph.engine import engine_for
from vdc_graph.events import broker, open_broker
from vdc_graph.exports.routes import export_routes
from vdc_graph.http.graphiql import explorer_asset
from vdc_graph.http.graphql_http import GraphQLHttp
from vdc_graph.http.request_log import RequestLogMiddleware
from vdc_graph.http.websocket import GraphQLWebSocket
from vdc_graph.logs import configure_logging
from vdc_graph.metrics import metrics_endpoint
from vdc_graph.schema.root import build_schema
from vdc_graph.settings import Settings, get_settings
from vdc_graph.tracing import configure_tracing

log = logging.getLogger("vdc_graph")


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Ready when the database answers and the events broker is connected."""
    database = "reachable"
    try:
        async with asyncio.timeout(2):
            await get_connection("default").execute_query("SELECT 1")
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log
        log.warning("readiness check failed: %s", exc)
        database = "unreachable"
    events = broker().state()
    ready = database == "reachable" and events == "connected"
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "database": database, "broker": events},
        status_code=200 if ready else 503,
    )


async def ensure_migrated() -> None:
    pending = await pending_migrations()
    if pending:
        raise DatabaseNotMigrated(pending)


def freeze_startup_objects() -> None:
    """Moves what start-up built (modules, the schema, the models) out of the garbage
    collector's reach: it lives as long as the process, and each full collection would walk
    it again (≈ 50 ms every few dozen requests of a 100-row list). Only for the process that
    serves the application: frozen objects are never collected."""
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None, *, manage_database: bool = True) -> Starlette:
    """The application. ``manage_database=False`` leaves Tortoise to the caller (tests)."""
    settings = settings or get_settings()
    schema = build_schema(settings)
    authenticator = Authenticator(settings)
    http = GraphQLHttp(schema, settings, authenticator)
    websocket = GraphQLWebSocket(schema, settings, authenticator)

    @asynccontextmanager
    async def running_jobs() -> AsyncIterator[None]:
        async with (
            open_broker(settings.broker_url, settings.broker_prefix),
            single_process_guard(settings),
        ):
            tasks = [asyncio.create_task(job()) for job in background_jobs(settings)]
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await engine_for(settings).shutdown()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            if manage_database:
                async with RegisterTortoise(
                    app,
                    config=tortoise_config(
                        settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms
                    ),
                    _enable_global_fallback=True,
                ):
                    await ensure_migrated()
                    async with running_jobs():
                        freeze_startup_objects()
                        yield
            else:
                async with running_jobs():
                    yield
        finally:
            await authenticator.aclose()

    explorer_routes = (
        [Route("/graphql/explorer/{name}", explorer_asset)] if settings.is_development else []
    )
    app = Starlette(
        middleware=[Middleware(RequestLogMiddleware)],
        routes=[
            Route("/graphql", http.__call__, methods=["GET", "POST"]),
            *explorer_routes,
            WebSocketRoute("/graphql", websocket),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint(settings)),
            *export_routes(settings, authenticator),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.schema = schema
    return app


def create_served_app() -> Starlette:
    """The application as ``serve`` runs it (in every worker): logging configured first."""
    settings = get_settings()
    configure_logging(settings)
    configure_tracing()
    return create_app(settings)
