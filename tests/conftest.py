"""Shared fixtures: a freshly migrated database per test, on SQLite and (when reachable)
on PostgreSQL, cloned from a template migrated once per session so each test starts fast."""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import shutil
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import asyncpg
import pytest
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from vdc_graph import clock
from vdc_graph.db.config import migrate, tortoise_config

POSTGRES_URL = os.environ.get("VDC_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("VDC_TEST_REDIS_URL")
BACKENDS = ["sqlite", "postgres"]
_counter = itertools.count()


def _with_database(url: str, name: str) -> str:
    parts = urlparse(url)
    return urlunparse(parts._replace(path=f"/{name}"))


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def _migrate_into(url: str) -> None:
    await migrate(tortoise_config(url))
    await Tortoise.close_connections()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_migrate_into(f"sqlite://{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_template() -> str:
    if not POSTGRES_URL:
        pytest.skip(
            "PostgreSQL tests need VDC_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test)"
        )
    name = f"vdc_template_{os.getpid()}"

    async def build() -> None:
        admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        await _migrate_into(_with_database(POSTGRES_URL, name))

    asyncio.run(build())
    yield name

    async def drop() -> None:
        admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        finally:
            await admin.close()

    asyncio.run(drop())


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of its own for this test."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite://{path}"
    name, url = clone_template(request.getfixturevalue("postgres_template"))
    request.addfinalizer(lambda: asyncio.run(_drop_database(name)))
    return url


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database of its own with no tables at all, for tests that migrate it step by step."""
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'empty.db'}"
    request.getfixturevalue("postgres_template")  # skips, saying how, without PostgreSQL
    name, url = clone_template(None)
    request.addfinalizer(lambda: asyncio.run(_drop_database(name)))
    return url


def clone_template(template: str | None) -> tuple[str, str]:
    """A new PostgreSQL database copied from the migrated template (empty without one): its
    name and URL."""
    assert POSTGRES_URL
    name = f"vdc_test_{os.getpid()}_{next(_counter)}"
    copy = f' TEMPLATE "{template}"' if template else ""

    async def create() -> None:
        admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
        try:
            await admin.execute(f'CREATE DATABASE "{name}"{copy}')
        finally:
            await admin.close()

    asyncio.run(create())
    return name, _with_database(POSTGRES_URL, name)


async def _drop_database(name: str) -> None:
    admin = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[str]:
    """Tortoise initialised on this test's database (in the test's own context)."""
    # Tortoise caches SQL per connection name process-wide; SQLite and PostgreSQL
    # tests share the name "default", so each test starts with an empty cache.
    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=tortoise_config(database_url))
    try:
        yield database_url
    finally:
        await Tortoise.close_connections()


@pytest.fixture(autouse=True)
def _real_clock() -> None:
    yield
    clock.set_clock(None)


def _sqlite_workers() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if "_connection_worker_thread" in t.name}


def pytest_unconfigure(config: pytest.Config) -> None:
    """Whatever a failing test left open, the run still ends: leftover SQLite connections are
    stopped, so their worker threads let the process exit."""
    import gc

    import aiosqlite

    for found in gc.get_objects():
        # type(), not isinstance(): a dead weak proxy among the objects raises on isinstance.
        if type(found) is aiosqlite.Connection and found._running:
            found.stop()


@pytest.fixture(autouse=True)
def _no_sqlite_connection_left_open() -> Iterator[None]:
    """A SQLite connection left open keeps its worker thread, which is not a daemon: the test
    process could not exit after the last test. The test that leaves one fails instead."""
    before = _sqlite_workers()
    yield
    deadline = time.monotonic() + 5
    while (left := _sqlite_workers() - before) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not left, f"SQLite connections left open: {sorted(t.name for t in left)}"


# --- the API as clients see it -------------------------------------------------------------

from collections import Counter  # noqa: E402

import graphql  # noqa: E402
import httpx  # noqa: E402

from vdc_graph.app import create_app  # noqa: E402
from vdc_graph.settings import Settings  # noqa: E402


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        dev_token_secret="test-secret-" + "x" * 40,
        state_dir=tmp_path / "state",
        ws_init_timeout_seconds=0.5,
    )


@functools.cache
def _schema() -> graphql.GraphQLSchema:
    return graphql.build_schema((Path(__file__).parent.parent / "schema.graphql").read_text())


def assert_names_input_field(mutation: str, path: list[str]) -> None:
    """A userError's ``field`` is the path of a field of the mutation's input (list items by
    index), so a form can mark the field at fault."""
    argument = _schema().mutation_type.fields[mutation].args.get(path[0])  # type: ignore[union-attr]
    assert argument is not None, f"{mutation}: userError field {path} names no argument"
    kind = graphql.get_nullable_type(argument.type)
    for name in path[1:]:
        if isinstance(kind, graphql.GraphQLList):
            assert name.isdigit(), f"{mutation}: {path} needs an index at {name!r}"
            kind = graphql.get_nullable_type(kind.of_type)
            continue
        assert isinstance(kind, graphql.GraphQLInputObjectType), f"{mutation}: {path}"
        assert name in kind.fields, f"{mutation}: userError field {path} names no input field"
        kind = graphql.get_nullable_type(kind.fields[name].type)


class GraphQLClient:
    """Speaks GraphQL over HTTP to the app in-process, the way a client does.

    It also notes every mutation it sees done or refused, so the ``api`` fixture can check that
    the audit log holds a record for each one the test performed.
    """

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.audited: Counter[tuple[str, str]] = Counter()  # (action, outcome) -> how many
        self.idempotency_keys: set[str] = set()

    def _note_mutations(self, query: str, response: httpx.Response) -> None:
        try:
            document = graphql.parse(query)
        except graphql.GraphQLError:
            return
        operations = [
            d
            for d in document.definitions
            if isinstance(d, graphql.OperationDefinitionNode)
            and d.operation is graphql.OperationType.MUTATION
        ]
        if len(operations) != 1:
            return
        fields = [
            f for f in operations[0].selection_set.selections if isinstance(f, graphql.FieldNode)
        ]
        body = response.json()
        if response.status_code in (401, 403):
            self.audited[(fields[0].name.value, "DENIED")] += 1
            return
        data = body.get("data") or {}
        refused_at = {
            e["path"][0]
            for e in body.get("errors", [])
            if e.get("path") and e.get("extensions", {}).get("code") in REFUSALS
        }
        for field in fields:
            key = field.alias.value if field.alias else field.name.value
            result = data.get(key)
            errors = result.get("userErrors") if isinstance(result, dict) else None
            for error in errors or ():
                if error.get("field") is not None:
                    assert_names_input_field(field.name.value, error["field"])
            if key in refused_at:
                self.audited[(field.name.value, "DENIED")] += 1
            elif isinstance(result, dict) and not result.get("userErrors"):
                self.audited[(field.name.value, "SUCCESS")] += 1

    async def post(
        self,
        query: str,
        variables: dict | None = None,
        *,
        token: str | None = None,
        headers: dict | None = None,
    ) -> httpx.Response:
        all_headers = {"Authorization": f"Bearer {token}"} if token else {}
        all_headers.update(headers or {})
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=all_headers
        )
        # A retry with an Idempotency-Key replays the first answer: it did nothing new.
        key = {k.lower(): v for k, v in all_headers.items()}.get("idempotency-key")
        if key is None or key not in self.idempotency_keys:
            self._note_mutations(query, response)
        if key is not None:
            self.idempotency_keys.add(key)
        return response

    async def data(self, query: str, variables: dict | None = None, *, token: str) -> dict:
        """The response's data, failing the test on any error."""
        response = await self.post(query, variables, token=token)
        body = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def errors(self, query: str, variables: dict | None = None, *, token: str) -> list:
        response = await self.post(query, variables, token=token)
        body = response.json()
        assert body.get("errors"), body
        return body["errors"]


@pytest.fixture
async def api(db: str, settings: Settings) -> AsyncIterator[GraphQLClient]:
    app = create_app(settings, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        client = GraphQLClient(http)
        yield client
    await _check_audit_log(client.audited)


REFUSALS = {"UNAUTHENTICATED", "FORBIDDEN"}


async def _check_audit_log(expected: Counter[tuple[str, str]]) -> None:
    """Every mutation the test performed (done or refused) has its audit record."""
    from vdc_graph.db.models import AuditRecord

    rows = await AuditRecord.all().values_list("action", "outcome", "repeat_count")
    # A mutation that changed several objects writes one record per object: at least one.
    # Repeated anonymous refusals are one record standing for each of them.
    found: Counter[tuple[str, str]] = Counter()
    for action, outcome, repeats in rows:
        found[(action, str(outcome.value if hasattr(outcome, "value") else outcome))] += repeats
    missing = {k: n for k, n in expected.items() if found[k] < n}
    assert not missing, f"mutations without their audit records: {missing}"


class LiveServer:
    def __init__(self, server: Any, port: int) -> None:
        self.server, self.port = server, port

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"


@pytest.fixture
async def live_server(db: str, settings: Settings) -> AsyncIterator[LiveServer]:
    """A real uvicorn serving the app on a free port, in this test's event loop."""
    import uvicorn

    config = uvicorn.Config(
        create_app(settings, manage_database=False),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield LiveServer(server, port)
    finally:
        server.should_exit = True
        await task
