"""Callers already authenticated, by their token, for as long as nothing they depend on changed.

The database keeps a counter that every change to users, roles, role assignments and API keys
bumps in the same transaction (migration 0009); an entry is trusted only while the counter is
the one read when it was made, and never past its credential's expiry. So a revoked key or a
deleted user is refused on the very next request, whichever process made the change.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from .principal import Principal

DEFAULT_MAXSIZE = 4096


@dataclass
class CachedCaller:
    principal: Principal
    generation: int
    # When an API key's use was last written (it is written at most once a minute).
    last_use_written: datetime


class PrincipalCache:
    def __init__(self, maxsize: int = DEFAULT_MAXSIZE) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[str, CachedCaller] = OrderedDict()

    def __contains__(self, token: object) -> bool:
        return token in self._entries

    def get(self, token: str, generation: int, now: datetime) -> CachedCaller | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        expires_at = entry.principal.expires_at
        if entry.generation != generation or (expires_at is not None and expires_at <= now):
            del self._entries[token]
            return None
        self._entries.move_to_end(token)
        return entry

    def put(self, token: str, entry: CachedCaller) -> None:
        self._entries[token] = entry
        self._entries.move_to_end(token)
        if len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)
