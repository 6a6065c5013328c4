"""Request limits, answered before execution: depth, aliases and a node budget.

The node budget is computed like GitHub's: every connection multiplies the nodes its parent
may return by its ``first``/``last`` (20 when absent); the sum over the document is the cost.
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


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_nodes: int


@dataclass
class Measure:
    depth: int = 0
    aliases: int = 0
    nodes: int = 0


def _page_size(field: FieldNode, variables: dict[str, Any]) -> int:
    for arg in field.arguments or ():
        if arg.name.value in ("first", "last"):
            if isinstance(arg.value, VariableNode):
                value = variables.get(arg.value.name.value)
            else:
                value = value_from_ast_untyped(arg.value)
            if isinstance(value, int) and value > 0:
                return value
    return DEFAULT_PAGE_SIZE


def measure(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
) -> Measure:
    result = Measure()
    root = schema.get_root_type(operation.operation)

    def walk(
        selections: SelectionSetNode | None,
        parent: Any,
        depth: int,
        multiplier: int,
        seen: frozenset[str],
    ) -> None:
        if selections is None:
            return
        for node in selections.selections:
            if isinstance(node, FieldNode):
                name = node.name.value
                if name.startswith("__"):
                    continue  # introspection costs nothing and has no depth budget
                if node.alias is not None:
                    result.aliases += 1
                result.depth = max(result.depth, depth + 1)
                field_def = None
                if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
                    field_def = parent.fields.get(name)
                field_type = get_named_type(field_def.type) if field_def else None
                child_multiplier = multiplier
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
                walk(node.selection_set, target, depth, multiplier, seen)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = fragments.get(name)
                if fragment is None or name in seen:
                    continue  # unknown or cyclic: validation reports it
                target = schema.get_type(fragment.type_condition.name.value)
                walk(fragment.selection_set, target, depth, multiplier, seen | {name})

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
