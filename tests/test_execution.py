"""The short execution path answers exactly what graphql-core's own path answers: values,
``__typename``, aliases, and the errors (with their paths) of a reader that fails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

import pytest
import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from vdc_graph.schema.batching import batched
from vdc_graph.schema.execution import PlainFieldsExecutionContext


@strawberry.enum
class Kind(Enum):
    MAILBOX = "mailbox"
    SITE = "site"


@dataclass
class Row:
    name: str | None
    count: int
    when: datetime
    domain: str
    kind: Kind | str = Kind.MAILBOX


@strawberry.type
class Owner:
    name: str


BATCHES: list[int] = []  # the rows each batch was given
RESOLVED: list[str] = []  # the rows the owner resolver was asked for, one by one
BATCH_FAILS = [False]
BATCH_SHORT = [False]  # the batch gives one value fewer than the rows it was given


def _owner(row: Row) -> Owner | None:
    return Owner(name=row.name.upper()) if row.count > 0 else None  # type: ignore[union-attr]


async def owners_of(context: object, rows: list[Row]) -> list[Owner | None]:
    BATCHES.append(len(rows))
    if BATCH_FAILS[0]:
        raise RuntimeError("the batch is down")
    owners = [_owner(row) for row in rows]
    return owners[1:] if BATCH_SHORT[0] else owners


@strawberry.type
class Item:
    name: str
    count: int
    when: datetime
    kind: Kind

    @strawberry.field
    def domain(self) -> str | None:
        return self.domain or None  # type: ignore[attr-defined]

    @strawberry.field
    def doubled(self) -> int:
        if self.count < 0:  # type: ignore[attr-defined]
            raise ValueError("no negative counts")
        return self.count * 2  # type: ignore[attr-defined]

    @strawberry.field
    async def later(self) -> int:
        return self.count + 1  # type: ignore[attr-defined]

    @strawberry.field(metadata=batched(owners_of))
    async def owner(self) -> Owner | None:
        RESOLVED.append(self.name)
        if self.count < 0:  # type: ignore[attr-defined]
            raise ValueError("no owner for a negative count")
        return _owner(self)  # type: ignore[arg-type]


ROWS: list[Row] = []


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return ROWS  # type: ignore[return-value]


def schemas() -> tuple[strawberry.Schema, strawberry.Schema]:
    return (
        strawberry.Schema(query=Query, execution_context_class=PlainFieldsExecutionContext),
        strawberry.Schema(
            query=Query, execution_context_class=StrawberryGraphQLCoreExecutionContext
        ),
    )


def answer(schema: strawberry.Schema, document: str) -> dict:
    import asyncio

    result = asyncio.run(schema.execute(document))
    return {
        "data": result.data,
        "errors": [(e.message, e.path) for e in result.errors or []],
    }


WHEN = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "document",
    [
        "{ items { name count when domain doubled kind } }",
        "{ items { __typename n: name c: count name } }",
        "{ items { name later } }",
        "{ items { ... on Item { name } count } }",
        "query { items { name @include(if: false) count @skip(if: true) domain } }",
    ],
)
def test_the_short_path_answers_as_graphql_core_does(document):
    ROWS[:] = [Row("Contoso", 3, WHEN, "contoso.com"), Row("Fabrikam", 0, WHEN, "")]
    ours, theirs = schemas()
    assert answer(ours, document) == answer(theirs, document)
    assert answer(ours, document)["errors"] == []


def test_an_enum_is_its_members_name_and_a_value_outside_it_the_same_error():
    ROWS[:] = [Row("Contoso", 3, WHEN, "", Kind.SITE), Row("Fabrikam", 4, WHEN, "", "bogus")]
    ours, theirs = schemas()
    document = "{ items { name kind } }"
    got = answer(ours, document)
    assert got == answer(theirs, document)
    assert got["data"] is None
    assert len(got["errors"]) == 1 and got["errors"][0][1] == ["items", 1, "kind"]
    ROWS[1].kind = Kind.MAILBOX
    assert answer(ours, document)["data"] == {
        "items": [{"name": "Contoso", "kind": "SITE"}, {"name": "Fabrikam", "kind": "MAILBOX"}]
    }


def test_a_null_in_a_non_null_field_is_the_same_error_at_the_same_path():
    ROWS[:] = [Row("Contoso", 3, WHEN, ""), Row(None, 4, WHEN, "")]
    ours, theirs = schemas()
    document = "{ items { name count } }"
    got = answer(ours, document)
    assert got == answer(theirs, document)
    assert got["data"] is None
    assert got["errors"] == [
        ("Cannot return null for non-nullable field Item.name.", ["items", 1, "name"])
    ]


def test_a_resolver_that_raises_is_the_same_error_at_the_same_path():
    ROWS[:] = [Row("Contoso", 3, WHEN, ""), Row("Fabrikam", -1, WHEN, "")]
    ours, theirs = schemas()
    document = "{ items { name doubled } }"
    got = answer(ours, document)
    assert got == answer(theirs, document)
    assert got["errors"] == [("no negative counts", ["items", 1, "doubled"])]


def resolve_infos_built(monkeypatch) -> list[str]:
    """The names of the fields a resolve info is built for, from now on."""
    built: list[str] = []
    original = PlainFieldsExecutionContext.build_resolve_info

    def counting(self, field_def, field_nodes, parent_type, path):
        built.append(field_nodes[0].name.value)
        return original(self, field_def, field_nodes, parent_type, path)

    monkeypatch.setattr(PlainFieldsExecutionContext, "build_resolve_info", counting)
    return built


def test_fields_that_only_read_their_row_get_no_resolve_info(monkeypatch):
    """The short path is taken: only ``items`` (a resolver of the query) and the async
    ``later`` build a resolve info; the columns and the row-only resolvers do not."""
    ROWS[:] = [Row("Contoso", 3, WHEN, "contoso.com"), Row("Fabrikam", 0, WHEN, "")]
    built = resolve_infos_built(monkeypatch)
    ours, _ = schemas()
    answer(ours, "{ items { __typename name count when domain doubled later } }")
    assert built == ["items", "later", "later"]


def test_a_batch_that_gives_too_few_values_is_not_used(batches):
    ROWS[:] = [Row("Contoso", 3, WHEN, ""), Row("Fabrikam", 2, WHEN, "")]
    BATCH_SHORT[0] = True
    ours, theirs = schemas()
    document = "{ items { owner { name } } }"
    expected = answer(theirs, document)
    RESOLVED.clear()
    assert answer(ours, document) == expected
    assert BATCHES == [2] and RESOLVED == ["Contoso", "Fabrikam"]


@pytest.fixture
def batches():
    BATCHES.clear()
    RESOLVED.clear()
    BATCH_FAILS[0] = BATCH_SHORT[0] = False
    yield
    BATCH_FAILS[0] = BATCH_SHORT[0] = False


def test_a_batched_field_is_loaded_once_for_a_list_and_answers_as_its_resolver(batches):
    ROWS[:] = [Row("Contoso", 3, WHEN, ""), Row("Fabrikam", 0, WHEN, ""), Row("Tail", 1, WHEN, "")]
    ours, theirs = schemas()
    document = "{ items { name owner { name } o: owner { __typename } } }"
    expected = answer(theirs, document)
    assert expected["data"]["items"][0] == {
        "name": "Contoso",
        "owner": {"name": "CONTOSO"},
        "o": {"__typename": "Owner"},
    }
    RESOLVED.clear()
    assert answer(ours, document) == expected
    assert BATCHES == [3]  # one batch for the list, both aliases included
    # Only the row the batch gave no value for is resolved on its own (null here).
    assert RESOLVED == ["Fabrikam", "Fabrikam"]


def test_a_failed_batch_leaves_each_row_to_its_resolver_with_the_same_errors(batches):
    ROWS[:] = [Row("Contoso", 3, WHEN, ""), Row("Fabrikam", -1, WHEN, "")]
    BATCH_FAILS[0] = True
    ours, theirs = schemas()
    document = "{ items { name owner { name } } }"
    got = answer(ours, document)
    assert got == answer(theirs, document)
    assert got["errors"] == [("no owner for a negative count", ["items", 1, "owner"])]
    assert got["data"]["items"][0] == {"name": "Contoso", "owner": {"name": "CONTOSO"}}
    assert BATCHES == [2]


def test_readers_beside_other_fields_keep_the_selections_order_and_skip_field_execution(
    batches, monkeypatch
):
    """An object with readers and other fields (async, batched) answers its fields in the
    order they were selected; only the other fields go through graphql-core's execution of
    a field, the readers are read in one loop."""
    ROWS[:] = [Row("Contoso", 3, WHEN, "contoso.com"), Row("Fabrikam", 0, WHEN, "")]
    ours, theirs = schemas()
    document = "{ items { later name owner { name } count __typename d: domain } }"
    got = answer(ours, document)
    assert got == answer(theirs, document)
    order = ["later", "name", "owner", "count", "__typename", "d"]
    assert [list(item) for item in got["data"]["items"]] == [order, order]
    executed: list[str] = []
    original = PlainFieldsExecutionContext.execute_field

    def counting(self, parent_type, source, field_details_list, path, position_context=None):
        executed.append(field_details_list[0].node.name.value)
        return original(self, parent_type, source, field_details_list, path, position_context)

    monkeypatch.setattr(PlainFieldsExecutionContext, "execute_field", counting)
    built = resolve_infos_built(monkeypatch)
    assert answer(ours, document) == got
    assert sorted(executed) == ["items", "later", "later", "owner", "owner"]
    # A batched owner of readers alone is read at once, with no resolve info; only the row
    # the batch gave no owner for (Fabrikam) resolves its own.
    assert sorted(built) == ["items", "later", "later", "owner"]
