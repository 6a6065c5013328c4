"""Admin users of a customer, their welcome email, and the caller's organizations."""

from __future__ import annotations

import base64

import pytest

from tests.factories import make_customer, make_provider, make_user, token_for
from tests.test_onboarding import gid, pending_customer
from vdc_graph.db.models import CustomerAdminUser, OutboxMessage
from vdc_graph.enums import Permission

ADD = """
mutation($input: CustomerAdminUserAddInput!) { customerAdminUserAdd(input: $input) {
  adminUser { id email firstName lastName sendWelcomeEmail }
  customer { adminUsers { email } }
  userErrors { message field code } } }
"""
UPDATE = """
mutation($input: CustomerAdminUserUpdateInput!) { customerAdminUserUpdate(input: $input) {
  adminUser { firstName lastName sendWelcomeEmail } userErrors { message field code } } }
"""
REMOVE = """
mutation($input: CustomerAdminUserRemoveInput!) { customerAdminUserRemove(input: $input) {
  customer { adminUsers { email } } removedAdminUserId userErrors { message field code } } }
"""
ORGANIZATIONS = """
query($first: Int, $after: String) { organizations(first: $first, after: $after) {
  totalCount nodes { displayName } pageInfo { hasNextPage endCursor } } }
"""


@pytest.fixture
async def provider():
    return await make_provider()


@pytest.fixture
async def manager(provider, settings):
    return token_for(settings, await make_user(provider, [Permission.CUSTOMER_MANAGEMENT]))


def add_input(customer, email="anna.smith@contoso.com", **extra):
    return {
        "input": {
            "customerId": gid(customer),
            "email": email,
            "firstName": "Anna",
            "lastName": "Smith",
            **extra,
        }
    }


async def test_admin_users_of_a_pending_customer_with_a_welcome_email(api, provider, manager):
    customer = await pending_customer(provider)
    data = await api.data(ADD, add_input(customer), token=manager)
    result = data["customerAdminUserAdd"]
    assert result["userErrors"] == []
    assert result["adminUser"]["email"] == "anna.smith@contoso.com"
    assert result["customer"]["adminUsers"] == [{"email": "anna.smith@contoso.com"}]
    welcome = await OutboxMessage.get(recipient="anna.smith@contoso.com")
    assert "Welcome" in welcome.subject and "Anna" in welcome.body

    data = await api.data(
        ADD, add_input(customer, "bob@contoso.com", sendWelcomeEmail=False), token=manager
    )
    assert data["customerAdminUserAdd"]["adminUser"]["sendWelcomeEmail"] is False
    assert await OutboxMessage.filter(recipient="bob@contoso.com").count() == 0

    admin_id = result["adminUser"]["id"]
    data = await api.data(
        UPDATE,
        {"input": {"adminUserId": admin_id, "lastName": "Jones", "sendWelcomeEmail": False}},
        token=manager,
    )
    assert data["customerAdminUserUpdate"]["adminUser"] == {
        "firstName": "Anna",
        "lastName": "Jones",
        "sendWelcomeEmail": False,
    }
    bob_id = (await CustomerAdminUser.get(email_key="bob@contoso.com")).id
    bob = base64.b64encode(f"CustomerAdminUser:{bob_id}".encode()).decode()
    await api.data(UPDATE, {"input": {"adminUserId": bob, "sendWelcomeEmail": True}}, token=manager)
    assert await OutboxMessage.filter(recipient="bob@contoso.com").count() == 1
    data = await api.data(
        UPDATE, {"input": {"adminUserId": admin_id, "firstName": "  "}}, token=manager
    )
    assert [e["code"] for e in data["customerAdminUserUpdate"]["userErrors"]] == ["REQUIRED"]
    data = await api.data(REMOVE, {"input": {"adminUserId": admin_id}}, token=manager)
    assert data["customerAdminUserRemove"]["customer"]["adminUsers"] == [
        {"email": "bob@contoso.com"}
    ]
    assert data["customerAdminUserRemove"]["removedAdminUserId"] == admin_id


