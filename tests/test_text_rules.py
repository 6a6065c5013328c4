"""Text as a person types and reads it: the M365 account is a domain, single-line text holds no
control character, and text columns sort ignoring case with exact cursors and indexes."""

from __future__ import annotations

import pytest
from tortoise import connections

from tests.factories import make_customer, make_provider, make_user, token_for
from tests.test_offboarding import create as request_offboarding
from vdc_graph.db.models import Customer, Role
from vdc_graph.db.pagination import _ordered
from vdc_graph.db.queries.customers import SORT_KEYS, visible_customers
from vdc_graph.db.scope import Scope
from vdc_graph.enums import Permission

REGISTER = """mutation($input: CustomerRegisterInput!) { customerRegister(input: $input) {
  customer { m365Account displayName } userErrors { message field code } } }"""
ROLE_CREATE = """mutation($input: RoleCreateInput!) { roleCreate(input: $input) {
  role { id } userErrors { message field code } } }"""
PAGE = """query($order: CustomerOrder, $first: Int, $after: String, $last: Int, $before: String) {
  customers(orderBy: $order, first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { displayName m365Account } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""


@pytest.fixture
async def provider():
    return await make_provider()


@pytest.fixture
async def admin(provider, settings):
    return token_for(settings, await make_user(provider, list(Permission)))


async def register(api, token, **fields):
    values = {"displayName": "Contoso", "externalId": "SUB-1", "sourceType": "DIRECT", **fields}
    return (await api.data(REGISTER, {"input": values}, token=token))["customerRegister"]


async def test_the_m365_account_is_a_domain_name(api, admin):
    for bad in ("contoso", "contoso..com", "-contoso.com", "contoso.com/x", "a b.com"):
        refused = await register(api, admin, m365Account=bad)
        (error,) = refused["userErrors"]
        assert error["field"] == ["input", "m365Account"] and error["code"] == "INVALID"
        assert "not a domain name" in error["message"]
    assert await Customer.all().count() == 0
    ok = await register(api, admin, m365Account=" Contoso.OnMicrosoft.com ")
    assert ok["userErrors"] == [] and ok["customer"]["m365Account"] == "contoso.onmicrosoft.com"


async def test_single_line_text_refuses_control_characters(api, provider, admin):
    for name in ("Contoso\nLtd", "Contoso\u202eLtd", "Nul\u0000byte", "Tab\there"):
        refused = await register(api, admin, displayName=name)
        (error,) = refused["userErrors"]
        assert error["field"] == ["input", "displayName"] and error["code"] == "INVALID"
        assert "control character U+" in error["message"]
    assert await Customer.all().count() == 0
    role = await api.data(
        ROLE_CREATE, {"input": {"name": "Ops\r\nAdmin", "permissions": []}}, token=admin
    )
    assert role["roleCreate"]["userErrors"][0]["field"] == ["input", "name"]
    assert not await Role.filter(name__contains="Ops").exists()
    # A reason may span lines (but holds no other control character).
    customer = await make_customer(provider)
    assert (await request_offboarding(api, admin, customer, reason="Moving on.\nThanks."))[
        "userErrors"
    ] == []
    bell = await request_offboarding(api, admin, await make_customer(provider), reason="a\u0007")
    assert bell["userErrors"][0]["field"] == ["input", "reason"]


NAMES = ["beta", "Alpha", "alpha", "Gamma", "ALPHA", "bravo", "Bravo", "delta", "Charlie"]


async def walk(api, token, order, page_size: int) -> list[str]:
    """Every name, page by page forward."""
    seen, after = [], None
    while True:
        conn = (
            await api.data(PAGE, {"order": order, "first": page_size, "after": after}, token=token)
        )["customers"]
        seen += [e["node"]["displayName"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            return seen
        after = conn["pageInfo"]["endCursor"]


async def test_text_columns_sort_ignoring_case_with_exact_cursors(api, provider, admin):
    rows = [
        await make_customer(provider, display_name=n, m365_account=f"{n}.onmicrosoft.com")
        for n in NAMES
    ]
    # Ties ignoring case are ordered by the key, as the cursor holds both.
    expected = [r.display_name for r in sorted(rows, key=lambda r: (r.display_name.lower(), r.id))]
    assert [n.lower() for n in expected][:3] == ["alpha"] * 3
    for field in ("DISPLAY_NAME", "M365_ACCOUNT"):
        for size in (1, 2, 4):
            assert await walk(api, admin, {"field": field, "direction": "ASC"}, size) == expected
        assert await walk(api, admin, {"field": field, "direction": "DESC"}, 2) == list(
            reversed(expected)
        )
    # Backward from the end lands on the same rows.
    first = (await api.data(PAGE, {"first": 4}, token=admin))["customers"]
    back = (await api.data(PAGE, {"last": 2, "before": first["edges"][3]["cursor"]}, token=admin))[
        "customers"
    ]
    assert [e["node"]["displayName"] for e in back["edges"]] == expected[1:3]
    assert back["pageInfo"]["hasPreviousPage"] is True


async def test_an_expression_index_serves_the_case_insensitive_order(db, provider):
    for n in NAMES:
        await make_customer(provider, display_name=n)
    key = next(k for k in SORT_KEYS if k.name == "DISPLAY_NAME")
    qs = _ordered(key.prepare(visible_customers(Scope(provider.id))), key, True).limit(20)
    connection = connections.get("default")
    if "postgres" in db:
        # A few rows: tell the planner to avoid scans and sorts wherever an index can serve.
        await connection.execute_script("SET enable_seqscan = off; SET enable_sort = off")
        plan = await connection.execute_query_dict("EXPLAIN " + qs.sql(params_inline=True))
        text = " ".join(r["QUERY PLAN"] for r in plan)
    else:
        plan = await connection.execute_query_dict(
            "EXPLAIN QUERY PLAN " + qs.sql(params_inline=True)
        )
        text = " ".join(str(r["detail"]) for r in plan)
    assert "customer_display_name_ci" in text, text
    assert "TEMP B-TREE" not in text.upper() and "Sort Key" not in text  # the index orders
