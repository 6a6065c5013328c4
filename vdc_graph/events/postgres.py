"""The PostgreSQL broker: LISTEN/NOTIFY, for deployments without Redis.

Every process LISTENs on one channel (``<prefix>_events``) and keeps the topics its own
subscribers follow. A NOTIFY payload is limited to 8000 bytes, so a message is sent as one or
more parts (``topic id index count`` on the first line, then a slice of the JSON), all in one
transaction: PostgreSQL delivers a transaction's notifications together and in order, and the
receiver joins the parts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from .broker import RESYNC, Message
from .memory import MemoryBroker, MemorySubscription

log = logging.getLogger("vdc_graph.events.postgres")

PART_BYTES = 7000  # of JSON per NOTIFY, under PostgreSQL's 8000-byte payload limit
_HEALTH_SECONDS = 5.0
_MAX_PARTIAL = 100  # messages being joined at once; older unfinished ones are dropped


def _dsn(url: str) -> str:
    return re.sub(r"^postgres(ql)?://", "postgresql://", url)


def parts_of(topic: str, message: Message) -> list[str]:
    """The NOTIFY payloads that carry ``message`` (JSON is ASCII, so characters are bytes)."""
    body = json.dumps(message)
    slices = [body[i : i + PART_BYTES] for i in range(0, len(body), PART_BYTES)] or [""]
    key = uuid.uuid4().hex
    return [f"{topic} {key} {i} {len(slices)}\n{piece}" for i, piece in enumerate(slices)]


class PostgresBroker:
    crosses_processes = True

    def __init__(self, url: str, prefix: str) -> None:
        self._dsn = _dsn(url)
        self._channel = re.sub(r"\W", "_", prefix) + "_events"
        self._local = MemoryBroker()
        self._pool: asyncpg.Pool | None = None
        self._listener: asyncpg.Connection | None = None
        self._partial: OrderedDict[str, list[str | None]] = OrderedDict()
        self._task: asyncio.Task[None] | None = None

    def state(self) -> str:
        return "connected" if self._listener is not None else "disconnected"

    async def publish(self, topic: str, message: Message) -> None:
        try:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=4)
            async with self._pool.acquire(timeout=5) as connection, connection.transaction():
                for part in parts_of(topic, message):
                    await connection.execute("SELECT pg_notify($1, $2)", self._channel, part)
        except Exception as exc:  # subscribers catch up from the database on RESYNC
            log.warning("could not publish on %s: %s", topic, exc)

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[MemorySubscription]:
        async with self._local.subscribe(topic) as subscription:
            yield subscription

    def _received(self, connection: Any, pid: int, channel: str, payload: str) -> None:
        head, _, piece = payload.partition("\n")
        try:
            topic, key, index, count = head.split(" ")
            parts = self._partial.setdefault(key, [None] * int(count))
            parts[int(index)] = piece
        except (ValueError, IndexError):
            log.warning("ignored a malformed notification")
            return
        if any(p is None for p in parts):
            while len(self._partial) > _MAX_PARTIAL:
                self._partial.popitem(last=False)
            return
        del self._partial[key]
        try:
            message = json.loads("".join(parts))  # type: ignore[arg-type]
        except ValueError:
            log.warning("ignored a malformed message on %s", topic)
            return
        self._local.deliver(topic, message)

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._pool is not None:
            await self._pool.close()

    async def _run(self) -> None:
        delay = 0.1
        while True:
            connection: asyncpg.Connection | None = None
            try:
                connection = await asyncpg.connect(self._dsn, timeout=5)
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _, lost=lost: lost.set())
                await connection.add_listener(self._channel, self._received)
                self._listener = connection
                delay = 0.1
                log.info("PostgreSQL broker listening")
                for topic in self._local.topics():  # what passed meanwhile: re-read
                    self._local.deliver(topic, RESYNC)
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), _HEALTH_SECONDS)
                    if not lost.is_set():
                        await connection.fetchval("SELECT 1", timeout=_HEALTH_SECONDS)
                raise ConnectionError("the listening connection closed")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # lost: reconnect with backoff, subscribers resync
                if self._listener is not None:
                    log.warning("lost the PostgreSQL broker connection: %s", exc)
                self._listener = None
            finally:
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(connection.close(), 2)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