@pytest.mark.parametrize(
    ("email", "code"),
    [
        ("anna+backup@contoso.com", "INVALID_EMAIL"),  # alias form
        ("all@contoso.com", "INVALID_EMAIL"),  # group address
        ("not an email", "INVALID_EMAIL"),
        ("anna@", "INVALID_EMAIL"),
        ("ANNA.SMITH@contoso.com", "DUPLICATE"),
    ],
)
async def test_bad_addresses_are_refused_and_nothing_is_written(
    api, provider, manager, email, code
):
    customer = await make_customer(provider)
    await CustomerAdminUser.create(
        customer=customer,
        email="anna.smith@contoso.com",
        email_key="anna.smith@contoso.com",
        first_name="A",
        last_name="S",
    )
    data = await api.data(ADD, add_input(customer, email), token=manager)
    errors = data["customerAdminUserAdd"]["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [(code, ["input", "email"])]
    assert await CustomerAdminUser.filter(customer_id=customer.id).count() == 1
    assert await OutboxMessage.all().count() == 0
    data = await api.data(
        ADD, add_input(customer, "new@contoso.com", firstName="", lastName="x" * 101), token=manager
    )
    assert [e["code"] for e in data["customerAdminUserAdd"]["userErrors"]] == [
        "REQUIRED",
        "TOO_LONG",
    ]


async def test_rights_and_tenancy(api, provider, manager, settings):
    customer = await make_customer(provider)
    data = await api.data(ADD, add_input(customer), token=manager)
    admin_id = data["customerAdminUserAdd"]["adminUser"]["id"]
    reader = token_for(settings, await make_user(provider, []))
    stranger = token_for(
        settings, await make_user(await make_provider("Other"), [Permission.CUSTOMER_MANAGEMENT])
    )
    for mutation, variables in [
        (ADD, add_input(customer, "x@contoso.com")),
        (UPDATE, {"input": {"adminUserId": admin_id, "firstName": "X"}}),
        (REMOVE, {"input": {"adminUserId": admin_id}}),
    ]:
        refused = await api.errors(mutation, variables, token=reader)
        assert refused[0]["extensions"]["code"] == "FORBIDDEN"
        hidden = await api.errors(mutation, variables, token=stranger)
        assert hidden[0]["extensions"]["code"] == "NOT_FOUND"
    assert [u.first_name for u in await CustomerAdminUser.all()] == ["Anna"]
    # A customer's ID passed as an admin user's is NOT_FOUND too.
    wrong = base64.b64encode(f"CustomerAdminUser:{customer.id}".encode()).decode()
    hidden = await api.errors(REMOVE, {"input": {"adminUserId": wrong}}, token=manager)
    assert hidden[0]["extensions"]["code"] == "NOT_FOUND"


async def test_organizations_are_the_customers_the_caller_administers(api, provider, settings):
    me = await make_user(provider, [], email="Pat.Admin@partner.example")
    token = token_for(settings, me)
    mine = []
    for i in range(3):
        customer = await make_customer(provider, display_name=f"Org {i}")
        await CustomerAdminUser.create(
            customer=customer,
            email="pat.admin@partner.example",
            email_key="pat.admin@partner.example",
            first_name="P",
            last_name="A",
        )
        mine.append(customer)
    await make_customer(provider, display_name="Not mine")
    other = await make_provider("Other")
    foreign = await make_customer(other, display_name="Other provider's")
    await CustomerAdminUser.create(
        customer=foreign,
        email="pat.admin@partner.example",
        email_key="pat.admin@partner.example",
        first_name="P",
        last_name="A",
    )
    page = (await api.data(ORGANIZATIONS, {"first": 2}, token=token))["organizations"]
    assert page["totalCount"] == 3
    assert [n["displayName"] for n in page["nodes"]] == ["Org 0", "Org 1"]
    rest = await api.data(
        ORGANIZATIONS, {"first": 2, "after": page["pageInfo"]["endCursor"]}, token=token
    )
    assert [n["displayName"] for n in rest["organizations"]["nodes"]] == ["Org 2"]
    nobody = token_for(settings, await make_user(provider))
    errors = await api.errors(ORGANIZATIONS, {}, token=nobody)
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    stranger = token_for(settings, await make_user(other, []))
    assert (await api.data(ORGANIZATIONS, {}, token=stranger))["organizations"]["totalCount"] == 0
