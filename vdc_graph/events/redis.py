"""The Redis broker: Redis pub/sub, one channel per topic, one subscriber connection per process.

Pub/sub rather than streams: the database already keeps every event's rows (a session's log
has its sequence numbers), so the broker only has to say "something new" quickly; a
subscriber that was cut off re-reads the database on ``RESYNC`` instead of replaying a stream,
and Redis keeps no per-topic backlog to trim.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from .broker import RESYNC, Message
from .memory import MemoryBroker, MemorySubscription

log = logging.getLogger("vdc_graph.events.redis")

_SEND_TIMEOUT = 2.0  # seconds a publish may take before it is given up (and logged)
_IDLE_PING = 5.0  # seconds of silence after which the subscriber connection is pinged


class RedisBroker:
    crosses_processes = True

    def __init__(self, url: str, prefix: str) -> None:
        self._prefix = prefix
        # No silent reconnects: a lost connection must be seen, so subscribers get RESYNC.
        options = {"socket_connect_timeout": 2, "retry": Retry(NoBackoff(), 0)}
        self._publisher = Redis.from_url(url, socket_timeout=_SEND_TIMEOUT, **options)
        self._listener = Redis.from_url(url, **options)
        self._local = MemoryBroker()
        self._pubsub: PubSub | None = None
        self._listening: dict[str, asyncio.Event] = {}  # topic -> set once Redis confirmed it
        self._task: asyncio.Task[None] | None = None

    def _channel(self, topic: str) -> str:
        return f"{self._prefix}:{topic}"

    def state(self) -> str:
        return "connected" if self._pubsub is not None else "disconnected"

    async def publish(self, topic: str, message: Message) -> None:
        try:
            await self._publisher.publish(self._channel(topic), json.dumps(message))
        except Exception as exc:  # subscribers catch up from the database on RESYNC
            log.warning("could not publish on %s: %s", topic, exc)

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[MemorySubscription]:
        async with self._local.subscribe(topic) as subscription:
            await self._listen(topic)
            yield subscription
        if not self._local.subscriber_count(topic):
            await self._unlisten(topic)

    async def _listen(self, topic: str) -> None:
        confirmed = self._listening.get(topic)
        if confirmed is None:
            confirmed = self._listening[topic] = asyncio.Event()
            if self._pubsub is not None:
                with contextlib.suppress(Exception):  # the reconnect subscribes it
                    await self._pubsub.subscribe(self._channel(topic))
        if self._pubsub is not None:
            # Until Redis confirms, a message could pass by; when it does not confirm in
            # time the connection is in trouble and RESYNC follows its recovery.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(confirmed.wait(), _SEND_TIMEOUT)

    async def _unlisten(self, topic: str) -> None:
        if self._listening.pop(topic, None) is not None and self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.unsubscribe(self._channel(topic))

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._publisher.aclose()
        await self._listener.aclose()

    async def _run(self) -> None:
        delay = 0.1
        while True:
            pubsub = self._listener.pubsub()
            try:
                await self._receive(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # lost: reconnect with backoff, subscribers resync
                if self._pubsub is not None:
                    log.warning("lost the Redis broker connection: %s", exc)
                self._pubsub = None
                for event in self._listening.values():
                    event.clear()
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def _receive(self, pubsub: PubSub) -> None:
        control = self._channel("_control")
        # The control channel comes last: its confirmation means every topic is confirmed.
        await pubsub.subscribe(*(self._channel(t) for t in self._listening), control)
        last_heard = time.monotonic()
        while True:
            item = await pubsub.get_message(timeout=_IDLE_PING)
            if item is None:
                if time.monotonic() - last_heard > 3 * _IDLE_PING:
                    raise ConnectionError("no answer to PING")
                await pubsub.ping()
                continue
            last_heard = time.monotonic()
            kind, channel = item["type"], item.get("channel")
            name = channel.decode() if isinstance(channel, bytes) else str(channel)
            topic = name[len(self._prefix) + 1 :]
            if kind == "subscribe" and name == control:
                self._pubsub = pubsub
                log.info("Redis broker connected")
                for topic_name in self._local.topics():  # what passed meanwhile: re-read
                    self._local.deliver(topic_name, RESYNC)
            elif kind == "subscribe" and topic in self._listening:
                self._listening[topic].set()
            elif kind == "message":
                try:
                    message = json.loads(item["data"])
                except ValueError:
                    log.warning("ignored a malformed message on %s", name)
                    continue
                self._local.deliver(topic, message)
