"""The PostgreSQL backend (asyncpg): Tortoise's, with SELECTs that make rows into instances
with a plan per column list (see ``db/rows.py``), in and out of transactions, and a pool that
sends no reset statement when a connection comes back.

asyncpg's pool resets each released connection with ``SELECT pg_advisory_unlock_all(); CLOSE
ALL; UNLISTEN *; RESET ALL``: one more round trip for every statement, as Tortoise takes a
connection from the pool per statement outside a transaction. The ORM's connections keep no
session state to reset (no advisory locks, cursors outside a transaction, LISTEN or SET; the
event broker has connections of its own); an open transaction is still rolled back (asyncpg
does that before calling the reset)."""

from __future__ import annotations

from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.asyncpg.executor import AsyncpgExecutor
from tortoise.backends.base.client import (
    NestedTransactionContext,
    TransactionContext,
    TransactionContextPooled,
)

from vdc_graph.db.rows import PlannedSelect


class PlannedAsyncpgExecutor(PlannedSelect, AsyncpgExecutor):
    pass


class _Transaction(TransactionWrapper):
    executor_class = PlannedAsyncpgExecutor

    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(_Transaction(self))


async def nothing_to_reset(connection: asyncpg.Connection) -> None:
    """The pool's reset: nothing (see above)."""
    return None


class PlannedAsyncpgClient(AsyncpgDBClient):
    executor_class = PlannedAsyncpgExecutor

    async def create_pool(self, **kwargs: Any) -> asyncpg.Pool:
        return await asyncpg.create_pool(None, reset=nothing_to_reset, **kwargs)

    def _in_transaction(self) -> TransactionContext:
        return TransactionContextPooled(_Transaction(self), self._pool_init_lock)


client_class = PlannedAsyncpgClient
