"""One execution of a subscription event for every subscriber that would get the same answer.

A session's log event reaches each of its subscribers in this process as the same message.
Subscribers with the same document, operation, variables and rights get the same result, so
the first to execute it keeps it on the message and the others reuse it: a thousand watchers
of a session cost one execution per event, not a thousand. A subscriber whose event is not the
message as published (a replay, a gap read from the database) executes its own.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any


def _rights(context: Any) -> Any:
    """What a result may depend on about the caller: its provider, permissions and scope.
    (No field reachable from a subscription event reads the caller's own identity.)"""
    principal = getattr(context, "principal", None)
    if principal is None:
        return None
    return (
        principal.provider_id,
        principal.permissions,
        principal.customer_scope,
        principal.customer_ids,
    )


def shared_execution(executor: Any, execute: Callable[[], Any]) -> Any:
    """``execute()``'s result for this event, computed once per (document, operation,
    variables, rights) among the subscribers of the message."""
    results = getattr(executor.root_value, "shared_results", None)
    if results is None:
        return execute()
    variables = json.dumps(executor.variable_values, sort_keys=True, default=str)
    key = (id(executor.operation), variables, _rights(executor.context_value))
    found = results.get(key)
    if found is None:
        found = execute()
        if executor.is_awaitable(found):
            found = asyncio.ensure_future(found)
        results[key] = found
    if isinstance(found, asyncio.Future):
        # Shielded: a subscriber that leaves while it runs must not cancel it for the rest.
        return asyncio.shield(found)
    return found
