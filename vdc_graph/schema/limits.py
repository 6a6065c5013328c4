"""Request limits, answered before execution: depth, aliases, directives and a node budget.

The node budget is computed like GitHub's: every connection multiplies the nodes its parent
may return by its ``first``/``last`` (20 when absent); the sum over the document is the cost.
Each ID of ``nodes(ids:)`` weighs ``NODE_ID_WEIGHT`` nodes (a lookup by ID is an index probe
of its own, dearer than one more row of a page: 100 IDs cost 10 points, like a mutation), and
one call takes at most ``max_node_ids``.

Introspection has no depth or node budget (its documents are deep by nature), but its aliases
and directives count like any others and a document may ask for ``__schema`` once: aliased
copies of the whole schema were the cheapest way to make the server work for seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    value_from_ast_untyped,
)

from vdc_graph.db.pagination import DEFAULT_PAGE_SIZE
from vdc_graph.errors import ErrorCode

NODE_ID_WEIGHT = 10


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_nodes: int
    max_directives: int = 50
    max_node_ids: int = 100


@dataclass
class Measure:
    depth: int = 0
    aliases: int = 0
    nodes: int = 0
    directives: int = 0
    schema_fields: int = 0  # how often __schema is asked for
    node_ids: int = 0  # the most IDs one nodes(ids:) names


def _argument(field: FieldNode, name: str, variables: dict[str, Any]) -> Any:
    for arg in field.arguments or ():
        if arg.name.value == name:
            if isinstance(arg.value, VariableNode):
                return variables.get(arg.value.name.value)
            return value_from_ast_untyped(arg.value, variables)
    return None


def _page_size(field: FieldNode, variables: dict[str, Any]) -> int:
    for name in ("first", "last"):
        value = _argument(field, name, variables)
        if isinstance(value, int) and value > 0:
            return value
    return DEFAULT_PAGE_SIZE


def measure(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
) -> Measure:
    result = Measure(directives=len(operation.directives or ()))
    root = schema.get_root_type(operation.operation)

    def walk(
        selections: SelectionSetNode | None,
        parent: Any,
        depth: int,
        multiplier: int,
        seen: frozenset[str],
        introspection: bool = False,
    ) -> None:
        if selections is None:
            return
        for node in selections.selections:
            # Every spread of a fragment counts its directives again, as execution would.
            result.directives += len(node.directives or ())
            if isinstance(node, FieldNode):
                name = node.name.value
                if node.alias is not None:
                    result.aliases += 1
                field_def = None
                if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
                    field_def = parent.fields.get(name)
                field_type = get_named_type(field_def.type) if field_def else None
                if introspection or name.startswith("__"):
                    result.schema_fields += name == "__schema"
                    walk(node.selection_set, field_type, depth, multiplier, seen, True)
                    continue
                result.depth = max(result.depth, depth + 1)
                child_multiplier = multiplier
                if parent is root and name == "nodes":
                    ids = _argument(node, "ids", variables)
                    count = len(ids) if isinstance(ids, list) else 1
                    result.node_ids = max(result.node_ids, count)
                    result.nodes += multiplier * count * NODE_ID_WEIGHT
                if field_type is not None and field_type.name.endswith("Connection"):
                    child_multiplier = multiplier * _page_size(node, variables)
                    result.nodes += child_multiplier
                walk(node.selection_set, field_type, depth + 1, child_multiplier, seen)
            elif isinstance(node, InlineFragmentNode):
                target = (
                    schema.get_type(node.type_condition.name.value)
                    if node.type_condition
                    else parent
                )
                walk(node.selection_set, target, depth, multiplier, seen, introspection)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = fragments.get(name)
                if fragment is None or name in seen:
                    continue  # unknown or cyclic: validation reports it
                result.directives += len(fragment.directives or ())
                target = schema.get_type(fragment.type_condition.name.value)
                walk(
                    fragment.selection_set, target, depth, multiplier, seen | {name}, introspection
                )

    walk(operation.selection_set, root, 0, 1, frozenset())
    return result


def check(limits: Limits, found: Measure) -> list[GraphQLError]:
    problems = []
    if found.depth > limits.max_depth:
        problems.append(f"The query is {found.depth} levels deep; the limit is {limits.max_depth}")
    if found.aliases > limits.max_aliases:
        problems.append(
            f"The query uses {found.aliases} aliases; the limit is {limits.max_aliases}"
        )
    if found.directives > limits.max_directives:
        problems.append(
            f"The query uses {found.directives} directives; the limit is {limits.max_directives}"
        )
    if found.schema_fields > 1:
        problems.append(f"The query asks for __schema {found.schema_fields} times; once is enough")
    if found.node_ids > limits.max_node_ids:
        problems.append(
            f"nodes(ids:) takes at most {limits.max_node_ids} IDs; this one names {found.node_ids}"
        )
    if found.nodes > limits.max_nodes:
        problems.append(
            f"The query may return {found.nodes} nodes; the limit is {limits.max_nodes} "
            "(lower first/last on nested connections)"
        )
    return [
        GraphQLError(
            message, extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value, "cost": found.nodes}
        )
        for message in problems
    ]
