"""Fields of a row loaded for a whole list at once (a session's customer, a policy's).

Such a field resolves one row at a time through a DataLoader: each row of a 100-row list then
runs an async resolver, a future and a task of graphql-core's, about 30 µs a row beside the
one query the loader sends. A field declared with ``batched(load_all)`` keeps that resolver
for a single row; when a list of its type is completed, ``load_all(context, rows)`` is awaited
once for the list and each row's field then resolves at once to its value.

A row whose value the batch did not give (None, or a batch that failed or gave a value count
other than its rows') takes the field's own resolver, which answers it as before: a null, or
the error at its path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from graphql import GraphQLField
from strawberry.schema.schema_converter import GraphQLCoreConverter

# (context, rows) -> the field's value for each row, None where it has none to give
LoadAll = Callable[[Any, Sequence[Any]], Awaitable[Sequence[Any]]]
_LOAD_ALL = "vdc_load_all"
_UNKNOWN = object()


def batched(load_all: LoadAll) -> dict[str, Any]:
    """The field metadata that declares ``load_all``."""
    return {_LOAD_ALL: load_all}


def load_all_of(field: GraphQLField) -> LoadAll | None:
    """The field's ``load_all``, if it declares one (looked up once, kept on the field)."""
    known = field.__dict__.get("_vdc_load_all", _UNKNOWN)
    if known is _UNKNOWN:
        definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
        known = (getattr(definition, "metadata", None) or {}).get(_LOAD_ALL)
        field.__dict__["_vdc_load_all"] = known
    return known  # type: ignore[return-value]


class Loaded:
    """The values batches gave, by row, for one execution."""

    def __init__(self) -> None:
        # id(row) -> (row, {id(field): value}); the row is held so that its id is not
        # reused (a field lives as long as the schema).
        self._values: dict[int, tuple[Any, dict[int, Any]]] = {}

    def keep(self, field: GraphQLField, rows: Sequence[Any], values: Sequence[Any]) -> None:
        for row, value in zip(rows, values, strict=True):
            if value is not None:
                self._values.setdefault(id(row), (row, {}))[1][id(field)] = value

    def get(self, field: GraphQLField, row: Any) -> Any:
        """The value kept for ``row``'s ``field``, or None."""
        entry = self._values.get(id(row))
        return None if entry is None or entry[0] is not row else entry[1].get(id(field))
