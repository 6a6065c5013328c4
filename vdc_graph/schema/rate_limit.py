"""A per-caller budget of cost points, refilled continuously (a token bucket).

A query costs 1 point per 100 nodes its connections may return (at least 1), like GitHub's
GraphQL API; a mutation costs 10. The budget is kept per process.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from vdc_graph import clock

MUTATION_COST = 10


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


class RateLimiter:
    def __init__(self, points_per_hour: Callable[[], int]) -> None:
        self._points_per_hour = points_per_hour  # read each time: settings may change
        self._buckets: dict[str, Bucket] = {}

    @property
    def capacity(self) -> int:
        return self._points_per_hour()

    @property
    def per_second(self) -> float:
        return self.capacity / 3600

    def spend(self, caller: str, cost: int) -> Spent:
        now = clock.now()
        bucket = self._buckets.get(caller)
        if bucket is None:
            bucket = self._buckets[caller] = Bucket(self.capacity, now)
        elapsed = max(0.0, (now - bucket.updated).total_seconds())
        bucket.points = min(self.capacity, bucket.points + elapsed * self.per_second)
        bucket.updated = now
        allowed = bucket.points >= cost
        if allowed:
            bucket.points -= cost
        missing = self.capacity - bucket.points
        reset_at = now + timedelta(seconds=missing / self.per_second if self.per_second else 0)
        return Spent(allowed, cost, int(bucket.points), reset_at)
