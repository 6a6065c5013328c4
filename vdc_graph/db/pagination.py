"""Keyset pagination: one helper for every connection of the API.

A cursor holds the sort values of a row plus its primary key, so page N costs the same as
page 1. Nullable sort columns sort as if NULL were greater than every value (PostgreSQL's
rule, applied the same way on SQLite through an is-null flag). A page that shows the list's
count reads it in the page's own statement.
"""

from __future__ import annotations

import base64
import binascii
import json
import operator
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cached_property
from typing import Any, Generic, TypeVar
from uuid import UUID

from pypika_tortoise.functions import Lower as SqlLower
from pypika_tortoise.terms import Tuple, ValueWrapper
from tortoise.expressions import Q, RawSQL, ResolveContext, Subquery
from tortoise.fields import DateField, DatetimeField, DecimalField, UUIDField
from tortoise.functions import Lower
from tortoise.models import Model
from tortoise.query_utils import QueryModifier
from tortoise.queryset import QuerySet

from vdc_graph.errors import BadUserInput

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class SortKey:
    """A column a list can be ordered by (an ORM field name).

    A ``case_insensitive`` text column orders by ``lower(column)``, as a person reads (an
    expression index serves it); the cursor holds that lowered value as the database computed
    it, so pages stay exact, ties broken by the key.
    """

    name: str
    field: str
    nullable: bool = False
    case_insensitive: bool = False

    @property
    def sort_field(self) -> str:
        """What the query orders and compares by: the column, or its lowered annotation."""
        return f"sort_lower_{self.field}" if self.case_insensitive else self.field

    def prepare(self, qs: QuerySet[M]) -> QuerySet[M]:
        """``qs`` with the lowered annotation the order needs, if any."""
        if not self.case_insensitive:
            return qs
        return qs.annotate(**{self.sort_field: Lower(self.field)})


@dataclass(frozen=True)
class PageArgs:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None
    # The caller shows the whole list's count: the page's statement reads it too.
    with_total_count: bool = False

    def validated(self) -> PageArgs:
        if self.first is not None and self.last is not None:
            raise BadUserInput("Pass either first or last, not both", field=["first"])
        for name in ("first", "last"):
            value = getattr(self, name)
            if value is not None and not 1 <= value <= MAX_PAGE_SIZE:
                raise BadUserInput(
                    f"{name} must be between 1 and {MAX_PAGE_SIZE} (got {value})", field=[name]
                )
        if self.first is None and self.last is None:
            return replace(self, first=DEFAULT_PAGE_SIZE)
        return self


@dataclass
class Page(Generic[M]):
    rows: list[M]
    key: SortKey
    has_next_page: bool
    has_previous_page: bool
    count: Callable[[], Awaitable[int]]

    @cached_property
    def cursors(self) -> list[str]:
        # Encoded when asked for: a page that shows only its end cursors encodes two.
        return [encode_cursor(self.key, row) for row in self.rows]

    @property
    def start_cursor(self) -> str | None:
        return encode_cursor(self.key, self.rows[0]) if self.rows else None

    @property
    def end_cursor(self) -> str | None:
        return encode_cursor(self.key, self.rows[-1]) if self.rows else None


_NULL_FLAG = "_keyset_null"
_TOTAL = "_keyset_total"


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value


def _decode_value(model: type[Model], field_name: str, value: Any) -> Any:
    if value is None:
        return None
    field = model._meta.fields_map.get(field_name)  # None for a lowered text annotation
    if isinstance(field, DatetimeField):
        return datetime.fromisoformat(value)
    if isinstance(field, DateField):
        return date.fromisoformat(value)
    if isinstance(field, DecimalField):
        return Decimal(value)
    if isinstance(field, UUIDField):
        return UUID(value)
    return value


def encode_cursor(key: SortKey, row: Model) -> str:
    payload = [key.name, _encode_value(getattr(row, key.sort_field)), str(row.pk)]
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(model: type[Model], key: SortKey, cursor: str, arg: str) -> tuple[Any, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, value, pk = json.loads(raw)
        if name != key.name:
            raise ValueError("cursor of another order")
        return _decode_value(model, key.field, value), UUID(pk)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError, KeyError) as exc:
        raise BadUserInput(
            f"{arg} is not a cursor of this list in this order", field=[arg]
        ) from exc


class _RowComparison(Q):
    """``(key, id) > (value, pk)`` (or ``<``, ``>=``, ``<=``): one row-value comparison, so an
    index on (…, key, id) seeks straight to the cursor instead of testing rows against ORs."""

    __slots__ = ("_key", "_operator", "_values")

    def __init__(self, key: SortKey, value: Any, pk: UUID, operator: Callable[..., Any]) -> None:
        super().__init__()
        self._key, self._values, self._operator = key, (value, pk), operator

    def __bool__(self) -> bool:
        return True

    def resolve(self, resolve_context: ResolveContext) -> QueryModifier:  # type: ignore[override]
        model, table = resolve_context.model, resolve_context.table
        fields = [model._meta.fields_map[self._key.field], model._meta.pk]
        # The same term the list is ordered by: the sort key's column (lowered when the key
        # ignores case, as its expression index is).
        columns = [table[f.source_field or f.model_field_name] for f in fields]
        if self._key.case_insensitive:
            columns[0] = SqlLower(columns[0])
        values = [f.to_db_value(v, model) for f, v in zip(fields, self._values, strict=True)]
        criterion = self._operator(Tuple(*columns), Tuple(*map(ValueWrapper, values)))
        if self._key.case_insensitive:
            # SQLite seeks an expression index (``lower(column)``) to a plain bound but not to
            # a row value: the bound on the key alone lets it start at the cursor.
            bound = _BOUND_OF[self._operator]
            criterion = bound(columns[0], ValueWrapper(values[0])) & criterion
        return QueryModifier(where_criterion=criterion)


