"""What every resolver receives about the request it serves (no GraphQL types here)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from vdc_graph.auth.principal import Principal
from vdc_graph.db.loaders import Loaders
from vdc_graph.settings import Settings


@dataclass
class RequestContext:
    settings: Settings
    principal: Principal | None = None
    client_host: str | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    loaders: Loaders = field(default_factory=Loaders)
    # Set by the WebSocket transport from ``connection_init``.
    connection_params: dict[str, Any] | None = None
    # Set by the WebSocket transport: re-reads the caller's rights before each operation.
    refresh_principal: Callable[[], Awaitable[None]] | None = None
    # Background work tied to a WebSocket connection, cancelled when it closes.
    connection_tasks: list[asyncio.Task[None]] = field(default_factory=list)
    # The Starlette request or WebSocket, for transports that need it.
    request: Any = None
    response: Any = None
