"""The yardstick: a plain Starlette endpoint answering the customers page and the Flex Backups
page with hand-written SQL, the same JSON ``/graphql`` answers (the bench checks they are
equal before it measures). It is not part of the product.

    VDC_DATABASE_URL=sqlite://PATH .venv/bin/uvicorn bench.raw_app:app --port 8001

It verifies the development token the way the product does (HS256, issuer, expiry) and reads
the provider from it; then one statement for the page and one for its count.
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiosqlite
import asyncpg
import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from vdc_graph.db.postgres import nothing_to_reset
from vdc_graph.settings import Settings

PAGE = 20
CUSTOMER_COLUMNS = (
    "id, display_name, m365_account, external_id, contract_type, license_model, source_type, "
    "licenses_used, activation_date, storage_consumed_gb, backed_up_accounts, "
    "total_active_accounts, user_change"
)
# The last column is the sort value a cursor holds (the name as the product orders it).
CUSTOMERS_SQL = (
    f"SELECT {CUSTOMER_COLUMNS}, lower(display_name) FROM customer "
    "WHERE provider_id = $1 AND deleted_at IS NULL "
    f"ORDER BY lower(display_name), id LIMIT {PAGE + 1}"
)
CUSTOMERS_COUNT_SQL = "SELECT COUNT(*) FROM customer WHERE provider_id = $1 AND deleted_at IS NULL"
POLICIES_SQL = (
    "SELECT p.id, p.name, p.enabled, p.last_run, p.last_status, p.average_processing_seconds, "
    "p.schedule_interval_hours, c.id, c.display_name, p.name_key FROM backup_policy p "
    "JOIN customer c ON c.id = p.customer_id "
    "WHERE p.provider_id = $1 AND c.deleted_at IS NULL "
    f"ORDER BY p.name_key, p.id LIMIT {PAGE + 1}"
)
# The provider's policies less those of its (few) deleted customers: one covering index.
POLICIES_COUNT_SQL = (
    "SELECT COUNT(*) FROM backup_policy WHERE provider_id = $1 AND customer_id NOT IN "
    "(SELECT id FROM customer WHERE provider_id = $1 AND deleted_at IS NOT NULL)"
)


class Database:
    """One aiosqlite connection (as the product keeps) or an asyncpg pool."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite: aiosqlite.Connection | None = None
        self.pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        if self.url.startswith("sqlite://"):
            self.sqlite = await aiosqlite.connect(self.url.removeprefix("sqlite://"))
            await self.sqlite.execute("PRAGMA journal_mode=WAL")
        else:
            # As the product's pool (db/postgres.py): no reset statement on release.
            self.pool = await asyncpg.create_pool(
                self.url, min_size=1, max_size=5, reset=nothing_to_reset
            )

    async def close(self) -> None:
        if self.sqlite is not None:
            await self.sqlite.close()
        if self.pool is not None:
            await self.pool.close()

    async def rows(self, sql: str, provider: str) -> list[tuple[Any, ...]]:
        if self.sqlite is not None:
            cursor = await self.sqlite.execute(
                sql.replace("$1", ":provider"), {"provider": provider}
            )
            return list(await cursor.fetchall())
        assert self.pool is not None
        return [tuple(r) for r in await self.pool.fetch(sql, uuid.UUID(provider))]


def global_id(type_name: str, key: Any) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def cursor(order: str, value: Any, key: Any) -> str:
    raw = json.dumps([order, value, str(key)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def moment(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def page_info(cursors: list[str], more: bool) -> dict[str, Any]:
    return {
        "hasNextPage": more,
        "hasPreviousPage": False,
        "startCursor": cursors[0] if cursors else None,
        "endCursor": cursors[-1] if cursors else None,
    }


def customer_node(row: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "id": global_id("Customer", row[0]),
        "displayName": row[1],
        "m365Account": row[2] or None,  # unknown (no tenant yet) is null, as the API says
        "externalId": row[3],
        "contractType": row[4],
        "licenseModel": row[5],
        "sourceType": row[6],
        "licensesUsed": row[7],
        "activationDate": iso(moment(row[8])),
        "storageConsumedGb": float(row[9]),
        "backedUpAccounts": row[10],
        "totalActiveAccounts": row[11],
        "userChange": row[12],
    }


def policy_node(row: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "id": global_id("BackupPolicy", row[0]),
        "name": row[1],
        "enabled": bool(row[2]),
        "lastRun": iso(moment(row[3])),
        "lastStatus": row[4],
        "averageProcessingSeconds": row[5],
        "scheduleIntervalHours": row[6],
        "customer": {"id": global_id("Customer", row[7]), "displayName": row[8]},
    }


def create_app() -> Starlette:
    settings = Settings()
    secret = settings.development_secret()
    database = Database(os.environ.get("VDC_DATABASE_URL", settings.database_url))

    def provider_of(request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or secret is None:
            return None
        try:
            claims = jwt.decode(token, secret, algorithms=["HS256"], issuer="vdc-graph-development")
        except jwt.PyJWTError:
            return None
        return claims["pid"] if claims.get("exp", 0) > time.time() else None

    def page_endpoint(
        root: str, sql: str, count_sql: str, order: str, node: Callable[[tuple], dict]
    ) -> Callable[[Request], Awaitable[Response]]:
        """One list page: its rows (first column the key, last the sort value) and count."""

        async def endpoint(request: Request) -> Response:
            provider = provider_of(request)
            if provider is None:
                return JSONResponse({"errors": [{"message": "Sign in"}]}, status_code=401)
            rows = await database.rows(sql, provider)
            (count,) = (await database.rows(count_sql, provider))[0]
            more, rows = len(rows) > PAGE, rows[:PAGE]
            cursors = [cursor(order, r[-1], r[0]) for r in rows]
            connection = {
                "totalCount": count,
                "pageInfo": page_info(cursors, more),
                "nodes": [node(r) for r in rows],
            }
            return JSONResponse({"data": {root: connection}})

        return endpoint

    customers = page_endpoint(
        "customers", CUSTOMERS_SQL, CUSTOMERS_COUNT_SQL, "DISPLAY_NAME", customer_node
    )
    policies = page_endpoint(
        "backupPolicies", POLICIES_SQL, POLICIES_COUNT_SQL, "NAME", policy_node
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await database.open()
        try:
            yield
        finally:
            await database.close()

    return Starlette(
        routes=[
            Route("/customers", customers, methods=["POST"]),
            Route("/policies", policies, methods=["POST"]),
        ],
        lifespan=lifespan,
    )


app = create_app()
