"""Benchmark of the demo data generator (``vdc_graph.demo.seed_demo``).

Run from the project root:

    .venv/bin/python bench/seed_demo.py [CUSTOMERS]          # default 10000

It migrates a fresh temporary SQLite database and seeds it; when ``VDC_TEST_POSTGRES_URL`` is
set (e.g. ``postgres://postgres@127.0.0.1:5432/test``) it does the same in a temporary
PostgreSQL database, created with ``CREATE DATABASE`` next to that one and dropped afterwards.
For each backend it prints the seconds ``seed_demo`` took (migration excluded), the rows it
created (all tables) and rows per second.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse, urlunparse

import asyncpg
from tortoise import Tortoise, connections
from tortoise.backends.base.executor import EXECUTOR_CACHE

from vdc_graph.db import models
from vdc_graph.db.config import migrate, tortoise_config
from vdc_graph.demo import seed_demo

ANCHOR = datetime(2025, 6, 15, tzinfo=UTC)
T = TypeVar("T")


@dataclass(frozen=True)
class Result:
    backend: str
    seconds: float
    rows: int
    customers: int


async def count_rows() -> int:
    total = 0
    for name in models.__all__:
        total += await getattr(models, name).all().count()
    _, rows = await connections.get("default").execute_query(
        "SELECT COUNT(*) AS n FROM portal_user_role"
    )
    return total + int(rows[0]["n"])


async def run(backend: str, url: str, customers: int) -> Result:
    EXECUTOR_CACHE.clear()  # Tortoise caches SQL per connection name, across backends
    await migrate(tortoise_config(url))
    await Tortoise.close_connections()
    await Tortoise.init(config=tortoise_config(url))
    try:
        started = time.perf_counter()
        summary = await seed_demo(customers=customers, seed=1, anchor=ANCHOR, progress=True)
        seconds = time.perf_counter() - started
        assert summary.created
        return Result(backend, seconds, await count_rows(), summary.customers)
    finally:
        await Tortoise.close_connections()


def _with_database(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def in_temporary_postgres(
    base_url: str, prefix: str, run: Callable[[str], Awaitable[T]]
) -> T:
    """``run(url)`` in a PostgreSQL database created next to ``base_url``'s, then dropped."""
    name = f"{prefix}_{os.getpid()}"
    admin = await asyncpg.connect(_asyncpg_dsn(base_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        return await run(_with_database(base_url, name))
    finally:
        admin = await asyncpg.connect(_asyncpg_dsn(base_url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def run_postgres(base_url: str, customers: int) -> Result:
    return await in_temporary_postgres(
        base_url, "vdc_bench", lambda url: run("postgres", url, customers)
    )


async def main(customers: int) -> None:
    results = []
    with tempfile.TemporaryDirectory(prefix="vdc-bench-") as tmp:
        results.append(await run("sqlite", f"sqlite://{Path(tmp) / 'bench.db'}", customers))
    postgres_url = os.environ.get("VDC_TEST_POSTGRES_URL")
    if postgres_url:
        results.append(await run_postgres(postgres_url, customers))
    else:
        print("(PostgreSQL skipped: VDC_TEST_POSTGRES_URL is not set)", file=sys.stderr)
    print(f"\nseed_demo(customers={customers}), {os.cpu_count()} CPUs")
    print(f"{'backend':<10} {'customers':>9} {'seconds':>8} {'rows':>9} {'rows/s':>9}")
    for r in results:
        print(
            f"{r.backend:<10} {r.customers:>9} {r.seconds:>8.1f} {r.rows:>9} "
            f"{r.rows / r.seconds:>9.0f}"
        )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10000))
