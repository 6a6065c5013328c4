"""Rows of a SELECT made into model instances with a plan worked out once per column list.

Tortoise builds each instance by unpacking the row into keyword arguments (for an SQLite row,
a search of its column names per column) and setting the fields one call at a time: about
three quarters of the time it takes to load a 100-row page of customers. Here the columns a
query returns are matched to the model's fields once, and each row becomes the instance's
attributes in one dictionary. The values are those Tortoise would set (its own conversions,
an enum's member found by its value); a query that selects only some fields (a partial
instance) or joins related rows keeps Tortoise's own path.

For the models of the project (``DeferredColumns``), the costly conversions (UUIDs, times,
JSON, decimals) wait until the attribute is first read, and the value is then kept: a list
shows a few of each row's columns, and converting the others was most of what loading it cost
(100 customers by key 3.0 -> 1.7 ms).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any, NamedTuple

from tortoise.backends.base.executor import CHUNK_SIZE, BaseExecutor
from tortoise.fields.data import BooleanField, CharEnumFieldInstance, IntEnumFieldInstance
from tortoise.models import Model


class Plan(NamedTuple):
    # (column position, attribute, conversion or None) of each column set on the instance
    steps: tuple[tuple[int, str, Callable[[Any], Any] | None], ...]
    # attribute -> (column position, conversion) of the columns converted when first read
    deferred: dict[str, tuple[int, Callable[[Any], Any]]]
    # The instance's ``_custom_generated_pk``, the same for every row of the model.
    custom_generated_pk: bool


_plans: dict[tuple[type[Model], tuple[str, ...], tuple[str, ...]], Plan] = {}


def _enum_member(field: Any) -> Callable[[Any], Any]:
    """The field's conversion, by a lookup of the member for a known value."""
    members = field.enum_type._value2member_map_
    convert = field.to_python_value

    def member(value: Any) -> Enum | None:
        found = members.get(value)
        return found if found is not None else convert(value)

    return member


def _defaulted(field_type: type) -> Callable[[Any], Any]:
    # As Tortoise converts a field without a conversion of its own: by its type, None kept.
    return lambda value: value if value is None else field_type(value)


def _plan(model: type[Model], columns: tuple[str, ...], custom: tuple[str, ...]) -> Plan:
    """How each column becomes an attribute."""
    meta = model._meta
    conversions: dict[str, tuple[str, Callable[[Any], Any] | None]] = {}
    for key, attribute, _field in meta.db_native_fields:
        conversions[key] = (attribute, None)
    for key, attribute, field in meta.db_default_fields:
        conversions[key] = (attribute, _defaulted(field.field_type))
    for key, attribute, field in meta.db_complex_fields:
        enum = isinstance(field, CharEnumFieldInstance | IntEnumFieldInstance)
        conversions[key] = (attribute, _enum_member(field) if enum else field.to_python_value)
    missing = set(conversions) - set(columns)
    if missing:
        raise ValueError(f"{model.__name__} rows lack {', '.join(sorted(missing))}")
    steps = [(i, *conversions[c]) for i, c in enumerate(columns) if c in conversions]
    deferred: dict[str, tuple[int, Callable[[Any], Any]]] = {}
    if issubclass(model, DeferredColumns):
        costly = {key for key, _, field in meta.db_complex_fields if not _cheap(field)}
        deferred = {
            attribute: (i, convert)  # type: ignore[misc]
            for i, attribute, convert in steps
            if columns[i] in costly
        }
        steps = [step for step in steps if step[1] not in deferred]
    # Annotations are set under their own name, as they come.
    steps += [(columns.index(name), name, None) for name in custom if name in columns]
    return Plan(tuple(steps), deferred, meta.db_pk_column not in meta.generated_db_fields)  # type: ignore[arg-type]


def _cheap(field: Any) -> bool:
    # An enum's member is one lookup, a boolean one call: cheaper set than deferred.
    return isinstance(field, CharEnumFieldInstance | IntEnumFieldInstance | BooleanField)


class DeferredColumns:
    """A model whose planned rows convert their costly columns (UUIDs, times, JSON, decimals)
    when an attribute is first read: a list shows a few of a row's columns, and converting
    the others is most of what loading it costs."""

    def __getattr__(self, name: str) -> Any:
        # Only called when ``name`` is not set on the instance (nor on its class).
        state = self.__dict__
        pending = state.get("_deferred_row")
        if pending is not None:
            step = pending[0].get(name)
            if step is not None:
                value = state[name] = step[1](pending[1][step[0]])
                return value
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


def plan_for(model: type[Model], columns: Sequence[str], custom: Sequence[str]) -> Plan:
    key = (model, tuple(columns), tuple(custom))
    if key not in _plans:
        _plans[key] = _plan(model, *key[1:])
    return _plans[key]


def instance(model: type[Model], plan: Plan, row: Sequence[Any]) -> Model:
    """``row`` as an instance loaded from the database, attributes as Tortoise sets them."""
    attributes: dict[str, Any] = {
        "_partial": False,
        "_saved_in_db": True,
        "_custom_generated_pk": plan.custom_generated_pk,
        "_await_when_save": {},
    }
    for position, attribute, convert in plan.steps:
        value = row[position]
        attributes[attribute] = value if convert is None else convert(value)
    if plan.deferred:
        attributes["_deferred_row"] = (plan.deferred, row)
    loaded = model.__new__(model)
    loaded.__dict__.update(attributes)
    return loaded


class PlannedSelect(BaseExecutor):
    """An executor whose SELECTs of whole instances take the planned path."""

    def _selects_whole_instances(self, custom_fields: list | None) -> bool:
        # Tortoise describes a SELECT of the model alone, every field and the annotations,
        # as one entry of that many columns; ``.only()`` and joined rows differ.
        entries = self.select_related_idx
        columns = len(self.model._meta.db_fields) + len(custom_fields or ())
        return len(entries) == 1 and entries[0][1] == columns

    async def execute_select(
        self, sql: str, values: list | None = None, custom_fields: list | None = None
    ) -> list:
        if not self._selects_whole_instances(custom_fields):
            return await super().execute_select(sql, values, custom_fields)
        _, rows = await self.db.execute_query(sql, values)
        if not rows:
            return []
        plan = plan_for(self.model, list(rows[0].keys()), custom_fields or ())
        instances = []
        for index, row in enumerate(rows):
            if index and index % CHUNK_SIZE == 0:
                await asyncio.sleep(0)  # as Tortoise does: a long result does not hold the loop
            instances.append(instance(self.model, plan, row))
        await self._execute_prefetch_queries(instances)
        return instances
