"""The backup engine interface: what runs a queued session and can stop it.

A real Microsoft 365 backup connector implements the same four methods; the server only ever
talks to this interface.
"""

from __future__ import annotations

from typing import Protocol
from uuid import UUID


class BackupEngine(Protocol):
    async def start(self, session_id: UUID) -> None:
        """Begin running a committed QUEUED session; returns at once (the run continues)."""
        ...

    async def stop(self, session_id: UUID) -> None:
        """Ask a running session to end as STOPPED (its ``stop_requested`` flag is set)."""
        ...

    async def abandon(self, session_id: UUID) -> None:
        """Cancel the run without writing anything more (its process is shutting down)."""
        ...

    def is_running(self, session_id: UUID) -> bool:
        """Whether this process is running the session now."""
        ...
