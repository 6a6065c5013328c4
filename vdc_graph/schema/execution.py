"""A shorter path through graphql-core for the fields that only read their row.

Most of what a list returns are plain columns (a name, a count, a date) or values computed from
the row alone (a global ID, a column with "" turned into null). graphql-core still builds a
resolve info for each, asks whether the value is awaitable and walks the generic completion;
strawberry adds its own layers on top. Here such a field is a *reader*, a function of the row,
and an object's readers are completed in one loop over them; its other selected fields (a
batched one, one with arguments) are executed by graphql-core beside them.

A field declared ``batched`` (``schema/batching.py``) is loaded once for a whole list before
the list is completed, and each row's field is completed from that value.

Anything else (arguments, ``info``, async resolvers, field extensions or permissions, a
middleware such as the tracing one) and any value the short path does not expect (null for a
non-null field, a reader that raises, a value the scalar refuses) takes graphql-core's own path,
which runs the pure readers again: errors and their paths are exactly as before.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from enum import Enum
from typing import Any, NamedTuple

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    Undefined,
    get_nullable_type,
    is_leaf_type,
)
from graphql.execution.executor import to_nodes
from strawberry import relay
from strawberry.execution import optimized_is_awaitable
from strawberry.relay.utils import to_base64
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from tortoise.models import Model

from vdc_graph.schema.batching import Loaded, load_all_of
from vdc_graph.schema.shared_events import shared_execution

# A field's reader (a function of the row), the serialiser of its leaf type and its
# non-nullness, when it has one.
Reader = tuple[Callable[[Any], Any], Callable[[Any], Any], bool]
_UNKNOWN = object()
_TYPENAME = "__typename"
_FAILED = object()


def _is_awaitable(value: Any) -> bool:
    # A Tortoise row defines ``__await__`` (awaiting it gives the row back): taken for an
    # awaitable, every row of a list would be completed in a task of its own.
    return not isinstance(value, Model) and optimized_is_awaitable(value)


def _row_function(parent_type: GraphQLObjectType, field: GraphQLField) -> Callable | None:
    """The function of the row alone that resolves ``field``, if there is one."""
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if definition is None or definition.arguments or definition.extensions:
        return None
    resolver = definition.base_resolver
    if resolver is None:
        # Strawberry's default resolver (the configured one; getattr unless changed).
        if not getattr(field.resolve, "_is_default", False):
            return None
        name, default = definition.python_name, definition.default_resolver
        return lambda row: default(row, name)
    if resolver.is_async:
        return None
    type_definition = parent_type.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    origin = getattr(type_definition, "origin", None)
    if (
        definition.python_name == "_id"
        and isinstance(origin, type)
        and issubclass(origin, relay.Node)
        and _resolves_id_from_pk(origin)
    ):
        # The relay ``id`` of a node whose id is its row's key (the ModelNode kind).
        type_name = parent_type.name
        return lambda row: to_base64(type_name, str(row.pk))
    function = resolver.wrapped_func
    if list(inspect.signature(function).parameters) != ["self"]:
        return None
    return function


def _resolves_id_from_pk(origin: type) -> bool:
    from vdc_graph.schema.relay import ModelNode  # avoids an import cycle

    return (
        issubclass(origin, ModelNode)
        and origin.resolve_id.__func__ is ModelNode.resolve_id.__func__  # type: ignore[attr-defined]
        and origin.resolve_typename.__func__ is relay.Node.resolve_typename.__func__  # type: ignore[attr-defined]
    )


def _row_type_check(object_type: GraphQLObjectType) -> Callable[[Any], bool] | None:
    """``object_type``'s ``is_type_of`` as a function of the row alone, when it needs no
    resolve info (none, or a ModelNode's isinstance); None otherwise. Kept on the type."""
    known = object_type.__dict__.get("_vdc_row_type_check", _UNKNOWN)
    if known is not _UNKNOWN:
        return known  # type: ignore[return-value]
    from vdc_graph.schema.relay import ModelNode  # avoids an import cycle

    check = object_type.is_type_of
    found: Callable[[Any], bool] | None = None
    if check is None:
        found = _any_row
    elif getattr(check, "__func__", None) is ModelNode.is_type_of.__func__:  # type: ignore[attr-defined]
        model = check.__self__.model  # type: ignore[attr-defined]
        found = lambda row: isinstance(row, model)  # noqa: E731
    object_type.__dict__["_vdc_row_type_check"] = found
    return found


def _any_row(row: Any) -> bool:
    return True


def _serializer(leaf: GraphQLLeafType) -> Callable[[Any], Any]:
    """``leaf``'s output coercion; for a strawberry enum, a lookup of the member's name (its
    own coercion searches the values one by one, for every value of every row)."""
    members = getattr(leaf, "wrapped_cls", None)
    if not isinstance(leaf, GraphQLEnumType) or not isinstance(members, type(Enum)):
        return leaf.coerce_output_value
    by_value = {value.value: name for name, value in leaf.values.items()}
    names = {member: by_value[member.value] for member in members if member.value in by_value}  # type: ignore[attr-defined]
    coerce = leaf.coerce_output_value

    def serialize(value: Any) -> Any:
        # Exactly a member: its name; anything else (a plain string) as the type coerces it.
        return names[value] if type(value) is members and value in names else coerce(value)

    return serialize


def reader_of(parent_type: GraphQLObjectType, field: GraphQLField) -> Reader | None:
    """``field``'s reader, worked out once (kept on the field definition: it belongs to one
    schema and lives as long)."""
    known = field.__dict__.get("_vdc_reader", _UNKNOWN)
    if known is not _UNKNOWN:
        return known  # type: ignore[return-value]
    return_type = field.type
    non_null = isinstance(return_type, GraphQLNonNull)
    named = return_type.of_type if non_null else return_type
    reader: Reader | None = None
    if is_leaf_type(named) and not field.args:
        function = _row_function(parent_type, field)
        if function is not None:
            reader = (function, _serializer(named), non_null)  # type: ignore[arg-type]
    field.__dict__["_vdc_reader"] = reader
    return reader


def _selected_reader(parent_type: GraphQLObjectType, node: Any) -> Reader | None:
    """The reader of a selected field node (a field given arguments has none)."""
    field = parent_type.fields.get(node.name.value)
    return reader_of(parent_type, field) if field is not None and not node.arguments else None


class ObjectPlan(NamedTuple):
    """How an object's selection is completed: its readers in one loop, the other fields
    (a batched field, a field with arguments) by graphql-core, then the two merged in the
    selection's order."""

    # (response key, reader; None for ``__typename``) of each field that has one
    readers: tuple[tuple[str, Reader | None], ...]
    # the grouped field set of the fields without a reader (empty when all have one)
    others: dict[str, Any]
    order: tuple[str, ...]


def _plan_of(return_type: GraphQLObjectType, grouped_field_set: Any) -> ObjectPlan | None:
    """The selection's plan; None when it has other fields and no reader beside them
    (graphql-core's path then)."""
    readers: list[tuple[str, Reader | None]] = []
    others: dict[str, Any] = {}
    for response_key, details in grouped_field_set.items():
        node = details[0].node
        if node.name.value == _TYPENAME:
            readers.append((response_key, None))
            continue
        reader = _selected_reader(return_type, node)
        if reader is None:
            others[response_key] = details
        else:
            readers.append((response_key, reader))
    if not readers or (others and all(reader is None for _, reader in readers)):
        return None
    return ObjectPlan(tuple(readers), others, tuple(grouped_field_set))


def _merged(plan: ObjectPlan, read: dict[str, Any], executed: dict[str, Any]) -> dict[str, Any]:
    """The object's fields in the selection's order (graphql-core leaves out a field it
    completes as ``Undefined``)."""
    return {
        key: read[key] if key in read else executed[key]
        for key in plan.order
        if key in read or key in executed
    }


def _batched_of(item_type: GraphQLObjectType, grouped_field_set: Any) -> tuple:
    """(field, load_all) of each distinct batched field of the selection."""
    found: dict[int, tuple[GraphQLField, Any]] = {}  # by field identity (unhashable)
    for details in grouped_field_set.values():
        field = item_type.fields.get(details[0].node.name.value)
        load_all = load_all_of(field) if field is not None else None
        if load_all is not None:
            found[id(field)] = (field, load_all)
    return tuple(found.values())


def _read(reader: Reader, row: Any) -> Any:
    """The serialised value, or ``_FAILED`` when the generic path must report something."""
    function, serialize, non_null = reader
    try:
        value = function(row)
        if value is None:
            return _FAILED if non_null else None
        coerced = serialize(value)
    except Exception:  # the generic path reports it
        return _FAILED
    if coerced is None or coerced is Undefined:
        return _FAILED
    return coerced


class PlainFieldsExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_awaitable = _is_awaitable  # type: ignore[method-assign]
        # Resolver middleware (the tracing one) needs every field on the generic path.
        manager = self.middleware_manager
        self._short_path = manager is None or not manager.middlewares
        # Per (object type, field list): the readers of its selection, or None.
        self._object_plans: dict[tuple[Any, int], tuple[Any, Any]] = {}
        # Batched fields' values for this execution's rows, and per (item type, field
        # list) the batched fields its selection has.
        self._loaded = Loaded()
        self._batched: dict[tuple[Any, int], tuple[Any, Any]] = {}

    def execute_operation(self, serially: bool | None = None) -> Any:  # type: ignore[override]
        # A subscription event shared by many subscribers is executed once for all of them.
        parent = super().execute_operation
        return shared_execution(self, lambda: parent(serially))

    def execute_field(  # type: ignore[override]
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any = None,
    ) -> Any:
        if self._short_path:
            node = field_details_list[0].node
            name = node.name.value
            if name == _TYPENAME:
                return parent_type.name
            reader = _selected_reader(parent_type, node)
            if reader is not None:
                value = _read(reader, source)
                if value is not _FAILED:
                    return value
            field = parent_type.fields.get(name)
            if field is not None and load_all_of(field) is not None:
                value = self._loaded.get(field, source)
                if value is not None:
                    return self._complete_loaded(
                        parent_type, field, field_details_list, path, value, position_context
                    )
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _complete_loaded(
        self,
        parent_type: GraphQLObjectType,
        field: GraphQLField,
        field_details_list: Any,
        path: Any,
        value: Any,
        position_context: Any,
    ) -> Any:
        """A batched field's value completed as graphql-core completes a resolved one (an
        object of readers alone, the usual case, is read at once)."""
        object_type = get_nullable_type(field.type)
        if isinstance(object_type, GraphQLObjectType):
            is_row_of_type = _row_type_check(object_type)
            if is_row_of_type is not None and is_row_of_type(value):
                plan = self._plan(object_type, field_details_list)
                if plan is not None and not plan.others:
                    read = self._read_all(plan, object_type, value)
                    if read is not None:
                        return read
        info = self.build_resolve_info(field, to_nodes(field_details_list), parent_type, path)
        try:
            completed = self.complete_value(
                field.type, field_details_list, info, path, value, position_context
            )
        except Exception as error:
            self.handle_field_error(error, field.type, field_details_list, path)
            return None
        if not self.is_awaitable(completed):
            return completed

        async def await_completed() -> Any:
            try:
                return await completed
            except Exception as error:
                self.handle_field_error(error, field.type, field_details_list, path)
                return None

        return await_completed()

    def complete_list_value(  # type: ignore[override]
        self,
        return_type: GraphQLList,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        def complete() -> Any:
            return super(PlainFieldsExecutionContext, self).complete_list_value(
                return_type, field_details_list, info, path, result, position_context
            )

        item_type = get_nullable_type(return_type.of_type)
        if not (self._short_path and isinstance(result, list) and result) or not isinstance(
            item_type, GraphQLObjectType
        ):
            return complete()
        batched = self._batched_fields(item_type, field_details_list)
        if not batched:
            return complete()
        return self._load_then(batched, result, info.context, complete)

    def _batched_fields(self, item_type: GraphQLObjectType, field_details_list: Any) -> tuple:
        """(field, load_all) of each batched field selected on the list's items."""
        return self._per_selection(
            self._batched,
            item_type,
            field_details_list,
            lambda grouped_field_set, _: _batched_of(item_type, grouped_field_set),
        )

    async def _load_then(
        self, batched: tuple, rows: list, context: Any, complete: Callable[[], Any]
    ) -> Any:
        """Awaits each batch for ``rows`` (together), then completes the list."""
        results = await asyncio.gather(
            *(load_all(context, rows) for _, load_all in batched), return_exceptions=True
        )
        for (field, _), values in zip(batched, results, strict=True):
            if isinstance(values, BaseException) and not isinstance(values, Exception):
                raise values  # cancelled
            if isinstance(values, Exception) or len(values) != len(rows):
                continue  # each row's own resolver answers (and reports) instead
            self._loaded.keep(field, rows, values)
        completed = complete()
        return await completed if self.is_awaitable(completed) else completed

    def _plan(self, return_type: GraphQLObjectType, field_details_list: Any) -> ObjectPlan | None:
        """The plan of ``return_type``'s selection, unless something in it is deferred."""
        return self._per_selection(
            self._object_plans,
            return_type,
            field_details_list,
            lambda grouped_field_set, new_defer_usages: (
                None if new_defer_usages else _plan_of(return_type, grouped_field_set)
            ),
        )

    def _per_selection(
        self,
        cache: dict[tuple[Any, int], tuple[Any, Any]],
        object_type: GraphQLObjectType,
        field_details_list: Any,
        compute: Callable[[Any, Any], Any],
    ) -> Any:
        """``compute(grouped field set, new defer usages)`` of ``object_type``'s selection,
        memoised like graphql-core's ``collect_subfields``, on the identity of the field list
        (kept alive with the entry, so that its id is not reused)."""
        key = (object_type, id(field_details_list))
        cached = cache.get(key)
        if cached is None:
            grouped_field_set, new_defer_usages, _ = self.collect_subfields(
                object_type, field_details_list
            )
            cached = cache[key] = (field_details_list, compute(grouped_field_set, new_defer_usages))
        return cached[1]

    def complete_object_value(  # type: ignore[override]
        self,
        return_type: GraphQLObjectType,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        if self._short_path and (
            return_type.is_type_of is None or return_type.is_type_of(result, info) is True
        ):
            plan = self._plan(return_type, field_details_list)
            if plan is not None:
                read = self._read_all(plan, return_type, result)
                if read is not None:
                    if not plan.others:
                        return read
                    executed = self.execute_fields(
                        return_type, result, path, plan.others, position_context
                    )
                    if not self.is_awaitable(executed):
                        return _merged(plan, read, executed)

                    async def merge() -> dict[str, Any]:
                        return _merged(plan, read, await executed)

                    return merge()
        return super().complete_object_value(
            return_type, field_details_list, info, path, result, position_context
        )

    @staticmethod
    def _read_all(plan: ObjectPlan, return_type: GraphQLObjectType, row: Any) -> dict | None:
        """The values of the plan's readers, or None when one of them must be reported by
        graphql-core's path."""
        read: dict[str, Any] = {}
        for response_key, reader in plan.readers:
            if reader is None:
                read[response_key] = return_type.name
                continue
            value = _read(reader, row)
            if value is _FAILED:
                return None
            read[response_key] = value
        return read
