"""The PostgreSQL backend (asyncpg): Tortoise's, with SELECTs that make rows into instances
with a plan per column list (see ``db/rows.py``), in and out of transactions."""

from __future__ import annotations

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


class PlannedAsyncpgClient(AsyncpgDBClient):
    executor_class = PlannedAsyncpgExecutor

    def _in_transaction(self) -> TransactionContext:
        return TransactionContextPooled(_Transaction(self), self._pool_init_lock)


client_class = PlannedAsyncpgClient
