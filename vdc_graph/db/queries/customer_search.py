"""The customer list's free-text search, answered from the search index of migration 0014.

A term matches a customer when it is a substring (ignoring case) of one of the searched
columns. SQLite finds the rows in its FTS5 trigram table, which needs three characters; a
shorter term (or one with control characters, which no stored value holds and which could
otherwise join two columns) tests each row instead. PostgreSQL's pg_trgm index answers LIKE
on the lowered, joined columns: the expression below is the index's, character for character.
"""

from __future__ import annotations

from pypika_tortoise.context import SqlContext
from pypika_tortoise.enums import Dialects
from pypika_tortoise.terms import Criterion, ValueWrapper
from tortoise.expressions import Q, ResolveContext
from tortoise.query_utils import QueryModifier

SEARCHED_FIELDS = (
    "display_name",
    "m365_account",
    "external_id",
    "veeam_account_id",
    "flex_subscription_id",
    "express_subscription_id",
    "premium_subscription_id",
)
_TRIGRAM = 3


def _joined(table: str) -> str:
    columns = (f'coalesce("{table}"."{c}", \'\')' for c in SEARCHED_FIELDS)
    return "lower(" + " || E'\\x01' || ".join(columns) + ")"


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class _IndexedMatch(Criterion):
    def __init__(self, table: str, term: str) -> None:
        super().__init__()
        self.table, self.term = table, term

    def get_sql(self, ctx: SqlContext) -> str:
        postgres = ctx.dialect == Dialects.POSTGRESQL
        if not self.term.isprintable() or (not postgres and len(self.term) < _TRIGRAM):
            return self._each_column(ctx)
        if postgres:
            pattern = ValueWrapper(_like_pattern(self.term)).get_sql(ctx)
            return f"{_joined(self.table)} LIKE lower({pattern})"
        phrase = ValueWrapper('"' + self.term.replace('"', '""') + '"').get_sql(ctx)
        # The term is a bound parameter; only the table's own name is spliced in.
        matches = f"SELECT rowid FROM customer_search WHERE customer_search MATCH {phrase}"  # noqa: S608
        return f'"{self.table}".rowid IN ({matches})'

    def _each_column(self, ctx: SqlContext) -> str:
        """Every row tested, column by column (no index)."""
        tests = []
        for column in SEARCHED_FIELDS:
            pattern = ValueWrapper(_like_pattern(self.term)).get_sql(ctx)
            tests.append(f'lower("{self.table}"."{column}") LIKE lower({pattern}) ESCAPE \'\\\'')
        return "(" + " OR ".join(tests) + ")"


class _TextSearch(Q):
    __slots__ = ("_term",)

    def __init__(self, term: str) -> None:
        super().__init__()
        self._term = term

    def __bool__(self) -> bool:
        return True

    def resolve(self, resolve_context: ResolveContext) -> QueryModifier:  # type: ignore[override]
        table = resolve_context.table.get_table_name()
        return QueryModifier(where_criterion=_IndexedMatch(table, self._term))


def matching(term: str) -> Q:
    """Customers whose searched columns hold ``term`` (stripped, non-empty)."""
    return _TextSearch(term)
