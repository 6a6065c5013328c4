"""Relay plumbing used by every list: ``Node`` over database rows, connections, page info."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, Generic, TypeVar

import strawberry
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode
from strawberry import relay
from strawberry.types import Info

from vdc_graph.db.pagination import Page, PageArgs

T = TypeVar("T")


class ModelNode(relay.Node):
    """A ``Node`` whose instances are the database rows themselves.

    Fields read the row's attributes directly; ``id`` is the row's key wrapped in a global ID.
    """

    model: ClassVar[type]

    @classmethod
    def resolve_id(cls, root: Any, *, info: Info) -> str:
        return str(root.pk)

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, cls.model)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        from vdc_graph.resolvers.nodes import load_nodes  # avoids an import cycle

        return await load_nodes(info.context, cls.__name__, list(node_ids))


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    has_previous_page: bool = strawberry.field(description="Items precede this page.")
    start_cursor: str | None = strawberry.field(description="The cursor of the first item.")
    end_cursor: str | None = strawberry.field(description="The cursor of the last item.")


@strawberry.type(description="An item of a list with the cursor that points at it.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Pass as `after` or `before` to page from here.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="One page of a list, with the means to fetch the next.")
class Connection(Generic[T]):
    page: strawberry.Private[Page[Any]]

    @strawberry.field(description="The items of this page with their cursors.")
    def edges(self) -> list[Edge[T]]:
        return [
            Edge(cursor=c, node=n) for c, n in zip(self.page.cursors, self.page.rows, strict=True)
        ]

    @strawberry.field(description="The items of this page.")
    def nodes(self) -> list[T]:
        return list(self.page.rows)

    @strawberry.field(description="Paging information.")
    def page_info(self) -> PageInfo:
        return PageInfo(
            has_next_page=self.page.has_next_page,
            has_previous_page=self.page.has_previous_page,
            start_cursor=self.page.start_cursor,
            end_cursor=self.page.end_cursor,
        )

    @strawberry.field(description="How many items the whole list holds, across all pages.")
    async def total_count(self) -> int:
        return await self.page.count()


def page_args(
    info: Info, first: int | None, after: str | None, last: int | None, before: str | None
) -> PageArgs:
    """The page a connection field asks for; when its selection shows ``totalCount``, the
    page's statement reads the count too."""
    return PageArgs(first, after, last, before, with_total_count=_selects(info, "totalCount"))


def _selects(info: Info, name: str) -> bool:
    """Whether the field's own selection (fragments included) has the field ``name``."""
    raw = info._raw_info
    pending: list[SelectionSetNode | None] = [node.selection_set for node in raw.field_nodes]
    spread: set[str] = set()
    while pending:
        selection_set = pending.pop()
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                if selection.name.value == name:
                    return True
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = raw.fragments.get(selection.name.value)
                if fragment is not None and selection.name.value not in spread:
                    spread.add(selection.name.value)
                    pending.append(fragment.selection_set)
    return False
