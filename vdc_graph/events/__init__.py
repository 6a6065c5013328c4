"""Domain events: publish after commit, subscribe by topic (see ``broker.Broker``).

The process has one broker, chosen by ``VDC_BROKER_URL``: in memory (one process, the
default), Redis pub/sub (``redis://``) or PostgreSQL LISTEN/NOTIFY (``postgres://``) for
several processes. ``open_broker`` installs it for the server's lifetime.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlparse

from .broker import RESYNC, Broker, Message, Subscription, is_resync, results_of
from .memory import MemoryBroker

_broker: Broker = MemoryBroker()


def broker() -> Broker:
    return _broker


def set_broker(new: Broker) -> None:
    global _broker
    _broker = new


def broker_for(url: str, prefix: str) -> Broker:
    scheme = urlparse(url).scheme
    if scheme == "memory":
        return MemoryBroker()
    if scheme in ("redis", "rediss"):
        from .redis import RedisBroker

        return RedisBroker(url, prefix)
    if scheme in ("postgres", "postgresql"):
        from .postgres import PostgresBroker

        return PostgresBroker(url, prefix)
    raise ValueError(
        f"VDC_BROKER_URL: unknown scheme {scheme!r} (memory://, redis://, postgres://)"
    )


@asynccontextmanager
async def open_broker(url: str, prefix: str) -> AsyncIterator[Broker]:
    """The broker of ``url`` installed as the process's broker until the block ends."""
    previous = broker()
    if urlparse(url).scheme == "memory" and isinstance(previous, MemoryBroker):
        yield previous  # one process: keep the broker its subscribers already use
        return
    opened = broker_for(url, prefix)
    await opened.start()
    set_broker(opened)
    try:
        yield opened
    finally:
        set_broker(previous)
        await opened.close()


__all__ = [
    "RESYNC",
    "Broker",
    "MemoryBroker",
    "Message",
    "Subscription",
    "broker",
    "broker_for",
    "is_resync",
    "open_broker",
    "results_of",
    "set_broker",
]
