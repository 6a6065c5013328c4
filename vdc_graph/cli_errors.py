"""The command line's expected failures, told in a line or two: the cause and the fix.

Anything not recognised here is a fault and keeps its traceback.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from tortoise.exceptions import ConfigurationError, DBConnectionError, OperationalError

from vdc_graph.db.config import DatabaseNotMigrated
from vdc_graph.settings import redacted

_MISSING_TABLE = re.compile(r'no such table|relation ".*" does not exist', re.IGNORECASE)


class CommandError(Exception):
    """An expected failure whose message already says what to do."""


def check_sqlite_folder(database_url: str) -> None:
    """SQLite cannot create a missing folder (and would wait for it): say so instead."""
    parts = urlsplit(database_url)
    if parts.scheme != "sqlite":
        return
    path = database_url.split("://", 1)[1]
    if path == ":memory:":
        return
    folder = Path(path).parent
    if not folder.is_dir():
        raise CommandError(
            f"the folder {folder} of VDC_DATABASE_URL does not exist; create it "
            f"(mkdir -p {folder}) or point VDC_DATABASE_URL elsewhere"
        )


def explain(exc: BaseException, database_url: str) -> str | None:
    """The message for an expected failure, or None for a fault."""
    where = redacted(database_url)
    if isinstance(exc, CommandError | DatabaseNotMigrated):
        return str(exc)
    if isinstance(exc, OperationalError) and _MISSING_TABLE.search(str(exc)):
        return f"the database {where} is not migrated; run `vdc-graph migrate` first"
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    if isinstance(exc, DBConnectionError | OSError):
        return (
            f"cannot connect to the database {where} ({exc}); check VDC_DATABASE_URL "
            "and that the database server is running"
        )
    if isinstance(exc, ConfigurationError):
        return f"VDC_DATABASE_URL ({where}): {exc}"
    return None
