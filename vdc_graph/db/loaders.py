"""Per-request batching of lookups, so nested fields cost one query per level, not per row."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader  # a plain asyncio batching utility

BatchFn = Callable[[Sequence[Any]], Awaitable[Sequence[Any]]]


class Loaders:
    """One loader per (name, scope) for the lifetime of a request."""

    def __init__(self) -> None:
        self._loaders: dict[Hashable, DataLoader[Any, Any]] = {}

    def get(self, key: Hashable, batch: BatchFn) -> DataLoader[Any, Any]:
        loader = self._loaders.get(key)
        if loader is None:
            loader = self._loaders[key] = DataLoader(load_fn=batch)
        return loader


async def load_each(loader: DataLoader[Any, Any], keys: Sequence[Any]) -> list[Any]:
    """The value of each key (None for a None key), each distinct key asked for once.

    The keys the request has not asked for yet go to one call of the loader's batch function,
    and their values are kept in its cache: a list's hundred keys then cost no future and no
    callback each, as ``load_many`` would."""
    distinct = [key for key in dict.fromkeys(keys) if key is not None]
    cache = loader.cache_map
    asked: dict[Any, Any] = {}  # key -> the future of a lookup already made
    missing = []
    for key in distinct:
        future = cache.get(key)
        if future is not None and not future.cancelled():
            asked[key] = future
        else:
            missing.append(key)
    found: dict[Any, Any] = {}
    if missing:
        values = await loader.load_fn(missing)
        for value in values:
            if isinstance(value, BaseException):
                raise value  # as ``load_many`` raises a key's error
        found = dict(zip(missing, values, strict=True))
        loader.prime_many(found)
    if asked:
        found.update(zip(asked, await asyncio.gather(*asked.values()), strict=True))
    return [None if key is None else found[key] for key in keys]


def by_key(rows: Sequence[Any], keys: Sequence[Any], attr: str = "id") -> list[Any]:
    """Rows in the order of ``keys`` (None where missing)."""
    found = {getattr(row, attr): row for row in rows}
    return [found.get(key) for key in keys]


def grouped(rows: Sequence[Any], keys: Sequence[Any], attr: str) -> list[list[Any]]:
    """Rows grouped per key, in the order of ``keys``."""
    groups: dict[Any, list[Any]] = {key: [] for key in keys}
    for row in rows:
        groups.setdefault(getattr(row, attr), []).append(row)
    return [groups[key] for key in keys]
