"""The customer list's search index: kept in step with every write by the database, used by
the query, and literal about the characters a user types."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tortoise.connection import get_connection

from tests.factories import make_customer
from tests.test_customers import PAGE, provider, reader
from vdc_graph.db.models import Customer
from vdc_graph.db.queries.customers import CustomerFilter, filtered_customers
from vdc_graph.db.scope import Scope

__all__ = ["provider", "reader"]  # the customer list's fixtures


async def found(api, reader, term: str) -> list[str]:
    variables = {"first": 50, "filter": {"search": term}}
    conn = (await api.data(PAGE, variables, token=reader))["customers"]
    names = [e["node"]["displayName"] for e in conn["edges"]]
    assert conn["totalCount"] == len(names)
    return names


async def test_the_index_follows_creation_renaming_and_deletion(api, provider, reader):
    customer = await make_customer(provider, display_name="Alpine Dairy")
    assert await found(api, reader, "pine dai") == ["Alpine Dairy"]

    customer.display_name = "Coastal Fisheries"
    await customer.save()
    assert await found(api, reader, "pine dai") == []
    assert await found(api, reader, "STAL FISH") == ["Coastal Fisheries"]

    await Customer.filter(id=customer.id).update(flex_subscription_id="FLEX-777123")
    assert await found(api, reader, "x-7771") == ["Coastal Fisheries"]
    await Customer.filter(id=customer.id).update(flex_subscription_id=None)
    assert await found(api, reader, "x-7771") == []

    customer.deleted_at = datetime(2026, 1, 1, tzinfo=UTC)
    await customer.save()
    assert await found(api, reader, "fisheries") == []
    await Customer.filter(id=customer.id).delete()
    await make_customer(provider, display_name="Fisheries Two")
    assert await found(api, reader, "fisheries") == ["Fisheries Two"]


async def test_a_match_stays_within_one_column(api, provider, reader):
    await make_customer(provider, display_name="Contoso", m365_account="west.onmicrosoft.com")
    assert await found(api, reader, "sowe") == []
    assert await found(api, reader, "contoso") == ["Contoso"]


@pytest.mark.parametrize(
    "term,expected",
    [
        ("50%", ["Sale 50% off"]),
        ("a_b", ["Tab a_b"]),
        ('"quoted"', ['The "quoted" one']),
        ("OR", ["Orchard"]),  # a word FTS5 would read as an operator
        ("NEAR(", ["NEAR(ly)"]),
        ("*", ["Star*"]),
        ("q", ['The "quoted" one']),  # shorter than a trigram
        ("é", ["Café Noir"]),
        ("CAFÉ", ["Café Noir"]),
    ],
)
async def test_the_term_is_taken_literally(api, provider, reader, term, expected):
    for name in ("Sale 50% off", "Sale 500 off", "Tab a_b", "Tab axb", 'The "quoted" one'):
        await make_customer(provider, display_name=name)
    for name in ("Orchard", "NEAR(ly)", "Star*", "Café Noir"):
        await make_customer(provider, display_name=name)
    assert await found(api, reader, term) == expected


async def test_the_search_reads_the_index(db, provider):
    await Customer.bulk_create(
        [
            Customer(provider=provider, display_name=f"Customer {n:05d}", external_id=f"E{n}")
            for n in range(3000)
        ]
    )
    await make_customer(provider, display_name="Northwind")
    qs = filtered_customers(Scope(provider_id=provider.id), CustomerFilter(search="northwind"))
    connection = get_connection("default")
    await connection.execute_script("ANALYZE")
    if connection.capabilities.dialect == "postgres":
        _, rows = await connection.execute_query(f"EXPLAIN {qs.sql(params_inline=True)}")
        plan = "\n".join(str(row["QUERY PLAN"]) for row in rows)
        assert "customer_search_trgm" in plan, plan
    else:
        sql = f"EXPLAIN QUERY PLAN {qs.sql(params_inline=True)}"
        plan = "\n".join(str(tuple(row)) for row in (await connection.execute_query(sql))[1])
        assert "customer_search VIRTUAL TABLE" in plan, plan
    assert [c.display_name for c in await qs] == ["Northwind"]
