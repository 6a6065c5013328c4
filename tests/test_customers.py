"""The customer list and lookups, as clients use them: paging, ordering, search, filters,
tenancy, and intake through customerRegister."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import make_customer, make_provider, make_user, token_for
from vdc_graph.db.models import Customer
from vdc_graph.enums import ContractType, Permission, SourceType

ORDER_FIELDS = [
    "DISPLAY_NAME",
    "M365_ACCOUNT",
    "EXTERNAL_ID",
    "CONTRACT_TYPE",
    "LICENSE_MODEL",
    "SOURCE_TYPE",
    "LICENSES_USED",
    "ACTIVATION_DATE",
    "STORAGE_CONSUMED",
    "BACKED_UP_ACCOUNTS",
    "TOTAL_ACTIVE_ACCOUNTS",
    "USER_CHANGE",
    "CREATED_AT",
]

PAGE = """
query($first: Int, $after: String, $last: Int, $before: String, $order: CustomerOrder,
      $filter: CustomerFilter) {
  customers(first: $first, after: $after, last: $last, before: $before, orderBy: $order,
            filter: $filter) {
    totalCount
    edges { cursor node { id displayName } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


@pytest.fixture
async def provider():
    return await make_provider()


@pytest.fixture
async def reader(provider, settings):
    return token_for(settings, await make_user(provider, []))


async def _many_customers(provider, count: int) -> None:
    """Customers with ties and NULLs in every sortable column, so keysets are exercised."""
    base = datetime(2025, 1, 1, tzinfo=UTC)
    contract_types = list(ContractType)
    source_types = list(SourceType)
    rows = []
    for i in range(count):
        rows.append(
            Customer(
                provider=provider,
                display_name=f"Customer {i % 40:02d}",  # many ties
                m365_account=f"t{i % 17}.onmicrosoft.com",
                external_id=None if i % 9 == 0 else f"EXT-{i % 50:03d}-{i}",
                contract_type=contract_types[i % len(contract_types)],
                source_type=source_types[i % len(source_types)],
                licenses_used=i % 7,
                activation_date=None if i % 5 == 0 else base + timedelta(days=i % 11),
                storage_consumed_gb=float(i % 13) / 2,
                backed_up_accounts=i % 3,
                total_active_accounts=i % 4,
                user_change=(i % 5) - 2,
                created_at=base + timedelta(hours=i % 23),
            )
        )
    await Customer.bulk_create(rows)


async def _walk(api, token, order, *, forward: bool, size: int = 37) -> list[str]:
    seen: list[str] = []
    cursor = None
    for _ in range(100):
        variables = {"order": order}
        if forward:
            variables.update(first=size, after=cursor)
        else:
            variables.update(last=size, before=cursor)
        conn = (await api.data(PAGE, variables, token=token))["customers"]
        ids = [e["node"]["id"] for e in conn["edges"]]
        seen = seen + ids if forward else ids + seen
        info = conn["pageInfo"]
        if forward:
            if not info["hasNextPage"]:
                return seen
            cursor = info["endCursor"]
        else:
            if not info["hasPreviousPage"]:
                return seen
            cursor = info["startCursor"]
    raise AssertionError("paging did not end")


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_paging_250_customers_visits_each_exactly_once_in_every_order(
    api, provider, reader, direction
):
    await _many_customers(provider, 250)
    for field in ORDER_FIELDS:
        order = {"field": field, "direction": direction}
        forward = await _walk(api, reader, order, forward=True)
        backward = await _walk(api, reader, order, forward=False)
        assert len(forward) == 250 and len(set(forward)) == 250, field
        assert backward == forward, field


async def test_pages_follow_the_order_with_nulls_last_ascending(api, provider, reader):
    await _many_customers(provider, 60)
    query = """query($order: CustomerOrder, $after: String) {
      customers(first: 100, orderBy: $order, after: $after) { nodes { activationDate } } }"""
    dates = [
        n["activationDate"]
        for n in (await api.data(query, {"order": {"field": "ACTIVATION_DATE"}}, token=reader))[
            "customers"
        ]["nodes"]
    ]
    present = [d for d in dates if d is not None]
    assert present == sorted(present)
    assert dates[len(present) :] == [None] * (len(dates) - len(present))
    desc = [
        n["activationDate"]
        for n in (
            await api.data(
                query, {"order": {"field": "ACTIVATION_DATE", "direction": "DESC"}}, token=reader
            )
        )["customers"]["nodes"]
    ]
    assert desc == list(reversed(dates)) or desc[: len(dates) - len(present)] == [None] * (
        len(dates) - len(present)
    )


async def test_default_order_is_display_name_and_page_size_20(api, provider, reader):
    for name in ["Cobalt", "alpha", "Beta", "Delta"] + [f"Zulu {i:02d}" for i in range(30)]:
        await make_customer(provider, display_name=name)
    conn = (await api.data(PAGE, {}, token=reader))["customers"]
    names = [e["node"]["displayName"] for e in conn["edges"]]
    assert len(names) == 20
    assert conn["totalCount"] == 34
    assert names[:4] == ["alpha", "Beta", "Cobalt", "Delta"]  # as a person reads
    assert conn["pageInfo"]["hasNextPage"] is True
    assert conn["pageInfo"]["hasPreviousPage"] is False


@pytest.mark.parametrize(
    "args",
    [
        {"first": 0},
        {"first": 101},
        {"last": 0},
        {"last": 101},
        {"first": -1},
        {"first": 5, "last": 5},
    ],
)
async def test_page_sizes_out_of_range_are_bad_user_input(api, reader, args):
    errors = await api.errors(PAGE, args, token=reader)
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert errors[0]["path"] == ["customers"]


async def test_a_cursor_of_another_order_or_garbage_is_bad_user_input(api, provider, reader):
    await _many_customers(provider, 5)
    conn = (await api.data(PAGE, {"first": 2}, token=reader))["customers"]
    cursor = conn["pageInfo"]["endCursor"]
    for variables in (
        {"after": cursor, "order": {"field": "LICENSES_USED"}},
        {"after": "not-a-cursor"},
        {"before": "W10"},
    ):
        errors = await api.errors(PAGE, variables, token=reader)
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    "field,value",
    [
        ("display_name", "Northwind Traders"),
        ("m365_account", "northwind.onmicrosoft.com"),
        ("external_id", "CB-778899"),
        ("veeam_account_id", "VAC-5544"),
        ("flex_subscription_id", "FLEX-3141"),
        ("express_subscription_id", "EXP-2718"),
        ("premium_subscription_id", "PRM-1618"),
    ],
)
async def test_search_matches_each_field_case_insensitively(api, provider, reader, field, value):
    target = await make_customer(provider, **{field: value})
    await make_customer(provider, display_name="Someone Else")
    term = value[2:-2].swapcase()
    conn = (await api.data(PAGE, {"filter": {"search": term}}, token=reader))["customers"]
    assert [e["node"]["displayName"] for e in conn["edges"]] == [target.display_name]
    assert conn["totalCount"] == 1


async def test_filters_combine(api, provider, reader):
    await make_customer(
        provider,
        display_name="Match A",
        source_type=SourceType.CLOUDBLUE,
        contract_type=ContractType.TRIAL,
    )
    await make_customer(
        provider,
        display_name="Match B",
        source_type=SourceType.CLOUDBLUE,
        contract_type=ContractType.ANNUAL,
    )
    await make_customer(
        provider,
        display_name="Wrong source",
        source_type=SourceType.DIRECT,
        contract_type=ContractType.TRIAL,
    )
    await make_customer(
        provider,
        display_name="Wrong contract",
        source_type=SourceType.CLOUDBLUE,
        contract_type=ContractType.EXPIRED,
    )
    await make_customer(
        provider,
        display_name="Other text",
        source_type=SourceType.CLOUDBLUE,
        contract_type=ContractType.TRIAL,
    )
    flt = {"sourceTypes": ["CLOUDBLUE"], "contractTypes": ["TRIAL", "ANNUAL"], "search": "match"}
    conn = (await api.data(PAGE, {"filter": flt}, token=reader))["customers"]
    assert [e["node"]["displayName"] for e in conn["edges"]] == ["Match A", "Match B"]


async def test_deleted_customers_are_not_listed_or_found(api, provider, reader):
    gone = await make_customer(provider, deleted_at=datetime(2025, 1, 1, tzinfo=UTC))
    conn = (await api.data(PAGE, {}, token=reader))["customers"]
    assert conn["totalCount"] == 0
    errors = await api.errors(
        "query($id: ID!) { customer(id: $id) { id } }",
        {"id": _gid("Customer", gone.id)},
        token=reader,
    )
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"


def _gid(type_name: str, key) -> str:
    import base64

    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


DETAILS = """query($id: ID!) { customer(id: $id) {
  id displayName m365Account externalId contractType sourceType licensesUsed activationDate
  settings { region enableSelfService restrictAccessToIpRanges }
  onboarding { step } subscriptions { plan subscriptionId } adminUsers { email }
  ipRanges { startAddress endAddress addedBy } notificationContacts { kind address topics }
  licensedUsersHistory { month licensedUsers }
} }"""


async def test_customer_details_with_related_objects(api, provider, reader):
    from vdc_graph.db.models import (
        CustomerAdminUser,
        IpRange,
        LicensedUsersMonth,
        NotificationContact,
        Subscription,
    )
    from vdc_graph.enums import AddedBy, ContactKind, SubscriptionPlan

    customer = await make_customer(provider, display_name="Contoso")
    await Subscription.create(
        customer=customer, plan=SubscriptionPlan.FLEX, subscription_id="FLEX-1"
    )
    await CustomerAdminUser.create(
        customer=customer,
        email="it@contoso.com",
        email_key="it@contoso.com",
        first_name="I",
        last_name="T",
    )
    await IpRange.create(
        customer=customer,
        start_address="10.0.0.1",
        end_address="10.0.0.9",
        added_by=AddedBy.PROVIDER,
    )
    await NotificationContact.create(
        provider=provider,
        customer=customer,
        kind=ContactKind.EMAIL,
        address="ops@contoso.com",
        topics=["BACKUP_FAILED"],
    )
    for month, users in ((datetime(2025, 1, 1), 10), (datetime(2025, 2, 1), 14)):
        await LicensedUsersMonth.create(
            provider=provider, customer=customer, month=month.date(), licensed_users=users
        )
    found = (await api.data(DETAILS, {"id": _gid("Customer", customer.id)}, token=reader))[
        "customer"
    ]
    assert found["displayName"] == "Contoso"
    assert found["subscriptions"] == [{"plan": "FLEX", "subscriptionId": "FLEX-1"}]
    assert found["adminUsers"] == [{"email": "it@contoso.com"}]
    assert found["ipRanges"] == [
        {"startAddress": "10.0.0.1", "endAddress": "10.0.0.9", "addedBy": "PROVIDER"}
    ]
    assert found["notificationContacts"] == [
        {"kind": "EMAIL", "address": "ops@contoso.com", "topics": ["BACKUP_FAILED"]}
    ]
    assert found["licensedUsersHistory"] == [
        {"month": "2025-01", "licensedUsers": 10},
        {"month": "2025-02", "licensedUsers": 14},
    ]


# --- tenancy: another provider's objects are NOT_FOUND by every path ------------------------


async def test_another_providers_customer_is_not_found_by_any_path(api, provider, reader, settings):
    mine = await make_customer(provider, display_name="Mine")
    other_provider = await make_provider("Other")
    theirs = await make_customer(other_provider, display_name="Theirs", external_id="SHARED")
    from vdc_graph.db.models import CustomerAdminUser

    their_admin = await CustomerAdminUser.create(
        customer=theirs, email="a@t.com", email_key="a@t.com", first_name="A", last_name="T"
    )
    theirs_id = _gid("Customer", theirs.id)

    listed = (await api.data(PAGE, {"first": 100}, token=reader))["customers"]
    assert [e["node"]["displayName"] for e in listed["edges"]] == ["Mine"]
    searched = await api.data(PAGE, {"filter": {"search": "Theirs"}}, token=reader)
    assert searched["customers"]["totalCount"] == 0

    for query in (
        "query($id: ID!) { customer(id: $id) { displayName } }",
        "query($id: ID!) { node(id: $id) { id } }",
    ):
        response = await api.post(query, {"id": theirs_id}, token=reader)
        body = response.json()
        assert list(body["data"].values()) == [None]
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert "Theirs" not in response.text

    nodes = (
        await api.data(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            {
                "ids": [
                    theirs_id,
                    _gid("CustomerAdminUser", their_admin.id),
                    _gid("Customer", mine.id),
                ]
            },
            token=reader,
        )
    )["nodes"]
    assert nodes[0] is None and nodes[1] is None
    assert nodes[2] == {"id": _gid("Customer", mine.id)}

    # Registering their external ID in my provider creates my own customer: no collision.
    admin = token_for(settings, await make_user(provider, [Permission.CUSTOMER_MANAGEMENT]))
    registered = (
        await api.data(
            REGISTER,
            {"input": {"displayName": "Mine too", "externalId": "SHARED", "sourceType": "DIRECT"}},
            token=admin,
        )
    )["customerRegister"]
    assert registered["created"] is True
    assert await Customer.filter(id=theirs.id, display_name="Theirs").exists()


async def test_an_id_of_another_type_or_malformed_is_not_found(api, provider, reader):
    customer = await make_customer(provider)
    for bad in (_gid("PortalUser", customer.id), _gid("Customer", "not-a-uuid")):
        errors = await api.errors(
            "query($id: ID!) { customer(id: $id) { id } }", {"id": bad}, token=reader
        )
        assert errors[0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_user_without_roles_cannot_read_customers(api, provider, settings):
    nobody = token_for(settings, await make_user(provider))
    errors = await api.errors(PAGE, {}, token=nobody)
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    assert "MONITORING_ACCESS" in errors[0]["message"]
    viewer = await api.data("{ viewer { permissions user { email } } }", token=nobody)
    assert viewer["viewer"]["permissions"] == []


# --- intake --------------------------------------------------------------------------------

REGISTER = """mutation($input: CustomerRegisterInput!) { customerRegister(input: $input) {
  created customer { id displayName contractType sourceType activationDate onboarding { step } }
  userErrors { field message code } } }"""


async def test_register_creates_a_pending_customer_and_is_idempotent(api, provider, settings):
    admin = token_for(settings, await make_user(provider, [Permission.CUSTOMER_MANAGEMENT]))
    data = {
        "displayName": "Fabrikam",
        "externalId": "MSMP-0001",
        "sourceType": "MICROSOFT_MARKETPLACE",
        "flexSubscriptionId": "FLEX-9",
    }
    first = (await api.data(REGISTER, {"input": data}, token=admin))["customerRegister"]
    assert first["created"] is True and first["userErrors"] == []
    assert first["customer"]["contractType"] == "PENDING"
    assert first["customer"]["activationDate"] is None
    assert first["customer"]["onboarding"] == {"step": "LEGAL_AGREEMENT"}
    again = (await api.data(REGISTER, {"input": {**data, "displayName": "Renamed"}}, token=admin))[
        "customerRegister"
    ]
    assert again["created"] is False
    assert again["customer"]["id"] == first["customer"]["id"]
    assert again["customer"]["displayName"] == "Fabrikam"
    assert await Customer.filter(provider=provider).count() == 1


async def test_register_refuses_blank_fields_and_writes_nothing(api, provider, settings):
    admin = token_for(settings, await make_user(provider, [Permission.CUSTOMER_MANAGEMENT]))
    result = (
        await api.data(
            REGISTER,
            {"input": {"displayName": "  ", "externalId": "", "sourceType": "DIRECT"}},
            token=admin,
        )
    )["customerRegister"]
    assert result["customer"] is None
    assert {(tuple(e["field"]), e["code"]) for e in result["userErrors"]} == {
        (("input", "displayName"), "REQUIRED"),
        (("input", "externalId"), "REQUIRED"),
    }
    assert await Customer.all().count() == 0


async def test_register_needs_customer_management(api, provider, reader):
    errors = await api.errors(
        REGISTER,
        {"input": {"displayName": "X", "externalId": "E-1", "sourceType": "DIRECT"}},
        token=reader,
    )
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    assert "CUSTOMER_MANAGEMENT" in errors[0]["message"]
    assert await Customer.all().count() == 0


async def test_statement_count_does_not_grow_with_page_size(api, provider, reader, caplog):
    import logging

    from vdc_graph.db.models import CustomerAdminUser, Subscription
    from vdc_graph.enums import SubscriptionPlan

    for i in range(30):
        customer = await make_customer(provider)
        await CustomerAdminUser.create(
            customer=customer,
            email=f"a{i}@x.com",
            email_key=f"a{i}@x.com",
            first_name="A",
            last_name="B",
        )
        await Subscription.create(
            customer=customer, plan=SubscriptionPlan.FLEX, subscription_id=f"F{i}"
        )
    query = """query($n: Int) { customers(first: $n) { totalCount nodes {
      adminUsers { email } subscriptions { plan } onboarding { step } ipRanges { startAddress }
      notificationContacts { address } licensedUsersHistory { month } } } }"""

    async def statements(size: int) -> int:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
            data = await api.data(query, {"n": size}, token=reader)
        assert len(data["customers"]["nodes"]) == size
        return sum(
            1
            for r in caplog.records
            if r.name == "tortoise.db_client" and "SELECT" in r.getMessage().upper()
        )

    await statements(1)  # the caller is authenticated afresh once, then remembered
    few = await statements(3)
    assert few >= 7  # the page (its count with it) and one batch per related list
    assert await statements(30) == few


async def test_the_count_is_read_in_the_pages_own_statement(api, provider, reader, caplog):
    """``totalCount`` costs no statement of its own, wherever the selection asks for it, and
    counts the caller's list only: not another provider's customers, not deleted ones, not
    those the filter leaves out; a page past the end still has it."""
    import logging

    for n in range(5):
        await make_customer(
            provider, contract_type=ContractType.TRIAL if n < 2 else ContractType.ANNUAL
        )
    await make_customer(provider, deleted_at=datetime.now(UTC))
    other = await make_provider()
    for _ in range(3):
        await make_customer(other)

    async def page(selection: str, arguments: str = "first: 2") -> tuple[dict, int]:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
            fragment = "fragment Counted on CustomerConnection { totalCount }"
            document = f"query {{ customers({arguments}) {{ {selection} }} }}"
            if "...Counted" in selection:
                document += fragment
            data = await api.data(document, token=reader)
        selects = [
            r.getMessage()
            for r in caplog.records
            if r.name == "tortoise.db_client" and "SELECT" in r.getMessage().upper()
        ]
        return data["customers"], len(selects)

    await page("nodes { id }")  # the caller is authenticated afresh once, then remembered
    plain, uncounted = await page("nodes { id } pageInfo { endCursor }")
    assert len(plain["nodes"]) == 2
    for selection in (
        "totalCount nodes { id } pageInfo { endCursor }",
        "... on CustomerConnection { totalCount } nodes { id } pageInfo { endCursor }",
        "...Counted nodes { id } pageInfo { endCursor }",
    ):
        counted, statements = await page(selection)
        assert counted["totalCount"] == 5, selection
        assert counted["nodes"] == plain["nodes"]
        assert statements == uncounted, selection

    backward, _ = await page("totalCount nodes { id }", "last: 2")
    assert backward["totalCount"] == 5 and len(backward["nodes"]) == 2
    trial, _ = await page("totalCount nodes { id }", "first: 1, filter: {contractTypes: [TRIAL]}")
    assert trial["totalCount"] == 2 and len(trial["nodes"]) == 1
    everything, _ = await page("nodes { id } pageInfo { endCursor }", "first: 5")
    end = everything["pageInfo"]["endCursor"]
    past, _ = await page("totalCount nodes { id }", f'first: 2, after: "{end}"')
    assert past == {"totalCount": 5, "nodes": []}


async def test_pages_go_on_from_the_cursor_of_a_row_deleted_meanwhile(api, provider, reader):
    """A cursor stays a position when its row is gone: the next page (forward and backward)
    follows it, and the rows on its far side are still reported."""
    for n in range(6):
        await make_customer(provider, display_name=f"Row {n}")

    async def page(**variables) -> dict:
        return (await api.data(PAGE, variables, token=reader))["customers"]

    def names(conn: dict) -> list[str]:
        return [e["node"]["displayName"] for e in conn["edges"]]

    start = await page(first=2)
    later = await page(first=5)
    await Customer.filter(display_name__in=["Row 1", "Row 4"]).delete()

    forward = await page(first=2, after=start["pageInfo"]["endCursor"])  # Row 1's cursor
    assert names(forward) == ["Row 2", "Row 3"]
    assert forward["pageInfo"]["hasPreviousPage"] and forward["pageInfo"]["hasNextPage"]
    backward = await page(last=2, before=later["pageInfo"]["endCursor"])  # Row 4's cursor
    assert names(backward) == ["Row 2", "Row 3"]
    assert backward["pageInfo"]["hasPreviousPage"] and backward["pageInfo"]["hasNextPage"]
    # With the rows still there, their cursors read the same pages.
    kept = await page(first=2, after=forward["pageInfo"]["startCursor"])  # Row 2's cursor
    assert names(kept) == ["Row 3", "Row 5"]
    assert kept["pageInfo"]["hasPreviousPage"] and not kept["pageInfo"]["hasNextPage"]
    edge = await page(last=3, before=kept["pageInfo"]["endCursor"])  # Row 5's cursor
    assert names(edge) == ["Row 0", "Row 2", "Row 3"]
    assert not edge["pageInfo"]["hasPreviousPage"] and edge["pageInfo"]["hasNextPage"]
