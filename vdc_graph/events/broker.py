"""The publish/subscribe interface every backend implements.

Messages are JSON-compatible dicts (so a multi-process backend can carry them as they are),
published after the change they describe has committed. A subscriber receives the messages
published on its topic from the moment ``subscribe`` returns, in publication order; the
database stays the source of truth, so a subscriber that missed messages catches up by reading.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

Message = dict[str, Any]


class Subscription(Protocol):
    """The messages of one topic for one subscriber, until the subscription is closed."""

    def __aiter__(self) -> AsyncIterator[Message]: ...


class Broker(Protocol):
    async def publish(self, topic: str, message: Message) -> None:
        """Deliver ``message`` to every current subscriber of ``topic``."""
        ...

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[Subscription]:
        """Subscribe to ``topic``: messages published once this is entered are received."""
        ...
