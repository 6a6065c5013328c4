"""Transactions whose side effects (events, engine starts) wait for the commit.

An event must never announce a row a reader cannot see yet, and a rolled-back change must
announce nothing: actions registered with ``after_commit`` inside ``atomic()`` run once the
outermost transaction has committed, and are dropped when it rolls back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar

from tortoise.transactions import in_transaction

log = logging.getLogger("vdc_graph.transactions")

Action = Callable[[], Awaitable[None]]

_pending: ContextVar[list[Action] | None] = ContextVar("after_commit_actions", default=None)


@asynccontextmanager
async def atomic() -> AsyncIterator[None]:
    """A transaction; nested inside another ``atomic`` it joins the outer one's actions."""
    if _pending.get() is not None:
        async with in_transaction():
            yield
        return
    actions: list[Action] = []
    token = _pending.set(actions)
    try:
        async with in_transaction():
            yield
    finally:
        _pending.reset(token)
    for action in actions:
        try:
            await action()
        except Exception:  # the change is committed; a failed side effect must not undo it
            log.exception("after-commit action failed")


def after_commit(action: Action) -> None:
    """Run ``action`` once the current ``atomic()`` transaction commits (at once outside one)."""
    actions = _pending.get()
    if actions is not None:
        actions.append(action)
    else:
        asyncio.get_running_loop().create_task(action())
