"""The SQLite backend with writers that take the lock up front.

SQLite's plain ``BEGIN`` is deferred: a transaction that reads, then writes, asks for the
write lock only at its first write, and when another process holds it SQLite answers "database
is locked" at once (waiting could deadlock), whatever the busy timeout. ``BEGIN IMMEDIATE``
asks for the write lock when the transaction starts, where the busy timeout applies: several
processes on one file then queue for it instead of failing. Reads outside a transaction are
unaffected (WAL lets them run beside the writer).

Its SELECTs make rows into instances with a plan per column list (see ``db/rows.py``).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tortoise.backends.base.client import TransactionalDBClient, TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.backends.sqlite.executor import SqliteExecutor
from tortoise.connection import get_connections
from tortoise.exceptions import OperationalError

from vdc_graph.db.rows import PlannedSelect


def is_database_busy(error: BaseException | None) -> bool:
    """Whether ``error`` (or what caused it) is SQLite's lock timeout."""
    while error is not None:
        if isinstance(error, sqlite3.OperationalError | OperationalError) and (
            "database is locked" in str(error) or "database is busy" in str(error)
        ):
            return True
        error = error.__cause__ or error.__context__
    return False


class PlannedSqliteExecutor(PlannedSelect, SqliteExecutor):
    pass


class _ImmediateWrapper(SqliteTransactionWrapper):
    executor_class = PlannedSqliteExecutor

    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise OperationalError(exc) from exc


class _ImmediateContext(SqliteTransactionContext):
    async def __aenter__(self) -> TransactionalDBClient:
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
            self.token = get_connections().set(self.connection_name, self.connection)
            try:
                await self.connection.begin()
            except BaseException:
                get_connections().reset(self.token)
                raise
        except BaseException:
            self._trxlock.release()  # a lock timeout must not keep this process's writers out
            raise
        return self.connection


class ImmediateSqliteClient(SqliteClient):
    executor_class = PlannedSqliteExecutor

    def _in_transaction(self) -> TransactionContext:
        return _ImmediateContext(_ImmediateWrapper(self), self._lock)


client_class = ImmediateSqliteClient

# Rows ANALYZE reads of each index: enough for the planner, and bounded at any table size.
ANALYSIS_LIMIT = 1000


async def refresh_planner_statistics() -> None:
    """SQLite's planner statistics (PostgreSQL keeps its own). Without them SQLite guesses,
    and guesses wrong: a lookup of customers by key scanned every customer of the provider
    through the (provider, deleted) index instead of reading each by its key."""
    connection = get_connections().get("default")
    if isinstance(connection, SqliteClient):
        await connection.execute_script(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}; ANALYZE;")


def get_client_class(db_info: dict[str, Any]) -> type[SqliteClient]:
    return ImmediateSqliteClient
