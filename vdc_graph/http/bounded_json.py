"""JSON from clients, parsed with a bound on nesting (HTTP bodies, variables, WebSocket messages).

Python's parser recurses once per level: a few thousand ``[`` would end in ``RecursionError``
(a plain 500, or a dropped socket). Both a parser that gives up and a document that parses but
nests deeper than the limit are ``TooDeep``, which callers answer as a client error.
"""

from __future__ import annotations

import json
from typing import Any


class TooDeep(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"The JSON nests deeper than {limit} levels")
        self.limit = limit


def depth(value: Any) -> int:
    """How deeply arrays and objects nest in ``value`` (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        )
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def loads(raw: str | bytes, max_depth: int) -> Any:
    """``json.loads`` refusing anything nested deeper than ``max_depth`` (raises ``TooDeep``;
    malformed JSON raises ``ValueError`` as ``json.loads`` does)."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise TooDeep(max_depth) from None
    if depth(value) > max_depth:
        raise TooDeep(max_depth)
    return value
