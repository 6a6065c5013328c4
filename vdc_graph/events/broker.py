"""The publish/subscribe interface every backend implements.

Messages are JSON-compatible dicts (so a multi-process backend can carry them as they are),
published after the change they describe has committed. A subscriber receives the messages
published on its topic from the moment ``subscribe`` returns, in publication order; the
database stays the source of truth, so a subscriber that missed messages catches up by reading.

A backend that crosses processes can lose its connection. Messages published meanwhile are
gone, so once it is connected again every open subscription receives ``RESYNC`` (a message
with ``"resync": True``): the subscriber re-reads what it follows from the database (a log by
its cursor, a caller's rights) and goes on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

Message = dict[str, Any]

RESYNC: Message = {"resync": True}


def is_resync(message: Message) -> bool:
    return message.get("resync") is True


class Subscription(Protocol):
    """The messages of one topic for one subscriber, until the subscription is closed."""

    def __aiter__(self) -> AsyncIterator[Message]: ...


class Broker(Protocol):
    async def publish(self, topic: str, message: Message) -> None:
        """Deliver ``message`` to every current subscriber of ``topic`` (never raises: a
        message that cannot be sent is logged, and subscribers catch up on ``RESYNC``)."""
        ...

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[Subscription]:
        """Subscribe to ``topic``: messages published once this is entered are received."""
        ...

    @property
    def crosses_processes(self) -> bool:
        """Whether subscribers in other processes receive what this process publishes."""
        ...

    def state(self) -> str:
        """``connected`` or ``disconnected`` (the in-memory broker is always connected)."""
        ...

    async def start(self) -> None:
        """Connect (in the background: a broker that is down is retried, never fatal)."""
        ...

    async def close(self) -> None: ...


def results_of(message: Message) -> dict:
    """What the subscribers of a delivered message keep for one another (results computed
    once for all of them); local to this process, created on first use, never published."""
    return message.setdefault("_results", {})  # type: ignore[return-value]