_BOUND_OF = {
    operator.gt: operator.ge,
    operator.ge: operator.ge,
    operator.lt: operator.le,
    operator.le: operator.le,
}


def _beyond(key: SortKey, value: Any, pk: UUID, ascending: bool, inclusive: bool = False) -> Q:
    """Rows after (value, pk) in the given direction (and the row itself when ``inclusive``)."""
    compare = {
        (True, False): operator.gt,
        (True, True): operator.ge,
        (False, False): operator.lt,
        (False, True): operator.le,
    }[ascending, inclusive]
    id_cmp = ("gte" if inclusive else "gt") if ascending else ("lte" if inclusive else "lt")
    if not key.nullable:
        return _RowComparison(key, value, pk, compare)
    # NULL sorts greater than every value: a row value with a NULL compares as unknown, so NULL
    # rows are added (or kept out) explicitly.
    null_rows_after = Q(**{f"{key.field}__isnull": True, f"id__{id_cmp}": pk})
    if value is None:
        # Among NULLs (the greatest values) only the key orders; before them, nothing.
        return (
            null_rows_after
            if ascending
            else (Q(**{f"{key.field}__isnull": False}) | null_rows_after)
        )
    if ascending:
        return _RowComparison(key, value, pk, compare) | Q(**{f"{key.field}__isnull": True})
    return _RowComparison(key, value, pk, compare)


def _ordered(qs: QuerySet[M], key: SortKey, ascending: bool) -> QuerySet[M]:
    prefix = "" if ascending else "-"
    if key.nullable:
        column = qs.model._meta.fields_map[key.field].source_field or key.field
        # Literal SQL: a parameterised CASE leaves PostgreSQL unsure of the result's type.
        qs = qs.annotate(**{_NULL_FLAG: RawSQL(f'CASE WHEN "{column}" IS NULL THEN 1 ELSE 0 END')})
        return qs.order_by(f"{prefix}{_NULL_FLAG}", f"{prefix}{key.sort_field}", f"{prefix}id")
    return qs.order_by(f"{prefix}{key.sort_field}", f"{prefix}id")


async def paginate(qs: QuerySet[M], key: SortKey, descending: bool, args: PageArgs) -> Page[M]:
    """One page of ``qs`` (already filtered and tenant-scoped) in the order of ``key``."""
    args = args.validated()
    counted = qs  # the count needs no ordering annotation
    qs = key.prepare(qs)
    model = qs.model
    natural = not descending  # True when the list reads in ascending order
    after = decode_cursor(model, key, args.after, "after") if args.after else None
    before = decode_cursor(model, key, args.before, "before") if args.before else None
    backward = args.last is not None
    limit = args.last if backward else args.first
    assert limit is not None
    # The cursor the page is read from (``after`` forward, ``before`` backward) is read with
    # its own row: while that row exists, it shows there are rows on the cursor's far side
    # without a query of their own (walking a list costs what its first page costs).
    lead = before if backward else after
    window = qs
    if after is not None:
        window = window.filter(_beyond(key, *after, natural, inclusive=lead is after))
    if before is not None:
        window = window.filter(_beyond(key, *before, not natural, inclusive=lead is before))
    if args.with_total_count:
        # A scalar subquery, computed once per statement: one round trip less than a COUNT
        # of its own.
        window = window.annotate(**{_TOTAL: Subquery(counted.count())})
    # Walking backward reads the reversed order, then flips the page.
    wanted = limit + (2 if lead is not None else 1)
    rows = list(await _ordered(window, key, natural != backward).limit(wanted))
    total: int | None = getattr(rows[0], _TOTAL) if rows and args.with_total_count else None
    lead_row = lead is not None and bool(rows) and rows[0].pk == lead[1]
    if lead_row:
        rows = rows[1:]
    rows = rows[: limit + 1]
    more = len(rows) > limit
    rows = rows[:limit]
    if backward:
        rows.reverse()
    # Rows outside the cursors exist when anything lies at or beyond them.
    after_side = after is not None and (
        (lead is after and lead_row) or await _exists_from(qs, key, after, not natural)
    )
    before_side = before is not None and (
        (lead is before and lead_row) or await _exists_from(qs, key, before, natural)
    )
    if backward:
        has_previous, has_next = more or after_side, before_side
    else:
        has_previous, has_next = after_side, more or before_side

    async def count() -> int:
        # An empty page read no count (it had no row to carry it).
        return total if total is not None else await counted.count()

    return Page(rows, key, has_next, has_previous, count)


async def _exists_from(
    qs: QuerySet[M], key: SortKey, cursor: tuple[Any, UUID], ascending: bool
) -> bool:
    """Whether ``qs`` has the cursor's row or any row beyond it in the given direction."""
    value, pk = cursor
    return await qs.filter(_beyond(key, value, pk, ascending, inclusive=True)).exists()


def sort_key(keys: Sequence[SortKey], name: str) -> SortKey:
    for key in keys:
        if key.name == name:
            return key
    raise BadUserInput(f"orderBy.field: cannot order by {name}", field=["orderBy", "field"])


async def every_row(
    qs: QuerySet[M], key: SortKey, descending: bool = False, page_size: int = 100
) -> AsyncIterator[M]:
    """Every row of ``qs`` in the order of ``key``, read page by page (downloads stream
    thousands of rows without holding them all)."""
    after = None
    while True:
        page = await paginate(qs, key, descending, PageArgs(first=page_size, after=after))
        for row in page.rows:
            yield row
        if not page.has_next_page:
            return
        after = page.end_cursor
