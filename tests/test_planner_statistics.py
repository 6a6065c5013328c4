"""SQLite reads rows by their key once it has statistics: the server refreshes them."""

from __future__ import annotations

import pytest
from tortoise import connections

from tests.factories import make_customer, make_provider
from vdc_graph.db.queries.customers import visible_customers
from vdc_graph.db.scope import Scope
from vdc_graph.db.sqlite import refresh_planner_statistics


async def _plan_of_lookup_by_key(scope: Scope, ids: list) -> str:
    sql = visible_customers(scope).filter(id__in=ids).sql(params_inline=True)
    _, rows = await connections.get("default").execute_query(f"EXPLAIN QUERY PLAN {sql}")
    return " ".join(row["detail"] for row in rows)


async def test_customers_looked_up_by_key_are_read_by_their_key(db):
    if not db.startswith("sqlite"):
        pytest.skip("PostgreSQL analyses its tables itself (autovacuum)")
    provider = await make_provider()
    customers = [await make_customer(provider) for _ in range(40)]
    scope = Scope(provider_id=provider.id)
    ids = [customer.id for customer in customers[:20]]  # a page's worth, as a loader asks
    # Without statistics SQLite takes the provider's (provider, deleted) index: every one of
    # its customers is read to find twenty.
    assert "sqlite_autoindex_customer_1" not in await _plan_of_lookup_by_key(scope, ids)
    await refresh_planner_statistics()
    assert "sqlite_autoindex_customer_1 (id=?)" in await _plan_of_lookup_by_key(scope, ids)
