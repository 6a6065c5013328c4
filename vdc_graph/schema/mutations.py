"""The one way a mutation runs: in a transaction, its userErrors turned into its payload."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from strawberry.types import Info

from vdc_graph.db.transactions import atomic
from vdc_graph.errors import UserErrors

from .common import UserError

P = TypeVar("P")


async def run_mutation(
    info: Info, act: Callable[[], Awaitable[P]], refused: Callable[[list[UserError]], P]
) -> P:
    """Run ``act`` atomically; when it raises userErrors nothing it wrote is kept.

    Actions registered with ``db.transactions.after_commit`` run once it has committed.
    """
    try:
        async with atomic():
            return await act()
    except UserErrors as exc:
        return refused([UserError.from_error(e) for e in exc.errors])
