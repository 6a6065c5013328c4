"""A per-caller budget of cost points, refilled continuously (a token bucket).

A query costs 1 point per 100 nodes its connections may return (at least 1), like GitHub's
GraphQL API; a mutation costs 10. Where the budget is kept follows the deployment, so every
process spends from the same one:
- one process (the in-memory broker): in the process;
- a Redis broker: in Redis, one hash per caller updated by a script (atomic, no round trips
  between read and write); while Redis is unreachable each process falls back to its own
  budget rather than refusing everyone;
- a PostgreSQL broker: in the database, the caller's row locked for the update.

``spent_of(context)`` is the outcome of the request's spend (cost, remaining, reset), for
whatever reports it (``extensions.rateLimit``, response headers, metrics).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from vdc_graph import clock
from vdc_graph.settings import Settings

MUTATION_COST = 10
log = logging.getLogger("vdc_graph.rate_limit")


def cost_of(nodes: int, *, mutation: bool) -> int:
    return MUTATION_COST if mutation else max(1, math.ceil(nodes / 100))


@dataclass
class Bucket:
    points: float
    updated: datetime


@dataclass(frozen=True)
class Spent:
    allowed: bool
    cost: int
    remaining: int
    reset_at: datetime  # when the budget is whole again
    limit: int = 0


def spent_of(context: Any) -> Spent | None:
    """What the request in ``context`` spent of its caller's budget (None: nothing yet)."""
    return getattr(context, "rate_limit_spent", None)


def refill(bucket: Bucket, capacity: int, now: datetime) -> None:
    elapsed = max(0.0, (now - bucket.updated).total_seconds())
    bucket.points = min(capacity, bucket.points + elapsed * capacity / 3600)
    bucket.updated = now


class Buckets(Protocol):
    async def take(self, caller: str, cost: int, capacity: int, now: datetime) -> float | None:
        """Spend ``cost`` when the bucket holds it; the points left (negative: refused, the
        points held are ``-value - 1``)."""
        ...


class MemoryBuckets:
    def __init__(self) -> None:
        self._buckets: dict[str, Bucket] = {}

    async def take(self, caller: str, cost: int, capacity: int, now: datetime) -> float:
        bucket = self._buckets.setdefault(caller, Bucket(capacity, now))
        refill(bucket, capacity, now)
        if bucket.points < cost:
            return -bucket.points - 1
        bucket.points -= cost
        return bucket.points


_TAKE = """
local capacity, rate = tonumber(ARGV[1]), tonumber(ARGV[2])
local now, cost = tonumber(ARGV[3]), tonumber(ARGV[4])
local held = redis.call('HMGET', KEYS[1], 'points', 'updated')
local points = tonumber(held[1]) or capacity
local updated = tonumber(held[2]) or now
points = math.min(capacity, points + math.max(0, now - updated) * rate)
local left = -points - 1
if points >= cost then
  points = points - cost
  left = points
end
redis.call('HSET', KEYS[1], 'points', tostring(points), 'updated', tostring(now))
redis.call('EXPIRE', KEYS[1], 3660)
return tostring(left)
"""


class RedisBuckets:
    def __init__(self, url: str, prefix: str) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        self._script = self._redis.register_script(_TAKE)
        self._prefix = prefix
        self._fallback = MemoryBuckets()

    async def take(self, caller: str, cost: int, capacity: int, now: datetime) -> float:
        try:
            left = await self._script(
                keys=[f"{self._prefix}:rate:{caller}"],
                args=[capacity, capacity / 3600, now.timestamp(), cost],
            )
            return float(left)
        except Exception as exc:  # Redis down: this process's own budget meanwhile
            log.warning("rate limit falls back to this process: %s", exc)
            return await self._fallback.take(caller, cost, capacity, now)


class DatabaseBuckets:
    async def take(self, caller: str, cost: int, capacity: int, now: datetime) -> float:
        from tortoise.exceptions import IntegrityError

        from vdc_graph.db.models import RateBucket
        from vdc_graph.db.transactions import atomic

        for _ in range(2):  # a first spend of two processes at once: one creates, one retries
            try:
                async with atomic():
                    row = await RateBucket.select_for_update().get_or_none(caller=caller)
                    if row is None:
                        row = await RateBucket.create(
                            caller=caller, points=capacity, updated_at=now
                        )
                    bucket = Bucket(row.points, row.updated_at)
                    refill(bucket, capacity, now)
                    if bucket.points >= cost:
                        bucket.points -= cost
                        left = bucket.points
                    else:
                        left = -bucket.points - 1
                    row.points, row.updated_at = bucket.points, now
                    await row.save(update_fields=["points", "updated_at"])
                    return left
            except IntegrityError:
                continue
        raise RuntimeError("could not spend from the rate limit")


def buckets_for(settings: Settings) -> Buckets:
    scheme = settings.broker_url.split("://", 1)[0]
    if scheme in ("redis", "rediss"):
        return RedisBuckets(settings.broker_url, settings.broker_prefix)
    if settings.broker_crosses_processes:
        return DatabaseBuckets()
    return MemoryBuckets()


class RateLimiter:
    def __init__(self, points_per_hour: Callable[[], int], buckets: Buckets | None = None) -> None:
        self._points_per_hour = points_per_hour  # read each time: settings may change
        self._buckets = buckets or MemoryBuckets()

    @property
    def capacity(self) -> int:
        return self._points_per_hour()

    async def spend(self, caller: str, cost: int) -> Spent:
        now, capacity = clock.now(), self.capacity
        left = await self._buckets.take(caller, cost, capacity, now)
        allowed = left >= 0
        held = left if allowed else -left - 1
        per_second = capacity / 3600
        missing = capacity - held
        reset_at = now + timedelta(seconds=missing / per_second if per_second else 0)
        return Spent(allowed, cost, int(held), reset_at, capacity)
