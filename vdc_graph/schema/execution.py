"""A shorter path through graphql-core for the fields that are only a row's attribute.

Most of what a list returns are plain columns (a name, a count, a date): strawberry resolves
them by reading the attribute, yet graphql-core still builds a resolve info, asks whether the
value is awaitable and walks the generic completion for each one. For such a field, with no
middleware, this reads the attribute and serialises the scalar or enum directly. Anything else
(and any value the short path does not expect: null for a non-null field, an error) takes
graphql-core's own path, so errors and their paths are exactly as before.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    Undefined,
    is_leaf_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from vdc_graph.schema.shared_events import shared_execution

# A field's resolver, leaf type and non-nullness when it qualifies, else None.
_Plain = tuple[Any, GraphQLLeafType, bool] | None
_UNKNOWN = object()


def _plain(field: GraphQLField) -> _Plain:
    # Kept on the field definition itself: it belongs to one schema and lives as long.
    known = field.__dict__.get("_vdc_plain", _UNKNOWN)
    if known is not _UNKNOWN:
        return known  # type: ignore[return-value]
    resolver = field.resolve
    return_type = field.type
    non_null = isinstance(return_type, GraphQLNonNull)
    named = return_type.of_type if non_null else return_type
    plain: _Plain = None
    # Strawberry marks the resolver of a field without its own resolver or extensions.
    if getattr(resolver, "_is_default", False) and is_leaf_type(named) and not field.args:
        plain = (resolver, named, non_null)  # type: ignore[assignment]
    field.__dict__["_vdc_plain"] = plain
    return plain


class PlainFieldsExecutionContext(StrawberryGraphQLCoreExecutionContext):
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
        manager = self.middleware_manager
        if manager is None or not manager.middlewares:
            node = field_details_list[0].node
            field = parent_type.fields.get(node.name.value)
            plain = _plain(field) if field is not None and not node.arguments else None
            if plain is not None:
                resolver, leaf, non_null = plain
                try:
                    value = resolver(source, None)
                    if value is None:
                        if not non_null:
                            return None
                    else:
                        coerced = leaf.coerce_output_value(value)
                        if coerced is not None and coerced is not Undefined:
                            return coerced
                except Exception:  # noqa: S110  (the generic path below reports it)
                    pass
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )
