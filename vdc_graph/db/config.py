"""The Tortoise configuration for a database URL, and the migration commands over it."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlparse

from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connection
from tortoise.context import require_context
from tortoise.migrations.api import migrate as migrate_api
from tortoise.migrations.autodetector import MigrationAutodetector
from tortoise.migrations.executor import MigrationExecutor

MODELS_MODULE = "vdc_graph.db.models"
MIGRATIONS_MODULE = "vdc_graph.db.migrations"


_APP = {"models": [MODELS_MODULE], "default_connection": "default", "migrations": MIGRATIONS_MODULE}


class DatabaseNotMigrated(RuntimeError):
    def __init__(self, pending: list[str]) -> None:
        super().__init__(
            f"the database is missing {len(pending)} migration(s) ({', '.join(pending)}); "
            "run `vdc-graph migrate` first"
        )


def tortoise_config(database_url: str, *, busy_timeout_ms: int = 5000) -> dict[str, Any]:
    connection = expand_db_url(database_url)
    if urlparse(database_url).scheme == "sqlite":
        # WAL lets readers run beside the one writer; writers take the lock when their
        # transaction begins (see db/sqlite.py), where the busy timeout rides out contention
        # instead of failing with "database is locked".
        connection["engine"] = "vdc_graph.db.sqlite"
        connection["credentials"].update(
            journal_mode="WAL",
            foreign_keys="ON",
            busy_timeout=busy_timeout_ms,
            synchronous="NORMAL",
        )
    elif connection["engine"] == "tortoise.backends.asyncpg":
        connection["engine"] = "vdc_graph.db.postgres"  # SELECTs by plan (db/rows.py)
    return {
        "connections": {"default": connection},
        "apps": {"models": dict(_APP)},
        "use_tz": True,
        "timezone": "UTC",
    }


class BrokenReferences(RuntimeError):
    def __init__(self, rows: list[Any]) -> None:
        tables = sorted({dict(row)["table"] for row in rows})
        super().__init__(f"after migrating, rows of {', '.join(tables)} refer to missing rows")


async def migrate(config: dict[str, Any], *, target: str | None = None) -> None:
    """Apply every migration not yet applied, or go to ``target`` (``"models.0004_..."``);
    initialises Tortoise with ``config``.

    SQLite alters a column by rebuilding its table: with foreign keys enforced, dropping the
    old table would delete (or empty) every row referring to it. So SQLite migrates with them
    off (they cannot be switched inside a migration's transaction) and checks them after."""
    sqlite = config["connections"]["default"]["engine"].endswith(".sqlite")  # ours or Tortoise's
    if sqlite:
        config = copy.deepcopy(config)
        config["connections"]["default"]["credentials"]["foreign_keys"] = "OFF"
    await migrate_api(config=config, target=target)
    if sqlite:
        _, broken = await get_connection("default").execute_query("PRAGMA foreign_key_check")
        if broken:
            raise BrokenReferences(broken)


def _autodetector() -> MigrationAutodetector:
    context = require_context()
    return MigrationAutodetector(context.apps, {"models": dict(_APP)})


async def model_changes() -> list[str]:
    """Names of the migrations the models need beyond those written (empty when in step)."""
    return [writer.name for writer in await _autodetector().changes()]


async def make_migrations() -> list[str]:
    """Write the migrations the models need; returns the files written."""
    return await _autodetector().write()


async def pending_migrations() -> list[str]:
    """Migrations not yet applied to the initialised default connection."""
    executor = MigrationExecutor(get_connection("default"), {"models": _APP})
    steps = await executor.plan(None)
    return [step.migration.name for step in steps if not step.backward]
